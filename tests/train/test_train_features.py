"""Feature cache: float16 round trip, positions after stacking, fingerprinted folders, bad ids."""

from __future__ import annotations

import numpy as np
import pytest

from thinkspeak.train.features import FeatureStore, encoder_fingerprint


def test_store_roundtrip_and_positions(tmp_path):
    store = FeatureStore(tmp_path, encoder_fingerprint("whisper-base:abc:int8"))
    feats = np.random.default_rng(0).standard_normal((13, 512)).astype(np.float32)
    store.save("0-00000001", feats)
    assert store.has("0-00000001") and not store.has("0-00000002")
    got = store.load("0-00000001").numpy()
    assert got.shape == (13, 512) and np.allclose(got, feats, atol=1e-2)
    assert store.n_frames("0-00000001") == 13
    assert store.audio_positions(["0-00000001", "0-00000002"], stack=4) == {"0-00000001": 4}


def test_fingerprints_separate_encoders(tmp_path):
    a = FeatureStore(tmp_path, encoder_fingerprint("whisper-base:abc:int8"))
    b = FeatureStore(tmp_path, encoder_fingerprint("whisper-base:abc:float32"))
    a.save("x", np.ones((2, 4), np.float32))
    assert a.dir != b.dir and not b.has("x")


@pytest.mark.parametrize("bad", ["", "../x", "a/b", ".hidden"])
def test_bad_sample_ids_are_rejected(tmp_path, bad):
    with pytest.raises(ValueError, match="sample_id"):
        FeatureStore(tmp_path, "f").path(bad)


def test_bad_feature_shapes_are_rejected(tmp_path):
    store = FeatureStore(tmp_path, "f")
    with pytest.raises(ValueError, match="must be \\[T >= 1, D\\]"):
        store.save("x", np.zeros((0, 512), np.float32))
    with pytest.raises(ValueError, match="description"):
        encoder_fingerprint("")

