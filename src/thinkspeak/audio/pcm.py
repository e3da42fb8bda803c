"""PCM sample-format conversions: float32 in [-1, 1] <-> 16-bit little-endian PCM bytes.

Every engine in thinkspeak exchanges mono float32 numpy arrays; 16-bit PCM bytes are the wire format of
the real-time server (OpenAI Realtime ``pcm16``) and of WAV files.
"""

from __future__ import annotations

import numpy as np

_PCM16_SCALE = 32768.0


def as_mono_float32(x: object, name: str = "x") -> np.ndarray:
    """Return ``x`` as a contiguous 1-D float32 array, or raise ValueError naming ``name``.

    Integer arrays are refused rather than guessed at: convert 16-bit PCM with :func:`pcm16_to_float`.
    """
    arr = np.asarray(x)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D mono array, got shape {arr.shape}")
    if not np.issubdtype(arr.dtype, np.floating):
        raise ValueError(
            f"{name} must hold float samples in [-1, 1], got dtype {arr.dtype} "
            "(convert 16-bit PCM with thinkspeak.audio.pcm16_to_float)"
        )
    out = np.ascontiguousarray(arr, dtype=np.float32)
    if not np.all(np.isfinite(out)):
        raise ValueError(f"{name} must be finite, got NaN or inf samples")
    return out


def check_sample_rate(name: str, value: object) -> int:
    """Return ``value`` as an int sample rate in Hz, or raise ValueError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value <= 0:
        raise ValueError(f"{name} must be a positive integer sample rate in Hz, got {value!r}")
    return int(value)


def float_to_pcm16(x: np.ndarray) -> bytes:
    """Encode float samples as signed 16-bit little-endian PCM; values outside [-1, 1) are clipped."""
    samples = as_mono_float32(x)
    ints = np.clip(np.round(samples * _PCM16_SCALE), -32768, 32767).astype("<i2")
    return ints.tobytes()


def pcm16_to_float(data: bytes | bytearray | memoryview) -> np.ndarray:
    """Decode signed 16-bit little-endian PCM bytes to float32 samples in [-1, 1)."""
    raw = bytes(data)
    if len(raw) % 2:
        raise ValueError(f"data must hold whole 16-bit samples, got an odd length of {len(raw)} bytes")
    return (np.frombuffer(raw, dtype="<i2").astype(np.float32) / _PCM16_SCALE).astype(np.float32)
