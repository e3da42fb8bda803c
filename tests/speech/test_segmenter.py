"""VADSegmenter: OpenAI server_vad turn events, pre-roll, tentative end and resume.

Exact timing rules are checked with a scripted frame scorer (timing control only: it replaces Silero's
probabilities, the segmenter under test is real); real Silero runs on synthesised speech below.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from speech_fixtures import SR, pad, speech_span

from parts import needs_espeak
from thinkspeak.speech.segmenter import (
    SpeechResumed,
    SpeechStarted,
    SpeechStopped,
    SpeechTentativeEnd,
    VADSegmenter,
)

FRAME = 512


class ScriptedVAD:
    """Returns the next scripted probability for each frame (no audio analysis)."""

    sample_rate = SR
    frame_samples = FRAME

    def __init__(self, probs):
        self.probs = list(probs)
        self.calls = 0

    def process(self, frame):
        assert frame.size == FRAME
        p = self.probs[self.calls] if self.calls < len(self.probs) else 0.0
        self.calls += 1
        return p

    def reset(self):
        self.calls = 0


def ramp(frames: int) -> np.ndarray:
    """Audio whose sample i holds i / 2**24, so any slice reveals where it came from."""
    return (np.arange(frames * FRAME) / 2**24).astype(np.float32)


def run(probs, chunks=None, **params):
    segmenter = VADSegmenter(vad=ScriptedVAD(probs), **params)
    audio = ramp(len(probs))
    if chunks is None:
        return segmenter.push(audio), audio
    events, at = [], 0
    for size in chunks:
        events += segmenter.push(audio[at : at + size])
        at += size
    return events + segmenter.push(audio[at:]), audio


def test_start_tentative_end_and_stop_times():
    events, audio = run([0.0] * 10 + [0.9] * 20 + [0.0] * 20)
    started, tentative, stopped = events
    assert started == SpeechStarted(audio_start_ms=20, speech_start_ms=320, at_ms=384)
    assert (tentative.speech_end_ms, tentative.at_ms) == (960, 992)
    assert isinstance(tentative, SpeechTentativeEnd)
    assert stopped == SpeechStopped(audio_end_ms=1472, speech_end_ms=960, at_ms=1472, audio=None)
    np.testing.assert_array_equal(stopped.audio, audio[20 * 16 : 1472 * 16])
    np.testing.assert_array_equal(tentative.audio, audio[20 * 16 : 992 * 16])


def test_pre_roll_is_clamped_at_the_stream_start():
    (started, *_), _ = run([0.9] * 5 + [0.0] * 20)
    assert started.audio_start_ms == 0 and started.speech_start_ms == 0


def test_blips_shorter_than_min_speech_are_ignored():
    assert run([0.0] * 5 + [0.9] + [0.0] * 30)[0] == []
    assert run([0.0] * 5 + [0.9, 0.9] + [0.0] * 30, min_speech_ms=100)[0] == []
    events, _ = run([0.0] * 5 + [0.9] + [0.0] * 30, min_speech_ms=0)
    assert [type(e) for e in events] == [SpeechStarted, SpeechTentativeEnd, SpeechStopped]


def test_short_pause_gives_tentative_end_then_resumed():
    events, _ = run([0.9] * 10 + [0.0] * 5 + [0.9] * 10 + [0.0] * 20)
    kinds = [type(e) for e in events]
    assert kinds == [SpeechStarted, SpeechTentativeEnd, SpeechResumed, SpeechTentativeEnd, SpeechStopped]
    assert events[1].speech_end_ms == 320 and events[2].at_ms == 16 * 32
    assert events[4].speech_end_ms == 25 * 32


def test_tentative_silence_delays_the_tentative_end():
    events, _ = run([0.9] * 10 + [0.0] * 3 + [0.9] * 10 + [0.0] * 20, tentative_silence_ms=100)
    assert [type(e) for e in events] == [SpeechStarted, SpeechTentativeEnd, SpeechStopped]
    assert events[1].at_ms == 23 * 32 + 128


def test_hysteresis_between_end_threshold_and_threshold():
    # 0.4 is below threshold 0.5 but above the end threshold 0.35: it neither starts speech nor ends it,
    # and inside a silence run it does not reset the silence timer.
    assert run([0.4] * 40)[0] == []
    events, _ = run([0.9] * 5 + [0.4] * 40)
    assert [type(e) for e in events] == [SpeechStarted]
    events, _ = run([0.9] * 5 + [0.1] + [0.4] * 40)
    assert [type(e) for e in events] == [SpeechStarted, SpeechTentativeEnd, SpeechStopped]
    assert events[2].speech_end_ms == 5 * 32


@settings(max_examples=40)
@given(st.lists(st.integers(1, 3000), max_size=20))
def test_events_do_not_depend_on_chunking(chunks):
    probs = [0.0] * 12 + [0.8] * 15 + [0.2] * 4 + [0.9] * 9 + [0.0] * 25 + [0.7] * 6
    whole, _ = run(probs)
    chunked, _ = run(probs, chunks)
    assert chunked == whole
    for a, b in zip(chunked, whole, strict=True):
        if hasattr(a, "audio"):
            np.testing.assert_array_equal(a.audio, b.audio)


def test_flush_closes_an_open_turn_with_the_partial_frame():
    segmenter = VADSegmenter(vad=ScriptedVAD([0.9] * 10))
    audio = ramp(10)[:-100]
    events = segmenter.push(audio)
    assert [type(e) for e in events] == [SpeechStarted]
    (stopped,) = segmenter.flush()
    assert stopped.speech_end_ms == stopped.audio_end_ms == (audio.size * 1000) // SR
    np.testing.assert_array_equal(stopped.audio, audio)
    assert not segmenter.speaking and segmenter.flush() == []


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"threshold": 1.0}, "threshold"),
        ({"end_threshold": 0.6}, "end_threshold"),
        ({"silence_duration_ms": -1}, "silence_duration_ms"),
        ({"prefix_padding_ms": 1.5}, "prefix_padding_ms"),
        ({"tentative_silence_ms": 600}, "tentative_silence_ms"),
    ],
)
def test_bad_parameters_are_refused(params, match):
    with pytest.raises(ValueError, match=match):
        VADSegmenter(vad=ScriptedVAD([]), **params)


@needs_espeak
def test_real_vad_finds_one_turn_in_padded_speech():
    """Silero on espeak speech padded with 1 s / 1.5 s of silence, fed in uneven chunks. The reference is the
    first/last sample above 0.01; Silero decides per 32 ms frame, so its edges may lag by up to two frames."""
    from thinkspeak.speech.tts import get_tts

    speech = get_tts("espeak:en-us").synthesize("Hello there, how are you doing today?").pcm
    audio = pad(speech, 1.0, 1.5)
    onset, offset = speech_span(audio)
    segmenter = VADSegmenter()
    events = []
    for start in range(0, audio.size, 1234):
        events += segmenter.push(audio[start : start + 1234])
    started = [e for e in events if isinstance(e, SpeechStarted)]
    stopped = [e for e in events if isinstance(e, SpeechStopped)]
    assert len(started) == len(stopped) == 1
    assert -32 <= started[0].speech_start_ms - onset * 1000 <= 64
    assert started[0].audio_start_ms == started[0].speech_start_ms - 300
    assert abs(stopped[0].speech_end_ms - offset * 1000) <= 64
    assert stopped[0].audio_end_ms - stopped[0].speech_end_ms == 512
    kept = stopped[0].audio
    assert kept.size == (stopped[0].audio_end_ms - started[0].audio_start_ms) * SR // 1000
    np.testing.assert_array_equal(kept, audio[started[0].audio_start_ms * 16 : stopped[0].audio_end_ms * 16])


def _paused(silent_frames: int, **params):
    """A segmenter after 10 voiced frames and ``silent_frames`` silent ones; returns (segmenter, events, audio)."""
    probs = [0.9] * 10 + [0.0] * 100
    segmenter = VADSegmenter(vad=ScriptedVAD(probs), silence_duration_ms=2000, tentative_silence_ms=96, **params)
    audio = ramp(len(probs))
    events = segmenter.push(audio[: (10 + silent_frames) * FRAME])
    return segmenter, events, audio


def test_end_pause_after_shortens_this_pause_only():
    segmenter, events, audio = _paused(5)  # 160 ms of silence: tentative end, no stop
    tentative = [e for e in events if isinstance(e, SpeechTentativeEnd)]
    assert len(tentative) == 1 and not any(isinstance(e, SpeechStopped) for e in events)
    assert segmenter.end_pause_after(tentative[0].speech_end_ms, 250) == []
    later = segmenter.push(audio[15 * FRAME : 30 * FRAME])
    stops = [e for e in later if isinstance(e, SpeechStopped)]
    assert len(stops) == 1
    assert stops[0].at_ms - stops[0].speech_end_ms == 256  # the first frame with >= 250 ms of silence
    assert stops[0].speech_end_ms == tentative[0].speech_end_ms


def test_end_pause_after_stops_at_once_when_the_pause_is_long_enough():
    segmenter, events, _ = _paused(8)
    tentative = next(e for e in events if isinstance(e, SpeechTentativeEnd))
    stops = segmenter.end_pause_after(tentative.speech_end_ms, 200)
    assert len(stops) == 1 and isinstance(stops[0], SpeechStopped) and not segmenter.speaking
    assert stops[0].speech_end_ms == tentative.speech_end_ms and stops[0].audio.size == 18 * FRAME


def test_end_pause_after_ignores_another_pause():
    segmenter, events, audio = _paused(5)
    tentative = next(e for e in events if isinstance(e, SpeechTentativeEnd))
    assert segmenter.end_pause_after(tentative.speech_end_ms - 32, 0) == []
    assert not any(isinstance(e, SpeechStopped) for e in segmenter.push(audio[15 * FRAME : 60 * FRAME]))


def test_the_shorter_limit_is_forgotten_when_speech_resumes():
    probs = [0.9] * 10 + [0.0] * 5 + [0.9] * 5 + [0.0] * 55  # the second pause: 1760 ms < 2000
    segmenter = VADSegmenter(vad=ScriptedVAD(probs), silence_duration_ms=2000, tentative_silence_ms=96)
    audio = ramp(len(probs))
    first = segmenter.push(audio[: 15 * FRAME])
    end = next(e for e in first if isinstance(e, SpeechTentativeEnd)).speech_end_ms
    assert segmenter.end_pause_after(end, 300) == []
    rest = segmenter.push(audio[15 * FRAME :])
    assert any(isinstance(e, SpeechResumed) for e in rest) and not any(isinstance(e, SpeechStopped) for e in rest)


def test_end_pause_after_refuses_a_bad_silence():
    segmenter, _, _ = _paused(5)
    with pytest.raises(ValueError, match="silence_ms must be a whole number"):
        segmenter.end_pause_after(320, -1)
