"""SyncLLM's time-synchronous two-speaker layout: chunked, tagged, deduplicated units (SyncLLM §3).

SyncLLM (Veluri et al. 2024, §3.1-3.2) models a full-duplex dialogue as ONE sequence that advances in
fixed time chunks (160 ms by default). Speech is HuBERT units at 25 Hz (vocabulary 501), so one chunk holds
4 units per speaker. For every time chunk ``k`` the sequence holds speaker 0's chunk then speaker 1's chunk,
each opened by its speaker tag::

    [S0] dedup(s0 chunk k) [S1] dedup(s1 chunk k) [S0] dedup(s0 chunk k+1) ...

**Deduplication** (§3.2) collapses runs of a repeated unit *inside* each chunk, so the model sees fewer,
more informative tokens; a run that crosses a chunk boundary keeps one copy in each chunk.

**Interpolation** rebuilds the fixed-rate stream: the ``k`` deduplicated units of a chunk are spread
evenly over the chunk's ``n`` positions, position ``j`` taking unit ``floor(j * k / n)`` (the paper's
equal-share heuristic; earlier units take the remainder). With ``n = 4``::

    [7 7 7 7] -> [7]     -> [7 7 7 7]   exact
    [7 7 9 9] -> [7 9]   -> [7 7 9 9]   exact
    [7 7 7 9] -> [7 9]   -> [7 7 9 9]   approximation: the 3:1 run lengths are lost
    [7 8 8 9] -> [7 8 9] -> [7 7 8 9]   approximation

So ``decode(encode(x)) == x`` exactly when every chunk of ``x`` is made of equally long runs (one unit held
for the whole chunk in particular); otherwise the result keeps each chunk's units in order with equal shares.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass


def _check_count(name: str, value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name} must be an int >= 1, got {value!r}")
    return value


@dataclass(frozen=True)
class SyncConfig:
    """Units, chunking and speaker tags of the layout (defaults: SyncLLM's 501 HuBERT units, 25 Hz, 160 ms).

    ``tags`` are the ids of ``[S0]`` and ``[S1]``; by default the two ids right after the unit vocabulary.
    """

    n_units: int = 501
    unit_rate_hz: float = 25.0
    chunk_ms: float = 160.0
    tags: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        _check_count("n_units", self.n_units)
        for name in ("unit_rate_hz", "chunk_ms"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
                raise ValueError(f"{name} must be a number > 0, got {value!r}")
        units = self.chunk_ms * self.unit_rate_hz / 1000
        if round(units) < 1 or abs(units - round(units)) > 1e-9:
            raise ValueError(f"chunk_ms must hold a whole number (>= 1) of units at {self.unit_rate_hz} Hz, "
                             f"got {self.chunk_ms} ms = {units:g} units")
        if self.tags is None:
            object.__setattr__(self, "tags", (self.n_units, self.n_units + 1))
        tags = self.tags
        if (not isinstance(tags, tuple) or len(tags) != 2 or tags[0] == tags[1]
                or any(not isinstance(t, int) or isinstance(t, bool) or 0 <= t < self.n_units for t in tags)):
            raise ValueError(f"tags must be two distinct int ids outside the units [0, {self.n_units}), got {tags!r}")

    @property
    def chunk_units(self) -> int:
        """Units per speaker per chunk (4 for 160 ms at 25 Hz)."""
        return round(self.chunk_ms * self.unit_rate_hz / 1000)


CONFIG = SyncConfig()


def dedup(units: Sequence[int]) -> list[int]:
    """Collapse runs of equal consecutive units: ``[7, 7, 9, 9, 7] -> [7, 9, 7]``."""
    return [u for i, u in enumerate(units) if i == 0 or u != units[i - 1]]


def interpolate(units: Sequence[int], length: int) -> list[int]:
    """Spread ``units`` evenly over ``length`` positions (equal shares; position j takes unit j*k//length)."""
    _check_count("length", length)
    k = len(units)
    if not 1 <= k <= length:
        raise ValueError(f"units must hold 1 to {length} units to fill {length} positions, got {k}")
    return [units[j * k // length] for j in range(length)]


def _check_units(name: str, units: Sequence[int], config: SyncConfig) -> None:
    for j, u in enumerate(units):
        if not isinstance(u, int) or isinstance(u, bool) or not 0 <= u < config.n_units:
            raise ValueError(f"{name}[{j}] must be a unit in [0, {config.n_units}), got {u!r}")


def encode(s0: Sequence[int], s1: Sequence[int], config: SyncConfig = CONFIG) -> list[int]:
    """Interleave two speakers' fixed-rate unit streams chunk by chunk with tags and per-chunk dedup (§3.2).

    Both streams cover the same time, so they must have the same length, a multiple of ``chunk_units``
    (pad the end with the silence unit first).
    """
    if len(s0) != len(s1):
        raise ValueError(f"s0 and s1 must have the same length (same duration), got {len(s0)} and {len(s1)}")
    n = config.chunk_units
    if len(s0) % n:
        raise ValueError(f"s0 and s1 must hold a whole number of {n}-unit chunks, got {len(s0)} units")
    _check_units("s0", s0, config)
    _check_units("s1", s1, config)
    tag0, tag1 = config.tags
    out: list[int] = []
    for start in range(0, len(s0), n):
        out += [tag0, *dedup(s0[start:start + n]), tag1, *dedup(s1[start:start + n])]
    return out


@dataclass(frozen=True)
class SpeakerChunk:
    """One speaker's chunk rebuilt at the fixed unit rate (``chunk_units`` units)."""

    chunk: int
    speaker: int
    units: tuple[int, ...]


class StreamDecoder:
    """Streaming inverse of :func:`encode`: yields each speaker chunk, interpolated, once it is complete.

    A chunk is complete when the next tag arrives (its unit count is only known then) or at :meth:`close`.
    Tags must alternate ``[S0] [S1]`` starting with ``[S0]``; a chunk must hold 1 to ``chunk_units`` units.
    """

    def __init__(self, config: SyncConfig = CONFIG):
        self.config = config
        self.position = 0
        self._speaker: int | None = None
        self._chunk = 0
        self._units: list[int] = []

    def _finish(self) -> SpeakerChunk:
        if not self._units:
            raise ValueError(f"position {self.position}: the chunk of speaker {self._speaker} is empty "
                             f"(a tag must be followed by 1 to {self.config.chunk_units} units)")
        done = SpeakerChunk(self._chunk, self._speaker, tuple(interpolate(self._units, self.config.chunk_units)))
        if self._speaker == 1:
            self._chunk += 1
        self._units = []
        return done

    def push(self, token: int) -> list[SpeakerChunk]:
        cfg = self.config
        out: list[SpeakerChunk] = []
        if token in cfg.tags:
            speaker = cfg.tags.index(token)
            expected = 0 if self._speaker in (None, 1) else 1
            if speaker != expected:
                raise ValueError(f"position {self.position}: expected the tag of speaker {expected} "
                                 f"({cfg.tags[expected]}), got {token}")
            if self._speaker is not None:
                out.append(self._finish())
            self._speaker = speaker
        elif self._speaker is None:
            raise ValueError(f"position {self.position}: the sequence must start with the [S0] tag "
                             f"({cfg.tags[0]}), got {token!r}")
        else:
            _check_units(f"sequence position {self.position}: unit", [token], cfg)
            if len(self._units) == cfg.chunk_units:
                raise ValueError(f"position {self.position}: speaker {self._speaker}'s chunk holds more than "
                                 f"{cfg.chunk_units} units")
            self._units.append(token)
        self.position += 1
        return out

    def feed(self, tokens: Iterable[int]) -> list[SpeakerChunk]:
        return [chunk for tok in tokens for chunk in self.push(tok)]

    def close(self) -> list[SpeakerChunk]:
        """Flush the last chunk; the sequence must end after a speaker 1 chunk (whole time chunks)."""
        if self._speaker is None:
            return []
        if self._speaker != 1:
            raise ValueError(f"sequence ended inside time chunk {self._chunk}: speaker 1's chunk is missing")
        return [self._finish()]


def decode(sequence: Sequence[int], config: SyncConfig = CONFIG) -> tuple[list[int], list[int]]:
    """Inverse of :func:`encode` (interpolating each chunk): the two fixed-rate unit streams ``(s0, s1)``."""
    decoder = StreamDecoder(config)
    streams: tuple[list[int], list[int]] = ([], [])
    for chunk in decoder.feed(sequence) + decoder.close():
        streams[chunk.speaker].extend(chunk.units)
    return streams
