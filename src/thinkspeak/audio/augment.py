"""Training-data augmentation: additive noise at an exact SNR and synthetic room reverberation.

OmniFlatten (§4.1) adds noise to the user channel at 15-25 dB SNR so the model hears realistic input; the
spoken-math corpus uses the same idea for question audio. Everything is driven by a caller-supplied
``numpy.random.Generator`` (or an int seed) so a corpus row is reproducible from its seed.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.fft import next_fast_len
from scipy.signal import fftconvolve

from thinkspeak.audio.pcm import as_mono_float32, check_sample_rate

NOISE_KINDS = ("white", "pink", "babble")
_BABBLE_TALKERS = 6
_SYLLABLE_RATE_HZ = 4.0


def _generator(rng: np.random.Generator | int) -> np.random.Generator:
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, int | np.integer) and not isinstance(rng, bool):
        return np.random.default_rng(int(rng))
    raise ValueError(f"rng must be a numpy.random.Generator or an int seed, got {type(rng).__name__}")


def _shape_spectrum(white: np.ndarray, gain: np.ndarray) -> np.ndarray:
    """Filter ``white`` in the frequency domain by the real magnitude response ``gain`` (one per rfft bin)."""
    return np.fft.irfft(np.fft.rfft(white) * gain, n=white.size)


def make_noise(kind: str, n: int, rng: np.random.Generator | int, sr: int = 16000) -> np.ndarray:
    """Generate ``n`` samples of seeded noise with unit power.

    - ``white``: Gaussian, flat spectrum.
    - ``pink``: power falling as 1/f (-3 dB/octave), no DC.
    - ``babble``: babble-like: the sum of six independent "talkers", each Gaussian noise shaped to a
      speech-like long-term spectrum (high-pass 150 Hz, -6 dB/octave above 500 Hz) and switched on and off
      by a random envelope at the syllable rate (~4 Hz). It has speech's spectrum and modulation but no
      words, so it cannot leak transcripts into a corpus.
    """
    if kind not in NOISE_KINDS:
        raise ValueError(f"kind must be one of {NOISE_KINDS}, got {kind!r}")
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n <= 0:
        raise ValueError(f"n must be a positive number of samples, got {n!r}")
    sr = check_sample_rate("sr", sr)
    gen = _generator(rng)
    # Shape noise at an FFT-friendly length and crop: an rfft of a prime length is ~100x slower.
    n_out, n = int(n), next_fast_len(int(n), real=True)
    freqs = np.fft.rfftfreq(n, d=1.0 / sr)
    if kind == "white":
        noise = gen.standard_normal(n)
    elif kind == "pink":
        gain = np.zeros_like(freqs)
        gain[1:] = 1.0 / np.sqrt(freqs[1:])
        noise = _shape_spectrum(gen.standard_normal(n), gain)
    else:
        with np.errstate(divide="ignore"):
            highpass = 1.0 / np.sqrt(1.0 + (150.0 / np.maximum(freqs, 1e-9)) ** 4)
        speech_gain = highpass / np.sqrt(1.0 + (freqs / 500.0) ** 2)
        syllable_gain = (freqs <= _SYLLABLE_RATE_HZ).astype(float)
        noise = np.zeros(n)
        for _ in range(_BABBLE_TALKERS):
            voice = _shape_spectrum(gen.standard_normal(n), speech_gain)
            envelope = _shape_spectrum(gen.standard_normal(n), syllable_gain)
            envelope /= envelope.std() + 1e-12
            noise += voice / (1.0 + np.exp(-3.0 * envelope))
    noise = noise[:n_out]
    power = float(np.mean(noise**2))
    if power == 0.0:
        noise = gen.standard_normal(n)
        power = float(np.mean(noise**2))
    return (noise / math.sqrt(power)).astype(np.float32)


def _fit_noise(noise: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Crop a longer noise recording at a random offset, or tile a shorter one, to exactly ``n`` samples."""
    if noise.size >= n:
        start = int(rng.integers(0, noise.size - n + 1))
        return noise[start : start + n]
    return np.tile(noise, -(-n // noise.size))[:n]


def add_noise(
    x: np.ndarray,
    snr_db: float,
    rng: np.random.Generator | int,
    noise: np.ndarray | None = None,
    *,
    kind: str = "white",
    sr: int = 16000,
) -> np.ndarray:
    """Return ``x + g * noise`` with ``g`` chosen so that 10*log10(P(x) / P(g*noise)) equals ``snr_db``.

    Powers are means of squares over the whole clip, computed on exactly the noise samples that are added,
    so the SNR is exact (up to float32 rounding). ``noise`` is a given recording (cropped at a random
    offset or tiled to ``len(x)``); without it, ``kind`` noise is generated with :func:`make_noise`.
    """
    signal = as_mono_float32(x)
    if (
        isinstance(snr_db, bool)
        or not isinstance(snr_db, int | float | np.floating | np.integer)
        or not math.isfinite(snr_db)
    ):
        raise ValueError(f"snr_db must be a finite number of dB, got {snr_db!r}")
    if signal.size == 0:
        raise ValueError("x must contain samples, got an empty array")
    signal_power = float(np.mean(signal.astype(np.float64) ** 2))
    if signal_power == 0.0:
        raise ValueError("x is silent (zero power), so an SNR is undefined")
    gen = _generator(rng)
    if noise is None:
        source = make_noise(kind, signal.size, gen, sr).astype(np.float64)
    else:
        given = as_mono_float32(noise, "noise")
        if given.size == 0:
            raise ValueError("noise must contain samples, got an empty array")
        source = _fit_noise(given, signal.size, gen).astype(np.float64)
    noise_power = float(np.mean(source**2))
    if noise_power == 0.0:
        raise ValueError("noise is silent over the chosen segment (zero power)")
    gain = math.sqrt(signal_power / (noise_power * 10.0 ** (float(snr_db) / 10.0)))
    return (signal.astype(np.float64) + gain * source).astype(np.float32)


def synthetic_rir(sr: int, rt60: float, rng: np.random.Generator | int, *, drr_db: float = 0.0) -> np.ndarray:
    """Synthetic room impulse response: a unit direct path followed by exponentially decaying Gaussian noise.

    The tail's amplitude falls by 60 dB after ``rt60`` seconds (energy decay exp(-6 ln10 t / rt60), so a
    Schroeder-curve fit recovers ``rt60``); the response is ``ceil(rt60 * sr)`` samples long. ``drr_db`` is
    the direct-to-reverberant energy ratio.
    """
    sr = check_sample_rate("sr", sr)
    if isinstance(rt60, bool) or not isinstance(rt60, int | float | np.floating) or not (0.0 < rt60 <= 10.0):
        raise ValueError(f"rt60 must be a reverberation time in seconds in (0, 10], got {rt60!r}")
    gen = _generator(rng)
    length = max(2, math.ceil(rt60 * sr))
    t = np.arange(length) / sr
    tail = gen.standard_normal(length) * np.exp(-3.0 * math.log(10.0) * t / rt60)
    tail[0] = 0.0
    tail *= math.sqrt(10.0 ** (-float(drr_db) / 10.0) / float(np.sum(tail**2)))
    tail[0] = 1.0
    return tail.astype(np.float32)


def add_reverb(
    x: np.ndarray, sr: int, rt60: float, rng: np.random.Generator | int, *, drr_db: float = 0.0
) -> np.ndarray:
    """Convolve ``x`` with :func:`synthetic_rir` and keep its length and RMS level.

    The reverberant tail past the end of ``x`` is cut so that durations (and word timestamps) are unchanged.
    """
    signal = as_mono_float32(x)
    rir = synthetic_rir(sr, rt60, rng, drr_db=drr_db)
    if signal.size == 0:
        return signal.copy()
    wet = fftconvolve(signal.astype(np.float64), rir.astype(np.float64))[: signal.size]
    dry_rms = math.sqrt(float(np.mean(signal.astype(np.float64) ** 2)))
    wet_rms = math.sqrt(float(np.mean(wet**2)))
    if wet_rms > 0.0:
        wet *= dry_rms / wet_rms
    return wet.astype(np.float32)
