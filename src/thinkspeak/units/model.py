"""A fitted unit model: k-means centroids over streaming frame features -> one discrete unit per 40 ms.

SyncLLM §3.1 represents speech as HuBERT units at 25 Hz with a vocabulary of ~500 (k-means over frame
features, nearest-centroid assignment). Here the features are those of :mod:`thinkspeak.units.features`,
and a folder holds ``centroids.npy`` (float32 ``[n_units, dim]``), ``config.json`` (feature settings,
silence units, fitting summary), a model card ``README.md`` and ``SHA256SUMS`` (checked at load).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from thinkspeak.audio.pcm import as_mono_float32, check_sample_rate
from thinkspeak.checksums import verify_sha256sums
from thinkspeak.units.features import (
    HOP_SAMPLES,
    SAMPLE_RATE,
    UNIT_MS,
    Extractor,
    FeatureConfig,
    FeatureStream,
    make_extractor,
)

DEFAULT_DIR = Path(__file__).resolve().parent.parent / "assets" / "units-default"
FORMAT = "thinkspeak-units/1"
CENTROIDS = "centroids.npy"
CONFIG = "config.json"


def centroids_digest(centroids: np.ndarray) -> str:
    """SHA-256 of the float32 centroid matrix (C order): the identity a model trained on units records."""
    return hashlib.sha256(np.ascontiguousarray(centroids, dtype=np.float32).tobytes()).hexdigest()


@dataclass
class UnitModel:
    """Nearest-centroid speech units at 25 Hz (``encode`` for clips, ``stream()`` for live audio)."""

    centroids: np.ndarray
    feature_config: FeatureConfig
    silence_units: frozenset[int] = frozenset()
    info: dict[str, Any] = field(default_factory=dict)
    cpu_threads: int = 1
    rate_hz: float = 1000.0 / UNIT_MS
    sample_rate: int = SAMPLE_RATE
    hop_samples: int = HOP_SAMPLES

    def __post_init__(self) -> None:
        c = np.asarray(self.centroids)
        if c.ndim != 2 or c.shape[0] < 2 or not np.all(np.isfinite(c)):
            raise ValueError(f"centroids must be a finite [n_units >= 2, dim] array, got shape {c.shape}")
        self.centroids = np.ascontiguousarray(c, dtype=np.float32)
        self._sq = np.einsum("ij,ij->i", self.centroids, self.centroids)
        self._extractor: Extractor | None = None
        self.digest = centroids_digest(self.centroids)

    @property
    def n_units(self) -> int:
        return int(self.centroids.shape[0])

    @property
    def feature(self) -> str:
        return self.feature_config.kind

    @property
    def delay_ms(self) -> int:
        return self.feature_config.delay_ms

    @property
    def extractor(self) -> Extractor:
        if self._extractor is None:
            self._extractor = make_extractor(self.feature_config, self.cpu_threads)
            if self._extractor.dim != self.centroids.shape[1]:
                raise ValueError(f"centroids have {self.centroids.shape[1]} dims but {self.feature} features "
                                 f"have {self._extractor.dim}")
        return self._extractor

    def assign(self, feats: np.ndarray) -> np.ndarray:
        """Nearest centroid (squared Euclidean) of each row of ``feats``: int64 units."""
        if feats.shape[0] == 0:
            return np.zeros(0, dtype=np.int64)
        scores = self._sq[None, :] - 2.0 * (feats.astype(np.float32) @ self.centroids.T)
        return np.argmin(scores, axis=1).astype(np.int64)

    def encode(self, pcm: np.ndarray, sample_rate: int) -> np.ndarray:
        """Units of a whole clip: ``len(pcm_16k) // 640`` int64 values in ``[0, n_units)``; equals what
        :meth:`stream` yields for the same audio. Other rates are resampled to 16 kHz with soxr."""
        audio = as_mono_float32(pcm, "pcm")
        rate = check_sample_rate("sample_rate", sample_rate)
        if rate != self.sample_rate:
            from thinkspeak.audio.resample import resample

            audio = resample(audio, rate, self.sample_rate)
        stream = self.stream()
        return np.concatenate([stream.push(audio), stream.flush()])

    def stream(self) -> UnitStream:
        """A streaming encoder for one live 16 kHz channel."""
        return UnitStream(self, self.extractor.stream())

    def save(self, folder: Path | str, card: str) -> Path:
        """Write ``centroids.npy``, ``config.json``, ``README.md`` (``card``) and ``SHA256SUMS``."""
        from thinkspeak.checksums import write_sha256sums

        out = Path(folder)
        out.mkdir(parents=True, exist_ok=True)
        np.save(out / CENTROIDS, self.centroids, allow_pickle=False)
        config = {
            "format": FORMAT,
            "n_units": self.n_units,
            "rate_hz": self.rate_hz,
            "sample_rate": self.sample_rate,
            "hop_samples": self.hop_samples,
            "feature": self.feature_config.to_dict(),
            "digest": self.digest,
            "silence_units": sorted(self.silence_units),
            **self.info,
        }
        (out / CONFIG).write_text(json.dumps(config, indent=1) + "\n")
        (out / "README.md").write_text(card)
        write_sha256sums(out)
        return out


class UnitStream:
    """``push(pcm16k)`` -> units that became final; ``flush()`` -> the rest (the stream then ends).

    ``delay_ms`` is the longest time after a unit's own 40 ms ends before ``push`` returns it.
    """

    def __init__(self, model: UnitModel, features: FeatureStream):
        self._model = model
        self._features = features
        self._done = False
        self.delay_ms = model.delay_ms

    def push(self, pcm16k: np.ndarray) -> np.ndarray:
        if self._done:
            raise ValueError("push after flush: a UnitStream ends at flush(); start a new one with model.stream()")
        return self._model.assign(self._features.push(as_mono_float32(pcm16k, "pcm16k")))

    def flush(self) -> np.ndarray:
        if self._done:
            return np.zeros(0, dtype=np.int64)
        self._done = True
        return self._model.assign(self._features.flush())


def load_unit_model(path: str | Path | None = None, cpu_threads: int = 1) -> UnitModel:
    """Load a unit folder (default: the packaged ``assets/units-default``) after checking its SHA256SUMS."""
    folder = Path(path) if path is not None else DEFAULT_DIR
    if not folder.is_dir():
        raise ValueError(f"path must be a unit model folder (config.json, centroids.npy), got {str(folder)!r}")
    verify_sha256sums(folder, required=(CENTROIDS, CONFIG))
    config = json.loads((folder / CONFIG).read_text())
    if config.get("format") != FORMAT:
        raise ValueError(f"config.json format must be {FORMAT!r}, got {config.get('format')!r} in {str(folder)!r}")
    centroids = np.load(folder / CENTROIDS, allow_pickle=False)
    if centroids.shape[0] != config["n_units"]:
        raise ValueError(f"centroids.npy has {centroids.shape[0]} units but config.json says {config['n_units']}")
    skip = {"format", "n_units", "rate_hz", "sample_rate", "hop_samples", "feature", "digest", "silence_units"}
    model = UnitModel(centroids, FeatureConfig.from_dict(config["feature"]),
                      frozenset(int(u) for u in config["silence_units"]),
                      info={k: v for k, v in config.items() if k not in skip}, cpu_threads=cpu_threads)
    if model.digest != config["digest"]:
        raise ValueError(f"centroids digest {model.digest} does not match config.json's {config['digest']}")
    return model
