"""Short spoken responses licensed by the reasoning (Mini-Omni-Reasoner §3.3: "short, colloquial, no
symbols"; Spoken-MQA scoring looks for "The answer is N.").

A response is a list of chunks, each with the reasoning step that licenses it: a licence-free opener first,
so speech can start at once while the reasoning runs ahead (thinking-in-speaking), then the problem's own
lines, then "The answer is N." licensed by the last step. Body lines are dropped from the front until the
response fits the word budget (about 15-35 words, "answers ~30 words vs ~70").
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from thinkspeak.data.math.problem import Problem, Say

OPENERS = (
    "Okay, let's work this out.", "Alright, let me think this through.", "Sure, let's figure it out.",
    "Good question, let's see.", "Let me work through it.", "Okay, here's how I'd do it.",
    "Right, let's go through it step by step.", "Hmm, let me think about that.", "Sure thing, let's see.",
    "Let's take it piece by piece.", "Okay, so let's look at this.",
)
FILLERS = (
    "That checks out.", "Nice and tidy.", "That all fits together.", "I double-checked that.",
    "So that part is done.",
)
MIN_WORDS, MAX_WORDS = 15, 35


@dataclass(frozen=True)
class Response:
    """Spoken chunks and, per chunk, the index of the reasoning step that licenses it (-1: none)."""

    chunks: list[str]
    licenses: list[int]


def _words(says: list[Say]) -> int:
    return sum(len(s.text.split()) for s in says)


def build_response(rng: random.Random, problem: Problem) -> Response:
    """Opener + body lines + "The answer is N.", within :data:`MIN_WORDS`-:data:`MAX_WORDS` words when the
    body allows it (a long body is trimmed from the front; a short one gets a number-free filler)."""
    last = problem.steps[-1]
    opener = Say(rng.choice(OPENERS), None)
    final = Say(f"The answer is {problem.answer_text}.", last)
    body = list(problem.says)
    while body and _words([opener, *body, final]) > MAX_WORDS:
        body.pop(0)
    says = [opener, *body]
    if _words([*says, final]) < MIN_WORDS:
        says.append(Say(rng.choice(FILLERS), last))
    says.append(final)
    return Response([s.text for s in says], [problem.step_index(s.step) for s in says])
