"""Codec2-3200 field layout checked against the library, and streamed decoding."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

pycodec2 = pytest.importorskip("pycodec2")

from thinkspeak.codecs import get_codec  # noqa: E402
from thinkspeak.codecs.codec2 import CODEBOOK_SIZES, FIELD_BITS, pack_frames, unpack_frames  # noqa: E402


def speechlike(seconds=1.0, rate=8000):
    t = np.arange(int(seconds * rate)) / rate
    f0 = 120 + 40 * np.sin(2 * np.pi * 2 * t)
    phase = 2 * np.pi * np.cumsum(f0) / rate
    x = sum(np.sin(k * phase) / k for k in range(1, 12)) * (0.5 + 0.5 * np.sin(2 * np.pi * 3 * t))
    return (0.2 * x).astype(np.float32)


def test_layout_is_64_bits_in_14_fields():
    assert sum(FIELD_BITS) == 64
    assert CODEBOOK_SIZES == (2, 2, 128, 32) + (32,) * 10


@given(st.binary(min_size=8, max_size=8 * 6).filter(lambda b: len(b) % 8 == 0))
def test_unpack_then_repack_gives_the_same_bytes(data):
    assert pack_frames(unpack_frames(data)) == data


@given(st.lists(st.tuples(*(st.integers(0, s - 1) for s in CODEBOOK_SIZES)), min_size=1, max_size=5))
def test_pack_then_unpack_gives_the_same_fields(rows):
    fields = np.array(rows, dtype=np.int64)
    assert np.array_equal(unpack_frames(pack_frames(fields)), fields)


def test_library_bytes_round_trip_and_energy_field_is_the_libraries():
    c2 = pycodec2.Codec2(3200)
    pcm = (speechlike() * 32767).astype(np.int16)
    data = b"".join(c2.encode(pcm[i:i + 160]) for i in range(0, len(pcm) - 159, 160))
    fields = unpack_frames(data)
    assert pack_frames(fields) == data
    # the library's own energy decoder grows with the natural (Gray-decoded) index of field 3
    frame = fields[10:11].copy()
    energies = []
    for e in range(32):
        frame[0, 3] = e
        energies.append(c2.get_energy(np.frombuffer(pack_frames(frame), dtype=np.uint8)))
    assert all(b > a for a, b in zip(energies, energies[1:], strict=False))
    # a voiced tone has both voicing bits set in most frames
    assert fields[:, 0].mean() > 0.5 and fields[:, 1].mean() > 0.5


def test_encode_decode_keeps_the_signal():
    codec = get_codec("codec2")
    x = speechlike()
    codes = codec.encode(x, 8000)
    assert codes.shape == (50, 14)
    y = codec.decode(codes)
    assert y.shape == (8000,) and y.dtype == np.float32
    assert 0.3 < np.sqrt(np.mean(y ** 2)) / np.sqrt(np.mean(x ** 2)) < 3


def test_streaming_decode_equals_batch_decode():
    codec = get_codec("codec2")
    codes = codec.encode(speechlike(), 8000)
    batch = codec.decode(codes)
    dec = codec.stream_decoder()
    parts = [dec.push(codes[i:i + 3]) for i in range(0, len(codes), 3)] + [dec.flush()]
    assert parts[0].size == 3 * 160  # audio as soon as a frame arrives
    out = np.concatenate(parts)
    # codec2 draws unvoiced phases from a process-wide generator, so two decodes differ by that noise only
    assert out.shape == batch.shape
    assert np.sqrt(np.mean((out - batch) ** 2)) < 0.01 * np.sqrt(np.mean(batch ** 2))


def test_streaming_decode_resampled_matches_batch():
    codec = get_codec("codec2")
    codes = codec.encode(speechlike(rate=16000), 16000)
    batch = codec.decode(codes, out_rate=24000)
    dec = codec.stream_decoder(24000)
    out = np.concatenate([dec.push(codes[i:i + 2]) for i in range(0, len(codes), 2)] + [dec.flush()])
    assert out.shape == batch.shape == (24000,)
    assert np.max(np.abs(out - batch)) < 0.02


def test_bad_codes_and_specs_are_named():
    codec = get_codec("codec2")
    bad = np.zeros((2, 14), dtype=np.int64)
    bad[1, 2] = 128
    with pytest.raises(ValueError, match=r"codes\[1, 2\] = 128 is outside codebook 2 of size 128"):
        codec.decode(bad)
    with pytest.raises(ValueError, match="frames, 14"):
        codec.decode(np.zeros((2, 13), dtype=np.int64))
    with pytest.raises(ValueError, match="codec must be one of"):
        get_codec("opus")
    with pytest.raises(ValueError, match="needs a local model folder"):
        get_codec("mimi")
    with pytest.raises(ValueError, match="whole 8-byte frames"):
        unpack_frames(b"123")
