"""Pseudo full-duplex dialogues (OmniFlatten §4.1; ground truth for SyncLLM and Full-Duplex-Bench metrics).

Spoken-math tutoring dialogues (:mod:`thinkspeak.data.dialogues`) are voiced turn by turn, staged on two
channels (user, assistant) with normally distributed pauses, user barge-ins and backchannels
(:mod:`.timeline`), mixed with user-channel noise at 15-25 dB SNR (:mod:`.render`) and written as Parquet
rows with per-channel ground truth (:mod:`.store`), sharded like every thinkspeak corpus
(:mod:`thinkspeak.data.shards`). See docs/duplex.md.

Only :mod:`.config` is imported eagerly (standard library only) so a CLI can add the options cheaply; the
generator and readers load numpy, pyarrow and the speech engines on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

from thinkspeak.data.duplex.config import DuplexConfig, add_duplex_arguments, options_from_args

_LAZY = {"generate_duplex": "generate", "make_sample": "sample", "dialogue_audio": "store"}

__all__ = ["DuplexConfig", "add_duplex_arguments", "options_from_args", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
