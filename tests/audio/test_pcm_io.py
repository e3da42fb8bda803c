"""PCM conversion, resampling and in-memory FLAC round trips."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from thinkspeak.audio import decode_audio, encode_flac, float_to_pcm16, pcm16_to_float, resample

samples = arrays(np.float32, st.integers(0, 2000), elements=st.floats(-1.0, 1.0, width=32))


@given(samples)
def test_pcm16_round_trip_is_within_half_a_step(x):
    data = float_to_pcm16(x)
    assert len(data) == 2 * x.size
    y = pcm16_to_float(data)
    assert y.dtype == np.float32 and y.shape == x.shape
    assert np.all(np.abs(np.clip(x, -1, 32767 / 32768) - y) <= 0.5 / 32768 + 1e-7)


def test_pcm16_is_little_endian_and_clips():
    assert float_to_pcm16(np.array([0.5, -1.0, 2.0, -3.0], dtype=np.float32)) == bytes.fromhex(
        "00400080ff7f0080"
    )


def test_bad_pcm_input_is_refused():
    with pytest.raises(ValueError, match="odd length"):
        pcm16_to_float(b"\x00\x01\x02")
    with pytest.raises(ValueError, match="pcm16_to_float"):
        float_to_pcm16(np.array([1, 2], dtype=np.int16))
    with pytest.raises(ValueError, match="1-D"):
        float_to_pcm16(np.zeros((2, 2), dtype=np.float32))
    with pytest.raises(ValueError, match="finite"):
        float_to_pcm16(np.array([np.nan], dtype=np.float32))


@pytest.mark.parametrize(("sr_in", "sr_out"), [(22050, 16000), (8000, 16000), (48000, 24000), (16000, 16000)])
def test_resample_length_dtype_and_tone(sr_in, sr_out):
    t = np.arange(sr_in) / sr_in
    tone = (0.5 * np.sin(2 * np.pi * 440.0 * t)).astype(np.float32)
    out = resample(tone, sr_in, sr_out)
    assert out.dtype == np.float32
    assert out.size == round(tone.size * sr_out / sr_in)
    spectrum = np.abs(np.fft.rfft(out * np.hanning(out.size)))
    peak_hz = np.argmax(spectrum) * sr_out / out.size
    assert abs(peak_hz - 440.0) <= 2.0


def test_resample_rejects_bad_rates():
    with pytest.raises(ValueError, match="sr_out"):
        resample(np.zeros(10, dtype=np.float32), 16000, 0)
    with pytest.raises(ValueError, match="sr_in"):
        resample(np.zeros(10, dtype=np.float32), 16000.0, 8000)


@given(arrays(np.float32, st.integers(1, 3000), elements=st.floats(-1.0, 1.0, width=32)))
def test_flac_round_trip_is_16_bit_exact(x):
    y, sr = decode_audio(encode_flac(x, 16000))
    assert sr == 16000 and y.dtype == np.float32 and y.shape == x.shape
    assert np.array_equal(y, pcm16_to_float(float_to_pcm16(np.clip(x, -1.0, 1.0))))


def test_flac_is_smaller_than_pcm_for_speechlike_audio():
    rng = np.random.default_rng(0)
    x = (0.1 * np.sin(np.cumsum(rng.uniform(0.01, 0.05, 16000)))).astype(np.float32)
    assert len(encode_flac(x, 16000)) < len(float_to_pcm16(x)) / 2


def test_decode_rejects_garbage():
    with pytest.raises(ValueError, match="not a readable audio file"):
        decode_audio(b"definitely not audio")
    with pytest.raises(ValueError, match="non-empty"):
        decode_audio(b"")
