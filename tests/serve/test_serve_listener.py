"""The session's input side with the real Silero VAD: session-time speech frames, pre-roll, 'long', manual buffer."""

from __future__ import annotations

import time

import numpy as np
import pytest
from serve_helpers import WIRE_RATE, silence, speech_end_ms

from thinkspeak.audio import float_to_pcm16
from thinkspeak.serve import frames as F
from thinkspeak.serve.config import TurnDetection
from thinkspeak.serve.listener import Listener


def feed(listener: Listener, audio: np.ndarray, chunk_ms: int = 20) -> list:
    pcm, step, events = float_to_pcm16(audio), WIRE_RATE * chunk_ms // 1000 * 2, []
    for offset in range(0, len(pcm), step):
        events += listener.feed(pcm[offset:offset + step], time.monotonic())
    return events


@pytest.fixture(scope="module")
def make_vad():
    from thinkspeak.speech.vad import SileroVAD

    return SileroVAD


def test_turn_events_are_in_session_time_across_a_reconfiguration(make_vad, say):
    listener = Listener(make_vad, WIRE_RATE, TurnDetection(), max_buffer_s=10)
    assert feed(listener, silence(1.0)) == []
    listener.configure(WIRE_RATE, TurnDetection(silence_duration_ms=400, prefix_padding_ms=200))  # clock restarts
    speech = say("What is six times seven?")
    events = feed(listener, np.concatenate([silence(0.5), speech, silence(0.8)]))
    kinds = [type(e) for e in events]
    assert kinds[0] is F.SpeechStartFrame and kinds[-1] is F.SpeechEndFrame
    assert F.SpeechLongFrame in kinds and F.SpeechPauseFrame in kinds
    start, end = events[0], events[-1]
    true_end = 1000 + 500 + speech_end_ms(speech)
    assert abs(end.end_ms - true_end) <= 100  # VAD frames are 32 ms; Silero lags a little
    assert 1000 + 500 - 200 - 100 <= start.start_ms <= 1000 + 500  # pre-roll before the speech
    assert end.audio is not None and abs(end.audio.size / 16 - (end.at_ms - start.start_ms)) <= 40
    assert listener.arrival(end.end_ms) is not None


def test_a_short_blip_is_not_long(make_vad, say):
    listener = Listener(make_vad, WIRE_RATE, TurnDetection(), max_buffer_s=10, long_ms=250)
    blip = say("Ah")[: int(0.12 * WIRE_RATE)]
    frames = feed(listener, np.concatenate([silence(0.3), blip, silence(0.8)]))
    assert not [f for f in frames if isinstance(f, F.SpeechLongFrame)]


def test_the_early_verdict_frame_carries_the_speech_so_far_once(make_vad, say):
    """A question longer than the verdict span: one SpeechVoicedFrame, after the span of voiced speech, holding
    the utterance from its pre-roll up to that point; a short word gets none."""
    listener = Listener(make_vad, WIRE_RATE, TurnDetection(prefix_padding_ms=300), max_buffer_s=10, verdict_ms=600)
    speech = say("Can you tell me what nine plus fifteen is, and then what that is times two?")
    frames = feed(listener, np.concatenate([silence(0.5), speech, silence(0.8)]))
    voiced = [f for f in frames if isinstance(f, F.SpeechVoicedFrame)]
    start = next(f for f in frames if isinstance(f, F.SpeechStartFrame))
    assert len(voiced) == 1 and voiced[0].at_ms >= start.at_ms + 600 - 100
    assert abs(voiced[0].audio.size / 16 - (voiced[0].at_ms - start.start_ms)) <= 40
    short = Listener(make_vad, WIRE_RATE, TurnDetection(), max_buffer_s=10, verdict_ms=600)
    assert not [f for f in feed(short, np.concatenate([silence(0.3), say("Okay."), silence(0.8)]))
                if isinstance(f, F.SpeechVoicedFrame)]
    off = Listener(make_vad, WIRE_RATE, TurnDetection(), max_buffer_s=10)  # verdict_ms 0: never
    assert not [f for f in feed(off, np.concatenate([silence(0.5), speech, silence(0.8)]))
                if isinstance(f, F.SpeechVoicedFrame)]


def test_manual_buffer_commits_everything_resampled(make_vad):
    listener = Listener(make_vad, WIRE_RATE, None, max_buffer_s=10)
    feed(listener, np.full(WIRE_RATE, 0.1, np.float32))
    audio = listener.take()
    assert abs(audio.size - 16000) <= 400 and listener.take().size == 0
