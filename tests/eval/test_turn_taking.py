"""dGSLM turn-taking statistics on a constructed two-speaker timeline, counted by hand."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from thinkspeak.eval.segments import Segment
from thinkspeak.eval.turn_taking import ipus, turn_taking_stats


def spans(*pairs: tuple[float, float]) -> list[Segment]:
    return [Segment(s, e) for s, e in pairs]


def test_ipus_pauses_gaps_and_overlaps() -> None:
    # A: 0-1 and 1.1-2 merge (0.1 s < 200 ms) into one IPU, then a 0.5 s pause, then 2.5-3.
    # B: 3.3-5 (gap 0.3 after A), A: 4.5-6 (overlap 0.5 with B), B: 7-7.5 (gap 1.0), A: 8-9 (gap 0.5).
    a = spans((0.0, 1.0), (1.1, 2.0), (2.5, 3.0), (4.5, 6.0), (8.0, 9.0))
    b = spans((3.3, 5.0), (7.0, 7.5))
    stats = turn_taking_stats(a, b, duration=12.0)  # 12 s = 0.2 min; trailing silence is not an event
    assert stats.ipus[0] == spans((0.0, 2.0), (2.5, 3.0), (4.5, 6.0), (8.0, 9.0))
    events = stats.events
    assert {name: e.count for name, e in events.items()} == {"ipu": 6, "pause": 1, "gap": 3, "overlap": 1}
    assert {name: e.per_minute for name, e in events.items()} == pytest.approx(
        {"ipu": 30.0, "pause": 5.0, "gap": 15.0, "overlap": 5.0})
    assert events["pause"].total_s == pytest.approx(0.5)
    assert events["gap"].total_s == pytest.approx(1.8)
    assert events["gap"].mean_s == pytest.approx(0.6)
    assert events["overlap"].total_s == pytest.approx(0.5)
    assert events["ipu"].total_s == pytest.approx(2.0 + 0.5 + 1.5 + 1.0 + 1.7 + 0.5)
    assert stats.to_json()["gap"]["count"] == 3


def test_silence_while_the_other_speaks_is_neither_pause_nor_gap() -> None:
    # A stops at 1.0 and resumes at 1.5 while B talks 0.8-1.8 under it: two overlaps, no silence.
    stats = turn_taking_stats(spans((0.0, 1.0), (1.5, 2.0)), spans((0.8, 1.8)))
    assert {name: e.count for name, e in stats.events.items()} == {"ipu": 3, "pause": 0, "gap": 0, "overlap": 2}
    assert stats.events["overlap"].total_s == pytest.approx(0.2 + 0.3)
    assert stats.duration_s == 2.0


@given(st.lists(st.tuples(st.floats(0, 50), st.floats(0.01, 3)), max_size=12),
       st.lists(st.tuples(st.floats(0, 50), st.floats(0.01, 3)), max_size=12))
def test_events_partition_the_conversation_time(raw_a: list[tuple[float, float]],
                                                raw_b: list[tuple[float, float]]) -> None:
    a = spans(*((s, s + d) for s, d in raw_a))
    b = spans(*((s, s + d) for s, d in raw_b))
    if not a and not b:
        return
    stats = turn_taking_stats(a, b)
    ia, ib = ipus(a), ipus(b)
    first = min(s.start for s in ia + ib)
    # Between the first speech and the end: A-only + B-only + overlap + pauses + gaps == elapsed time.
    union = sum(s.duration for s in ia + ib) - stats.events["overlap"].total_s
    silence = stats.events["pause"].total_s + stats.events["gap"].total_s
    assert union + silence == pytest.approx(stats.duration_s - first, abs=1e-6)
    assert all(s2.start - s1.end >= 0.2 for s1, s2 in zip(ia, ia[1:], strict=False))


def test_duration_must_cover_the_speech() -> None:
    with pytest.raises(ValueError, match="duration"):
        turn_taking_stats(spans((0.0, 5.0)), [], duration=4.0)
