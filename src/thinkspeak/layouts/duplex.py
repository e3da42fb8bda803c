"""Full-duplex thinking-in-speaking on a chunk clock: the user's units and the assistant's say/think text.

One sequence advances in time chunks of ``chunk_units`` speech units (160 ms = 4 units at 25 Hz, SyncLLM
§3.1). Per chunk it holds the user's chunk and then the assistant's chunk, which is **text** on the clock: a
fixed number of slots, ``say_slots`` for the words it speaks (the Talker/TTS voices them) then
``think_slots`` for its reasoning stream: Mini-Omni-Reasoner's thinking-in-speaking (§3), p say : q think
tokens, with p:q per 160 ms chunk. The default 2 : 4 gives 12.5 say tokens/s (speech needs ~5-8 with this
tokenizer, so words are not delayed) and a reasoning stream twice as fast; 2 : 8 (the paper's rhythm) is
``think_slots=8`` at 1.4x the sequence length.

Two layouts of the same chunks (``ClockConfig.layout``):

* ``'syncllm'`` (SyncLLM §3.2): ``[S0] dedup(user chunk) [S1] say think think think think`` -- tagged, the
  user's units deduplicated inside the chunk (:func:`thinkspeak.layouts.syncllm.dedup`);
* ``'omniflatten'`` (OmniFlatten §3.3): ``u u u u say think think think think`` -- fixed rate, no tags, the
  user's units as they are (positions alone say the stream).

The assistant's chunks (:func:`assistant_chunks`), the rule: chunk ``c`` covers ``[c*T, (c+1)*T)``. A turn
speaks from the chunk holding its start to the chunk holding its end. Its say slots follow Moshi's aligned
text (§3.4.4): the tokens of every word that has started by the end of chunk ``c`` are queued, and each say
slot takes the next queued token or ``say_pad``; so a word's tokens never come before the chunk in which it
starts. Its think slots take the next reasoning token, ``think_pad`` once the reasoning is out. A turn that
ends by itself runs on until its queued words are out (never into the next turn); a truncated turn (cut by a
barge-in) stops at its cut and drops what is left. Outside turns every slot holds ``silence``.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

from thinkspeak.layouts.syncllm import dedup

LAYOUTS = ("syncllm", "omniflatten")
# Role of each position of a sequence (also the loss mask's classes).
USER_TAG, USER, ASSISTANT_TAG, SAY, THINK = range(5)
_EPS = 1e-9


def _check_count(name: str, value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name} must be an int >= 1, got {value!r}")
    return value


@dataclass(frozen=True)
class ClockConfig:
    """The chunk clock and the assistant's slots per chunk (defaults: 160 ms chunks at 25 Hz, 2 say : 4 think)."""

    chunk_units: int = 4
    unit_rate_hz: float = 25.0
    say_slots: int = 2
    think_slots: int = 4
    layout: str = "syncllm"

    def __post_init__(self) -> None:
        _check_count("chunk_units", self.chunk_units)
        _check_count("say_slots", self.say_slots)
        _check_count("think_slots", self.think_slots)
        rate = self.unit_rate_hz
        if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 < rate < math.inf:
            raise ValueError(f"unit_rate_hz must be a number > 0, got {rate!r}")
        if self.layout not in LAYOUTS:
            raise ValueError(f"layout must be one of {LAYOUTS}, got {self.layout!r}")

    @property
    def chunk_s(self) -> float:
        return self.chunk_units / self.unit_rate_hz

    @property
    def slots(self) -> int:
        return self.say_slots + self.think_slots

    def n_chunks(self, duration_s: float) -> int:
        """Chunks covering ``duration_s`` seconds."""
        return max(1, math.ceil(duration_s / self.chunk_s - _EPS))

    def to_dict(self) -> dict:
        return {"chunk_units": self.chunk_units, "unit_rate_hz": self.unit_rate_hz, "say_slots": self.say_slots,
                "think_slots": self.think_slots, "layout": self.layout}


@dataclass(frozen=True)
class Markers:
    """Token ids of the chunk tags ``[S0]``/``[S1]`` and of the assistant-slot fillers (all distinct)."""

    user_tag: int
    assistant_tag: int
    silence: int
    say_pad: int
    think_pad: int

    def __post_init__(self) -> None:
        values = [self.user_tag, self.assistant_tag, self.silence, self.say_pad, self.think_pad]
        if len(set(values)) != len(values) or any(not isinstance(v, int) or isinstance(v, bool) for v in values):
            raise ValueError(f"markers must be 5 distinct int ids, got {self!r}")


@dataclass(frozen=True)
class SpokenTurn:
    """An assistant turn: ``words`` = ``((token ids, start_s), ...)`` in time order, reasoning token ids,
    the turn's ``start``/``end`` seconds and whether a barge-in cut it."""

    words: tuple[tuple[tuple[int, ...], float], ...]
    think: tuple[int, ...]
    start: float
    end: float
    truncated: bool = False


def chunk_of(t: float, config: ClockConfig) -> int:
    """The chunk holding instant ``t`` seconds."""
    return math.floor(t / config.chunk_s + _EPS)


