"""The shipped unit model (assets/units-default): hash-checked load, the API contract, streaming == batch on
speech, the CLI. Never skipped: it and the packaged Whisper-base it may use are required parts."""

import json

import numpy as np
import pytest

from thinkspeak.cli import main
from thinkspeak.units import DEFAULT_DIR, load_unit_model

SR = 16000


@pytest.fixture(scope="module")
def model():
    return load_unit_model()


@pytest.fixture(scope="module")
def speechlike():
    """2.5 s: silence, then a vowel-like harmonic sound with a moving pitch, then noise."""
    rng = np.random.default_rng(3)
    t = np.arange(int(1.5 * SR)) / SR
    f0 = 120 + 40 * np.sin(2 * np.pi * 1.5 * t)
    phase = 2 * np.pi * np.cumsum(f0) / SR
    voiced = sum(np.sin(k * phase) / k for k in range(1, 12)) * 0.1
    return np.concatenate([np.zeros(int(0.5 * SR)), voiced, 0.01 * rng.standard_normal(int(0.5 * SR))]).astype(np.float32)


def test_folder_is_small_listed_and_has_no_machine_paths():
    files = {p.name for p in DEFAULT_DIR.iterdir() if p.is_file()}
    assert {"centroids.npy", "config.json", "README.md", "SHA256SUMS"} <= files
    assert sum((DEFAULT_DIR / n).stat().st_size for n in files) < 30 * 2**20
    for name in ("README.md", "config.json"):
        text = (DEFAULT_DIR / name).read_text()
        assert "/work/" not in text and "/tmp/" not in text and "/home/" not in text, name


def test_contract_attributes(model):
    assert 400 <= model.n_units <= 600
    assert model.rate_hz == 25.0 and model.sample_rate == 16000 and model.hop_samples == 640
    assert model.feature in ("whisper", "logmel")
    assert len(model.digest) == 64 and model.digest == json.loads((DEFAULT_DIR / "config.json").read_text())["digest"]
    assert model.silence_units and all(0 <= u < model.n_units for u in model.silence_units)
    assert model.stream().delay_ms == model.delay_ms >= 0


def test_digital_silence_is_silence_units(model):
    units = model.encode(np.zeros(SR, dtype=np.float32), SR)
    assert units.shape == (25,) and units.dtype == np.int64
    assert np.isin(units, list(model.silence_units)).all()


def test_stream_equals_batch_on_speechlike_audio(model, speechlike):
    batch = model.encode(speechlike, SR)
    assert batch.shape == (len(speechlike) // 640,)
    rng = np.random.default_rng(0)
    stream, out, i = model.stream(), [], 0
    while i < len(speechlike):
        step = int(rng.integers(1, 4000))
        out.append(stream.push(speechlike[i: i + step]))
        i += step
    out.append(stream.flush())
    assert np.array_equal(np.concatenate(out), batch)


def test_cli_encode_prints_units_and_refuses_stereo(model, speechlike, tmp_path, capsys):
    import soundfile as sf

    mono = tmp_path / "a.wav"
    sf.write(mono, speechlike, SR, subtype="PCM_16")
    assert main(["units", "encode", str(mono), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert len(out["units"]) == len(speechlike) // 640 and out["digest"] == model.digest
    assert main(["units", "encode", str(mono)]) == 0
    assert len(capsys.readouterr().out.split()) == len(speechlike) // 640
    stereo = tmp_path / "s.wav"
    sf.write(stereo, np.stack([speechlike, speechlike], axis=1), SR)
    assert main(["units", "encode", str(stereo)]) == 2
    assert "AUDIO must be mono, got 2 channels" in capsys.readouterr().err
    text = tmp_path / "t.wav"
    text.write_text("not audio")
    assert main(["units", "encode", str(text)]) == 2
    assert "AUDIO must be an audio file soundfile can read" in capsys.readouterr().err
