"""Server-VAD turn detection on scripted probability sequences (the detector is pure; Silero feeds it live)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from thinkspeak.serve.turns import FRAME_SAMPLES, TurnDetector, TurnParams

FRAME_MS = 32


def run(probs: list[float], params: TurnParams) -> list:
    detector = TurnDetector(params)
    events = []
    for i, p in enumerate(probs):
        events += detector.push(p, i * FRAME_SAMPLES)
    return events


def frames(ms: int) -> int:
    return -(-ms // FRAME_MS)


def test_start_pause_end_with_preroll_and_true_end():
    params = TurnParams(prefix_padding_ms=300, silence_duration_ms=500, speculate_after_ms=96, min_speech_ms=64)
    probs = [0.0] * 20 + [0.9] * 30 + [0.0] * 40
    events = run(probs, params)
    kinds = [e.kind for e in events]
    assert kinds == ["start", "long", "pause", "end"]
    start, _, pause, end = events
    speech_from = 20 * FRAME_SAMPLES
    assert start.start_sample == speech_from - 300 * 16
    assert pause.end_sample == end.end_sample == 50 * FRAME_SAMPLES  # end of the last voiced frame
    assert end.at_sample - end.end_sample >= 500 * 16
    assert pause.at_sample < end.at_sample


def test_resume_when_speech_returns_before_the_silence_is_confirmed():
    params = TurnParams(silence_duration_ms=500, speculate_after_ms=96)
    probs = [0.9] * 20 + [0.0] * frames(200) + [0.9] * 10 + [0.0] * 30
    kinds = [e.kind for e in run(probs, params)]
    assert kinds == ["start", "long", "pause", "resume", "pause", "end"]


def test_short_blip_never_starts_and_long_is_gated_by_long_ms():
    params = TurnParams(min_speech_ms=96, long_ms=400)
    assert run([0.0] * 5 + [0.9] * 2 + [0.0] * 40, params) == []
    short = [e.kind for e in run([0.9] * 5 + [0.0] * 40, params)]
    assert short == ["start", "pause", "end"]  # a start but no 'long': a false interruption candidate


def test_hysteresis_keeps_speech_through_middling_probabilities():
    params = TurnParams(threshold=0.5, silence_duration_ms=200)
    probs = [0.9] * 10 + [0.4] * 30 + [0.0] * 20  # 0.4 is above threshold - 0.15: still speech
    end = [e for e in run(probs, params) if e.kind == "end"][0]
    assert end.end_sample == 40 * FRAME_SAMPLES  # the silence starts at the first frame under 0.35


@given(st.lists(st.floats(0.0, 1.0), max_size=300))
def test_event_grammar(probs):
    """start precedes everything; pause/resume alternate; end closes a segment; positions are consistent."""
    params = TurnParams(silence_duration_ms=320, speculate_after_ms=64, long_ms=128, prefix_padding_ms=100)
    in_speech = paused = False
    for event in run(probs, params):
        assert event.start_sample >= 0
        if event.kind == "start":
            assert not in_speech
            in_speech, paused = True, False
            continue
        assert in_speech
        if event.kind == "pause":
            assert not paused
            paused = True
        elif event.kind == "resume":
            assert paused
            paused = False
        elif event.kind == "end":
            assert event.end_sample is not None and event.start_sample < event.end_sample <= event.at_sample
            in_speech = False
