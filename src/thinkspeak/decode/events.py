"""Typed events of a streaming thinking-in-speaking decode (contract 4; DESIGN "decoder events").

A decode yields :class:`SayToken` and :class:`ThinkToken` as tokens are produced, then exactly one
:class:`Done`. ``step`` is the index of the token in the generated stream (pads included), ``t`` the
``time.monotonic()`` instant the token was known. Pads are never events; they are counted in the stats.
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
class DecodeStats:
    """Counts and timings of one decode.

    ``steps``: generated stream tokens, pads and the end token included; ``first_say_step``: step of the first
    spoken (non-pad) token, None when nothing was said; ``tokens_per_s``: ``steps`` over the decoding time
    (``elapsed_s - prefill_s``); ``prefill_s``: prompt building and the prompt's forward pass; ``elapsed_s``:
    the whole decode; ``forwards``: forward passes after the prefill (fewer than ``steps`` when runs of forced
    pads went through the model together); ``stop_reason``: 'end', 'max_steps' or 'cancelled'.
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


Event = SayToken | ThinkToken | Done
