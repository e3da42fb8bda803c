"""A tiny spoken-math corpus in the contract-2 layout (DIR/manifest.json + DIR/data/*.parquet) for tests."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq


def tiny_rows(n: int, seed: int = 0) -> list[dict]:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        a, b = rng.randint(1, 20), rng.randint(1, 20)
        split = "train" if i % 10 < 8 else ("valid" if i % 10 == 8 else "test")
        reasoning = [f"We add {a} and {b}.", f"{a} plus {b} is {a + b}."]
        response = ["Let me add those up.", f"The answer is {a + b}."]
        rows.append({
            "id": f"{seed}-{i:08d}", "index": i, "split": split, "category": "arith_short", "kind": "add",
            "question": f"What is {a} plus {b}?", "question_spoken": f"What is {a} plus {b}?",
            "answer": str(a + b), "reasoning": reasoning, "response": response, "licenses": [-1, 1],
            "journey": False, "tis": "", "think_first": "", "no_think": "",
        })
    return rows


def write_tiny_corpus(root: Path, n: int = 60, seed: int = 0, shards: int = 2) -> Path:
    rows = tiny_rows(n, seed)
    (root / "data").mkdir(parents=True, exist_ok=True)
    per = (len(rows) + shards - 1) // shards
    for k in range(shards):
        part = rows[k * per:(k + 1) * per]
        pq.write_table(pa.Table.from_pylist(part), root / "data" / f"shard-{k:05d}-of-{shards:05d}.parquet")
    splits = {s: sum(r["split"] == s for r in rows) for s in ("train", "valid", "test")}
    (root / "manifest.json").write_text(json.dumps({"count": n, "seed": seed, "splits": splits, "p": 2, "q": 8}))
    return root
