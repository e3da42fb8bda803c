"""Cut the Thinker's spoken-token stream into TTS chunks: a short first chunk, then clause-sized ones.

The first chunk is flushed as soon as ``first_words`` whole words exist (or a clause ends earlier), so speech
starts while the answer is still being decoded; later chunks end at clause/sentence punctuation once they
hold ``min_words``, or at ``max_words``. A word is whole once whitespace follows it, so a chunk never splits a
word the tokenizer delivers in pieces. Joining the chunks with single spaces gives back the whitespace-
normalised text (property-tested).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_WORD = re.compile(r"\S+(?=\s)")
_CLAUSE_END = re.compile(r"[.!?;:,]$")


@dataclass
class SpeechChunker:
    """Incremental chunker: :meth:`push` text pieces, get finished chunks; :meth:`flush` the tail at the end."""

    first_words: int = 3
    min_words: int = 4
    max_words: int = 16
    _buffer: str = field(default="", init=False)
    _emitted: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        if not 1 <= self.first_words <= self.max_words or not 1 <= self.min_words <= self.max_words:
            raise ValueError(
                f"need 1 <= first_words, min_words <= max_words, got first_words={self.first_words}, "
                f"min_words={self.min_words}, max_words={self.max_words}"
            )

    def push(self, text: str) -> list[str]:
        """Add decoded text; return the chunks that are now complete (possibly none)."""
        self._buffer += text
        chunks = []
        while (cut := self._cut()) is not None:
            chunk, self._buffer = self._buffer[:cut].strip(), self._buffer[cut:]
            chunks.append(chunk)
            self._emitted += 1
        return chunks

    def flush(self) -> list[str]:
        """Return what is left as a final chunk (empty list when nothing is left) and reset."""
        rest, self._buffer, self._emitted = self._buffer.strip(), "", 0
        return [rest] if rest else []

    def _cut(self) -> int | None:
        words = list(_WORD.finditer(self._buffer))
        wanted = self.first_words if self._emitted == 0 else self.min_words
        for n, word in enumerate(words, start=1):
            if _CLAUSE_END.search(word.group()) and (n >= wanted or self._emitted == 0):
                return word.end()
            if n >= (self.first_words if self._emitted == 0 else self.max_words):
                return word.end()
        return None
