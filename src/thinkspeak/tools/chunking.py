"""Split text and Markdown into passages for retrieval (CleanS2S's RAG chunks pages before embedding them).

Markdown headings start a new section and stay with its passages as context ("Spiders > Legs: ..."); blank
lines separate paragraphs; paragraphs are packed into passages of at most ``max_words`` words, and a longer
paragraph is cut on sentence ends (or words) with ``overlap`` words repeated between neighbours.
"""

from __future__ import annotations

import re

_HEADING = re.compile(r"^(#{1,6})\s+(.*\S)\s*#*\s*$")
_SENTENCE = re.compile(r"(?<=[.!?])\s+")


def _check(max_words: int, overlap: int) -> None:
    if not isinstance(max_words, int) or max_words < 8:
        raise ValueError(f"max_words must be an int >= 8, got {max_words!r}")
    if not isinstance(overlap, int) or not 0 <= overlap < max_words // 2:
        raise ValueError(f"overlap must be an int in [0, max_words/2), got {overlap!r}")


def _split_long(words: list[str], max_words: int, overlap: int) -> list[list[str]]:
    out, start = [], 0
    while start < len(words):
        out.append(words[start:start + max_words])
        if start + max_words >= len(words):
            break
        start += max_words - overlap
    return out


def _paragraph_pieces(paragraph: str, max_words: int, overlap: int) -> list[str]:
    pieces: list[list[str]] = [[]]
    for sentence in _SENTENCE.split(paragraph):
        words = sentence.split()
        if len(words) > max_words:
            pieces += _split_long(words, max_words, overlap) + [[]]
        elif len(pieces[-1]) + len(words) > max_words:
            pieces.append(words)
        else:
            pieces[-1] += words
    return [" ".join(p) for p in pieces if p]


def chunk_text(text: str, *, max_words: int = 120, overlap: int = 20, markdown: bool = True) -> list[str]:
    """Passages of ``text`` (headings as a ``"A > B: "`` prefix when ``markdown``)."""
    if not isinstance(text, str):
        raise ValueError(f"text must be a str, got {type(text).__name__}")
    _check(max_words, overlap)
    passages: list[str] = []
    headings: list[str] = []
    paragraphs: list[str] = []

    def flush() -> None:
        prefix = " > ".join(headings) + ": " if headings else ""
        block: list[str] = []
        for paragraph in paragraphs:
            for piece in _paragraph_pieces(paragraph, max_words, overlap):
                if block and len(" ".join(block).split()) + len(piece.split()) > max_words:
                    passages.append(prefix + " ".join(block))
                    block = []
                block.append(piece)
        if block:
            passages.append(prefix + " ".join(block))
        paragraphs.clear()

    current: list[str] = []
    for line in text.splitlines():
        heading = _HEADING.match(line) if markdown else None
        if heading or not line.strip():
            if current:
                paragraphs.append(" ".join(current))
                current = []
            if heading:
                flush()
                level = len(heading.group(1))
                headings[level - 1:] = [heading.group(2)]
            continue
        current.append(line.strip())
    if current:
        paragraphs.append(" ".join(current))
    flush()
    return passages
