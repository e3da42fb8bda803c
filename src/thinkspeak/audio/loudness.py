"""Loudness measurement and normalisation with ITU-R BS.1770-style gating (no K-weighting filter).

Engines speak at very different levels (espeak-ng peaks near full scale, festival's diphones are quiet);
the corpus levels every clip so loudness does not identify the engine.
"""

from __future__ import annotations

import math

import numpy as np

from thinkspeak.audio.pcm import as_mono_float32, check_sample_rate

_BLOCK_S = 0.4
_HOP_S = 0.1
_ABSOLUTE_GATE_DB = -70.0
_RELATIVE_GATE_DB = -10.0


def loudness_dbfs(x: np.ndarray, sr: int) -> float:
    """Gated loudness in dBFS: mean power of 400 ms blocks (100 ms hop) that pass BS.1770's absolute
    (-70 dB) and relative (-10 dB) gates, so pauses do not lower the figure. Returns -inf for silence."""
    samples = as_mono_float32(x).astype(np.float64)
    sr = check_sample_rate("sr", sr)
    block, hop = max(1, round(_BLOCK_S * sr)), max(1, round(_HOP_S * sr))
    if samples.size <= block:
        powers = np.array([np.mean(samples**2)]) if samples.size else np.zeros(1)
    else:
        starts = range(0, samples.size - block + 1, hop)
        powers = np.array([np.mean(samples[s : s + block] ** 2) for s in starts])
    with np.errstate(divide="ignore"):
        levels = 10.0 * np.log10(powers)
    kept = powers[levels > _ABSOLUTE_GATE_DB]
    if kept.size == 0:
        return -math.inf
    relative_gate = 10.0 * math.log10(float(np.mean(kept))) + _RELATIVE_GATE_DB
    with np.errstate(divide="ignore"):
        kept = kept[10.0 * np.log10(kept) > relative_gate]
    return 10.0 * math.log10(float(np.mean(kept)))


def normalize_loudness(
    x: np.ndarray, sr: int, target_dbfs: float = -23.0, max_peak: float = 0.99
) -> np.ndarray:
    """Scale ``x`` so that :func:`loudness_dbfs` equals ``target_dbfs``, lowering the gain if needed so
    that no sample exceeds ``max_peak`` (then the loudness ends up below the target). Silence is returned
    unchanged."""
    if not -70.0 < target_dbfs <= 0.0:
        raise ValueError(f"target_dbfs must be in (-70, 0] dBFS, got {target_dbfs!r}")
    if not 0.0 < max_peak <= 1.0:
        raise ValueError(f"max_peak must be in (0, 1], got {max_peak!r}")
    samples = as_mono_float32(x)
    level = loudness_dbfs(samples, sr)
    if not math.isfinite(level):
        return samples.copy()
    gain = 10.0 ** ((target_dbfs - level) / 20.0)
    peak = float(np.max(np.abs(samples)))
    gain = min(gain, max_peak / peak)
    return (samples.astype(np.float64) * gain).astype(np.float32)
