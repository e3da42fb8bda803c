"""More ways to ask (issue 12): requests, fragments, greetings and number words in typed text, so a model is
not tied to the corpus's templates ("quick one: 28 plus 55?", "what's twenty eight plus fifty five").

:func:`rephrase` rewrites a problem's question; the answer, trace and response do not change. Arithmetic
problems can become a bare expression with a request around it; any question can get a greeting, lose its
capitals and punctuation, or have its numbers written as words (:func:`thinkspeak.text.numbers.spoken_form`).
"""

from __future__ import annotations

import random

from thinkspeak.data.math.problem import OPERATION_WORDS, Problem
from thinkspeak.text.numbers import spoken_form

GREETINGS = ("Quick one: ", "Hey, ", "Okay, so ", "Question: ", "Hi! ", "Help me out: ", "I was wondering, ",
             "Hmm, ", "Right, ", "Can I ask you something? ")
REQUESTS = ("{e}?", "{e}", "quick one: {e}?", "Tell me what {e} is.", "Could you work out {e} for me?",
            "I need {e}.", "{e}, what do you get?", "{e} equals?", "what's {e}", "Do {e} for me please.",
            "Can you tell me {e}?", "So, {e}?", "{e}... any idea?", "And {e}?", "Help: {e}")
_WORDS = {"+": ("plus", "+"), "-": ("minus", "-", "take away"), "*": ("times", "x", "multiplied by"),
          "/": ("divided by", "/", "over")}


def _expression_words(rng: random.Random, expression: str) -> str:
    out = []
    for part in expression.split():
        out.append(rng.choice(_WORDS[part]) if part in OPERATION_WORDS else part)
    return " ".join(out)


def rephrase(rng: random.Random, problem: Problem) -> str:
    """Another way to ask ``problem``'s question."""
    question = problem.question
    style = rng.choice(("request", "greeting", "plain")) if problem.expression else rng.choice(("greeting", "plain"))
    if style == "request":
        question = rng.choice(REQUESTS).format(e=_expression_words(rng, problem.expression))
    elif style == "greeting":
        question = rng.choice(GREETINGS) + question[0].lower() + question[1:]
    else:
        question = question.lower().rstrip("?.!")
    if rng.random() < 0.5:
        question = spoken_form(question)
    return question[0].upper() + question[1:] if rng.random() < 0.5 else question
