"""Word timestamps shared by ASR output, TTS output and the corpus' ``*_words`` columns (contract §2)."""

from __future__ import annotations

import json
from dataclasses import dataclass


@dataclass(frozen=True)
class Word:
    """One spoken word and its time span in seconds from the start of the clip."""

    word: str
    start: float
    end: float


def words_to_json(words: list[Word] | None) -> str | None:
    """Serialise as the corpus column format ``[[word, start, end], ...]`` (times rounded to 1 ms)."""
    if words is None:
        return None
    return json.dumps([[w.word, round(w.start, 3), round(w.end, 3)] for w in words])


def words_from_json(text: str | None) -> list[Word] | None:
    """Inverse of :func:`words_to_json`."""
    if text is None:
        return None
    try:
        rows = json.loads(text)
        return [Word(str(word), float(start), float(end)) for word, start, end in rows]
    except (ValueError, TypeError) as error:
        raise ValueError(f"text must be JSON [[word, start, end], ...], got {text[:80]!r}") from error
