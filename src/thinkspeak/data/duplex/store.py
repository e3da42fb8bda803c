"""The on-disk form of the duplex corpus: one Parquet row per dialogue (schema in docs/duplex.md).

Files and their reading are the corpus-wide :mod:`thinkspeak.data.shards` (``shards.read_table(out)``).

Audio is two mono 16 kHz FLAC columns, ``user_audio`` (channel 0, with noise) and ``assistant_audio``
(channel 1), so :func:`thinkspeak.audio.decode_audio` reads each; :func:`dialogue_audio` stacks them into a
``[2, samples]`` array. Ground truth per channel: speech segments, the turn list with word times, and
speech-activity frames at ``frame_rate`` Hz.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from thinkspeak.audio import decode_audio, encode_flac
from thinkspeak.data.duplex.config import DuplexConfig
from thinkspeak.data.duplex.render import SAMPLE_RATE
from thinkspeak.data.duplex.sample import DuplexSample
from thinkspeak.data.duplex.timeline import activity_frames

WORD = pa.struct([("word", pa.string()), ("start", pa.float64()), ("end", pa.float64())])
TURN = pa.struct([
    ("role", pa.string()), ("kind", pa.string()), ("text", pa.string()), ("spoken", pa.string()),
    ("answer", pa.string()), ("start", pa.float64()), ("end", pa.float64()), ("truncated", pa.bool_()),
    ("heard", pa.string()), ("words_source", pa.string()), ("words", pa.list_(WORD)),
])
SEGMENTS = pa.list_(pa.list_(pa.float64(), 2))
SCHEMA = pa.schema([
    ("id", pa.string()), ("index", pa.int64()), ("timing", pa.string()), ("duration", pa.float64()),
    ("sample_rate", pa.int32()), ("user_audio", pa.binary()), ("assistant_audio", pa.binary()),
    ("user_voice", pa.string()), ("assistant_voice", pa.string()), ("snr_db", pa.float64()),
    ("noise_kind", pa.string()), ("user_level_dbfs", pa.float64()),
    ("n_turns", pa.int32()), ("n_barge_ins", pa.int32()), ("n_backchannels", pa.int32()),
    ("turns", pa.list_(TURN)), ("user_segments", SEGMENTS), ("assistant_segments", SEGMENTS),
    ("frame_rate", pa.float64()), ("user_frames", pa.list_(pa.int8())), ("assistant_frames", pa.list_(pa.int8())),
])


def _r(x: float) -> float:
    """Times are stored to the microsecond so rows compare exactly across runs and machines."""
    return round(float(x), 6)


def sample_to_row(sample: DuplexSample, config: DuplexConfig) -> dict[str, Any]:
    """One Parquet row (a dict matching :data:`SCHEMA`) for ``sample``."""
    tl, audio = sample.timeline, sample.audio
    segments = {role: [[_r(a), _r(b)] for a, b in tl.segments(role)] for role in ("user", "assistant")}
    turns = [
        {"role": t.role, "kind": t.kind, "text": t.text, "spoken": t.spoken, "answer": t.answer,
         "start": _r(t.start), "end": _r(t.end), "truncated": t.truncated, "heard": t.heard,
         "words_source": t.words_source,
         "words": [{"word": w.word, "start": _r(w.start), "end": _r(w.end)} for w in t.words]}
        for t in tl.turns
    ]
    return {
        "id": sample.id, "index": sample.index, "timing": "estimated" if audio is None else "audio",
        "duration": _r(tl.duration), "sample_rate": SAMPLE_RATE,
        "user_audio": None if audio is None else encode_flac(audio.user, SAMPLE_RATE),
        "assistant_audio": None if audio is None else encode_flac(audio.assistant, SAMPLE_RATE),
        "user_voice": sample.plan.user_voice, "assistant_voice": sample.plan.assistant_voice,
        "snr_db": sample.plan.snr_db, "noise_kind": sample.plan.noise_kind,
        "user_level_dbfs": sample.plan.user_level_dbfs,
        "n_turns": tl.count("turn") + tl.count("barge_in"), "n_barge_ins": tl.count("barge_in"),
        "n_backchannels": tl.count("backchannel"), "turns": turns,
        "user_segments": segments["user"], "assistant_segments": segments["assistant"],
        "frame_rate": config.frame_rate,
        "user_frames": activity_frames(tl.segments("user"), tl.duration, config.frame_rate),
        "assistant_frames": activity_frames(tl.segments("assistant"), tl.duration, config.frame_rate),
    }


def dialogue_audio(row: dict[str, Any]) -> np.ndarray:
    """The two channels of a row as float32 ``[2, samples]``: 0 = user (noisy), 1 = assistant."""
    if row.get("user_audio") is None:
        raise ValueError(f"row {row.get('id')!r} has no audio (the corpus was made with no_audio)")
    (user, sr_u), (assistant, sr_a) = decode_audio(row["user_audio"]), decode_audio(row["assistant_audio"])
    if sr_u != sr_a or len(user) != len(assistant):
        raise ValueError(f"row {row.get('id')!r} has mismatched channels: {sr_u}/{len(user)} vs {sr_a}/{len(assistant)}")
    return np.stack([user, assistant])