def assistant_chunks(turns: Sequence[SpokenTurn], n_chunks: int, config: ClockConfig,
                     markers: Markers) -> list[list[int]]:
    """The assistant's ``config.slots`` slot tokens for each of ``n_chunks`` chunks (rule in the module doc)."""
    _check_count("n_chunks", n_chunks)
    out = [[markers.silence] * config.slots for _ in range(n_chunks)]
    ordered = sorted(turns, key=lambda t: t.start)
    for k, turn in enumerate(ordered):
        if turn.end < turn.start:
            raise ValueError(f"turns[{k}] must have start <= end, got {turn.start} > {turn.end}")
        first = chunk_of(turn.start, config)
        last = max(first, math.ceil(turn.end / config.chunk_s - _EPS) - 1)
        limit = n_chunks if k + 1 == len(ordered) else min(n_chunks, chunk_of(ordered[k + 1].start, config))
        queue: deque[int] = deque()
        think = deque(turn.think)
        words = deque(turn.words)
        c = first
        while c < limit and (c <= last or (not turn.truncated and (queue or words))):
            while words and chunk_of(words[0][1], config) <= c:
                queue.extend(words.popleft()[0])
            slots = out[c]
            for j in range(config.say_slots):
                slots[j] = queue.popleft() if queue else markers.say_pad
            for j in range(config.say_slots, config.slots):
                slots[j] = think.popleft() if think else markers.think_pad
            c += 1
    return out


def user_chunk(units: Sequence[int], config: ClockConfig) -> list[int]:
    """The user's tokens of one chunk in the sequence: deduplicated (syncllm) or as they are (omniflatten)."""
    if len(units) != config.chunk_units:
        raise ValueError(f"a user chunk must hold {config.chunk_units} units, got {len(units)}")
    return dedup(units) if config.layout == "syncllm" else list(units)


def chunk_tokens(user_units: Sequence[int], assistant: Sequence[int], config: ClockConfig,
                 markers: Markers) -> tuple[list[int], list[int]]:
    """One chunk's tokens and their roles: ``[S0] user [S1] slots`` (syncllm) or ``user slots`` (omniflatten)."""
    if len(assistant) != config.slots:
        raise ValueError(f"an assistant chunk must hold {config.slots} slots, got {len(assistant)}")
    user = user_chunk(user_units, config)
    roles_slots = [SAY] * config.say_slots + [THINK] * config.think_slots
    if config.layout == "syncllm":
        return ([markers.user_tag, *user, markers.assistant_tag, *assistant],
                [USER_TAG, *[USER] * len(user), ASSISTANT_TAG, *roles_slots])
    return [*user, *assistant], [*[USER] * len(user), *roles_slots]


def sequence(user_units: Sequence[int], assistant: Sequence[Sequence[int]], config: ClockConfig,
             markers: Markers) -> tuple[list[int], list[int], list[int]]:
    """The whole dialogue as one sequence: ``(tokens, roles, chunk_starts)``.

    ``user_units`` are the user channel's unit token ids at the unit rate (``len == chunks * chunk_units``),
    ``assistant`` the chunks of :func:`assistant_chunks`; ``chunk_starts[c]`` is the position of chunk ``c``.
    """
    n = config.chunk_units
    if len(user_units) != len(assistant) * n:
        raise ValueError(f"user_units must hold {n} units per assistant chunk ({len(assistant) * n}), "
                         f"got {len(user_units)}")
    tokens: list[int] = []
    roles: list[int] = []
    starts: list[int] = []
    for c, slots in enumerate(assistant):
        starts.append(len(tokens))
        t, r = chunk_tokens(user_units[c * n:(c + 1) * n], slots, config, markers)
        tokens += t
        roles += r
    return tokens, roles, starts


def split_chunks(tokens: Sequence[int], config: ClockConfig, markers: Markers) -> list[tuple[list[int], list[int]]]:
    """Inverse of :func:`sequence`: per chunk ``(user tokens as written, assistant slots)``."""
    out: list[tuple[list[int], list[int]]] = []
    i = 0
    while i < len(tokens):
        if config.layout == "syncllm":
            if tokens[i] != markers.user_tag:
                raise ValueError(f"position {i}: expected the [S0] tag {markers.user_tag}, got {tokens[i]!r}")
            j = i + 1
            while j < len(tokens) and tokens[j] != markers.assistant_tag:
                j += 1
            if j == len(tokens) or not 1 <= j - i - 1 <= config.chunk_units:
                raise ValueError(f"position {i}: a user chunk must hold 1 to {config.chunk_units} units then [S1]")
            user, i = list(tokens[i + 1:j]), j + 1
        else:
            user, i = list(tokens[i:i + config.chunk_units]), i + config.chunk_units
        slots = list(tokens[i:i + config.slots])
        if len(slots) != config.slots:
            raise ValueError(f"the sequence ends inside an assistant chunk ({len(slots)} of {config.slots} slots)")
        out.append((user, slots))
        i += config.slots
    return out
