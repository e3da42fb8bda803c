"""Timed spans of speech: what the full-duplex metrics read from a two-channel recording.

A :class:`Segment` is a stretch of one channel (a VAD speech segment, an IPU) or one word (with its text,
as the ASR time-aligns it). The metrics accept anything with ``start``/``end`` seconds, so the ASR's own
``Word(word, start, end)`` objects work unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol


class Timed(Protocol):
    @property
    def start(self) -> float: ...

    @property
    def end(self) -> float: ...


@dataclass(frozen=True)
class Segment:
    """``[start, end]`` in seconds, with the spoken ``text`` when it is a word."""

    start: float
    end: float
    text: str = ""

    def __post_init__(self) -> None:
        if not 0 <= self.start <= self.end:
            raise ValueError(f"segment must satisfy 0 <= start <= end, got start={self.start}, end={self.end}")

    @property
    def duration(self) -> float:
        return self.end - self.start


def sorted_spans(spans: Iterable[Timed], name: str) -> list[Timed]:
    """``spans`` in time order, after checking each has ``0 <= start <= end``."""
    result = sorted(spans, key=lambda s: (s.start, s.end))
    for span in result:
        if not 0 <= span.start <= span.end:
            raise ValueError(f"{name} must hold spans with 0 <= start <= end, got {span!r}")
    return result


def merge_close(spans: Sequence[Timed], min_gap: float) -> list[Segment]:
    """Join spans separated by less than ``min_gap`` seconds of silence (overlapping spans join too)."""
    if min_gap < 0:
        raise ValueError(f"min_gap must be >= 0 seconds, got {min_gap}")
    merged: list[Segment] = []
    for span in sorted_spans(spans, "spans"):
        if merged and span.start - merged[-1].end < min_gap:
            last = merged[-1]
            merged[-1] = Segment(last.start, max(last.end, span.end))
        else:
            merged.append(Segment(span.start, span.end))
    return merged
