"""Noise at an exact SNR, synthetic reverberation with a measurable RT60, loudness normalisation."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from thinkspeak.audio import (
    NOISE_KINDS,
    add_noise,
    add_reverb,
    loudness_dbfs,
    make_noise,
    normalize_loudness,
    synthetic_rir,
)

SR = 16000


def _speechlike(seconds: float = 1.0, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SR)) / SR
    envelope = 0.5 + 0.5 * np.sin(2 * np.pi * 3.0 * t) ** 2
    return (0.3 * envelope * np.sin(2 * np.pi * 180.0 * t) + 0.01 * rng.standard_normal(t.size)).astype(
        np.float32
    )


def _snr_db(clean: np.ndarray, noisy: np.ndarray) -> float:
    clean64 = clean.astype(np.float64)
    return 10 * math.log10(np.mean(clean64**2) / np.mean((noisy.astype(np.float64) - clean64) ** 2))


@settings(max_examples=30)
@given(snr=st.floats(-10.0, 40.0), kind=st.sampled_from(NOISE_KINDS), seed=st.integers(0, 2**31))
def test_generated_noise_hits_the_snr(snr, kind, seed):
    clean = _speechlike()
    noisy = add_noise(clean, snr, np.random.default_rng(seed), kind=kind)
    assert noisy.dtype == np.float32 and noisy.shape == clean.shape
    assert _snr_db(clean, noisy) == pytest.approx(snr, abs=0.01)


@pytest.mark.parametrize("noise_len", [500, 16000, 40000])
def test_given_noise_is_tiled_or_cropped_and_hits_the_snr(noise_len):
    clean = _speechlike()
    recording = np.random.default_rng(1).uniform(-0.2, 0.2, noise_len).astype(np.float32)
    noisy = add_noise(clean, 5.0, 7, noise=recording)
    assert noisy.shape == clean.shape
    assert _snr_db(clean, noisy) == pytest.approx(5.0, abs=0.01)


def test_noise_is_deterministic_per_seed():
    clean = _speechlike()
    a = add_noise(clean, 10.0, np.random.default_rng(3), kind="babble")
    b = add_noise(clean, 10.0, np.random.default_rng(3), kind="babble")
    c = add_noise(clean, 10.0, np.random.default_rng(4), kind="babble")
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_noise_kinds_have_their_spectra():
    n = 4 * SR
    rng = np.random.default_rng(0)
    freqs = np.fft.rfftfreq(n, 1 / SR)

    def band_power(x, lo, hi):
        spectrum = np.abs(np.fft.rfft(x)) ** 2
        return spectrum[(freqs >= lo) & (freqs < hi)].mean()

    white, pink, babble = (make_noise(k, n, rng) for k in ("white", "pink", "babble"))
    for x in (white, pink, babble):
        assert x.dtype == np.float32 and np.mean(x.astype(np.float64) ** 2) == pytest.approx(1.0, rel=1e-4)
    assert band_power(white, 200, 400) / band_power(white, 3200, 6400) == pytest.approx(1.0, rel=0.2)
    assert 10 * math.log10(band_power(pink, 200, 400) / band_power(pink, 3200, 6400)) == pytest.approx(
        12.0, abs=1.5
    )
    assert band_power(babble, 200, 800) > 20 * band_power(babble, 5000, 7000)
    assert band_power(babble, 0, 50) < band_power(babble, 200, 800) / 50
    frame_rms = np.sqrt(np.mean(babble[: n // 320 * 320].reshape(-1, 320).astype(np.float64) ** 2, axis=1))
    assert frame_rms.std() / frame_rms.mean() > 0.1


def test_add_noise_rejects_bad_input():
    with pytest.raises(ValueError, match="silent"):
        add_noise(np.zeros(100, dtype=np.float32), 10.0, 0)
    with pytest.raises(ValueError, match="kind"):
        add_noise(_speechlike(), 10.0, 0, kind="brown")
    with pytest.raises(ValueError, match="snr_db"):
        add_noise(_speechlike(), float("nan"), 0)
    with pytest.raises(ValueError, match="rng"):
        add_noise(_speechlike(), 10.0, "seed")


def _schroeder_rt60(rir: np.ndarray) -> float:
    """T20 estimate: fit the Schroeder energy decay between -5 and -25 dB, extrapolate to -60 dB."""
    energy = np.cumsum((rir.astype(np.float64) ** 2)[::-1])[::-1]
    decay_db = 10 * np.log10(energy / energy[0])
    t = np.arange(rir.size) / SR
    fit = (decay_db <= -5) & (decay_db >= -25)
    slope = np.polyfit(t[fit], decay_db[fit], 1)[0]
    return -60.0 / slope


@pytest.mark.parametrize("rt60", [0.2, 0.5, 0.9])
def test_rir_decays_at_the_requested_rt60(rt60):
    rir = synthetic_rir(SR, rt60, np.random.default_rng(0), drr_db=-10.0)
    assert rir.size == math.ceil(rt60 * SR) and rir[0] == 1.0
    assert _schroeder_rt60(rir) == pytest.approx(rt60, rel=0.1)


def test_rir_direct_to_reverberant_ratio():
    rir = synthetic_rir(SR, 0.4, 0, drr_db=6.0).astype(np.float64)
    assert 10 * math.log10(rir[0] ** 2 / np.sum(rir[1:] ** 2)) == pytest.approx(6.0, abs=1e-3)


def test_reverb_keeps_length_level_and_is_seeded():
    clean = _speechlike()
    wet = add_reverb(clean, SR, 0.5, np.random.default_rng(0))
    assert wet.dtype == np.float32 and wet.shape == clean.shape
    assert np.sqrt(np.mean(wet.astype(np.float64) ** 2)) == pytest.approx(
        np.sqrt(np.mean(clean.astype(np.float64) ** 2)), rel=1e-4
    )
    assert np.array_equal(wet, add_reverb(clean, SR, 0.5, np.random.default_rng(0)))
    assert not np.allclose(wet, clean, atol=1e-3)
    with pytest.raises(ValueError, match="rt60"):
        add_reverb(clean, SR, 0.0, 0)


def test_loudness_normalisation_reaches_target_and_ignores_pauses():
    speech = _speechlike(2.0)
    with_pause = np.concatenate([speech, np.zeros(2 * SR, dtype=np.float32)])
    assert loudness_dbfs(with_pause, SR) == pytest.approx(loudness_dbfs(speech, SR), abs=0.5)
    out = normalize_loudness(speech, SR, target_dbfs=-26.0)
    assert out.dtype == np.float32
    assert loudness_dbfs(out, SR) == pytest.approx(-26.0, abs=1e-3)


def test_loudness_normalisation_respects_the_peak_limit():
    clicks = np.zeros(SR, dtype=np.float32)
    clicks[::4000] = 0.5
    out = normalize_loudness(clicks, SR, target_dbfs=-3.0, max_peak=0.9)
    assert np.max(np.abs(out)) == pytest.approx(0.9, rel=1e-6)
    assert loudness_dbfs(np.zeros(100, dtype=np.float32), SR) == -math.inf
    with pytest.raises(ValueError, match="target_dbfs"):
        normalize_loudness(clicks, SR, target_dbfs=3.0)
