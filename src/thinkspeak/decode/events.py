"""Typed events of a streaming thinking-in-speaking decode (contract 4; DESIGN "decoder events").

A decode yields :class:`SayToken` and :class:`ThinkToken` as tokens are produced, then exactly one
:class:`Done`. ``step`` is the index of the token in the generated stream (pads included), ``t`` the
``time.monotonic()`` instant the token was known. Pads are never events; they are counted in the stats.

With tools (issue 12, docs/tools.md) a decode also yields :class:`ToolCall` when the model closes a call in
the think stream (the step of its ``<|call_end|>``) and :class:`ToolResult` when the tool's answer has been
injected into the think stream (the step of its ``<|result_end|>``): nothing spoken before that step can
have used it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

StopReason = Literal["end", "max_steps", "cancelled"]


@dataclass(frozen=True)
class SayToken:
    """A spoken-response token; ``text`` is the UTF-8-complete text it completes ("" inside a character)."""

    text: str
    token_id: int
    step: int
    t: float


@dataclass(frozen=True)
class ThinkToken:
    """A reasoning token; ``text`` as for :class:`SayToken`."""

    text: str
    token_id: int
    step: int
    t: float


@dataclass(frozen=True)
class ToolCall:
    """A call the model closed: ``name`` and ``arguments`` as parsed; ``malformed`` says why it did not parse
    (then ``name`` is 'malformed' and an error result follows)."""

    call_id: str
    name: str
    arguments: str
    step: int
    t: float
    malformed: str | None = None


@dataclass(frozen=True)
class ToolResult:
    """The tool's answer, fully injected at ``step``; ``latency_s`` from the call's start to the moment the
    decoder found the answer ready (or the timeout passed)."""

    call_id: str
    name: str
    value: str
    error: bool
    step: int
    t: float
    latency_s: float


@dataclass(frozen=True)
class DecodeStats:
    """Counts and timings of one decode.

    ``steps``: generated stream tokens, pads and the end token included; ``first_say_step``: step of the first
    spoken (non-pad) token, None when nothing was said; ``tokens_per_s``: ``steps`` over the decoding time
    (``elapsed_s - prefill_s``); ``prefill_s``: prompt building and the prompt's forward pass; ``elapsed_s``:
    the whole decode; ``forwards``: forward passes after the prefill (fewer than ``steps`` when runs of forced
    pads went through the model together); ``stop_reason``: 'end', 'max_steps' or 'cancelled'; ``tool_calls``:
    calls the model closed.
    """

    steps: int
    first_say_step: int | None
    say_tokens: int
    think_tokens: int
    tokens_per_s: float
    prefill_s: float
    elapsed_s: float
    forwards: int = 0
    stop_reason: StopReason = "end"
    tool_calls: int = 0


@dataclass(frozen=True)
class Done:
    """End of a decode: the answer read from the spoken text (see :func:`~thinkspeak.decode.answer.spoken_answer`),
    the full spoken and reasoning texts, the stats, and ``tokens``, the generated stream itself (pads included)."""

    answer: str | None
    say: str
    think: str
    stats: DecodeStats
    t: float
    tokens: tuple[int, ...] = ()


Event = SayToken | ThinkToken | ToolCall | ToolResult | Done
