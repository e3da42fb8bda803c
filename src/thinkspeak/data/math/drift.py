"""Anticipation-drift detector (Mini-Omni-Reasoner §3.3).

*Anticipation drift*: the spoken response states a result before the reasoning has derived it at that
point of the interleaved stream. The detector reads an interleaved stream (words or any tokenizer's ids,
with a decoder to text), and for every number the say channel mentions checks that the same value appears
in the think text emitted *before* the say token where the mention starts. Numbers are found written or
spoken (:func:`thinkspeak.text.numbers.find_numbers`), so "twelve" in speech matches "12" in reasoning.

A think number counts only once all of its characters are out, so a number split over several subword
tokens ("1", "2" for "12") is not credited early.

Tools (issue 12): a number inside a tool result (``<|result|>42<|result_end|>``) counts only once the whole
result is in the stream (its ``<|result_end|>`` is out): nothing spoken may use a tool's answer before it is
injected. A say mention that breaks this rule is a violation with ``rule='tool'``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from fractions import Fraction

from thinkspeak.layouts.interleave import TokenRouter
from thinkspeak.layouts.toolcalls import RESULT, RESULT_END
from thinkspeak.text.reading import find_numbers

_RESULT = re.compile(re.escape(RESULT) + ".*?" + re.escape(RESULT_END), re.S)

MARKERS = {"say_pad": "<say_pad>", "think_pad": "<think_pad>", "end": "<end>", "think_end": "<think_end>"}


@dataclass(frozen=True)
class Violation:
    """A number said before the reasoning produced it."""

    say_token: int  # index among say tokens where the mention starts
    stream_index: int  # its position in the interleaved stream
    number: str
    value: Fraction
    rule: str = "reasoning"  # 'tool': the number is a tool's answer said before the answer was injected


@dataclass(frozen=True)
class DriftVerdict:
    """Verdict for one sample: ``ok`` when no say mention comes before its value in the think text."""

    mentions: int
    violations: tuple[Violation, ...]

    @property
    def ok(self) -> bool:
        return not self.violations


def _prefix_lengths(tokens: Sequence[Hashable], decode: Callable[[list], str]) -> list[int]:
    """``out[k]`` = length of the decoded text of the first ``k`` tokens."""
    return [len(decode(list(tokens[:k]))) for k in range(len(tokens) + 1)]


def check_stream(stream: Sequence[Hashable], *, decode: Callable[[list], str], say_pad: Hashable,
                 think_pad: Hashable, end: Hashable, p: int = 2, q: int = 8) -> DriftVerdict:
    """Check an interleaved p:q stream; ``decode`` turns a list of content tokens into text."""
    router = TokenRouter(say_pad=say_pad, think_pad=think_pad, end=end, p=p, q=q)
    say: list[Hashable] = []
    think: list[Hashable] = []
    say_at: list[int] = []
    think_at: list[int] = []
    for routed in router.feed(stream):
        if routed.kind == "end":
            break
        if routed.kind == "token":
            (say if routed.channel == "say" else think).append(routed.token)
            (say_at if routed.channel == "say" else think_at).append(routed.index)
    say_len = _prefix_lengths(say, decode)
    think_len = _prefix_lengths(think, decode)
    think_text = decode(list(think))
    results = [m.span() for m in _RESULT.finditer(think_text)]

    def ready(n) -> int:  # where a think number becomes usable: its end, or its result's end
        return next((end for start, end in results if start <= n.start < end), n.end)

    think_numbers = [(n.value, ready(n), any(s <= n.start < e for s, e in results)) for n in find_numbers(think_text)]
    mentions = find_numbers(decode(list(say)))
    violations = []
    for mention in mentions:
        k = next(i for i in range(len(say)) if say_len[i + 1] > mention.start)
        emitted = sum(1 for t in think_at if t < say_at[k])
        available = {value for value, at, _ in think_numbers if at <= think_len[emitted]}
        if mention.value not in available:
            pending = any(value == mention.value and in_result for value, _, in_result in think_numbers)
            violations.append(Violation(k, say_at[k], mention.text, mention.value, "tool" if pending else "reasoning"))
    return DriftVerdict(len(mentions), tuple(violations))


def check_words(tis: str, *, p: int = 2, q: int = 8) -> DriftVerdict:
    """Check a word-level thinking-in-speaking string (whitespace tokens, contract 2 markers)."""
    return check_stream(tis.split(), decode=" ".join, say_pad=MARKERS["say_pad"],
                        think_pad=MARKERS["think_pad"], end=MARKERS["end"], p=p, q=q)
