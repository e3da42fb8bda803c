"""Reasoning traces that call tools (issue 12; GSM8K's calculator annotations, syntax of
:mod:`thinkspeak.layouts.toolcalls`).

:func:`with_tools` rewrites a problem's trace so the model writes the arithmetic and a tool computes it:

* arithmetic (a problem with an ``expression``): one ``calc`` call on the whole expression replaces the
  digit-level steps (columns, partial products): "<|call|>calc<|args|>4821 * 37<|call_end|><|result|>178377<|result_end|>";
* every other claim "a op b is c" becomes "a op b is <call calc a op b><result c>";
* a fact step (knowledge category) becomes a ``retrieve`` call whose result is the fact sentence.

Results are what the tools return: ``canonical_number`` of the exact value (``thinkspeak.tools.calc``) and the
fact sentence (the fact-base passage). With ``fail`` the first call gets an error result ("error: timed
out after 5 s") and the trace goes on by hand ("Let me work it out by hand." + the original steps), the
traces a model needs to survive a tool that is down. Response licences follow the steps they rest on, so a
spoken result always comes after the step that holds the tool's answer (the drift rule with tools).
"""

from __future__ import annotations

import random
import re
from dataclasses import replace
from fractions import Fraction

from thinkspeak.data.math.problem import OPERATION_WORDS, Problem, Say, Step, apply
from thinkspeak.layouts.toolcalls import CALL, Call, Result, render_call, render_result
from thinkspeak.text.reading import canonical_number

_N = r"-?\d+(?:\.\d+)?(?:/\d+)?"
_OPS = "|".join(OPERATION_WORDS.values())
CLAIM = re.compile(rf"(?<![\w./])({_N}(?: (?:{_OPS}) {_N})+) (is|equals|gives|makes) ({_N})(?![\w/])")
_SYMBOL = {w: o for o, w in OPERATION_WORDS.items()}
ERRORS = ("timed out after 5 s", "the tool is unavailable", "no connection to the tool", "the tool did not answer")
BY_HAND = ("Let me work it out by hand.", "The calculator is not answering, so by hand.",
           "No luck there, I'll do it myself.", "Fine, by hand then.")
FROM_MEMORY = ("From memory, then:", "I remember it anyway:", "Going from what I know:")
SAID = ("The calculator gives {r}.", "That comes to {r}.", "I get {r}.", "It works out to {r}.")
LEADS = ("", "", "Let me use the calculator: ", "Calculator: ", "Working it out: ", "So ")


def exact(expression: str) -> Fraction:
    """Value of ``'a op b op c ...'`` in words or symbols, with * and / before + and -."""
    words = [_SYMBOL.get(w, w) for w in expression.replace("divided by", "/").split()]
    values = [Fraction(w) for w in words[0::2]]
    ops = words[1::2]
    for level in ("*/", "+-"):
        i = 0
        while i < len(ops):
            if ops[i] in level:
                values[i:i + 2] = [apply(values[i], ops[i], values[i + 1])]
                del ops[i]
            else:
                i += 1
    return values[0]


def calc_text(expression: str, value: Fraction | None, error: str | None = None) -> str:
    """``<|call|>calc<|args|>expression<|call_end|><|result|>value<|result_end|>`` (or an error result)."""
    symbols = " ".join(_SYMBOL.get(w, w) for w in expression.replace("divided by", "/").split())
    result = Result(error, error=True) if error is not None else Result(canonical_number(value))
    return render_call(Call("calc", symbols)) + render_result(result)


def _rewrite_claims(text: str, fail: list[str | None]) -> str:
    """Each true claim in ``text`` with a calc call; ``fail`` holds one pending error message (or None)."""
    def swap(m: re.Match[str]) -> str:
        expression, verb, stated = m[1], m[2], Fraction(m[3])
        if exact(expression) != stated:
            return m[0]  # a deliberate slip (journey) is not a tool's answer
        if fail[0] is not None:
            error, fail[0] = fail[0], None
            return f"{expression} {verb} {calc_text(expression, None, error)} so by hand, {m[0]}"
        return f"{expression} {verb} {calc_text(expression, stated)}"

    return CLAIM.sub(swap, text)


def _fact(step: Step, fail: list[str | None], rng: random.Random) -> str:
    call = render_call(Call("retrieve", step.query))
    if fail[0] is not None:
        error, fail[0] = fail[0], None
        return f"{call}{render_result(Result(error, error=True))} {rng.choice(FROM_MEMORY)} {step.text}"
    return call + render_result(Result(step.text))


def with_tools(rng: random.Random, problem: Problem, *, fail: bool = False) -> Problem:
    """A copy of ``problem`` whose trace calls ``calc``/``retrieve``; ``fail``: the first call errs."""
    error: list[str | None] = [rng.choice(ERRORS) if fail else None]
    if problem.expression is not None:
        if fail:
            head = Step(f"{calc_text(problem.expression, None, error[0])} {rng.choice(BY_HAND)}")
            return replace(problem, steps=[head, *problem.steps])
        step = Step(rng.choice(LEADS) + calc_text(problem.expression, problem.answer) + ".")
        said = rng.choice(SAID).format(r=problem.answer_text)
        return replace(problem, steps=[step], says=[Say(said, step)])
    mapping = {}
    for old in problem.steps:
        text = _fact(old, error, rng) if old.query is not None else _rewrite_claims(old.text, error)
        mapping[id(old)] = replace(old, text=text)
    steps = [mapping[id(s)] for s in problem.steps]
    says = [Say(s.text, None if s.step is None else mapping[id(s.step)]) for s in problem.says]
    return replace(problem, steps=steps, says=says)


def uses_tools(reasoning: list[str]) -> bool:
    """Whether a corpus row's reasoning calls a tool."""
    return any(CALL in step for step in reasoning)
