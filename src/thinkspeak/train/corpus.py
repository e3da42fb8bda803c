"""Read spoken-math corpus rows (contract 2: DIR/manifest.json + DIR/data/*.parquet) for training."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

TEXT_COLUMNS = ("id", "split", "category", "question", "answer", "reasoning", "response", "licenses")


@dataclass(frozen=True)
class MathSample:
    """The fields of one corpus row the Thinker learns from."""

    id: str
    split: str
    category: str
    question: str
    answer: str
    reasoning: tuple[str, ...]
    response: tuple[str, ...]
    licenses: tuple[int, ...]
    has_audio: bool = False


def _shards(corpus: str | Path) -> list[Path]:
    root = Path(corpus)
    files = sorted((root / "data").glob("*.parquet")) if (root / "data").is_dir() else []
    if not files:
        raise ValueError(f"corpus must be a directory with data/*.parquet (thinkspeak data math), got {str(root)!r}")
    return files


def read_samples(corpus: str | Path, split: str | None = "train", limit: int | None = None) -> list[MathSample]:
    """Rows of ``split`` (None: all) in file order, without the audio bytes."""
    import pyarrow.parquet as pq

    out: list[MathSample] = []
    for path in _shards(corpus):
        schema = pq.read_schema(path)
        table = pq.read_table(path, columns=list(TEXT_COLUMNS))
        has_audio = "question_audio" in schema.names
        audio_null = None
        if has_audio:
            audio_null = pq.read_table(path, columns=["question_audio"]).column(0).is_null().to_pylist()
        for i, row in enumerate(table.to_pylist()):
            if split is not None and row["split"] != split:
                continue
            out.append(
                MathSample(
                    id=row["id"],
                    split=row["split"],
                    category=row["category"],
                    question=row["question"],
                    answer=row["answer"],
                    reasoning=tuple(row["reasoning"]),
                    response=tuple(row["response"]),
                    licenses=tuple(int(x) for x in row["licenses"]),
                    has_audio=has_audio and not audio_null[i],
                )
            )
            if limit is not None and len(out) >= limit:
                return out
    return out


def iter_question_audio(corpus: str | Path, ids: set[str] | None = None) -> Iterator[tuple[str, bytes]]:
    """``(id, FLAC bytes)`` of every row with question audio (restricted to ``ids`` if given)."""
    import pyarrow.parquet as pq

    for path in _shards(corpus):
        if "question_audio" not in pq.read_schema(path).names:
            continue
        table = pq.read_table(path, columns=["id", "question_audio"])
        for sid, audio in zip(table.column("id").to_pylist(), table.column("question_audio").to_pylist(), strict=True):
            if audio is not None and (ids is None or sid in ids):
                yield sid, audio
