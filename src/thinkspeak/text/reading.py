"""Numbers read back from running text: the digits inside an ASR transcript or a typed question.

The inverse of :mod:`thinkspeak.text.numbers` (which writes numbers as words), for Spoken-MQA scoring and
inverse text normalisation ("the answer is one hundred and twenty three" -> "the answer is 123"):

* :func:`words_to_digits` - robust to how people and ASR write numbers: "one hundred and twenty three",
  "twenty-five", "3 point 5", "a thousand", "2 million", "minus four", "three and a half", "seven over two",
  "fifty percent", "four dollars and fifty cents". Integers print without separators, decimals keep their
  spoken digits, fractions print as ``n/d``, mixed numbers as a decimal when exact (else ``n/d``), money as
  ``$D.CC``, percents as ``N%``.
* :func:`find_numbers`, :func:`digit_rewrites`, :func:`rewrite_spans` - the number spans of a text and their
  values, for checks that compare numbers rather than strings; :func:`canonical_number` - the corpus'
  canonical answer string.

text2num reads spoken integers; what it lacks stays here: decimals, fractions and their denominators, mixed
numbers, money, percents, signs, written digits in running text, and the stricter English grammar where
text2num is lenient ("forty and seven" is two numbers). The vocabulary (units, tens, scales, denominators) is
:mod:`.numbers`', so both directions read and write the same words.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from text_to_num import text2num

from thinkspeak.text.numbers import (
    _DENOMINATOR_WORDS,
    _ORDINAL_UNITS,
    MAX_ABS,
    SCALES,
    TENS,
    UNITS,
    _to_decimal,
)

_UNIT_VALUES = {w: i for i, w in enumerate(UNITS)} | {t: 10 * i for i, t in enumerate(TENS) if i >= 2}
_SCALE_VALUES = {w: 1000 ** (i + 1) for i, w in enumerate(SCALES)}
_DENOMINATOR_VALUES = {w: d for d, pair in _DENOMINATOR_WORDS.items() for w in pair if w != "second"}
_DENOMINATOR_VALUES["fourth"] = _DENOMINATOR_VALUES["fourths"] = 4
_ORDINAL_SUFFIX = {1: "st", 2: "nd", 3: "rd"} | {d: "th" for d in (4, 5, 6, 7, 8, 9)}
_DIGIT_WORDS = {w: i for i, w in enumerate(UNITS[:10])} | {"oh": 0, "o": 0}
_TOKEN = re.compile(r"\$?\d+(?:,\d{3})*(?:\.\d+)?(?:/\d+(?!\d|\.\d))?|\.\d+|[A-Za-z]+(?:'[A-Za-z]+)?|%")


@dataclass
class _Tok:
    text: str
    low: str
    start: int
    end: int


@dataclass
class _Number:
    """A parsed number phrase: its value, how to print it, and the tokens it spans [i, j)."""

    value: Fraction
    text: str
    i: int
    j: int


def _tokens(text: str) -> list[_Tok]:
    return [_Tok(m[0], m[0].lower(), m.start(), m.end()) for m in _TOKEN.finditer(text)]


def _gap(text: str, toks: list[_Tok], k: int) -> str:
    """The characters between token k-1 and token k."""
    return text[toks[k - 1].end:toks[k].start]


def _joined(text: str, toks: list[_Tok], k: int) -> bool:
    """Token k follows token k-1 separated only by spaces or a hyphen (so it may continue a number)."""
    return k < len(toks) and re.fullmatch(r"\s*-?\s*|\s+", _gap(text, toks, k)) is not None


def _digit_value(tok: _Tok) -> Decimal | None:
    if tok.text[0].isdigit() or tok.text[0] == ".":
        return Decimal(tok.text.replace(",", ""))
    return None


_INTEGER_WORDS = frozenset(_UNIT_VALUES) | {"hundred", *SCALES, "and", "a"}
# text2num reads cardinals up to the billions; the scales above (trillion...) join its groups here.
_HIGH_SCALES = {w: v for w, v in _SCALE_VALUES.items() if v > 10**9}


def _may_follow(words: list[str], word: str) -> bool:
    """Where text2num is more lenient than English: "and" only after "hundred" or a scale ("forty and
    seven" is two numbers), "hundred" or a scale word only after a number word ("two million thousand"
    is not one number), scales strictly decreasing ("four million three billion" is two numbers)."""
    prev = words[-1] if words else None
    if word == "and":
        return prev in ("hundred", *SCALES)
    if word == "hundred":
        return prev in _UNIT_VALUES or prev == "a"
    if word in SCALES:
        larger = all(_SCALE_VALUES[word] < _SCALE_VALUES[w] for w in words if w in _SCALE_VALUES)
        return larger and (prev in _UNIT_VALUES or prev in ("hundred", "a"))
    return True


def _longest_text2num(words: list[str], start: int) -> tuple[int, int]:
    """The longest run ``words[start:end]`` that text2num reads as one cardinal: (value, end). A single
    number word always reads, so there is one."""
    for end in range(len(words), start + 1, -1):
        try:
            return text2num(" ".join(words[start:end]), "en"), end
        except ValueError:
            continue
    return text2num(words[start], "en"), start + 1


def _parse_integer(text: str, toks: list[_Tok], i: int) -> tuple[int, int, int] | None:
    """Cardinal words from token i: returns (value, next index, smallest scale ending the phrase) or None.

    The grammar is text2num's ("one hundred and twenty three", "twenty-five", "fifteen hundred and six");
    a phrase starts with a number word or "a hundred"/"a thousand"; trillions to quintillions (beyond
    text2num) are strictly decreasing scales over groups below one thousand, each optionally followed by
    "and" before the next group.
    """
    words: list[str] = []
    while i + len(words) < len(toks) and (not words or _joined(text, toks, i + len(words))) \
            and toks[i + len(words)].low in _INTEGER_WORDS and _may_follow(words, toks[i + len(words)].low):
        words.append(toks[i + len(words)].low)
    if not words or (words[0] not in _UNIT_VALUES and words[:2] not in (["a", "hundred"], *(["a", s] for s in SCALES))):
        return None
    if words[0] == "zero":  # text2num reads "zero eleven" as 11
        return 0, i + 1, 1
    words[0] = "one" if words[0] == "a" else words[0]
    total, start, last_scale = 0, 0, MAX_ABS
    while True:
        value, end = _longest_text2num(words, start)
        scale = _HIGH_SCALES.get(words[end]) if end < len(words) else None
        if scale is None or not 0 < value < 1000 or scale >= last_scale:
            return total + value, i + end, _SCALE_VALUES.get(words[end - 1], 1)
        total, last_scale = total + value * scale, scale
        start = end + 1 + (words[end + 1:end + 2] == ["and"])
        if start >= len(words) or words[start] not in _UNIT_VALUES or words[start] == "zero":
            return total, i + end + 1, scale


def _parse_point_digits(text: str, toks: list[_Tok], k: int) -> tuple[str, int] | None:
    """Digits after "point": single digit words, or one run of digits ("3 point 14")."""
    digits, m = "", k
    while m < len(toks) and _joined(text, toks, m):
        w = toks[m].low
        if w in _DIGIT_WORDS and (w not in ("o", "oh") or digits):
            digits += str(_DIGIT_WORDS[w])
        elif not digits and toks[m].text.isdigit():
            return toks[m].text, m + 1
        elif not digits and w in _UNIT_VALUES:
            digits = str(_UNIT_VALUES[w])
        else:
            break
        m += 1
    return (digits, m) if digits else None


def _format_fraction(f: Fraction) -> str:
    if f.denominator == 1:
        return str(f.numerator)
    return f"{f.numerator}/{f.denominator}"


def _terminating(f: Fraction) -> bool:
    d = f.denominator
    for prime in (2, 5):
        while d % prime == 0:
            d //= prime
    return d == 1


def _format_mixed(f: Fraction) -> str:
    if _terminating(f):
        return format((Decimal(f.numerator) / Decimal(f.denominator)).normalize(), "f")
    return _format_fraction(f)


def _parse_fraction_tail(text: str, toks: list[_Tok], k: int, num: int) -> tuple[Fraction, int] | None:
    """After a numerator: an ordinal denominator ("three quarters") or "over" + integer ("seven over two")."""
    if k < len(toks) and _joined(text, toks, k):
        w = toks[k].low
        if w in _DENOMINATOR_VALUES:
            return Fraction(num, _DENOMINATOR_VALUES[w]), k + 1
        if w == "over" and k + 1 < len(toks) and _joined(text, toks, k + 1):
            den = _parse_unsigned(text, toks, k + 1, allow_fraction=False)
            if den is not None and den.value.denominator == 1 and den.value != 0:
                return Fraction(num) / den.value, den.j
    return None


def _parse_unsigned(text: str, toks: list[_Tok], i: int, *, allow_fraction: bool = True) -> _Number | None:
    tok = toks[i]
    digit = _digit_value(tok)
    if digit is not None:
        value, k, printed, smallest_scale = Fraction(digit), i + 1, format(digit, "f"), 1
        is_int = "." not in tok.text
    else:
        if tok.low in ("a", "an") and i + 1 < len(toks) and _joined(text, toks, i + 1) \
                and toks[i + 1].low in _DENOMINATOR_VALUES and allow_fraction:
            f = Fraction(1, _DENOMINATOR_VALUES[toks[i + 1].low])
            return _Number(f, _format_fraction(f), i, i + 2)
        if tok.low == "point":
            after = _parse_point_digits(text, toks, i + 1)
            if after is None:
                return None
            digits, k = after
            d = Decimal("0." + digits)
            return _Number(Fraction(d), format(d, "f"), i, k)
        parsed = _parse_integer(text, toks, i)
        if parsed is None:
            return None
        ivalue, k, smallest_scale = parsed
        value, printed, is_int = Fraction(ivalue), str(ivalue), True
    # decimal part
    if is_int and k < len(toks) and _joined(text, toks, k) and toks[k].low == "point":
        after = _parse_point_digits(text, toks, k + 1)
        if after is not None:
            digits, k = after
            d = Decimal(f"{printed}.{digits}")
            value, printed, is_int = Fraction(d), format(d, "f"), False
    # a scale word after a decimal or digits ("1.5 million", "2 thousand")
    if k < len(toks) and _joined(text, toks, k) and toks[k].low in ("hundred", *SCALES) and smallest_scale == 1 \
            and (digit is not None or not is_int):
        value *= 100 if toks[k].low == "hundred" else _SCALE_VALUES[toks[k].low]
        k += 1
        printed = _format_fraction(value) if value.denominator == 1 else _format_mixed(value)
        is_int = value.denominator == 1
    if is_int and allow_fraction:
        frac = _parse_fraction_tail(text, toks, k, int(value))
        if frac is not None:
            f, k = frac
            return _Number(f, _format_fraction(f), i, k)
        # mixed number: "three and a half", "two and three quarters"
        if k + 1 < len(toks) and _joined(text, toks, k) and toks[k].low == "and" and _joined(text, toks, k + 1):
            part = _parse_unsigned(text, toks, k + 1)
            if part is not None and part.value.denominator != 1 and 0 < part.value < 1 \
                    and toks[part.j - 1].low in _DENOMINATOR_VALUES:
                f = value + part.value
                return _Number(f, _format_mixed(f), i, part.j)
    return _Number(value, printed, i, k)


def _attach_unit(text: str, toks: list[_Tok], num: _Number) -> _Number:
    """Attach what follows a number and changes its printed form: percent, dollars [and cents], cents,
    a clock time ("three o'clock", "three oh five") or a compound ordinal ("twenty-first")."""
    k = num.j
    if k < len(toks) and _joined(text, toks, k):
        w = toks[k].low
        if w in ("percent", "%") or (w == "per" and k + 1 < len(toks) and toks[k + 1].low == "cent"):
            j = k + 1 if w != "per" else k + 2
            return _Number(num.value, num.text + "%", num.i, j)
        if w in ("dollar", "dollars") and num.value >= 0:
            dollars, j = num.value, k + 1
            if j + 1 < len(toks) and toks[j].low == "and" and _joined(text, toks, j + 1):
                cents = _parse_unsigned(text, toks, j + 1, allow_fraction=False)
                if cents is not None and cents.j < len(toks) and toks[cents.j].low in ("cent", "cents") \
                        and cents.value.denominator == 1 and cents.value < 100:
                    dollars += cents.value / 100
                    j = cents.j + 1
            if dollars.denominator == 1:
                return _Number(dollars, f"${dollars.numerator}", num.i, j)
            if (dollars * 100).denominator == 1:
                cents_total = int(dollars * 100)
                return _Number(dollars, f"${cents_total // 100}.{cents_total % 100:02d}", num.i, j)
            return _Number(dollars, "$" + num.text, num.i, j)
        if w in ("cent", "cents") and num.value.denominator == 1 and 0 <= num.value < 100:
            return _Number(num.value / 100, f"$0.{int(num.value):02d}", num.i, k + 1)
        is_hour = num.value.denominator == 1 and 0 <= num.value <= 23 and "." not in num.text
        if w == "o'clock" and is_hour:
            return _Number(num.value, f"{num.text}:00", num.i, k + 1)
        if w == "oh" and is_hour and k + 1 < len(toks) and _joined(text, toks, k + 1) \
                and toks[k + 1].low in UNITS[1:10]:
            return _Number(num.value, f"{num.text}:0{UNITS.index(toks[k + 1].low)}", num.i, k + 2)
        if w in _ORDINAL_UNITS[1:10] and num.value.denominator == 1 and num.value % 10 == 0 < num.value % 100 \
                and not toks[k - 1].text[0].isdigit():
            n = int(num.value) + _ORDINAL_UNITS.index(w)
            return _Number(Fraction(n), f"{n}{_ORDINAL_SUFFIX[n % 10]}", num.i, k + 1)
    return num


def _ends_number(toks: list[_Tok], k: int) -> bool:
    return k > 0 and (toks[k - 1].low in _UNIT_VALUES or toks[k - 1].low in ("hundred", *SCALES)
                      or toks[k - 1].text[0].isdigit())


@dataclass(frozen=True)
class NumberSpan:
    """A number found in running text: characters ``[start, end)``, its exact value, and its digit form."""

    start: int
    end: int
    value: Fraction
    text: str


def _literal(tok: _Tok) -> Fraction | None:
    """Value of a written literal that needs no parsing: ``$4.50``, ``3/4`` (None for other tokens)."""
    if "/" in tok.text:
        num_text, den_text = tok.text.lstrip("$").replace(",", "").split("/")
        return Fraction(int(num_text), int(den_text)) if int(den_text) else None
    if tok.text.startswith("$"):
        return Fraction(Decimal(tok.text[1:].replace(",", "")))
    return None


def _scan(text: str) -> Iterator[tuple[NumberSpan, NumberSpan | None]]:
    """Every number of ``text`` in order: the span where its value is known, and the span to rewrite with
    its digit form (None when the text already shows it). "72.80 dollars" is known at "72.80" but rewritten
    as "$72.80"; "four dollars and fifty cents" is known only at "cents"."""
    toks = _tokens(text)
    k = 0
    while k < len(toks):
        tok = toks[k]
        signed = tok.start > 0 and text[tok.start - 1] == "-" and (tok.start == 1 or not text[tok.start - 2].isalnum())
        sign = -1 if signed else 1
        begin = tok.start - 1 if signed else tok.start
        if "/" in tok.text or tok.text.startswith("$"):
            value = _literal(tok)
            if value is not None:
                yield NumberSpan(begin, tok.end, sign * value, text[begin:tok.end]), None
            k += 1
            continue
        start = k
        negative = False
        if tok.low in ("minus", "negative") and k + 1 < len(toks) and _joined(text, toks, k + 1) \
                and not (tok.low == "minus" and _ends_number(toks, k)):
            negative, k = True, k + 1
        num = _parse_unsigned(text, toks, k)
        if num is None:
            k = start + 1
            continue
        is_plain = num.j == k + 1 and _digit_value(toks[k]) is not None
        literal = NumberSpan(begin, toks[k].end, sign * num.value, text[begin:toks[k].end])
        if is_plain and not negative and not _unit_follows(text, toks, num):
            yield literal, None
            k += 1
            continue
        with_unit = _attach_unit(text, toks, num)
        minus = negative and with_unit.value != 0
        value = -with_unit.value if minus else with_unit.value
        full = NumberSpan(toks[start].start, toks[with_unit.j - 1].end, value, ("-" if minus else "") + with_unit.text)
        yield (literal if is_plain and literal.value == value else full), full
        k = with_unit.j


def find_numbers(text: str) -> list[NumberSpan]:
    """Every number mentioned in ``text``, written ("36", "4.50", "3/4", "-5") or spoken ("thirty-six",
    "three quarters", "minus five"), with its exact value; used by the anticipation-drift detector."""
    if not isinstance(text, str):
        raise ValueError(f"text must be a str, got {type(text).__name__}")
    return [known for known, _ in _scan(text)]


def words_to_digits(text: str) -> str:
    """Replace every spoken number in ``text`` by digits (see the module docstring for the printed forms).

    "minus"/"negative" make a number negative unless "minus" follows a number ("ten minus four" stays an
    operation). Words that are not part of a number are kept as they are, punctuation included.

    >>> words_to_digits("The answer is one hundred and twenty three.")
    'The answer is 123.'
    """
    if not isinstance(text, str):
        raise ValueError(f"text must be a str, got {type(text).__name__}")
    return rewrite_spans(text, digit_rewrites(text))


def digit_rewrites(text: str) -> list[NumberSpan]:
    """The spans :func:`words_to_digits` replaces, in order, each with its digit form (a caller may keep some
    of them as words, as :func:`thinkspeak.text.written.corpus_numbers` keeps the pronoun "one")."""
    if not isinstance(text, str):
        raise ValueError(f"text must be a str, got {type(text).__name__}")
    return [rewrite for _, rewrite in _scan(text) if rewrite is not None]


def rewrite_spans(text: str, spans: list[NumberSpan]) -> str:
    """``text`` with each of the (ordered, disjoint) ``spans`` replaced by its ``text``."""
    out: list[str] = []
    pos = 0
    for span in spans:
        out += [text[pos:span.start], span.text]
        pos = span.end
    out.append(text[pos:])
    return "".join(out)


def _unit_follows(text: str, toks: list[_Tok], num: _Number) -> bool:
    """A bare digit token changes only when a unit word gives it a new printed form (percent, dollars...)."""
    return num.j < len(toks) and _joined(text, toks, num.j) and toks[num.j].low in (
        "percent", "per", "dollar", "dollars", "cent", "cents", "o'clock")


def canonical_number(value: Fraction | Decimal | int | str, *, as_fraction: bool = False) -> str:
    """The corpus' canonical answer string (contract 2): no separators, no trailing zeros.

    A value with a terminating decimal expansion prints as a decimal (``Fraction(5, 2) -> '2.5'``,
    ``'3.50' -> '3.5'``) unless ``as_fraction`` asks for ``n/d`` (a "what fraction of..." answer:
    ``'3/4'``); a non-terminating value always prints as ``n/d``.
    """
    if isinstance(value, str):
        text = value.strip().replace(",", "")
        value = Fraction(text) if "/" in text else Fraction(_to_decimal(text))
    f = Fraction(value)
    if f.denominator == 1:
        return str(f.numerator)
    if _terminating(f) and not as_fraction:
        return format((Decimal(f.numerator) / Decimal(f.denominator)).normalize(), "f")
    return _format_fraction(f)
