"""Fitting data: the corpus channels with their speech labels (real espeak-ng), flite held out; sharded,
resumable feature extraction and the checks on the saved shards."""

import numpy as np
import pytest

from parts import needs_espeak
from thinkspeak.data.duplex.config import DEFAULT_USER_VOICES, DuplexConfig
from thinkspeak.data.shards import ShardSpec
from thinkspeak.units import FeatureConfig
from thinkspeak.units import fit as fitmod

LOGMEL = FeatureConfig(kind="logmel")


def test_flite_is_held_out_of_fitting():
    assert fitmod.FIT_VOICES and not any(v.startswith("flite") for v in fitmod.FIT_VOICES)
    assert set(fitmod.FIT_VOICES) == {v for v in DEFAULT_USER_VOICES if not v.startswith("flite")}


@needs_espeak
def test_corpus_clips_are_labelled_channels():
    config = DuplexConfig(user_voices=("espeak:en-us+m3",), assistant_voice="espeak:en-us+f3", turns=(1, 1))
    clips = list(fitmod.corpus_clips(5, 0.001, ShardSpec(), config))
    assert [c.source.split(":")[1] for c in clips] == ["user", "assistant"]
    for clip in clips:
        assert clip.pcm.dtype == np.float32 and len(clip.speech) == len(clip.pcm) // 640
        assert 0.0 < clip.speech.mean() < 1.0
    user = clips[0]
    frames = user.pcm[: len(user.speech) * 640].reshape(-1, 640)
    energy = np.mean(frames ** 2, axis=1)
    assert energy[user.speech == 1].mean() > 3 * energy[user.speech == 0].mean()


def _fake_clips(seed, minutes, shard, config=None):
    rng = np.random.default_rng([seed, shard.index])
    for k in range(2):
        pcm = np.concatenate([np.zeros(6400), 0.2 * rng.standard_normal(12800)]).astype(np.float32)
        yield fitmod.Clip(pcm, np.repeat([0, 1], [10, 20]).astype(np.int8), f"{shard.index}-{k}:user:fake")


def test_sharded_extraction_resumes_and_checks_settings(tmp_path, monkeypatch):
    monkeypatch.setattr(fitmod, "corpus_clips", _fake_clips)
    settings = fitmod.fit_settings(1, 2.0, LOGMEL)
    first = fitmod.extract_shard(tmp_path, 1, 2.0, LOGMEL, ShardSpec(0, 2))
    with pytest.raises(ValueError, match="complete set of shards"):
        fitmod.load_shards(tmp_path, settings)
    fitmod.extract_shard(tmp_path, 1, 2.0, LOGMEL, ShardSpec(1, 2))
    stamp = first.stat().st_mtime_ns
    assert fitmod.extract_shard(tmp_path, 1, 2.0, LOGMEL, ShardSpec(0, 2)).stat().st_mtime_ns == stamp  # reused
    feats, speech, sources = fitmod.load_shards(tmp_path, settings)
    assert feats.shape == (4 * 30, 640) and speech.shape == (120,) and len(sources) == 4
    with pytest.raises(ValueError, match="extracted with other settings"):
        fitmod.extract_shard(tmp_path, 2, 2.0, LOGMEL, ShardSpec(0, 2))
    with pytest.raises(ValueError, match="use the same options"):
        fitmod.load_shards(tmp_path, fitmod.fit_settings(1, 3.0, LOGMEL))
