"""Fit a unit model: streaming features of corpus speech -> k-means (faiss) -> centroids + silence units.

SyncLLM §3.1 / HuBERT §3: units are k-means clusters of frame features. The fitting audio is the pseudo
full-duplex corpus (:mod:`thinkspeak.data.duplex`): each dialogue's user channel (espeak-ng and festival
voices, with the corpus's silences and 15-25 dB noise) and assistant channel (piper), labelled speech/silence
per 40 ms by the corpus timeline. The flite voices are held out of fitting (the project's held-out voice).
Feature extraction is sharded (``--shard i/N``: dialogues ``k`` with ``k % N == i``) and resumable: each
shard's features are saved under ``OUT/features/``; the clustering run uses every saved shard.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from thinkspeak.data.duplex.config import DEFAULT_USER_VOICES
from thinkspeak.data.shards import ShardSpec
from thinkspeak.units.features import HOP_SAMPLES, SAMPLE_RATE, FeatureConfig, features, make_extractor
from thinkspeak.units.model import UnitModel

HELD_OUT_ENGINE = "flite"
FIT_VOICES = tuple(v for v in DEFAULT_USER_VOICES if not v.startswith(HELD_OUT_ENGINE + ":"))
FEATURES_DIR = "features"


@dataclass(frozen=True)
class Clip:
    """Fitting audio (16 kHz mono float32) and its speech activity, one 0/1 per 40 ms unit."""

    pcm: np.ndarray
    speech: np.ndarray
    source: str


def corpus_clips(seed: int, minutes: float, shard: ShardSpec) -> Iterator[Clip]:
    """Both channels of duplex dialogues ``shard.index, shard.index + N, ...`` voiced with :data:`FIT_VOICES`
    until this shard holds ``minutes / N`` minutes."""
    from thinkspeak.data.duplex.config import DuplexConfig
    from thinkspeak.data.duplex.sample import make_sample
    from thinkspeak.data.duplex.timeline import activity_frames

    config = DuplexConfig(user_voices=FIT_VOICES)
    budget = minutes * 60.0 * SAMPLE_RATE / shard.count
    index, total = shard.index, 0
    while total < budget:
        sample = make_sample(seed, index, config)
        assert sample.audio is not None
        for role, pcm in (("user", sample.audio.user), ("assistant", sample.audio.assistant)):
            n = len(pcm) // HOP_SAMPLES
            speech = np.zeros(n, dtype=np.int8)
            frames = activity_frames(sample.timeline.segments(role), sample.timeline.duration, SAMPLE_RATE / HOP_SAMPLES)
            speech[: min(n, len(frames))] = frames[:n]
            voice = sample.plan.user_voice if role == "user" else sample.plan.assistant_voice
            yield Clip(np.asarray(pcm, dtype=np.float32), speech, f"{sample.id}:{role}:{voice}")
            total += len(pcm)
        index += shard.count


def extract(clips: Iterable[Clip], feature: FeatureConfig) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Stacked features (float32), speech labels and clip sources of ``clips``."""
    extractor = make_extractor(feature)
    feats, labels, sources = [], [], []
    for clip in clips:
        f = features(extractor, clip.pcm)
        feats.append(f)
        labels.append(clip.speech[: len(f)])
        sources.append(clip.source)
    return np.concatenate(feats), np.concatenate(labels), sources


def shard_path(out: Path, shard: ShardSpec) -> Path:
    return Path(out) / FEATURES_DIR / f"shard-{shard.index:03d}-of-{shard.count:03d}.npz"


def fit_settings(seed: int, minutes: float, feature: FeatureConfig) -> str:
    """What a shard's features depend on, stored with them (a resumed or clustering run must match)."""
    return json.dumps({"seed": seed, "minutes": minutes, "feature": feature.to_dict()}, sort_keys=True)


