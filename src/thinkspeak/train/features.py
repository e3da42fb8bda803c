"""Precomputed audio features, so training is not bound by the Whisper encoder.

Each spoken question's encoder output ``[T, 512]`` (50 Hz) is stored once as float16 ``.npy`` under
``ROOT/<encoder fingerprint>/<sample id>.npy``; the fingerprint changes with the encoder's weights, so
features of another encoder are never mixed in. The trainer fills the cache for an audio stage before it
starts; ``python -m thinkspeak.train.features CORPUS [--cache data/features]`` fills it ahead of time.
"""

from __future__ import annotations

import hashlib
import io
import logging
from pathlib import Path

import numpy as np
import torch

from thinkspeak.model.adapter import n_audio_positions
from thinkspeak.train.corpus import iter_question_audio

log = logging.getLogger(__name__)


def encoder_fingerprint(description: str) -> str:
    """A short hash of a description of the encoder and its weights (e.g. the weights' SHA-256)."""
    if not isinstance(description, str) or not description:
        raise ValueError(f"description must be a non-empty str naming the encoder and weights, got {description!r}")
    return hashlib.sha256(description.encode()).hexdigest()[:12]


class FeatureStore:
    """``save``/``load``/``n_frames`` of per-sample encoder features in one fingerprinted folder."""

    def __init__(self, root: str | Path, fingerprint: str):
        self.dir = Path(root) / fingerprint
        self.dir.mkdir(parents=True, exist_ok=True)

    def path(self, sample_id: str) -> Path:
        if not sample_id or "/" in sample_id or sample_id.startswith("."):
            raise ValueError(f"sample_id must be a plain file name, got {sample_id!r}")
        return self.dir / f"{sample_id}.npy"

    def has(self, sample_id: str) -> bool:
        return self.path(sample_id).is_file()

    def save(self, sample_id: str, features: np.ndarray) -> None:
        if features.ndim != 2 or features.shape[0] < 1:
            raise ValueError(f"features of {sample_id!r} must be [T >= 1, D], got shape {features.shape}")
        tmp = self.path(sample_id).with_suffix(".tmp.npy")
        np.save(tmp, features.astype(np.float16))
        tmp.replace(self.path(sample_id))

    def load(self, sample_id: str) -> torch.Tensor:
        return torch.from_numpy(np.load(self.path(sample_id)).astype(np.float32))

    def n_frames(self, sample_id: str) -> int:
        return int(np.load(self.path(sample_id), mmap_mode="r").shape[0])

    def audio_positions(self, ids, stack: int) -> dict[str, int]:
        """``{id: ceil(T / stack)}`` for every id with cached features."""
        return {i: n_audio_positions(self.n_frames(i), stack) for i in ids if self.has(i)}


def decode_flac(data: bytes, sample_id: str) -> np.ndarray:
    import soundfile as sf

    pcm, sr = sf.read(io.BytesIO(data), dtype="float32", always_2d=False)
    if sr != 16000:
        raise ValueError(f"question_audio of {sample_id!r} must be 16 kHz (contract 2), got {sr} Hz")
    return pcm if pcm.ndim == 1 else pcm.mean(axis=1)


def precompute_features(corpus: str | Path, store: FeatureStore, encoder, ids: set[str] | None = None,
                        progress: bool = True) -> int:
    """Encode every question audio of ``corpus`` (restricted to ``ids``) missing from ``store``; return count."""
    from tqdm import tqdm

    todo = [(sid, audio) for sid, audio in iter_question_audio(corpus, ids) if not store.has(sid)]
    for sid, audio in tqdm(todo, desc="audio features", disable=not progress or not todo, mininterval=5):
        store.save(sid, np.asarray(encoder.features(decode_flac(audio, sid)), dtype=np.float32))
    if todo:
        log.info("cached %d feature files in %s", len(todo), store.dir)
    return len(todo)


def whisper_store(root: str | Path):
    """The packaged Whisper-base encoder (int8, contract 3) and its feature store under ``root``."""
    from thinkspeak.speech.encoder import WhisperEncoder
    from thinkspeak.speech.models import WHISPER_BASE_SHA256

    encoder = WhisperEncoder()
    return encoder, FeatureStore(root, encoder_fingerprint(f"whisper-base:{WHISPER_BASE_SHA256}:int8"))


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description="Cache Whisper-base features of a corpus's spoken questions.")
    parser.add_argument("corpus", help="corpus directory (thinkspeak data math, with audio)")
    parser.add_argument("--cache", default="data/features", help="feature cache root (the recipe's feature_cache)")
    args = parser.parse_args()
    encoder, store = whisper_store(args.cache)
    print(f"{precompute_features(args.corpus, store, encoder)} new feature files in {store.dir}")


if __name__ == "__main__":
    main()
