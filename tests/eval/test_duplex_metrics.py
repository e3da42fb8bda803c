"""Full-Duplex-Bench v1 and OmniFlatten metrics on constructed recordings with hand-worked answers."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from thinkspeak.eval.duplex_metrics import (
    assistant_turn_acc,
    backchannel_histogram,
    backchannel_jsd,
    backchannel_sample,
    backchannel_score,
    take_over,
    take_over_score,
    turn_taking_sample,
    user_turn_acc,
    words_in,
)
from thinkspeak.eval.segments import Segment


def words(*spans: tuple[float, float]) -> list[Segment]:
    return [Segment(s, e, f"w{i}") for i, (s, e) in enumerate(spans)]


def test_take_over_rate_and_latency() -> None:
    user_end = 4.5
    samples = [
        turn_taking_sample([], user_end),                                            # silent: TOR 0
        turn_taking_sample(words((5.0, 5.3), (5.4, 5.7)), user_end),                 # 0.7 s, 2 words: TOR 0
        turn_taking_sample(words((5.0, 5.2), (5.2, 5.4), (5.4, 5.6), (5.6, 5.8)), user_end),  # 4 words: 1
        turn_taking_sample(words((4.8, 5.6), (4.2, 4.6)), user_end),                 # 1.4 s, starts early: 1
    ]
    assert [(s.tor, s.latency) for s in samples] == [(0, None), (0, None), (1, pytest.approx(0.5)), (1, 0.0)]
    score = take_over_score(samples)
    assert (score.samples, score.tor) == (4, 0.5)
    assert score.latency == pytest.approx(0.25)  # mean of 0.5 and the clipped 0


@given(st.integers(min_value=1, max_value=3), st.floats(min_value=0.0, max_value=0.99),
       st.floats(min_value=1.0, max_value=5.0))
def test_take_over_needs_a_second_of_speech_or_four_words(n: int, span: float, long_span: float) -> None:
    spans = [(10 + span * i / n, 10 + span * (i + 1) / n) for i in range(n)]
    assert take_over(words(*spans)) == 0
    assert take_over(words(*spans[:-1], (spans[-1][0], 10 + long_span))) == 1
    fourth = [(10 + span * i / 4, 10 + span * (i + 1) / 4) for i in range(4)]
    assert take_over(words(*fourth)) == 1


def test_words_in_uses_the_benchmark_overlap_rule() -> None:
    segment = Segment(1.0, 2.0)
    assert words_in(segment, words((0.8, 1.1))) == 1   # crosses the start
    assert words_in(segment, words((0.5, 1.0))) == 0   # ends exactly at the start
    assert words_in(segment, words((1.2, 1.8))) == 1   # inside
    assert words_in(segment, words((2.0, 2.3))) == 1   # starts exactly at the end
    assert words_in(segment, words((2.1, 2.3))) == 0   # after


def test_backchannels_are_short_few_word_segments_and_reset_on_a_turn() -> None:
    segments = [Segment(1.0, 1.4), Segment(3.0, 3.6), Segment(5.0, 5.5), Segment(7.0, 7.3)]
    spoken = words((1.1, 1.3), (3.0, 3.3), (3.3, 3.6), (5.0, 5.2), (5.2, 5.3), (5.3, 5.5), (7.0, 7.3))
    sample = backchannel_sample(segments, spoken, duration=10.0)
    # 1.0-1.4 (1 word) and 3.0-3.6 (2 words) are backchannels, 5.0-5.5 has 3 words: a turn, which drops
    # them; 7.0-7.3 is a backchannel again and the last verdict (TOR 0) stands.
    assert (sample.tor, sample.backchannels, sample.frequency) == (0, [Segment(7.0, 7.3)], pytest.approx(0.1))

    long_turn = backchannel_sample([Segment(1.0, 1.5), Segment(2.0, 6.0), Segment(7.0, 7.2)],
                                   words((1.0, 1.5)), duration=10.0)
    assert (long_turn.tor, long_turn.backchannels) == (1, [Segment(1.0, 1.5)])  # > 3 s ends the scan
    assert backchannel_sample([], [], duration=5.0).tor == 0


def js_distance(p: list[float], q: list[float]) -> float:
    """Jensen-Shannon distance written out: sqrt(KL(p||m)/2 + KL(q||m)/2), natural log."""
    p_ = np.array(p) / sum(p)
    q_ = np.array(q) / sum(q)
    m = (p_ + q_) / 2
    kl = lambda a, b: sum(x * math.log(x / y) for x, y in zip(a, b, strict=True) if x > 0)  # noqa: E731
    return math.sqrt(kl(p_, m) / 2 + kl(q_, m) / 2)


def test_backchannel_histogram_and_jsd() -> None:
    # 1 s at 0.2 s bins -> 6 bins; a backchannel over 0.1-0.3 s covers bins 0 and 1.
    sample = backchannel_sample([Segment(0.1, 0.3)], words((0.1, 0.3)), duration=1.0)
    histogram = backchannel_histogram(sample.backchannels, 1.0)
    assert histogram == pytest.approx([0.5, 0.5, 0, 0, 0, 0], abs=1e-9)
    assert backchannel_jsd(sample, [1, 1, 0, 0, 0, 0]) == pytest.approx(0.0, abs=1e-4)
    assert backchannel_jsd(sample, [0, 0, 0, 1, 1, 0]) == pytest.approx(math.sqrt(math.log(2)), abs=1e-4)
    # A 4-bin reference [1, 0, 0, 1] resized linearly onto 6 points gives [1, .4, 0, 0, .4, 1].
    assert backchannel_jsd(sample, [1, 0, 0, 1]) == pytest.approx(
        js_distance([0.5, 0.5, 0, 0, 0, 0], [1, 0.4, 0, 0, 0.4, 1]), abs=1e-4)
    silent = backchannel_sample([], [], duration=1.0)
    assert backchannel_jsd(silent, [1, 1, 0, 0, 0, 0]) == 1.0

    score = backchannel_score([sample, silent], [[1, 1, 0, 0, 0, 0], [1, 1, 0, 0, 0, 0]])
    assert (score.samples, score.tor) == (2, 0.0)
    assert score.frequency == pytest.approx(0.5)   # (1 per 1 s + 0) / 2
    assert score.jsd == pytest.approx(0.5, abs=1e-4)  # (0 + 1) / 2


def test_omniflatten_turn_taking_accuracy_at_k() -> None:
    silence = 0
    assistant = [0, 0, 0, 5, 6, 7, 0, 0, 0, 0, 8, 9]
    user_turn_ends = [1, 7]
    assert assistant_turn_acc(assistant, silence, user_turn_ends, 1) == 0.0  # steps 2 and 8 silent
    assert assistant_turn_acc(assistant, silence, user_turn_ends, 2) == 0.5  # step 3 speaks, step 9 silent
    assert assistant_turn_acc(assistant, silence, user_turn_ends, 3) == 1.0  # steps 4 and 10 speak
    barge_ins = [4, 11]  # the second is the last step: the step after it is past the end, i.e. silent
    assert user_turn_acc(assistant, silence, barge_ins, 1) == 0.5   # step 5 still speaks
    assert user_turn_acc(assistant, silence, barge_ins, 2) == 1.0   # step 6 silent
    assert user_turn_acc(assistant, {0, 1}, [2], 1) == 0.0         # several silence ids
    with pytest.raises(ValueError, match="k must be"):
        assistant_turn_acc(assistant, silence, user_turn_ends, 0)
    with pytest.raises(ValueError, match="event step"):
        user_turn_acc(assistant, silence, [12], 1)


def test_bad_spans_raise_value_error() -> None:
    with pytest.raises(ValueError, match="start <= end"):
        Segment(2.0, 1.0)
    with pytest.raises(ValueError, match="duration"):
        backchannel_sample([], [], duration=0.0)
