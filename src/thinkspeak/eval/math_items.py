"""Spoken-math evaluation items from Parquet: the real Spoken-MQA layout or our own corpus (contract 2).

Spoken-MQA (arXiv 2505.15000) as published on the Hugging Face hub (``amao0o0/spoken-mqa``) and read by
AudioBench: one split per category (``short_digit``, ``long_digit``, ``single_step_reasoning``,
``multi_step_reasoning``), rows with ``context`` (the spoken question; an HF ``Audio`` value, stored in
Parquet as ``{"bytes": <wav/flac file>, "path": ...}`` or, once decoded, ``{"array", "sampling_rate"}``),
``context_transcript`` (its text), ``instruction`` and ``answer`` (each a string or a ``{"text": ...}``
struct). The category of a file is read from its path (``short_digit-00000-of-00001.parquet``,
``short_digit/0000.parquet``, ...).

Our corpus: a directory with ``manifest.json`` and Parquet shards whose rows carry ``id``, ``split``,
``category``, ``question``, ``answer`` and optionally ``question_audio`` (FLAC).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

SAMPLE_RATE = 16000
SPOKEN_MQA_CATEGORIES = ("short_digit", "long_digit", "single_step_reasoning", "multi_step_reasoning",
                         "knowledge")
# AudioBench compares predictions against the raw reference on these subsets (see spoken_mqa.score).
RAW_REFERENCE_CATEGORIES = frozenset({"short_digit", "long_digit"})


@dataclass(frozen=True)
class MathItem:
    """One question to answer: ``question`` is the text given with text input, ``audio`` the spoken
    question (16 kHz float32 mono; None unless audio was asked for), ``answer`` the reference."""

    id: str
    category: str
    question: str
    answer: str
    audio: np.ndarray | None = None
    instruction: str | None = None
    normalise_reference: bool = True


def _text(value: Any, column: str) -> str:
    """A string column that may also be stored as ``{"text": ...}`` (AudioBench's ``answer['text']``)."""
    if isinstance(value, dict):
        value = value.get("text")
    if value is None:
        raise ValueError(f"column {column!r} has no text, got {value!r}")
    return str(value).strip()


def _hf_audio(value: Any) -> np.ndarray:
    """Decode an HF ``Audio`` value to 16 kHz float32 mono."""
    from thinkspeak.audio import decode_audio, resample

    if not isinstance(value, dict):
        raise ValueError(f"column 'context' must hold an audio struct, got {type(value).__name__}")
    if value.get("bytes"):
        samples, rate = decode_audio(value["bytes"])
    elif value.get("array") is not None and value.get("sampling_rate"):
        samples = np.asarray(value["array"], dtype=np.float32)
        samples = samples.mean(axis=0) if samples.ndim == 2 else samples
        rate = int(value["sampling_rate"])
    elif value.get("path"):
        samples, rate = decode_audio(Path(value["path"]).read_bytes())
    else:
        raise ValueError(f"column 'context' has neither bytes, array nor path: keys {sorted(value)}")
    return resample(samples, rate, SAMPLE_RATE) if rate != SAMPLE_RATE else samples


def _flac(value: bytes | None, item_id: str) -> np.ndarray:
    from thinkspeak.audio import decode_audio, resample

    if not value:
        raise ValueError(f"item {item_id!r} has no question_audio; run without audio input or synthesise it")
    samples, rate = decode_audio(value)
    return resample(samples, rate, SAMPLE_RATE) if rate != SAMPLE_RATE else samples


def spoken_mqa_category(path: Path) -> str:
    """The Spoken-MQA category named by ``path``: in the file name, else in the nearest folder name that
    holds one (longest name first); else the file's stem."""
    names = sorted(SPOKEN_MQA_CATEGORIES, key=len, reverse=True)
    for part in reversed(path.parts):
        for name in names:
            if name in part:
                return name
    return path.stem


def parquet_files(path: str | Path) -> list[Path]:
    """The Parquet files at ``path`` (one file, or every ``*.parquet`` below a directory, sorted)."""
    root = Path(path)
    if root.is_file():
        return [root]
    if root.is_dir():
        files = sorted(root.rglob("*.parquet"))
        if files:
            return files
    raise ValueError(f"data must be a Parquet file or a directory holding Parquet files, got {str(root)!r}")


def detect_layout(files: list[Path]) -> str:
    """``"spoken-mqa"`` or ``"corpus"`` from the Parquet schema; every file must share one layout."""
    import pyarrow.parquet as pq

    layouts = set()
    for file in files:
        names = set(pq.read_schema(file).names)
        if {"context", "answer"} <= names:
            layouts.add("spoken-mqa")
        elif {"question", "answer", "category"} <= names:
            layouts.add("corpus")
        else:
            raise ValueError(f"{file} has columns {sorted(names)}; expected Spoken-MQA (context, "
                             "context_transcript, instruction, answer) or corpus (question, answer, category)")
    if len(layouts) != 1:
        raise ValueError(f"data mixes layouts {sorted(layouts)}; point --data at one of them")
    return layouts.pop()


def _rows(file: Path, columns: list[str]) -> Iterator[dict[str, Any]]:
    import pyarrow.parquet as pq

    parquet = pq.ParquetFile(file)
    present = [c for c in columns if c in parquet.schema_arrow.names]
    for batch in parquet.iter_batches(batch_size=64, columns=present):
        yield from batch.to_pylist()


def _spoken_mqa_items(files: list[Path], with_audio: bool, limit: int | None) -> Iterator[MathItem]:
    seen: Counter[str] = Counter()
    columns = ["context_transcript", "instruction", "answer"] + (["context"] if with_audio else [])
    for file in files:
        category = spoken_mqa_category(file)
        for row in _rows(file, columns):
            if limit is not None and seen[category] >= limit:
                break
            item_id = f"{category}-{seen[category]:05d}"
            seen[category] += 1
            instruction = row.get("instruction")
            yield MathItem(
                id=item_id,
                category=category,
                question=_text(row.get("context_transcript"), "context_transcript"),
                answer=_text(row["answer"], "answer"),
                audio=_hf_audio(row["context"]) if with_audio else None,
                instruction=None if instruction is None else _text(instruction, "instruction"),
                normalise_reference=category not in RAW_REFERENCE_CATEGORIES,
            )


def _corpus_items(files: list[Path], split: str | None, with_audio: bool,
                  limit: int | None) -> Iterator[MathItem]:
    seen: Counter[str] = Counter()
    columns = ["id", "split", "category", "question", "answer"] + (["question_audio"] if with_audio else [])
    for file in files:
        for row in _rows(file, columns):
            if split is not None and row.get("split") != split:
                continue
            category = str(row["category"])
            if limit is not None and seen[category] >= limit:
                continue
            seen[category] += 1
            item_id = str(row.get("id") or f"{category}-{seen[category]:05d}")
            yield MathItem(
                id=item_id,
                category=category,
                question=str(row["question"]).strip(),
                answer=str(row["answer"]).strip(),
                audio=_flac(row.get("question_audio"), item_id) if with_audio else None,
            )


def load_math_items(data: str | Path, *, split: str | None = "test", with_audio: bool = False,
                    limit: int | None = None) -> Iterator[MathItem]:
    """Iterate the evaluation items in ``data`` (a Parquet file or a directory), either layout.

    ``split`` filters our corpus rows (None keeps all; Spoken-MQA has no split column, its splits are the
    categories). ``limit`` keeps at most that many items per category, in file order. Audio is decoded
    only when ``with_audio`` is set.
    """
    if limit is not None and (not isinstance(limit, int) or limit < 1):
        raise ValueError(f"limit must be an int >= 1 or None, got {limit!r}")
    files = parquet_files(data)
    if detect_layout(files) == "spoken-mqa":
        return _spoken_mqa_items(files, with_audio, limit)
    return _corpus_items(files, split, with_audio, limit)
