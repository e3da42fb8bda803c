"""Sharded, resumable, deterministic Parquet datasets (DESIGN.md "Scale: data").

* A dataset of ``n`` samples is cut into files of ``rows_per_file`` consecutive indices,
  ``data/shard-00003-of-00010.parquet``; a job ``--shard i/N`` makes the files ``k`` with ``k % N == i``,
  so any job runner (Slurm array, k8s Jobs, Ray) spreads the work and the files merge, in file order, to
  exactly the unsharded dataset.
* Sample ``i`` depends only on ``(seed, i)`` through :func:`sample_rng`, never on the shard, the worker
  count or what ran before.
* Each file is written atomically (temporary name, then rename) with its statistics and the job's
  *fingerprint* (generator, n, seed, options) in the Parquet key-value metadata; a rerun skips files that
  are finished with the same fingerprint (resume) and refuses to mix files made with other options.
* The manifest is rebuilt from the files' metadata, so whichever job finishes last writes the complete one.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

META_KEY = b"thinkspeak"
DATA_DIR = "data"


@dataclass(frozen=True)
class ShardSpec:
    """Job ``index`` of ``count`` (``--shard index/count``)."""

    index: int = 0
    count: int = 1

    def __post_init__(self) -> None:
        if not isinstance(self.count, int) or self.count < 1 or not isinstance(self.index, int) \
                or not 0 <= self.index < self.count:
            raise ValueError(f"shard must be i/N with N >= 1 and 0 <= i < N, got {self.index!r}/{self.count!r}")

    @classmethod
    def parse(cls, text: str) -> ShardSpec:
        """``'2/8' -> ShardSpec(2, 8)``."""
        parts = str(text).split("/")
        if len(parts) != 2 or not all(p.strip().isdigit() for p in parts):
            raise ValueError(f"shard must look like i/N (for example 0/4), got {text!r}")
        return cls(int(parts[0]), int(parts[1]))

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def sample_rng(seed: int, index: int, stream: str = "") -> random.Random:
    """The random generator of sample ``index``: a function of ``(seed, index, stream)`` only, stable across
    processes, machines and Python hash seeds (string seeds go through SHA-512)."""
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be an int >= 0, got {seed!r}")
    if not isinstance(index, int) or index < 0:
        raise ValueError(f"index must be an int >= 0, got {index!r}")
    return random.Random(f"thinkspeak:{stream}:{seed}:{index}")


def stable_split(key: str, valid_share: float, test_share: float) -> str:
    """'train', 'valid' or 'test' from a SHA-256 of ``key``: the same question always lands in the same
    split, whatever its index, so a duplicate cannot leak from train into test."""
    bucket = int.from_bytes(hashlib.sha256(key.strip().lower().encode()).digest()[:8], "big") / 2**64
    if bucket < test_share:
        return "test"
    if bucket < test_share + valid_share:
        return "valid"
    return "train"


def file_ranges(n: int, rows_per_file: int) -> list[range]:
    """Index ranges of the dataset's files."""
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ValueError(f"n must be an int >= 1, got {n!r}")
    if not isinstance(rows_per_file, int) or rows_per_file < 1:
        raise ValueError(f"rows_per_file must be an int >= 1, got {rows_per_file!r}")
    return [range(start, min(start + rows_per_file, n)) for start in range(0, n, rows_per_file)]


def files_of_shard(n_files: int, shard: ShardSpec) -> list[int]:
    """The file numbers job ``shard`` makes (round robin, so jobs get similar work)."""
    return [k for k in range(n_files) if k % shard.count == shard.index]


def file_path(out: Path, k: int, n_files: int) -> Path:
    return Path(out) / DATA_DIR / f"shard-{k:05d}-of-{n_files:05d}.parquet"


def fingerprint(options: dict) -> str:
    """A short hash of everything that determines the files' content."""
    return hashlib.sha256(json.dumps(options, sort_keys=True).encode()).hexdigest()[:16]


def read_meta(path: Path) -> dict | None:
    """The thinkspeak metadata of a finished file, or None if it is missing or unreadable."""
    import pyarrow.parquet as pq

    try:
        meta = pq.read_schema(path).metadata or {}
    except (OSError, ValueError):
        return None
    raw = meta.get(META_KEY)
    return json.loads(raw) if raw else None


def is_finished(path: Path, expected: str) -> bool:
    """Whether ``path`` is a finished file of the job with fingerprint ``expected``.

    A finished file of another job raises: mixing options in one directory would corrupt the dataset.
    """
    meta = read_meta(path) if Path(path).exists() else None
    if meta is None:
        return False
    if meta.get("fingerprint") != expected:
        raise ValueError(f"out already holds {path.name} made with other options (fingerprint "
                         f"{meta.get('fingerprint')}, expected {expected}); use a new directory or the same options")
    return True


def write_rows(path: Path, rows: list[dict], schema, meta: dict) -> None:
    """Write rows as one Parquet file, atomically, with ``meta`` (JSON) in the schema metadata."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path.parent.mkdir(parents=True, exist_ok=True)
    schema = schema.with_metadata({META_KEY: json.dumps(meta, sort_keys=True).encode()})
    table = pa.Table.from_pylist(rows, schema=schema)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    pq.write_table(table, tmp, compression="zstd")
    os.replace(tmp, path)


def dataset_files(out: Path) -> list[Path]:
    """The dataset's files in order."""
    return sorted((Path(out) / DATA_DIR).glob("shard-*-of-*.parquet"))


def read_table(out: Path, columns: list[str] | None = None):
    """All rows of a dataset directory as one ``pyarrow.Table``, in index order."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    files = dataset_files(out)
    if not files:
        raise ValueError(f"out must be a dataset directory with {DATA_DIR}/shard-*.parquet files, got {out}")
    return pa.concat_tables([pq.read_table(f, columns=columns).replace_schema_metadata(None) for f in files])


def iter_rows(out: Path, columns: list[str] | None = None) -> Iterator[dict]:
    """Rows of a dataset directory as dicts, file by file (low memory)."""
    import pyarrow.parquet as pq

    for f in dataset_files(out):
        yield from pq.read_table(f, columns=columns).to_pylist()


def merge_counts(metas: Iterable[dict], key: str) -> dict[str, int]:
    """Sum the per-file counters ``meta[key]`` (e.g. splits, categories)."""
    total: Counter[str] = Counter()
    for meta in metas:
        total.update(meta.get(key, {}))
    return dict(sorted(total.items()))


def write_json(path: Path, obj: dict) -> None:
    """Write JSON atomically (concurrent shard jobs may race to write the manifest)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(obj, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, path)
