"""Streaming features: causal log-mel and windowed Whisper give the same vectors pushed in any pieces as
whole; shapes follow the 40 ms unit grid; the log-mel features of a unit never depend on later audio."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from thinkspeak.units.features import FeatureConfig, features, make_extractor

RNG = np.random.default_rng(1)
AUDIO = (0.1 * RNG.standard_normal(16000 * 2)).astype(np.float32)
LOGMEL = make_extractor(FeatureConfig(kind="logmel"))


def _pushed(extractor, pcm, cuts):
    stream, out, i = extractor.stream(), [], 0
    for step in cuts * (len(pcm) // max(1, sum(cuts)) + 1):
        out.append(stream.push(pcm[i: i + step]))
        i += step
        if i >= len(pcm):
            break
    out.append(stream.flush())
    return np.concatenate(out)


@given(cuts=st.lists(st.integers(1, 5000), min_size=1, max_size=10), n=st.integers(0, 32000))
def test_logmel_stream_equals_whole_clip(cuts, n):
    whole = features(LOGMEL, AUDIO[:n])
    assert whole.shape == (n // 640, LOGMEL.dim) and whole.dtype == np.float32
    np.testing.assert_allclose(_pushed(LOGMEL, AUDIO[:n], cuts), whole, rtol=0, atol=1e-5)


def test_logmel_is_causal():
    """Changing audio after unit k leaves units 0..k unchanged (no look-ahead: delay_ms == 0)."""
    changed = AUDIO.copy()
    changed[640 * 10:] = 0.0
    a, b = features(LOGMEL, AUDIO), features(LOGMEL, changed)
    assert np.array_equal(a[:10], b[:10]) and not np.array_equal(a[10:], b[10:])
    assert FeatureConfig(kind="logmel").delay_ms == 0


def test_whisper_window_stream_equals_whole_clip():
    extractor = make_extractor(FeatureConfig(kind="whisper", window_ms=800, step_ms=160, lookahead_ms=40))
    pcm = AUDIO[: 16000 + 700]
    whole = features(extractor, pcm)
    assert whole.shape == (len(pcm) // 640, 512)
    np.testing.assert_allclose(_pushed(extractor, pcm, [333, 2000, 17]), whole, rtol=0, atol=1e-4)
    assert extractor.config.delay_ms == 160 - 40 + 40


def test_bad_feature_settings():
    with pytest.raises(ValueError, match=r"step_ms \+ lookahead_ms must be in \(0, window_ms=400\]"):
        FeatureConfig(kind="whisper", window_ms=400, step_ms=400, lookahead_ms=40)
    with pytest.raises(ValueError, match="context_ms must be a whole number of 40 ms units"):
        FeatureConfig(context_ms=-40)
