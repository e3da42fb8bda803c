"""Whisper encoder features for the end-to-end hearing path."""

import numpy as np
import pytest
from speech_fixtures import SR, pad

from parts import needs_espeak


@pytest.fixture(scope="module")
def encoder():
    from thinkspeak.speech.encoder import WhisperEncoder

    return WhisperEncoder()


@needs_espeak
@pytest.mark.parametrize("extra", [0, 1, 319, 320, 321, 4567])
def test_features_are_50_hz_and_512_wide(encoder, one_two_three, extra):
    pcm = np.concatenate([one_two_three, np.zeros(extra, dtype=np.float32)])
    features = encoder.features(pcm)
    assert features.dtype == np.float32
    assert features.shape == (pcm.size // 320, 512)
    assert features.shape[0] == encoder.log_mel(pcm).shape[1] // 2
    assert np.all(np.isfinite(features))


@needs_espeak
def test_features_tell_speech_from_silence_and_are_deterministic(encoder, one_two_three):
    audio = pad(one_two_three, 1.0, 1.0)
    features = encoder.features(audio)
    np.testing.assert_array_equal(features, encoder.features(audio))
    speech_rows = features[60 : 50 + one_two_three.size // 320 - 10]
    silence_rows = features[5:40]
    within = np.linalg.norm(silence_rows - silence_rows.mean(0), axis=1).mean()
    between = np.linalg.norm(speech_rows.mean(0) - silence_rows.mean(0))
    assert between > within


@needs_espeak
@pytest.mark.slow
def test_long_audio_is_encoded_in_30_second_windows(encoder, one_two_three):
    long = np.tile(pad(one_two_three, 0.5, 0.5), int(np.ceil(31.0 * SR / (one_two_three.size + SR))))
    long = long[: 31 * SR + 123]
    features = encoder.features(long)
    assert features.shape == (long.size // 320, 512)
    # Each window is encoded on its own: the first 1500 rows match encoding the first 30 s alone, up to
    # the mel frames at the cut (reflection padding vs real continuation) that attention spreads a little.
    for rows, clip in ((slice(0, 1500), long[: 30 * SR]), (slice(1500, None), long[30 * SR :])):
        alone = encoder.features(clip)
        got = features[rows][: alone.shape[0]]
        cosine = np.sum(got * alone, axis=1) / (np.linalg.norm(got, axis=1) * np.linalg.norm(alone, axis=1))
        assert cosine.mean() > 0.98


def test_short_and_empty_audio(encoder):
    assert encoder.features(np.zeros(0, dtype=np.float32)).shape == (0, 512)
    assert encoder.features(np.zeros(319, dtype=np.float32)).shape == (0, 512)
    assert encoder.features(np.zeros(640, dtype=np.float32)).shape == (2, 512)
    assert encoder.frame_rate == 50 and encoder.dim == 512
