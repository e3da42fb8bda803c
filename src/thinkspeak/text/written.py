"""Numbers and arithmetic in ASR transcripts, written the way the corpus writes them (issue 12).

Whisper writes what it hears the way a newspaper would: "So, 924,929-756,361." The corpus's typed questions
(and so every local Thinker trained on them) write "924929 minus 756361": digits without thousands separators
and the operation as a word. :func:`corpus_numbers` rewrites the first form into the second -- digit-group
commas dropped, ``+ - x * × / ÷ =`` between two numbers spoken as ``plus minus times divided by equals`` -- and
leaves every other character as it was. The server applies it to what a local Thinker reads
(:class:`thinkspeak.serve.thinkers.local.LocalThinker`); endpoints (OpenAI-compatible) read the text as heard.
"""

from __future__ import annotations

import re

_GROUPED = re.compile(r"(?<![\d,.])\d{1,3}(?:,\d{3})+(?![\d]|,\d)")
_OPERATOR = re.compile(r"(?<=\d)\s*([-+×x*/÷=])\s*(?=\d)")
_WORDS = {"+": "plus", "-": "minus", "×": "times", "x": "times", "*": "times", "/": "divided by",
          "÷": "divided by", "=": "equals"}


def corpus_numbers(text: str) -> str:
    """``text`` with grouped digits joined ("924,929" -> "924929") and operators between numbers as words
    ("3-2" -> "3 minus 2"); nothing else changes."""
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    joined = _GROUPED.sub(lambda m: m.group(0).replace(",", ""), text)
    return _OPERATOR.sub(lambda m: f" {_WORDS[m.group(1)]} ", joined)
