"""Tiny full-duplex models and sequence corpora built by the tests (random unit ids: layout tests only)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "model"))
from thinker_fixtures import tiny_thinker  # noqa: E402

from thinkspeak.data import shards  # noqa: E402
from thinkspeak.data.duplex.config import DuplexConfig  # noqa: E402
from thinkspeak.data.duplex.sample import make_sample  # noqa: E402
from thinkspeak.data.duplex.sequences import SCHEMA, sequence_row  # noqa: E402
from thinkspeak.data.duplex.store import sample_to_row  # noqa: E402
from thinkspeak.layouts.duplex import ClockConfig  # noqa: E402
from thinkspeak.model.duplex import DuplexModel  # noqa: E402

N_UNITS = 24
DIGEST = "ab" * 32


def tiny_duplex(layout: str = "syncllm", n_units: int = N_UNITS, digest: str = DIGEST) -> DuplexModel:
    return DuplexModel.from_thinker(tiny_thinker(), n_units, digest, ClockConfig(layout=layout), max_positions=1024)


def corpus_rows(n: int, seed: int = 3, **options) -> list[dict]:
    """Timeline-only dialogues of the duplex generator (text-estimated timing) as corpus rows."""
    config = DuplexConfig(**{"no_audio": True, "turns": (2, 3), "pause_share": 0.5, "barge_in_share": 0.5,
                             "backchannel_share": 0.5, **options})
    return [sample_to_row(make_sample(seed, i, config), config) for i in range(n)]


def random_units(row: dict, n_units: int = N_UNITS, seed: int = 0) -> np.ndarray:
    """Arbitrary unit ids for a row's user channel (one per 40 ms): the layout does not care what they mean."""
    rng = np.random.default_rng(seed)
    return rng.integers(0, n_units, int(row["duration"] * 25))


def write_seq_corpus(out: Path, model: DuplexModel, rows: list[dict]) -> Path:
    """A one-file `data duplex-seq` corpus of ``rows`` with random units; every third dialogue in 'valid'."""
    seq = [sequence_row(r, random_units(r, model.units.n_units, k), model, model.clock) for k, r in enumerate(rows)]
    for k, r in enumerate(seq):
        r["split"] = "valid" if k % 3 == 2 else "train"
    shards.write_rows(shards.file_path(out, 0, 1), seq, SCHEMA, {"fingerprint": "test", "stats": {}})
    manifest = {"kind": "thinkspeak.duplex-seq", "n_units": model.units.n_units, "unit_digest": model.units.unit_digest,
                "text_size": model.units.text_size, "clock": model.clock.to_dict()}
    (out / "manifest.json").write_text(json.dumps(manifest))
    return out
