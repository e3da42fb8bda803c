"""Parquet files in the two layouts the math harness reads, written by the tests."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import soundfile


def tone(seconds: float, rate: int, hz: float) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (0.3 * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def audio_file(x: np.ndarray, rate: int, fmt: str) -> bytes:
    buffer = io.BytesIO()
    soundfile.write(buffer, x, rate, format=fmt, subtype="PCM_16")
    return buffer.getvalue()


def dominant_hz(x: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(x))
    return float(np.fft.rfftfreq(len(x), 1 / rate)[spectrum.argmax()])


def write_spoken_mqa(root: Path, category: str, rows: list[tuple[str, str]], rate: int, fmt: str) -> Path:
    """One HF-style split file: audio as {"bytes", "path"}, instruction/answer as {"text"} structs."""
    path = root / "data" / f"{category}-00000-of-00001.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    audio_type = pa.struct([("bytes", pa.binary()), ("path", pa.string())])
    text_type = pa.struct([("text", pa.string())])
    table = pa.table({
        "context": pa.array([{"bytes": audio_file(tone(0.5 + 0.25 * i, rate, 440.0 * (i + 1)), rate, fmt),
                              "path": f"{category}_{i}.{fmt.lower()}"} for i in range(len(rows))], audio_type),
        "context_transcript": [question for question, _ in rows],
        "instruction": pa.array([{"text": "Solve it and end with 'The answer is'."}] * len(rows), text_type),
        "answer": pa.array([{"text": answer} for _, answer in rows], text_type),
    })
    pq.write_table(table, path)
    return path


SHORT = [("What is 12 plus 30?", "42"), ("What is 7 minus 10?", "-3"), ("What is 1.5 times 2?", "3")]
MULTI = [("Tom has 3 bags of 4 apples and eats 2. How many are left?", "10"),
         ("A pie is cut in 4 and 3 slices are eaten. What fraction is eaten?", "3/4")]


def write_corpus(root: Path) -> None:
    """A contract-2 corpus directory: manifest + one shard with train and test rows."""
    rows = []
    for index, (split, category, question, answer) in enumerate([
        ("train", "arith_short", "What is 2 plus 2?", "4"),
        ("test", "arith_short", "What is 9 times 9?", "81"),
        ("test", "arith_short", "What is 5 minus 8?", "-3"),
        ("test", "multi_step", "Ann has 3 boxes of 5 pens. How many pens?", "15"),
    ]):
        rows.append({"id": f"7-{index:08d}", "index": index, "split": split, "category": category,
                     "kind": "template", "question": question, "question_spoken": question.lower(),
                     "answer": answer, "question_audio": audio_file(tone(0.25, 16000, 500.0), 16000, "FLAC")})
    (root / "data").mkdir(parents=True)
    pq.write_table(pa.Table.from_pylist(rows), root / "data" / "shard-00000-of-00001.parquet")
    (root / "manifest.json").write_text(json.dumps({"count": len(rows), "seed": 7}))
