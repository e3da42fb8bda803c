"""Text as the token Talker reads it: lower-case ASCII words, numbers and symbols spelled out.

The Talker's text tokens are characters (:data:`CHARSET`), so any Thinker's tokenizer can feed it. Digits
and math symbols become words (:func:`thinkspeak.text.numbers.spoken_form`), accents are folded (NFKD), and
whatever is still outside the character set is dropped; a text with nothing speakable left gives no words.
"""

from __future__ import annotations

import re
import unicodedata

from thinkspeak.text.numbers import spoken_form

LETTERS = "abcdefghijklmnopqrstuvwxyz"
PUNCTUATION = "'-.,?!:;"
CHARSET = LETTERS + PUNCTUATION
_DROP = re.compile(f"[^{re.escape(CHARSET)}\\s]")


def speakable_words(text: str) -> list[str]:
    """The words of ``text`` in :data:`CHARSET` (numbers spelled out); words made only of punctuation merge
    into the word before them (or are dropped at the start)."""
    if not isinstance(text, str):
        raise ValueError(f"text must be a str, got {type(text).__name__}")
    folded = unicodedata.normalize("NFKD", spoken_form(text)).encode("ascii", "ignore").decode()
    words: list[str] = []
    for raw in _DROP.sub(" ", folded.lower().replace("&", " and ")).split():
        if any(c in LETTERS for c in raw):
            words.append(raw)
        elif words:
            words[-1] += raw
    return words
