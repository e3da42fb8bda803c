"""``thinkspeak data duplex-seq``: training sequences of the full-duplex Thinker from a duplex corpus.

Per dialogue of a ``data duplex`` corpus (SyncLLM §3, OmniFlatten §3.3, Mini-Omni-Reasoner §3):

* the user channel (noisy, 16 kHz) becomes speech units with the unit model (:mod:`thinkspeak.units`), one
  per 40 ms, padded to whole 160 ms chunks by repeating the last unit;
* every assistant turn becomes a :class:`~thinkspeak.layouts.duplex.SpokenTurn`: its spoken words (token ids,
  start times: say tokens) and its written text with digits as the think stream. The corpus's dialogues
  carry no separate reasoning trace, so the think stream is the turn's written form -- the arithmetic its
  spoken words read out, which leads the speech (4 think slots a chunk to 2 say slots, and digits are shorter than number words);
* the chunked sequence of :mod:`thinkspeak.layouts.duplex` (``--layout syncllm|omniflatten``) with each
  position's role (the loss mask), and a turn-based sequence for stage 1 (SyncLLM §3 stage 1): per exchange
  ``<|user|> dedup(units of the user turn) <|assistant|> <|tis|>`` then the 2:8 interleave of say and think
  and ``<|end|>``;
* the ground-truth floor events (:mod:`.events`), kept for evaluation.

Sharding and resume are the corpus-wide scheme of :mod:`thinkspeak.data.shards`: file ``k`` of the output is
made from file ``k`` of the input, job ``i`` of ``N`` makes the files with ``k % N == i``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from thinkspeak import __version__
from thinkspeak.data import shards
from thinkspeak.data.duplex.events import floor_events
from thinkspeak.layouts import duplex as layout
from thinkspeak.layouts.interleave import interleave, slot_channel
from thinkspeak.layouts.syncllm import dedup

SCHEMA = pa.schema([
    ("id", pa.string()), ("split", pa.string()), ("duration", pa.float64()), ("n_chunks", pa.int32()),
    ("user_voice", pa.string()), ("units", pa.list_(pa.int16())), ("tokens", pa.list_(pa.int32())),
    ("roles", pa.list_(pa.int8())), ("chunk_starts", pa.list_(pa.int32())), ("turn_tokens", pa.list_(pa.int32())),
    ("turn_roles", pa.list_(pa.int8())), ("events", pa.string()), ("turns", pa.string()),
    ("n_barge_ins", pa.int32()), ("n_backchannels", pa.int32()),
])
VALID_SHARE = 0.05
COLUMNS = ["id", "duration", "user_audio", "user_voice", "turns", "n_barge_ins", "n_backchannels"]


def spoken_turns(turns: Sequence[dict[str, Any]], text_ids: Callable[[str], list[int]]) -> list[layout.SpokenTurn]:
    """The assistant turns of a row: say = each word's tokens at its start time, think = the written text."""
    out = []
    for t in turns:
        if t["role"] != "assistant" or not t["words"]:
            continue
        words = tuple((tuple(text_ids(("" if j == 0 else " ") + w["word"])), w["start"])
                      for j, w in enumerate(t["words"]))
        out.append(layout.SpokenTurn(words, tuple(text_ids(t["text"])), t["start"], t["end"], t["truncated"]))
    return out


def padded_units(units: np.ndarray, n_chunks: int, chunk_units: int) -> list[int]:
    """``units`` cut or padded (repeating the last unit) to ``n_chunks * chunk_units``."""
    n = n_chunks * chunk_units
    units = [int(u) for u in units[:n]]
    if not units:
        raise ValueError("the user channel holds no unit (shorter than one unit frame)")
    return units + [units[-1]] * (n - len(units))


def turn_based(turns: Sequence[dict[str, Any]], units: Sequence[int], rate_hz: float, vocab, ids,
               text_ids: Callable[[str], list[int]], p: int = 2, q: int = 8) -> tuple[list[int], list[int]]:
    """Stage-1 sequence (turn by turn, no clock): user units of each turn then the assistant's 2:8 stream."""
    users = [t for t in turns if t["role"] == "user" and t["kind"] != "backchannel"]
    replies = [t for t in turns if t["role"] == "assistant"]
    tokens: list[int] = []
    roles: list[int] = []
    for user, reply in zip(sorted(users, key=lambda t: t["start"]), sorted(replies, key=lambda t: t["start"]),
                           strict=False):
        heard = dedup(units[int(user["start"] * rate_hz):max(int(user["start"] * rate_hz) + 1,
                                                              int(np.ceil(user["end"] * rate_hz)))])
        say = text_ids(" ".join(w["word"] for w in reply["words"])) if reply["words"] else []
        stream = interleave(say, text_ids(reply["text"]), say_pad=ids.say_pad, think_pad=ids.think_pad,
                            end=ids.end, p=p, q=q)
        tokens += [ids.user, *[vocab.unit(u) for u in heard], ids.assistant, ids.tis, *stream]
        roles += [layout.USER_TAG, *[layout.USER] * len(heard), layout.USER_TAG, layout.USER_TAG,
                  *[layout.SAY if slot_channel(i, p, q) == "say" else layout.THINK for i in range(len(stream))]]
    return tokens, roles


