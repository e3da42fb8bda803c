"""A math problem with its exact solution: reasoning steps and the response lines they license.

Mini-Omni-Reasoner (§3.3, data) builds the reasoning trace and the spoken response *separately* and ties
each response chunk to the reasoning that derives it, so the interleaver can place every chunk after its
licence. Here a generator returns a :class:`Problem`: the written question, the exact answer (a
``Fraction``, never a float), the reasoning :class:`Step` list and :class:`Say` lines, each pointing at
the step that licenses it.

Numbers in reasoning and responses are written as *number literals* (digits, an optional decimal point, or
``n/d``) with words around them, so a trace reads "3 times 12 is 36" and a TTS engine or
:func:`thinkspeak.text.numbers.spoken_form` can say it. :func:`claim` is the one phrasing of an arithmetic
fact ("a plus b is c"); tests re-execute every claim of a trace.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

from thinkspeak.text.reading import canonical_number

CATEGORIES = ("arith_short", "arith_long", "single_step", "multi_step", "knowledge")
# The categories of the default corpus (the fifth, knowledge, is asked for by name: it needs the fact base).
DEFAULT_CATEGORIES = CATEGORIES[:4]

OPERATION_WORDS = {"+": "plus", "-": "minus", "*": "times", "/": "divided by"}
CLAIM_VERBS = ("is", "equals", "gives", "makes")


def num(value: Fraction | int | Decimal, *, as_fraction: bool = False) -> str:
    """A number literal: ``12``, ``2.5``, ``-3``, ``3/4`` (non-terminating or ``as_fraction`` values)."""
    return canonical_number(Fraction(value), as_fraction=as_fraction)


def money(value: Fraction | int) -> str:
    """Dollars as a literal with cents when needed: ``4.5 -> '4.50'``, ``3 -> '3'``."""
    f = Fraction(value)
    if f.denominator == 1:
        return str(f.numerator)
    cents = f * 100
    if cents.denominator != 1:
        raise ValueError(f"value must be a whole number of cents, got {f}")
    sign = "-" if cents < 0 else ""
    whole, rest = divmod(abs(cents.numerator), 100)
    return f"{sign}{whole}.{rest:02d}"


def apply(a: Fraction, op: str, b: Fraction) -> Fraction:
    """Exact value of ``a op b`` for op in ``+ - * /``."""
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if op == "/":
        if b == 0:
            raise ValueError("b must be non-zero for division, got 0")
        return a / b
    raise ValueError(f"op must be one of {tuple(OPERATION_WORDS)}, got {op!r}")


def claim(rng: random.Random, a: Fraction | int, op: str, b: Fraction | int, *,
          result: Fraction | None = None, fmt=num) -> str:
    """One checkable arithmetic fact: ``'36 minus 9 is 27'`` (verb drawn from :data:`CLAIM_VERBS`).

    ``result`` overrides the true value; only journey traces use that, for their deliberate slip.
    """
    value = apply(Fraction(a), op, Fraction(b)) if result is None else result
    return f"{fmt(a)} {OPERATION_WORDS[op]} {fmt(b)} {rng.choice(CLAIM_VERBS)} {fmt(value)}"


@dataclass
class Step:
    """One reasoning step: a short sentence of words and number literals.

    ``slip`` is set on journey steps (O1 Journey Learning) that state a wrong result on purpose; the next
    step then starts with "Wait, let me check" and corrects it. ``query`` marks a step that states a common
    fact (the knowledge category); a trace with tools gets that fact from ``retrieve``.
    """

    text: str
    slip: bool = False
    query: str | None = None  # a fact step: what a trace with tools asks `retrieve` (the text is the fact)


@dataclass
class Say:
    """One spoken response chunk and the reasoning step whose completion licenses it (None: needs none)."""

    text: str
    step: Step | None


@dataclass
class Problem:
    """A generated problem with its exact answer, reasoning and licensed response lines."""

    category: str
    kind: str
    question: str
    answer: Fraction
    steps: list[Step]
    says: list[Say] = field(default_factory=list)
    as_fraction: bool = False
    unit: str = ""
    expression: str | None = None  # the whole question as a calc expression (arithmetic categories)

    def __post_init__(self) -> None:
        if self.category not in CATEGORIES:
            raise ValueError(f"category must be one of {CATEGORIES}, got {self.category!r}")
        if not self.steps:
            raise ValueError(f"steps must not be empty (kind {self.kind!r})")
        for say in self.says:
            if say.step is not None and all(say.step is not s for s in self.steps):
                raise ValueError(f"say {say.text!r} is licensed by a step that is not in the trace")

    @property
    def answer_text(self) -> str:
        """The canonical answer string of contract 2 ("42", "-3", "2.5", "3/4")."""
        return num(self.answer, as_fraction=self.as_fraction)

    def step_index(self, step: Step | None) -> int:
        """Index of ``step`` in the trace (by identity); -1 for None."""
        if step is None:
            return -1
        for i, s in enumerate(self.steps):
            if s is step:
                return i
        raise ValueError(f"step {step.text!r} is not in the trace of kind {self.kind!r}")


def pick(rng: random.Random, options: Sequence[str], **fields: object) -> str:
    """Choose one template and fill it (``str.format``)."""
    return rng.choice(options).format(**fields)
