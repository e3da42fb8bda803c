"""Numbers and arithmetic in what a user types or ASR hears, written the way the corpus writes them (issue 12).

Whisper writes what it hears the way a newspaper would: "So, 924,929-756,361." People type "twenty three plus
nineteen". The corpus's template questions (and so every local Thinker trained on them) write "924929 minus
756361" and "23 plus 19": digits without thousands separators and the operation as a word; a Thinker copies a
number into a ``calc`` call far more reliably from digits than from words (``calc 20 + 19`` for "twenty three
plus nineteen"). :func:`corpus_numbers` rewrites the first forms into the second -- an inverse text
normalisation as ASR systems apply before a downstream model:

* digit-group commas dropped ("924,929" -> "924929");
* number words as digits, with :func:`thinkspeak.text.numbers.words_to_digits` ("twenty-three" -> "23",
  "three and a half" -> "3.5", "four dollars and fifty cents" -> "$4.50", "two thirds" -> "2/3"), except the
  corpus's own "a quarter of them" and "half of" (a fraction after "a" or "half") and a lone "one" that reads as a pronoun ("which one is bigger", "quick one:"): it stays a word unless a digit,
  another number or an operation word stands next to it ("one plus one", "add one and 5");
* ``+ - x * × ÷ =`` between two numbers spoken as ``plus minus times divided by equals``, and `` / `` with
  spaces around it as ``divided by`` ("3/4 of them" is the corpus's fraction and stays).

Every other character stays as it was. The server applies it to what a local Thinker reads
(:class:`thinkspeak.serve.thinkers.local.LocalThinker`), ``thinkspeak ask`` to its typed question; endpoints
(OpenAI-compatible) read the text as heard.
"""

from __future__ import annotations

import re

from thinkspeak.text.reading import NumberSpan, digit_rewrites, rewrite_spans

_GROUPED = re.compile(r"(?<![\d,.])\d{1,3}(?:,\d{3})+(?![\d]|,\d)")
# "/" only with spaces around it: "3/4 of them" is the corpus's fraction, "84 / 7" a division.
_OPERATOR = re.compile(r"(?<=\d)(?:\s*([-+×x*÷=])\s*|\s+(/)\s+)(?=\d)")
_WORDS = {"+": "plus", "-": "minus", "×": "times", "x": "times", "*": "times", "/": "divided by",
          "÷": "divided by", "=": "equals"}


# Words that make a lone "one" a number: the operations and list joiners the corpus's questions use.
_NUMERIC_NEIGHBOURS = frozenset(
    "plus minus times by over divided multiplied add added subtract subtracted from and or to than equals "
    "multiply divide sum product difference".split())
_LISTED = re.compile(r",?\s*")
_WORD = re.compile(r"[A-Za-z]+|\d+(?:\.\d+)?")


def _kept_as_words(text: str, span: NumberSpan, spans: list[NumberSpan]) -> bool:
    """The corpus's own phrasing stays: "a quarter of them", "half of it" (a fraction after "a"), and a
    pronoun "one"."""
    fraction = span.value.denominator != 1 and text[span.start:span.end].lower().split()[0] in ("a", "an", "half")
    return fraction or _pronoun_one(text, span, spans)


def _pronoun_one(text: str, span: NumberSpan, spans: list[NumberSpan]) -> bool:
    """``span`` is the single word "one" with no digit, number or operation word beside it."""
    if text[span.start:span.end].lower() != "one":
        return False
    before = _WORD.findall(text[:span.start])[-1:]
    after = _WORD.findall(text[span.end:])[:1]
    for word in before + after:
        if word[0].isdigit() or word.lower() in _NUMERIC_NEIGHBOURS:
            return False
    for other in spans:  # a list of numbers: "one, two, three", "one two three"
        gap = text[other.end:span.start] if other.end <= span.start else text[span.end:other.start]
        if other is not span and _LISTED.fullmatch(gap):
            return False
    return True


def corpus_numbers(text: str) -> str:
    """``text`` with grouped digits joined ("924,929" -> "924929"), number words as digits ("twenty three"
    -> "23"; a pronoun "one" stays) and operators between numbers as words ("3-2" -> "3 minus 2"); nothing
    else changes."""
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    joined = _GROUPED.sub(lambda m: m.group(0).replace(",", ""), text)
    spans = digit_rewrites(joined)
    digits = rewrite_spans(joined, [s for s in spans if not _kept_as_words(joined, s, spans)])
    return _OPERATOR.sub(lambda m: f" {_WORDS[m.group(1) or m.group(2)]} ", digits)
