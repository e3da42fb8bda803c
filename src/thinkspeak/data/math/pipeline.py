"""The spoken-math corpus pipeline (Mini-Omni-Reasoner §3.3, Spoken-Math-Problems-3M built offline):
problems with exact solutions -> reasoning + licensed response -> interleave p:q -> anticipation-drift
check (drop failures) -> optional speech -> sharded Parquet + manifest (contract 2).
"""

from __future__ import annotations

import multiprocessing
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from thinkspeak import __version__
from thinkspeak.data import shards
from thinkspeak.data.math.sample import CORPUS_VERSION, MathConfig, build_sample

TEXT_COLUMNS = (
    ("id", "string"), ("index", "int64"), ("split", "string"), ("category", "string"), ("kind", "string"),
    ("question", "string"), ("question_spoken", "string"), ("answer", "string"), ("reasoning", "list<string>"),
    ("response", "list<string>"), ("licenses", "list<int32>"), ("journey", "bool"), ("tis", "string"),
    ("think_first", "string"), ("no_think", "string"),
)
AUDIO_COLUMNS = tuple(
    (f"{side}_{name}", kind) for side in ("question", "response")
    for name, kind in (("audio", "binary"), ("voice", "string"), ("engine", "string"), ("duration", "float64"),
                       ("words", "string"))
)


def schema(with_audio: bool):
    """The contract 2 Parquet schema (audio columns only with speech)."""
    import pyarrow as pa

    types = {"string": pa.string(), "int64": pa.int64(), "bool": pa.bool_(), "binary": pa.binary(),
             "float64": pa.float64(), "list<string>": pa.list_(pa.string()), "list<int32>": pa.list_(pa.int32())}
    columns = TEXT_COLUMNS + (AUDIO_COLUMNS if with_audio else ())
    return pa.schema([pa.field(name, types[kind]) for name, kind in columns])


@dataclass
class FileResult:
    """Rows kept for one file and its statistics (stored in the file's metadata)."""

    rows: list[dict]
    stats: dict


def build_file(indices: range, seed: int, config: MathConfig, progress=None) -> FileResult:
    """Text rows for ``indices`` (in order), drift failures dropped, and the file's statistics."""
    rows, failures = [], 0
    for index in indices:
        row, verdict = build_sample(seed, index, config)
        if verdict.ok:
            rows.append(row)
        else:
            failures += 1
        if progress is not None:
            progress.update(1)
    stats = {
        "generated": len(indices),
        "rows": len(rows),
        "drift_failures": failures,
        "splits": dict(Counter(r["split"] for r in rows)),
        "categories": dict(Counter(r["category"] for r in rows)),
        "kinds": dict(Counter(r["kind"] for r in rows)),
        "journey": sum(r["journey"] for r in rows),
    }
    return FileResult(rows, stats)


@dataclass(frozen=True)
class FileJob:
    """Everything needed to make file ``k``: picklable, so a worker process can make and write it."""

    out: Path
    k: int
    n_files: int
    indices: range
    seed: int
    config: MathConfig
    meta: dict


def make_file(job: FileJob, synthesizer=None, progress=None) -> int:
    """Build, optionally voice, and atomically write one file; returns its number of samples."""
    result = build_file(job.indices, job.seed, job.config, progress if synthesizer is None else None)
    if synthesizer is not None:  # the bar follows synthesis, the slow part
        result.stats.update(synthesizer.add_audio(result.rows, job.seed))
        if progress is not None:
            progress.update(len(job.indices))
    shards.write_rows(shards.file_path(job.out, job.k, job.n_files), result.rows, schema(synthesizer is not None),
                      {**job.meta, "file": job.k, "stats": result.stats})
    return len(job.indices)


def manifest(out: Path, *, n: int, seed: int, config: MathConfig, n_files: int, audio: dict | None) -> dict:
    """Manifest rebuilt from the metadata of every finished file (complete when all files exist)."""
    metas = [m for m in (shards.read_meta(p) for p in shards.dataset_files(out)) if m is not None]
    stats = [m["stats"] for m in metas]
    generated = sum(s["generated"] for s in stats)
    failures = sum(s["drift_failures"] for s in stats)
    return {
        "count": sum(s["rows"] for s in stats),
        "requested": n,
        "generated": generated,
        "complete": len(metas) == n_files,
        "files": len(metas),
        "n_files": n_files,
        "seed": seed,
        "p": config.p,
        "q": config.q,
        "config": config.to_dict(),
        "dropped": failures,
        "drift_rate_before_filter": failures / generated if generated else 0.0,
        "anticipation_drift_rate": 0.0,
        "splits": shards.merge_counts(stats, "splits"),
        "categories": shards.merge_counts(stats, "categories"),
        "kinds": shards.merge_counts(stats, "kinds"),
        "journey": sum(s["journey"] for s in stats),
        "voices": shards.merge_counts(stats, "voices"),
        "engines": shards.merge_counts(stats, "engines"),
        "held_out_engine": (audio or {}).get("held_out_engine"),
        "audio": audio,
        "shards": n_files,
        "rows_per_file": metas[0]["rows_per_file"] if metas else None,
        "corpus_version": CORPUS_VERSION,
        "created_by": f"thinkspeak {__version__} data math",
    }


def generate_math(n: int, out: Path, *, seed: int = 0, shard: shards.ShardSpec | None = None, workers: int = 1,
                  config: MathConfig | None = None, speech=None, rows_per_file: int = 1000,
                  progress: bool = True) -> dict:
    """Make (or resume) this job's files of the corpus in ``out`` and return the manifest.

    ``speech`` is a :class:`thinkspeak.data.math.speech.SpeechOptions` (None: text only).
    """
    from tqdm import tqdm

    shard = shard or shards.ShardSpec()
    config = config or MathConfig()
    if not isinstance(workers, int) or isinstance(workers, bool) or workers < 1:
        raise ValueError(f"workers must be an int >= 1, got {workers!r}")
    ranges = shards.file_ranges(n, rows_per_file)
    audio = speech.to_dict() if speech is not None else None
    options = {"generator": "math", "n": n, "seed": seed, "rows_per_file": rows_per_file,
               "config": config.to_dict(), "audio": audio, "corpus_version": CORPUS_VERSION}
    key = shards.fingerprint(options)
    out = Path(out)
    todo = [k for k in shards.files_of_shard(len(ranges), shard)
            if not shards.is_finished(shards.file_path(out, k, len(ranges)), key)]
    meta = {"fingerprint": key, "options": options, "rows_per_file": rows_per_file}
    jobs = [FileJob(out, k, len(ranges), ranges[k], seed, config, meta) for k in todo]
    with tqdm(total=sum(len(j.indices) for j in jobs), desc=f"math {shard}", unit="sample",
              disable=not progress) as bar:
        if speech is not None:  # text is cheap next to synthesis, which the pool spreads over the workers
            synthesizer = speech.synthesizer(workers)
            try:
                for job in jobs:
                    make_file(job, synthesizer, bar)
            finally:
                synthesizer.close()
        elif workers > 1 and len(jobs) > 1:  # whole files per worker: only a count crosses processes
            context = multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(min(workers, len(jobs)), mp_context=context) as pool:
                for done in pool.map(make_file, jobs):
                    bar.update(done)
        else:
            for job in jobs:
                make_file(job, None, bar)
    result_manifest = manifest(out, n=n, seed=seed, config=config, n_files=len(ranges), audio=audio)
    shards.write_json(out / "manifest.json", result_manifest)
    return result_manifest
