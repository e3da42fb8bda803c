"""Sample-rate conversion with libsoxr (VHQ), the resampler behind every engine's 16 kHz output."""

from __future__ import annotations

import numpy as np
import soxr

from thinkspeak.audio.pcm import as_mono_float32, check_sample_rate


def resample(x: np.ndarray, sr_in: int, sr_out: int) -> np.ndarray:
    """Resample mono float32 audio from ``sr_in`` to ``sr_out`` Hz (soxr, very high quality).

    The output has ``round(len(x) * sr_out / sr_in)`` samples; equal rates return a float32 copy.
    """
    samples = as_mono_float32(x)
    sr_in = check_sample_rate("sr_in", sr_in)
    sr_out = check_sample_rate("sr_out", sr_out)
    if sr_in == sr_out or samples.size == 0:
        return samples.copy()
    return soxr.resample(samples, sr_in, sr_out, quality="VHQ").astype(np.float32, copy=False)
