"""``thinkspeak data duplex``: generate a sharded pseudo full-duplex corpus and its manifest.

Sharding is the corpus-wide scheme of :mod:`thinkspeak.data.shards`: the ``n`` dialogues are cut into files
of ``rows_per_file`` consecutive indices; job ``i`` of ``N`` makes the files ``k`` with ``k % N == i``; a
file finished with the same settings is skipped (resume), one made with other settings is refused. A
dialogue depends only on (seed, index, options), so files are identical whatever ``N`` and ``workers`` are,
and the shards merge to exactly the unsharded corpus. The manifest is rebuilt from the files' metadata under
a file lock, so the job that finishes last writes the complete one. Dialogues are made in ``workers``
processes, each keeping its TTS engines warm.
"""

from __future__ import annotations

import fcntl
import functools
import multiprocessing
import os
from collections import Counter
from concurrent.futures import Executor, ProcessPoolExecutor
from pathlib import Path
from typing import Any

from tqdm import tqdm

from thinkspeak import __version__
from thinkspeak.data import shards
from thinkspeak.data.duplex.config import ROWS_PER_FILE, DuplexConfig
from thinkspeak.data.duplex.render import SAMPLE_RATE
from thinkspeak.data.duplex.sample import make_sample
from thinkspeak.data.duplex.store import SCHEMA, sample_to_row


def _check_int(name: str, value: object, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")
    return value


def _one_thread() -> None:
    """Worker processes run one native thread each (ONNX Runtime, BLAS) unless OMP_NUM_THREADS says otherwise."""
    os.environ.setdefault("OMP_NUM_THREADS", "1")


def _row(index: int, seed: int, config: DuplexConfig) -> dict[str, Any]:
    return sample_to_row(make_sample(seed, index, config), config)


def _stats(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Per-file counts kept in the file's metadata and summed into the manifest."""
    turns = [t for row in rows for t in row["turns"]]
    return {
        "counts": {
            "dialogues": len(rows),
            "turns": sum(r["n_turns"] for r in rows),
            "barge_ins": sum(r["n_barge_ins"] for r in rows),
            "backchannels": sum(r["n_backchannels"] for r in rows),
            "truncated_assistant_turns": sum(t["truncated"] for t in turns),
            "words_engine": sum(t["words_source"] == "engine" for t in turns),
            "words_estimated": sum(t["words_source"] == "estimated" for t in turns),
        },
        "seconds": sum(r["duration"] for r in rows),
        "user_voices": dict(Counter(r["user_voice"] for r in rows)),
        "noise_kinds": dict(Counter(r["noise_kind"] for r in rows)),
    }


def _build_file(indices: range, seed: int, config: DuplexConfig, executor: Executor | None, bar: tqdm) -> list[dict]:
    make = functools.partial(_row, seed=seed, config=config)
    rows = []
    for row in executor.map(make, indices) if executor is not None else map(make, indices):
        rows.append(row)
        bar.update(1)
    return rows


def manifest(out: Path, *, n: int, seed: int, config: DuplexConfig, n_files: int, rows_per_file: int) -> dict:
    """The manifest rebuilt from every finished file's metadata (``complete`` once all files exist)."""
    stats = [m["stats"] for m in (shards.read_meta(p) for p in shards.dataset_files(out)) if m is not None]
    counts = shards.merge_counts(stats, "counts")
    return {
        "kind": "thinkspeak.duplex",
        "count": counts.pop("dialogues", 0),
        "requested": n,
        "complete": len(stats) == n_files,
        "files": len(stats),
        "shards": n_files,
        "rows_per_file": rows_per_file,
        "seed": seed,
        "sample_rate": SAMPLE_RATE,
        "frame_rate": config.frame_rate,
        "timing": "estimated" if config.no_audio else "audio",
        "voices": {"user": list(config.user_voices), "assistant": config.assistant_voice},
        "user_voice_counts": shards.merge_counts(stats, "user_voices"),
        "noise_kind_counts": shards.merge_counts(stats, "noise_kinds"),
        "options": config.to_dict(),
        "hours": round(sum(s["seconds"] for s in stats) / 3600.0, 4),
        "counts": counts,
        "layout": "data/shard-XXXXX-of-YYYYY.parquet, one row per dialogue (docs/duplex.md)",
        "created_by": f"thinkspeak {__version__} data duplex",
    }


def generate_duplex(
    n: int,
    out: Path,
    *,
    seed: int = 0,
    shard: tuple[int, int] = (0, 1),
    workers: int = 1,
    rows_per_file: int = ROWS_PER_FILE,
    progress: bool = True,
    **options: Any,
) -> dict[str, Any]:
    """Make (or resume) job ``shard = (i, N)``'s files of an ``n``-dialogue corpus in ``out``; return the manifest.

    ``options`` are :class:`DuplexConfig` fields (``turns``, ``gap``, ``pause_mean``, ``pause_std``, ``snr``,
    ``noise_kinds``, ``barge_in_share``, ``backchannel_share``, ``reaction``, ``user_voices``,
    ``assistant_voice``, ``lead_in``, ``tail``, ``frame_rate``, ``no_audio``). The manifest is also written
    to ``out/manifest.json``.
    """
    n = _check_int("n", n, 1)
    seed = _check_int("seed", seed, 0)
    workers = _check_int("workers", workers, 1)
    rows_per_file = _check_int("rows_per_file", rows_per_file, 1)
    if not isinstance(shard, tuple | list) or len(shard) != 2:
        raise ValueError(f"shard must be (i, N) with 0 <= i < N, got {shard!r}")
    job = shards.ShardSpec(*shard)
    config = DuplexConfig.from_options(options)
    if not config.no_audio:
        from thinkspeak.speech.tts import parse_spec

        for spec in (*config.user_voices, config.assistant_voice):
            parse_spec(spec)
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"out must be a directory, got the file {str(out)!r}")
    ranges = shards.file_ranges(n, rows_per_file)
    settings = {"generator": "duplex", "n": n, "seed": seed, "rows_per_file": rows_per_file,
                "config": config.to_dict(), "version": __version__}
    key = shards.fingerprint(settings)
    for path in shards.dataset_files(out):
        shards.is_finished(path, key)  # raises on a file made with other settings: never mix two corpora
    todo = [k for k in shards.files_of_shard(len(ranges), job)
            if not shards.is_finished(shards.file_path(out, k, len(ranges)), key)]
    executor = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_one_thread) if workers > 1 else None
    try:
        with tqdm(total=sum(len(ranges[k]) for k in todo), desc=f"duplex {job}", unit="dialogue",
                  disable=not progress) as bar:
            for k in todo:
                rows = _build_file(ranges[k], seed, config, executor, bar)
                meta = {"fingerprint": key, "options": settings, "file": k, "stats": _stats(rows)}
                shards.write_rows(shards.file_path(out, k, len(ranges)), rows, SCHEMA, meta)
    finally:
        if executor is not None:
            executor.shutdown()
    out.mkdir(parents=True, exist_ok=True)
    with open(out / ".manifest.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        result = manifest(out, n=n, seed=seed, config=config, n_files=len(ranges), rows_per_file=rows_per_file)
        shards.write_json(out / "manifest.json", result)
    return result
