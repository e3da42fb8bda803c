"""In-memory audio files: FLAC encoding (the corpus' audio column) and decoding of any libsndfile format."""

from __future__ import annotations

import io

import numpy as np
import soundfile

from thinkspeak.audio.pcm import as_mono_float32, check_sample_rate


def encode_flac(x: np.ndarray, sr: int) -> bytes:
    """Encode mono float audio as 16-bit FLAC bytes (lossless at 16-bit resolution; clipped to [-1, 1])."""
    samples = np.clip(as_mono_float32(x), -1.0, 1.0)
    sr = check_sample_rate("sr", sr)
    buffer = io.BytesIO()
    soundfile.write(buffer, samples, sr, format="FLAC", subtype="PCM_16")
    return buffer.getvalue()


def decode_audio(data: bytes) -> tuple[np.ndarray, int]:
    """Decode an in-memory audio file (FLAC, WAV, OGG, ...) to ``(mono float32 samples, sample_rate)``.

    Multi-channel files are averaged to mono.
    """
    if not isinstance(data, bytes | bytearray | memoryview) or len(data) == 0:
        raise ValueError(
            f"data must be non-empty audio file bytes, got {type(data).__name__} of length "
            f"{len(data) if hasattr(data, '__len__') else 'n/a'}"
        )
    try:
        samples, sr = soundfile.read(io.BytesIO(bytes(data)), dtype="float32", always_2d=True)
    except soundfile.LibsndfileError as error:
        raise ValueError(f"data is not a readable audio file: {error}") from error
    return np.ascontiguousarray(samples.mean(axis=1), dtype=np.float32), int(sr)
