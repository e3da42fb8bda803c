"""Codec2 at 3200 bit/s (``pycodec2``, LGPL library, no weights) with its frame unpacked into parameter fields.

``codec2_encode_3200`` packs each 20 ms frame (160 samples at 8 kHz) into 64 bits, most significant bit
first, in this order: voicing of the first 10 ms (1 bit), voicing of the second (1), pitch index Wo (7),
energy index (5), then 10 scalar LSP-difference indices (5 bits each). The packer Gray-codes each field
(codec2's default), so :func:`unpack_frame` also undoes the Gray code and yields the natural indices, which
are ordered (a larger energy index is a louder frame). The Talker models the 14 fields as 14 parallel
codebooks (Mini-Omni §3.3's parallel streams), not the raw bytes. The layout is checked against the library
in tests (repacking gives the same bytes; the library's own ``get_energy`` grows with the energy index).
"""

from __future__ import annotations

import numpy as np

from thinkspeak.codecs.base import Codec, CodecInfo, StreamDecoder, check_codes

FIELD_BITS = (1, 1, 7, 5) + (5,) * 10
FIELD_NAMES = ("voiced1", "voiced2", "wo", "energy") + tuple(f"lspd{i}" for i in range(10))
SAMPLES_PER_FRAME = 160
BYTES_PER_FRAME = 8
_SHIFTS = np.cumsum((0,) + FIELD_BITS)[:-1]


def _gray(n: np.ndarray) -> np.ndarray:
    return n ^ (n >> 1)


def _ungray(g: np.ndarray) -> np.ndarray:
    n = g.copy()
    shift = g >> 1
    while shift.any():
        n ^= shift
        shift >>= 1
    return n


def unpack_frames(data: bytes) -> np.ndarray:
    """Codec2-3200 bytes (8 per frame) -> natural field indices ``[frames, 14]`` (int64)."""
    if len(data) % BYTES_PER_FRAME:
        raise ValueError(f"data must hold whole 8-byte frames, got {len(data)} bytes")
    bits = np.unpackbits(np.frombuffer(data, dtype=np.uint8)).reshape(-1, 64).astype(np.int64)
    out = np.zeros((bits.shape[0], len(FIELD_BITS)), dtype=np.int64)
    for k, (start, width) in enumerate(zip(_SHIFTS, FIELD_BITS, strict=True)):
        weights = 1 << np.arange(width - 1, -1, -1)
        out[:, k] = _ungray(bits[:, start:start + width] @ weights)
    return out


def pack_frames(fields: np.ndarray) -> bytes:
    """Natural field indices ``[frames, 14]`` -> Codec2-3200 bytes (Gray-coded fields, MSB first)."""
    fields = check_codes(fields, CODEBOOK_SIZES, "fields")
    bits = np.zeros((fields.shape[0], 64), dtype=np.uint8)
    for k, (start, width) in enumerate(zip(_SHIFTS, FIELD_BITS, strict=True)):
        g = _gray(fields[:, k])
        for b in range(width):
            bits[:, start + b] = (g >> (width - 1 - b)) & 1
    return np.packbits(bits, axis=1).tobytes()


CODEBOOK_SIZES = tuple(1 << b for b in FIELD_BITS)
INFO = CodecInfo(name="codec2", sample_rate=8000, frame_rate=50.0, codebook_sizes=CODEBOOK_SIZES)


def _to_int16(x: np.ndarray) -> np.ndarray:
    return (np.clip(x, -1.0, 1.0) * 32767.0).round().astype(np.int16)


class Codec2StreamDecoder(StreamDecoder):
    """Codec2 decodes frame by frame with its state in one library object: streaming equals batch decoding,
    up to the random phases codec2 draws for unvoiced excitation from a process-wide generator (two decodes
    of the same frames differ by ~0.1% RMS)."""

    def __init__(self, out_rate: int) -> None:
        import pycodec2

        super().__init__(INFO.sample_rate, out_rate)
        self._c2 = pycodec2.Codec2(3200)

    def push(self, frames: np.ndarray) -> np.ndarray:
        frames = check_codes(frames, CODEBOOK_SIZES, "frames")
        if not len(frames):
            return np.zeros(0, dtype=np.float32)
        data = pack_frames(frames)
        pcm = np.concatenate([self._c2.decode(data[i:i + BYTES_PER_FRAME])
                              for i in range(0, len(data), BYTES_PER_FRAME)])
        return self._out(pcm.astype(np.float32) / 32768.0)

    def flush(self) -> np.ndarray:
        return self._out(np.zeros(0, dtype=np.float32), last=True)


class Codec2Codec(Codec):
    """Codec2 mode 3200: 8 kHz, 50 frames/s, 14 field codebooks (2, 2, 128, 32, 32 x 10)."""

    info = INFO

    def _encode(self, pcm: np.ndarray) -> np.ndarray:
        import pycodec2

        n = -(-pcm.size // SAMPLES_PER_FRAME) * SAMPLES_PER_FRAME
        x = np.zeros(n, dtype=np.int16)
        x[:pcm.size] = _to_int16(pcm)
        c2 = pycodec2.Codec2(3200)
        data = b"".join(c2.encode(x[i:i + SAMPLES_PER_FRAME]) for i in range(0, n, SAMPLES_PER_FRAME))
        return unpack_frames(data)

    def stream_decoder(self, out_rate: int | None = None) -> Codec2StreamDecoder:
        return Codec2StreamDecoder(out_rate or INFO.sample_rate)
