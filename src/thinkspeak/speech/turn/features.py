"""Whisper log-mel features of a fixed window, as the Whisper encoders of the turn models expect them.

Smart Turn v3.2 (REFERENCE.md) reads the last 8 s of 16 kHz audio, left-padded with zeros, normalised to zero
mean and unit variance, as Whisper's 80-bin log-mel (25 ms Hann window, 10 ms hop, log10 clamped 8 below its
maximum, scaled (x + 4) / 4) with the trailing frame dropped: 80 x 800. faster-whisper's feature extractor
computes the same log-mel (checked against transformers' ``WhisperFeatureExtractor`` to 3e-7).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from thinkspeak.audio.pcm import as_mono_float32

SAMPLE_RATE = 16000
HOP = 160


@lru_cache(maxsize=1)
def _extractor():
    from faster_whisper.feature_extractor import FeatureExtractor

    return FeatureExtractor(feature_size=80, sampling_rate=SAMPLE_RATE, hop_length=HOP, n_fft=400)


def last_window(audio: np.ndarray, seconds: float) -> np.ndarray:
    """The last ``seconds`` of 16 kHz ``audio``, left-padded with zeros to exactly that length."""
    x = as_mono_float32(audio, "audio")
    n = int(round(seconds * SAMPLE_RATE))
    return x[-n:] if x.size >= n else np.pad(x, (n - x.size, 0))


def window_log_mel(audio: np.ndarray, seconds: float, *, normalize: bool = True) -> np.ndarray:
    """``[80, seconds * 100]`` float32 log-mel of the last ``seconds`` of ``audio`` (see the module doc)."""
    x = last_window(audio, seconds)
    if normalize:
        x = (x - x.mean()) / np.sqrt(x.var() + 1e-7)
    frames = x.size // HOP
    return np.ascontiguousarray(_extractor()(x.astype(np.float32), padding=0)[:, :frames], dtype=np.float32)
