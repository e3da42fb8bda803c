"""Unit models fitted here on a tiny synthetic set (log-mel features, faiss k-means): the encode contract,
streaming == batch, bad input, save/load with the SHA256SUMS check."""

import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from thinkspeak.units import FeatureConfig, load_unit_model
from thinkspeak.units.features import features, make_extractor
from thinkspeak.units.fit import fit_unit_model, silence_units

SR = 16000


def _clip(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """0.4 s silence, 0.8 s of a tone, 0.4 s of quiet noise, 0.8 s of a chirp; labels per 40 ms unit."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(0.8 * SR)) / SR
    f0 = 200 + 100 * seed
    parts = [np.zeros(int(0.4 * SR)), 0.3 * np.sin(2 * np.pi * f0 * t),
             0.003 * rng.standard_normal(int(0.4 * SR)), 0.3 * np.sin(2 * np.pi * (f0 + 800 * t) * t)]
    labels = np.repeat([0, 1, 0, 1], [10, 20, 10, 20]).astype(np.int8)
    return np.concatenate(parts).astype(np.float32), labels


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    clips = [_clip(s) for s in range(4)]
    extractor = make_extractor(FeatureConfig(kind="logmel"))
    feats = np.concatenate([features(extractor, pcm) for pcm, _ in clips])
    labels = np.concatenate([lab for _, lab in clips])
    model = fit_unit_model(feats, labels, FeatureConfig(kind="logmel"), n_units=8, seed=0, niter=10)
    folder = tmp_path_factory.mktemp("units")
    model.save(folder, "# tiny test units\n")
    return folder, clips


def test_fit_makes_a_loadable_model_that_marks_silence(fitted):
    folder, clips = fitted
    model = load_unit_model(folder)
    assert model.n_units == 8 and model.feature == "logmel" and model.rate_hz == 25.0
    assert model.sample_rate == 16000 and model.hop_samples == 640 and model.delay_ms == 0
    assert len(model.digest) == 64 and json.loads((folder / "config.json").read_text())["digest"] == model.digest
    pcm, labels = clips[0]
    units = model.encode(pcm, SR)
    silent = np.isin(units, list(model.silence_units))
    assert silent[labels == 0][:10].all()  # digital silence at the start is a silence unit
    assert silent[labels == 1].mean() < 0.1  # tones are not (a unit at an onset may be)


@given(n=st.integers(0, 3000))
def test_encode_gives_one_int64_unit_per_40_ms(n):
    model = _cached_model()
    units = model.encode(np.zeros(n, dtype=np.float32) + 0.01, SR)
    assert units.dtype == np.int64 and units.shape == (n // 640,)
    assert ((units >= 0) & (units < model.n_units)).all()


_MODEL = {}


def _cached_model():
    if "m" not in _MODEL:
        rng = np.random.default_rng(0)
        from thinkspeak.units.model import UnitModel

        _MODEL["m"] = UnitModel(rng.standard_normal((5, 640)).astype(np.float32), FeatureConfig(kind="logmel"))
    return _MODEL["m"]


@given(cuts=st.lists(st.integers(1, 3000), min_size=1, max_size=20))
def test_stream_equals_batch_for_any_push_sizes(fitted, cuts):
    folder, clips = fitted
    model = load_unit_model(folder)
    pcm = clips[1][0]
    batch = model.encode(pcm, SR)
    stream, out, i = model.stream(), [], 0
    for step in cuts * (len(pcm) // sum(cuts) + 1):
        out.append(stream.push(pcm[i: i + step]))
        i += step
        if i >= len(pcm):
            break
    out.append(stream.flush())
    assert np.array_equal(np.concatenate(out), batch)
    assert stream.delay_ms == 0


def test_other_rates_are_resampled(fitted):
    folder, clips = fitted
    model = load_unit_model(folder)
    from thinkspeak.audio import resample

    pcm8k = resample(clips[0][0], SR, 8000)
    assert model.encode(pcm8k, 8000).shape == (len(clips[0][0]) // 640,)


@pytest.mark.parametrize("pcm, rate, match", [
    (np.zeros(640, dtype=np.int16), SR, "dtype int16"),
    (np.zeros((2, 640), dtype=np.float32), SR, r"shape \(2, 640\)"),
    (np.zeros(640, dtype=np.float32), 0, "sample_rate must be a positive integer sample rate in Hz, got 0"),
    (np.zeros(640, dtype=np.float32), 16000.0, "sample_rate must be a positive integer sample rate"),
    (np.full(640, np.nan, dtype=np.float32), SR, "finite"),
])
def test_bad_audio_is_refused(pcm, rate, match):
    with pytest.raises(ValueError, match=match):
        _cached_model().encode(pcm, rate)


def test_push_after_flush_is_refused():
    stream = _cached_model().stream()
    stream.push(np.zeros(700, dtype=np.float32))
    stream.flush()
    with pytest.raises(ValueError, match="push after flush"):
        stream.push(np.zeros(640, dtype=np.float32))
    with pytest.raises(ValueError, match="pcm16k must hold float samples"):
        _cached_model().stream().push(np.zeros(640, dtype=np.int16))


def test_altered_or_unlisted_files_are_refused(fitted, tmp_path):
    folder, _ = fitted
    for name in ("centroids.npy", "config.json", "README.md", "SHA256SUMS"):
        (tmp_path / name).write_bytes((folder / name).read_bytes())
    load_unit_model(tmp_path)
    data = bytearray((tmp_path / "centroids.npy").read_bytes())
    data[-1] ^= 1
    (tmp_path / "centroids.npy").write_bytes(bytes(data))
    with pytest.raises(ValueError, match="'centroids.npy' .* has sha256 .* expected"):
        load_unit_model(tmp_path)
    (tmp_path / "centroids.npy").write_bytes((folder / "centroids.npy").read_bytes())
    (tmp_path / "extra.bin").write_bytes(b"x")
    with pytest.raises(ValueError, match=r"unlisted \['extra.bin'\]"):
        load_unit_model(tmp_path)
    with pytest.raises(ValueError, match="path must be a unit model folder"):
        load_unit_model(tmp_path / "missing")


def test_feature_config_and_fit_arguments_are_checked():
    with pytest.raises(ValueError, match="feature must be one of"):
        FeatureConfig(kind="mfcc")
    with pytest.raises(ValueError, match="step_ms must be a whole number of 40 ms units"):
        FeatureConfig(step_ms=100)
    with pytest.raises(ValueError, match="n_units must be an int >= 2, got 1"):
        fit_unit_model(np.zeros((10, 4), np.float32), np.zeros(10), FeatureConfig(kind="logmel"), 1, 0)
    with pytest.raises(ValueError, match=r"n_units must be <= the number of fitting frames \(10\), got 20"):
        fit_unit_model(np.zeros((10, 4), np.float32), np.zeros(10), FeatureConfig(kind="logmel"), 20, 0)


def test_silence_units_are_the_majority_silent_ones():
    units = np.array([0, 0, 0, 1, 1, 2])
    speech = np.array([0, 0, 1, 1, 0, 1])
    assert silence_units(units, speech, 4) == frozenset({0})