def extract_shard(out: Path, seed: int, minutes: float, feature: FeatureConfig, shard: ShardSpec) -> Path:
    """Extract (or reuse, if already saved with the same settings) the features of one shard."""
    path = shard_path(out, shard)
    settings = fit_settings(seed, minutes, feature)
    if path.is_file():
        with np.load(path, allow_pickle=False) as saved:
            if str(saved["settings"]) == settings:
                return path
        raise ValueError(f"{path} was extracted with other settings ({saved['settings']}); remove it or use another --out")
    feats, labels, sources = extract(corpus_clips(seed, minutes, shard), feature)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, features=feats.astype(np.float16), speech=labels, sources=np.array(sources), settings=settings)
    tmp.replace(path)
    return path


def load_shards(out: Path, settings: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Every saved shard of one complete ``i/N`` set under ``OUT/features``, all made with ``settings``."""
    paths = sorted((Path(out) / FEATURES_DIR).glob("shard-*-of-*.npz"))
    counts = {p.stem.rsplit("-of-", 1)[1] for p in paths}
    if len(counts) != 1 or len(paths) != int(next(iter(counts))):
        raise ValueError(f"features under {Path(out) / FEATURES_DIR} must be one complete set of shards i/N, got "
                         f"{[p.name for p in paths]}")
    feats, labels, sources = [], [], []
    for p in paths:
        with np.load(p, allow_pickle=False) as saved:
            if str(saved["settings"]) != settings:
                raise ValueError(f"{p} was extracted with {saved['settings']}, not {settings}; use the same options")
            feats.append(saved["features"].astype(np.float32))
            labels.append(saved["speech"])
            sources.extend(str(s) for s in saved["sources"])
    return np.concatenate(feats), np.concatenate(labels), sources


def kmeans(feats: np.ndarray, n_units: int, seed: int, niter: int = 20, max_frames: int = 100_000) -> np.ndarray:
    """faiss k-means on at most ``max_frames`` frames sampled without replacement: ``[n_units, dim]`` float32."""
    import faiss

    if feats.shape[0] < n_units:
        raise ValueError(f"n_units must be <= the number of fitting frames ({feats.shape[0]}), got {n_units}")
    rng = np.random.default_rng(seed)
    if feats.shape[0] > max_frames:
        feats = feats[np.sort(rng.choice(feats.shape[0], max_frames, replace=False))]
    km = faiss.Kmeans(feats.shape[1], n_units, niter=niter, seed=seed, verbose=False,
                      max_points_per_centroid=max(256, feats.shape[0] // n_units + 1))
    km.train(np.ascontiguousarray(feats, dtype=np.float32))
    return np.asarray(km.centroids, dtype=np.float32)


def silence_units(units: np.ndarray, speech: np.ndarray, n_units: int) -> frozenset[int]:
    """Units more than half of whose fitting frames are silence (units never used are not counted)."""
    frames = np.bincount(units, minlength=n_units)
    silent = np.bincount(units, weights=(speech == 0).astype(np.float64), minlength=n_units)
    return frozenset(int(u) for u in np.flatnonzero((frames > 0) & (silent > 0.5 * frames)))


def fit_unit_model(feats: np.ndarray, speech: np.ndarray, feature: FeatureConfig, n_units: int, seed: int,
                   niter: int = 20, info: dict | None = None) -> UnitModel:
    """Cluster ``feats`` into ``n_units`` centroids and mark the silence units from ``speech`` labels."""
    if isinstance(n_units, bool) or not isinstance(n_units, int) or n_units < 2:
        raise ValueError(f"n_units must be an int >= 2, got {n_units!r}")
    start = time.perf_counter()
    centroids = kmeans(feats, n_units, seed, niter)
    model = UnitModel(centroids, feature)
    units = model.assign(feats)
    model.silence_units = silence_units(units, speech, n_units)
    used = int(np.unique(units).size)
    model.info = {"fit": {**(info or {}), "frames": int(feats.shape[0]), "speech_share": round(float(speech.mean()), 4),
                          "units_used": used, "kmeans_seconds": round(time.perf_counter() - start, 1),
                          "niter": niter, "seed": seed}}
    return model