def sequence_row(row: dict[str, Any], units: np.ndarray, model, clock: layout.ClockConfig) -> dict[str, Any]:
    """One output row from a corpus row and the units of its user channel (``model``: a DuplexModel-like
    object with ``units``, ``markers``, ``ids`` and ``text_ids``)."""
    n_chunks = clock.n_chunks(row["duration"])
    raw = padded_units(units, n_chunks, clock.chunk_units)
    turns = row["turns"]
    assistant = layout.assistant_chunks(spoken_turns(turns, model.text_ids), n_chunks, clock, model.markers)
    tokens, roles, starts = layout.sequence([model.units.unit(u) for u in raw], assistant, clock, model.markers)
    turn_tokens, turn_roles = turn_based(turns, raw, clock.unit_rate_hz, model.units, model.ids, model.text_ids)
    events = floor_events(turns, row["duration"])
    return {
        "id": row["id"], "split": shards.stable_split(row["id"], VALID_SHARE, 0.0), "duration": row["duration"],
        "n_chunks": n_chunks, "user_voice": row["user_voice"], "units": raw, "tokens": tokens, "roles": roles,
        "chunk_starts": starts, "turn_tokens": turn_tokens, "turn_roles": turn_roles,
        "events": json.dumps([e.to_dict() for e in events]),
        "turns": json.dumps([{k: t[k] for k in ("role", "kind", "start", "end", "truncated", "text", "words")}
                             for t in turns]),
        "n_barge_ins": row["n_barge_ins"], "n_backchannels": row["n_backchannels"],
    }


def user_units(row: dict[str, Any], unit_model) -> np.ndarray:
    """The unit model's units of a row's user channel."""
    from thinkspeak.audio import decode_audio

    if row.get("user_audio") is None:
        raise ValueError(f"row {row['id']!r} has no audio: make the corpus without --no-audio")
    pcm, sr = decode_audio(row["user_audio"])
    return unit_model.encode(pcm, sr)


def generate_sequences(data: str | Path, out: str | Path, model, unit_model, *, clock: layout.ClockConfig,
                       shard: tuple[int, int] = (0, 1), progress: bool = True) -> dict[str, Any]:
    """Make (or resume) job ``shard``'s files of the sequence corpus of ``data`` in ``out``; return the manifest."""
    import pyarrow.parquet as pq
    from tqdm import tqdm

    data, out = Path(data), Path(out)
    inputs = shards.dataset_files(data)
    if not inputs:
        raise ValueError(f"data must be a `thinkspeak data duplex` directory with data/shard-*.parquet, got {str(data)!r}")
    job = shards.ShardSpec(*shard)
    settings = {"generator": "duplex-seq", "clock": clock.to_dict(), "n_units": unit_model.n_units,
                "unit_digest": unit_model.digest, "text_size": model.units.text_size, "version": __version__,
                "inputs": [p.name for p in inputs]}
    key = shards.fingerprint(settings)
    todo = [k for k in shards.files_of_shard(len(inputs), job)
            if not shards.is_finished(shards.file_path(out, k, len(inputs)), key)]
    for k in tqdm(todo, desc=f"duplex-seq {job}", disable=not progress):
        rows = [sequence_row(r, user_units(r, unit_model), model, clock)
                for r in pq.read_table(inputs[k], columns=COLUMNS).to_pylist()]
        stats = {"dialogues": len(rows), "chunks": sum(r["n_chunks"] for r in rows),
                 "tokens": sum(len(r["tokens"]) for r in rows), "seconds": sum(r["duration"] for r in rows),
                 "valid": sum(r["split"] == "valid" for r in rows)}
        shards.write_rows(shards.file_path(out, k, len(inputs)), rows, SCHEMA,
                          {"fingerprint": key, "options": settings, "file": k, "stats": stats})
    metas = [m for m in (shards.read_meta(p) for p in shards.dataset_files(out)) if m is not None]
    manifest = {"kind": "thinkspeak.duplex-seq", "complete": len(metas) == len(inputs), "files": len(metas),
                "source": str(data), **{k: v for k, v in settings.items() if k != "inputs"},
                "counts": {name: sum(m["stats"][name] for m in metas)
                           for name in ("dialogues", "chunks", "tokens", "valid")},
                "hours": round(sum(m["stats"]["seconds"] for m in metas) / 3600, 3),
                "created_by": f"thinkspeak {__version__} data duplex-seq"}
    shards.write_json(out / "manifest.json", manifest)
    return manifest
