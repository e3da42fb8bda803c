"""Word timings for engines that give none, estimated from Whisper's word timestamps.

The text's words are matched to the recognised words (case and punctuation ignored, difflib alignment).
Matched words take the recognised times; a run of text words that was heard differently (e.g. "42" heard
as "forty two") shares the times of the recognised words in its place, split in proportion to word length;
text words with no recognised counterpart get a zero-length span at the preceding word's end. Use it only
where an approximation is acceptable: it is an estimate, unlike festival's own timings.
"""

from __future__ import annotations

import difflib
import re

import numpy as np

from thinkspeak.audio.resample import resample
from thinkspeak.speech.asr import Transcriber
from thinkspeak.speech.words import Word

_NON_WORD = re.compile(r"[^\w']+")


def _norm(word: str) -> str:
    return _NON_WORD.sub("", word.lower())


def _spread(words: list[str], start: float, end: float) -> list[Word]:
    weights = [max(len(w), 1) for w in words]
    total, cursor, out = sum(weights), start, []
    for word, weight in zip(words, weights, strict=True):
        step = (end - start) * weight / total
        out.append(Word(word, cursor, cursor + step))
        cursor += step
    return out


def align_words(pcm: np.ndarray, text: str, asr: Transcriber, sample_rate: int = 16000) -> list[Word]:
    """One :class:`Word` per whitespace token of ``text``, timed from ``asr.transcribe(pcm)``'s words."""
    tokens = text.split()
    if not tokens:
        raise ValueError(f"text must contain words, got {text!r}")
    audio = resample(pcm, sample_rate, asr.sample_rate)
    heard: list[Word] = list(asr.transcribe(audio).words)
    matcher = difflib.SequenceMatcher(
        a=[_norm(t) for t in tokens], b=[_norm(w.word) for w in heard], autojunk=False
    )
    out: list[Word] = []
    for op, a0, a1, b0, b1 in matcher.get_opcodes():
        if op == "equal":
            out += [Word(tokens[a0 + k], heard[b0 + k].start, heard[b0 + k].end) for k in range(a1 - a0)]
        elif op == "replace":
            out += _spread(tokens[a0:a1], heard[b0].start, heard[b1 - 1].end)
        elif op == "delete":
            at = out[-1].end if out else (heard[b0].start if b0 < len(heard) else 0.0)
            out += [Word(token, at, at) for token in tokens[a0:a1]]
    return out
