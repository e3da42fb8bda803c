"""Text chunking for streaming synthesis: a short first clause, then whole sentences.

The first audio a user hears decides the perceived latency, so the first chunk is at most a clause of a
few words (Mini-Omni-Reasoner §2: speech starts after the first response tokens, reasoning continues);
later chunks are sentences, which synthesise with natural prosody.
"""

from __future__ import annotations

import re

_SENTENCE_END = re.compile(r"[.!?][\"')\]]*\s+")
_CLAUSE_END = re.compile(r"[,;:]$|^[-\u2013\u2014]$")


def split_sentences(text: str) -> list[str]:
    """Split on ., ! or ? followed by whitespace (decimals like 2.5 stay whole); whitespace is normalised."""
    normalised = " ".join(text.split())
    parts, start = [], 0
    for end in _SENTENCE_END.finditer(normalised):
        parts.append(normalised[start : end.end()])
        start = end.end()
    parts.append(normalised[start:])
    return [part.strip() for part in parts if part.strip()]


def split_for_streaming(text: str, first_max_words: int = 6, min_rest_words: int = 3) -> list[str]:
    """Chunks whose concatenation (joined by spaces) is ``text`` with normalised whitespace.

    The first sentence is cut after its first clause mark (, ; : or a dash) within ``first_max_words``
    words; failing that, after ``first_max_words`` words unless fewer than ``min_rest_words`` would remain
    (so "... is forty two." is not cut before "two"). The first chunk therefore has at most
    ``first_max_words + min_rest_words - 1`` words. Every other chunk is one sentence.
    """
    if isinstance(first_max_words, bool) or not isinstance(first_max_words, int) or first_max_words < 1:
        raise ValueError(f"first_max_words must be an int >= 1, got {first_max_words!r}")
    if isinstance(min_rest_words, bool) or not isinstance(min_rest_words, int) or min_rest_words < 1:
        raise ValueError(f"min_rest_words must be an int >= 1, got {min_rest_words!r}")
    sentences = split_sentences(text)
    if not sentences:
        return []
    words = sentences[0].split()
    cut = next((i + 1 for i, w in enumerate(words[:first_max_words]) if _CLAUSE_END.search(w)), None)
    if cut is None or cut == len(words):
        cut = first_max_words if len(words) - first_max_words >= min_rest_words else len(words)
    head = [" ".join(words[:cut])]
    if cut < len(words):
        head.append(" ".join(words[cut:]))
    return head + sentences[1:]
