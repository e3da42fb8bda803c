"""Turn-taking statistics of a two-channel conversation, as dGSLM reports them.

dGSLM (Nguyen et al. 2022, arXiv 2203.16502, turn-taking analysis, after Heldner & Edlund 2010): each channel's speech is grouped into
inter-pausal units (IPU: one speaker's speech bounded by silences of at least 200 ms). Over the joint
timeline, a silence of both channels is a pause when the same speaker talks before and after it and a gap
when the speaker changes; an overlap is a stretch where both talk. Silence before the first and after the
last speech is not counted. Each event type is reported as a count, a count per minute, a total and a mean
duration.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from thinkspeak.eval.segments import Segment, Timed, merge_close

IPU_MIN_SILENCE_S = 0.2
EVENTS = ("ipu", "pause", "gap", "overlap")


@dataclass(frozen=True)
class EventStats:
    count: int
    per_minute: float
    total_s: float
    mean_s: float | None


@dataclass(frozen=True)
class TurnTakingStats:
    duration_s: float
    events: dict[str, EventStats]
    ipus: tuple[list[Segment], list[Segment]]

    def to_json(self) -> dict[str, object]:
        return {"duration_s": self.duration_s,
                **{name: vars(stats) for name, stats in self.events.items()}}


def ipus(speech: Iterable[Timed], min_silence: float = IPU_MIN_SILENCE_S) -> list[Segment]:
    """Merge one channel's speech segments across silences shorter than ``min_silence`` seconds."""
    return merge_close(list(speech), min_silence)


def _stats(durations: list[float], minutes: float) -> EventStats:
    total = sum(durations)
    return EventStats(count=len(durations), per_minute=len(durations) / minutes, total_s=total,
                      mean_s=total / len(durations) if durations else None)


def turn_taking_stats(channel_a: Iterable[Timed], channel_b: Iterable[Timed], duration: float | None = None,
                      min_silence: float = IPU_MIN_SILENCE_S) -> TurnTakingStats:
    """IPU, pause, gap and overlap statistics of two channels' speech segments (seconds).

    ``duration`` is the recording length for the per-minute rates (default: the last speech end).
    """
    a, b = ipus(channel_a, min_silence), ipus(channel_b, min_silence)
    last_end = max((s.end for s in a + b), default=0.0)
    duration = last_end if duration is None else duration
    if duration <= 0 or duration < last_end:
        raise ValueError(f"duration must be > 0 and cover the speech (ends at {last_end} s), got {duration}")
    # Elementary intervals between consecutive boundaries, each labelled with who is talking.
    times = sorted({0.0, duration, *(t for s in a + b for t in (s.start, s.end))})
    runs: list[tuple[float, float, frozenset[str]]] = []
    for start, end in zip(times, times[1:], strict=False):
        mid = (start + end) / 2
        who = frozenset(name for name, ipu_list in (("a", a), ("b", b))
                        if any(s.start <= mid < s.end for s in ipu_list))
        if runs and runs[-1][2] == who:
            runs[-1] = (runs[-1][0], end, who)
        else:
            runs.append((start, end, who))
    pauses, gaps, overlaps = [], [], []
    for i, (start, end, who) in enumerate(runs):
        if len(who) == 2:
            overlaps.append(end - start)
        elif not who and 0 < i < len(runs) - 1:
            before, after = runs[i - 1][2], runs[i + 1][2]
            (pauses if before & after else gaps).append(end - start)
    minutes = duration / 60
    events = {
        "ipu": _stats([s.duration for s in a + b], minutes),
        "pause": _stats(pauses, minutes),
        "gap": _stats(gaps, minutes),
        "overlap": _stats(overlaps, minutes),
    }
    return TurnTakingStats(duration_s=duration, events=events, ipus=(a, b))
