"""Timeline invariants of pseudo full-duplex dialogues (OmniFlatten §4.1 recipe), checked on no-audio samples."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from thinkspeak.data.duplex.config import DuplexConfig
from thinkspeak.data.duplex.sample import DuplexSample, make_sample
from thinkspeak.data.duplex.timeline import (
    BACKCHANNEL_CLEARANCE,
    BARGE_IN_WINDOW,
    PlacedTurn,
    activity_frames,
    estimate_clip,
    spread_words,
)

EPS = 1e-9


def samples(n: int, seed: int = 0, **options) -> list[DuplexSample]:
    config = DuplexConfig(no_audio=True, **options)
    return [make_sample(seed, i, config) for i in range(n)]


def by_clip(sample: DuplexSample) -> dict[int, PlacedTurn]:
    return {t.clip: t for t in sample.timeline.turns}


def replies(sample: DuplexSample) -> list[tuple[PlacedTurn, PlacedTurn]]:
    """(user turn, assistant reply) pairs: a reply's clip index follows its user turn's."""
    turns = by_clip(sample)
    return [(turns[t.clip - 1], t) for t in sample.timeline.turns if t.role == "assistant"]


@pytest.mark.parametrize("gap", [0.0, 0.15])
def test_assistant_starts_right_after_the_user_turn(gap: float) -> None:
    pairs = 0
    for sample in samples(60, gap=gap):
        for user, reply in replies(sample):
            assert user.role == "user" and user.kind in ("turn", "barge_in")
            assert reply.start == pytest.approx(user.end + gap, abs=EPS)
            pairs += 1
    assert pairs > 150


def _pauses(batch: list[DuplexSample]) -> list[float]:
    """Silences between a complete assistant turn and the next user turn (barge-ins excluded)."""
    out = []
    for sample in batch:
        turns = by_clip(sample)
        for t in sample.timeline.turns:
            nxt = turns.get(t.clip + 1) if t.role == "assistant" else None
            if nxt is not None and nxt.kind == "backchannel":
                nxt = turns.get(t.clip + 2)
            if nxt is not None and nxt.kind == "turn":
                out.append(nxt.start - t.end)
    return out


def test_pauses_follow_the_configured_normal_distribution() -> None:
    pauses = _pauses(samples(300, seed=1, pause_mean=1.2, pause_std=0.3, barge_in_share=0.0))
    assert len(pauses) > 500
    assert abs(np.mean(pauses) - 1.2) < 4 * 0.3 / math.sqrt(len(pauses))
    assert np.std(pauses) == pytest.approx(0.3, rel=0.12)
    assert stats.kstest(pauses, "norm", args=(1.2, 0.3)).pvalue > 1e-3


def test_pauses_are_clipped_at_zero() -> None:
    pauses = _pauses(samples(300, seed=2, pause_mean=0.1, pause_std=0.5, barge_in_share=0.0))
    assert min(pauses) >= -EPS
    zero_share = np.mean(np.abs(pauses) < 1e-6)
    expected = stats.norm.cdf(0.0, 0.1, 0.5)  # P(draw < 0) = 0.42
    assert abs(zero_share - expected) < 4 * math.sqrt(expected * (1 - expected) / len(pauses))


@pytest.mark.parametrize("reaction", [0.0, 0.3, 0.8])
def test_barge_in_starts_during_the_reply_and_the_assistant_stops_within_reaction(reaction: float) -> None:
    barge_ins = 0
    for sample in samples(40, seed=3, barge_in_share=1.0, reaction=reaction):
        turns = by_clip(sample)
        for t in sample.timeline.turns:
            if t.kind != "barge_in":
                continue
            barge_ins += 1
            cut = turns[t.clip - 1]  # the reply it interrupts
            full_end = cut.start + estimate_clip(cut.spoken).duration
            assert cut.role == "assistant" and cut.start < t.start < full_end
            lo, hi = BARGE_IN_WINDOW
            assert cut.start + lo * (full_end - cut.start) - EPS <= t.start <= cut.start + hi * (full_end - cut.start) + EPS
            assert cut.end <= t.start + reaction + EPS
            assert cut.truncated == (cut.end < full_end - EPS)
            if cut.truncated:
                assert cut.end == pytest.approx(t.start + reaction, abs=EPS)
                assert cut.spoken.startswith(cut.heard)
                assert len(cut.heard.split()) < len(cut.spoken.split())
            assert all(w.end <= cut.end + EPS for w in cut.words)
    assert barge_ins >= 80


def test_backchannels_overlap_assistant_speech_are_short_and_do_not_stop_it() -> None:
    found = 0
    for sample in samples(120, seed=4, backchannel_share=1.0, barge_in_share=0.0):
        assistant = [t for t in sample.timeline.turns if t.role == "assistant"]
        for bc in (t for t in sample.timeline.turns if t.kind == "backchannel"):
            found += 1
            host = [a for a in assistant if a.start < bc.start and bc.end <= a.end - BACKCHANNEL_CLEARANCE + EPS]
            assert len(host) == 1 and not host[0].truncated
            # Full-Duplex-Bench v1: a backchannel is shorter than 1 s with at most 2 words.
            assert bc.end - bc.start < 1.0 and len(bc.text.split()) <= 2
    assert found > 150


def test_channels_never_overlap_themselves_and_stay_inside_the_dialogue() -> None:
    for sample in samples(100, seed=5, barge_in_share=0.4, backchannel_share=0.6):
        tl = sample.timeline
        for role in ("user", "assistant"):
            segs = tl.segments(role)
            assert all(a < b for a, b in segs)
            assert all(segs[i][1] <= segs[i + 1][0] + EPS for i in range(len(segs) - 1))
        assert tl.turns[0].role == "user" and tl.turns[0].start == pytest.approx(0.5)
        assert 0.0 <= tl.duration - (max(t.end for t in tl.turns) + 0.5) < 1e-3
        assert tl.duration * 1000 == pytest.approx(round(tl.duration * 1000), abs=1e-6)


def test_share_of_barge_ins_matches_the_option() -> None:
    share, eligible, hits = 0.3, 0, 0
    for sample in samples(400, seed=6, barge_in_share=share):
        kinds = [e.user.kind for e in sample.dialogue.exchanges]
        eligible += len(kinds) - 1
        hits += kinds.count("barge_in")
        assert sample.timeline.count("barge_in") == kinds.count("barge_in")
    assert abs(hits / eligible - share) < 4 * math.sqrt(share * (1 - share) / eligible)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 20), st.floats(0.001, 5)), max_size=6), st.floats(0.5, 30),
       st.sampled_from([12.5, 25.0, 50.0]))
def test_activity_frames(spans: list[tuple[float, float]], duration: float, rate: float) -> None:
    segments = [(a, min(a + d, duration)) for a, d in spans if a < duration]
    frames = activity_frames(segments, duration, rate)
    assert len(frames) == math.ceil(duration * rate - 1e-9)
    for t, value in enumerate(frames):
        centre = (t + 0.5) / rate
        assert value == int(any(a <= centre < b for a, b in segments))


def test_estimated_words_tile_the_clip() -> None:
    clip = estimate_clip("The answer is two hundred sixteen.")
    assert clip.words[0].start == 0.0 and clip.words[-1].end == pytest.approx(clip.duration)
    assert all(a.end == pytest.approx(b.start) for a, b in zip(clip.words, clip.words[1:], strict=False))
    assert [w.word for w in spread_words("a bb ccc", 1.0)] == ["a", "bb", "ccc"]
    with pytest.raises(ValueError, match="spoken"):
        estimate_clip("   ")


def test_ground_truth_scores_perfectly_on_the_omniflatten_turn_taking_metrics() -> None:
    """The frames and turn times are the reference the eval harness scores against (OmniFlatten §5.3 Acc@K):
    the reference assistant speaks 2 frames after every user-turn end and is silent 9 frames (> 0.3 s
    reaction) after every barge-in."""
    from thinkspeak.eval.duplex_metrics import assistant_turn_acc, user_turn_acc

    config = DuplexConfig(no_audio=True, barge_in_share=0.5, reaction=0.3)
    for i in range(40):
        sample = make_sample(0, i, config)
        frames = activity_frames(sample.timeline.segments("assistant"), sample.timeline.duration, 25.0)
        ends = [int(t.end * 25) for t in sample.timeline.turns if t.role == "user" and t.kind != "backchannel"]
        assert assistant_turn_acc(frames, 0, ends, 2) == 1.0
        barge_ins = [int(t.start * 25) for t in sample.timeline.turns if t.kind == "barge_in"]
        if barge_ins:
            assert user_turn_acc(frames, 0, barge_ins, 9) == 1.0
            assert user_turn_acc(frames, 0, barge_ins, 1) < 1.0
