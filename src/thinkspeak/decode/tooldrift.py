"""Anticipation drift around tool calls, measured on a decode's event stream (issue 12).

Mini-Omni-Reasoner §3.3 calls it anticipation drift when speech states what the reasoning has not derived
yet. With tools the rule is: nothing spoken may use a tool's result before the result is in the stream.
:func:`tool_drift` reads the events of one decode and flags every spoken number that equals the number of a
:class:`~thinkspeak.decode.events.ToolResult` yet starts at an earlier step than that result's injection,
unless the number was already there (in ``known`` text such as the question, or in the reasoning before it).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction

from thinkspeak.decode.events import Event, SayToken, ThinkToken, ToolResult
from thinkspeak.text.reading import find_numbers


@dataclass(frozen=True)
class EarlyMention:
    """A spoken number said at ``step`` although the tool result holding it was injected only at ``injected``."""

    text: str
    value: Fraction
    step: int
    injected: int


@dataclass(frozen=True)
class ToolDrift:
    mentions: int
    early: tuple[EarlyMention, ...]

    @property
    def ok(self) -> bool:
        return not self.early


def tool_drift(events: Iterable[Event], known: str = "") -> ToolDrift:
    """Check one decode's events (say tokens, think tokens, tool results) against the rule above."""
    say: list[tuple[int, int]] = []  # (character offset where the token's text starts, step)
    say_text, think = "", []
    results: list[tuple[int, set[Fraction]]] = []
    for event in events:
        if isinstance(event, SayToken):
            say.append((len(say_text), event.step))
            say_text += event.text
        elif isinstance(event, ThinkToken):
            think.append((event.step, event.text))
        elif isinstance(event, ToolResult) and not event.error:
            results.append((event.step, {n.value for n in find_numbers(event.value)}))
    known_values = {n.value for n in find_numbers(known)}
    early = []
    mentions = find_numbers(say_text)
    for mention in mentions:
        step = next(s for start, s in reversed(say) if start <= mention.start)
        owners = [at for at, values in results if mention.value in values and at > step]
        if not owners:
            continue
        before = "".join(text for s, text in think if s < step)
        reasoned = {n.value for n in find_numbers(before)}  # numbers inside a finished result count too
        if mention.value not in known_values | reasoned:
            early.append(EarlyMention(mention.text, mention.value, step, min(owners)))
    return ToolDrift(len(mentions), tuple(early))
