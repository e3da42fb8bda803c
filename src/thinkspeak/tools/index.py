"""A local passage index: text/Markdown files -> passages -> unit vectors -> top-k search (issue 12, RAG).

``DIR/index.json`` records the embedding model, its dimension and the files; ``DIR/passages.jsonl`` one
``{"text", "source"}`` per line; ``DIR/vectors.npy`` the float32 unit vectors. Search is exact inner product
(cosine) with faiss when it is installed, else numpy: the same ranking, the fact base is a few hundred rows.
An index built with another embedding model is refused, naming both models: its vectors live in another space.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from thinkspeak.tools.chunking import chunk_text

FORMAT = 1
SUFFIXES = (".txt", ".md", ".markdown")


@dataclass(frozen=True)
class Passage:
    text: str
    source: str


@dataclass(frozen=True)
class Hit:
    text: str
    source: str
    score: float


def collect_files(paths: Sequence[str | Path]) -> list[Path]:
    """Every text/Markdown file named or under a named folder, sorted; ValueError for a missing path."""
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files += sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES)
        elif path.is_file():
            if path.suffix.lower() not in SUFFIXES:
                raise ValueError(f"PATH must be a text or Markdown file ({', '.join(SUFFIXES)}) or a folder, got {raw!r}")
            files.append(path)
        else:
            raise ValueError(f"PATH must be an existing file or folder, got {raw!r}")
    if not files:
        raise ValueError(f"no text or Markdown files ({', '.join(SUFFIXES)}) under {[str(p) for p in paths]}")
    return files


class PassageIndex:
    """Passages and their vectors; :meth:`search` returns the ``k`` nearest to a query."""

    def __init__(self, passages: list[Passage], vectors: np.ndarray, model: str, embedder=None):
        if len(passages) != len(vectors):
            raise ValueError(f"{len(passages)} passages but {len(vectors)} vectors")
        self.passages, self.vectors, self.model = passages, np.ascontiguousarray(vectors, dtype=np.float32), model
        self.embedder = embedder
        self._faiss = None
        try:
            import faiss

            self._faiss = faiss.IndexFlatIP(self.vectors.shape[1])
            self._faiss.add(self.vectors)
        except ImportError:
            pass

    @classmethod
    def build(cls, passages: list[Passage], embedder) -> PassageIndex:
        if not passages:
            raise ValueError("passages must not be empty (the files hold no text)")
        return cls(passages, embedder.encode([p.text for p in passages]), embedder.name, embedder)

    @classmethod
    def from_files(cls, paths: Sequence[str | Path], embedder, *, max_words: int = 120,
                   overlap: int = 20) -> PassageIndex:
        passages = []
        for path in collect_files(paths):
            markdown = path.suffix.lower() != ".txt"
            text = path.read_text(encoding="utf-8", errors="replace")
            passages += [Passage(t, str(path)) for t in chunk_text(text, max_words=max_words, overlap=overlap,
                                                                   markdown=markdown)]
        return cls.build(passages, embedder)

    def save(self, folder: str | Path) -> Path:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        np.save(folder / "vectors.npy", self.vectors)
        with (folder / "passages.jsonl").open("w", encoding="utf-8") as f:
            for p in self.passages:
                f.write(json.dumps({"text": p.text, "source": p.source}, ensure_ascii=False) + "\n")
        meta = {"format": FORMAT, "embedding_model": self.model, "dim": int(self.vectors.shape[1]),
                "passages": len(self.passages), "sources": sorted({p.source for p in self.passages})}
        (folder / "index.json").write_text(json.dumps(meta, indent=2) + "\n")
        return folder

    @classmethod
    def load(cls, folder: str | Path, embedder) -> PassageIndex:
        """Read an index; ValueError when it is not one or was built with another embedding model."""
        folder = Path(folder)
        if not (folder / "index.json").is_file():
            raise ValueError(f"index must be a folder made by `thinkspeak index build` (with index.json), "
                             f"got {str(folder)!r}")
        meta = json.loads((folder / "index.json").read_text())
        if meta.get("embedding_model") != embedder.name:
            raise ValueError(f"index {str(folder)!r} was built with the embedding model "
                             f"{meta.get('embedding_model')!r}, but queries are embedded with {embedder.name!r}; "
                             f"rebuild it with `thinkspeak index build`")
        vectors = np.load(folder / "vectors.npy")
        if vectors.ndim != 2 or vectors.shape[1] != embedder.dim:
            raise ValueError(f"index {str(folder)!r} holds vectors of shape {vectors.shape}, "
                             f"expected [n, {embedder.dim}] for {embedder.name!r}")
        with (folder / "passages.jsonl").open(encoding="utf-8") as f:
            passages = [Passage(**json.loads(line)) for line in f if line.strip()]
        return cls(passages, vectors, meta["embedding_model"], embedder)

    def search_vector(self, query: np.ndarray, k: int) -> list[Hit]:
        k = min(k, len(self.passages))
        q = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
        if self._faiss is not None:
            scores, rows = self._faiss.search(q, k)
            pairs = zip(rows[0].tolist(), scores[0].tolist(), strict=True)
        else:
            sims = self.vectors @ q[0]
            order = np.argsort(-sims, kind="stable")[:k]
            pairs = ((int(i), float(sims[i])) for i in order)
        return [Hit(self.passages[i].text, self.passages[i].source, float(s)) for i, s in pairs]

    def search(self, query: str, k: int = 5) -> list[Hit]:
        if self.embedder is None:
            raise ValueError("this index has no embedder to embed the query; load it with one")
        if not isinstance(k, int) or k < 1:
            raise ValueError(f"k must be an int >= 1, got {k!r}")
        return self.search_vector(self.embedder.encode([query])[0], k)
