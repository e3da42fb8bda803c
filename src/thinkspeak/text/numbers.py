"""Numbers as a person says them, and back.

Spoken-math data (Mini-Omni-Reasoner §3.3, "rewrite: no LaTeX, no symbols") needs every quantity in a
question and a response readable by a TTS engine, and Spoken-MQA scoring needs the inverse: the digits
inside an ASR transcript ("the answer is one hundred and twenty three" -> "the answer is 123").

* :func:`number_to_words` - one value: ints of any sign up to the quintillions, decimals read digit by digit
  after "point" ("three point one four"), fractions with ordinal denominators ("three quarters", "two
  fifths", "seven halves") or "over" when the denominator has no common ordinal ("five over one hundred
  twenty-three"). American style: no "and" inside integers.
* :func:`spoken_form` - running text: money ("$4.50" -> "four dollars and fifty cents"), percents, times
  ("3:05" -> "three oh five"), fractions, mixed numbers ("1 1/2" -> "one and a half"), ordinals ("21st"),
  negatives, thousands separators and the operators + - x / = between numbers.
* The inverse, the digits inside running text (:func:`words_to_digits`, :func:`find_numbers`,
  :func:`canonical_number`), is :mod:`thinkspeak.text.reading`.

inflect writes cardinals and ordinals (American form: no "and", no commas; tests/text/test_numbers.py checks
it against num2words over the corpus' range). What it lacks stays here: decimals read digit by digit,
fractions and their denominators, mixed numbers, money, clock times, percents, signs and written digits in
running text.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from functools import lru_cache

import inflect

UNITS = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
         "sixteen seventeen eighteen nineteen").split()
TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
SCALES = ("thousand", "million", "billion", "trillion", "quadrillion", "quintillion")
MAX_ABS = 10 ** (3 * (len(SCALES) + 1))

_INFLECT = inflect.engine()


@lru_cache(maxsize=1 << 16)
def _int_words(n: int) -> str:
    """Cardinal words in American style (no "and", no commas), written by inflect."""
    if abs(n) >= MAX_ABS:
        raise ValueError(f"value must have absolute value below 10**{3 * (len(SCALES) + 1)}, got {n}")
    if n < 0:
        return "negative " + _int_words(-n)
    return _INFLECT.number_to_words(n, andword="", comma="", zero="zero")


def ordinal_words(n: int) -> str:
    """``21 -> 'twenty-first'``, ``100 -> 'one hundredth'`` (inflect's ordinal of the cardinal words)."""
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be an int >= 1, got {n!r}")
    return _INFLECT.ordinal(_int_words(n))


_ORDINAL_UNITS = [_INFLECT.ordinal(w) for w in UNITS]

# Denominators said with an ordinal word ("two fifths"); any other denominator is said with "over".
_DENOMINATOR_WORDS: dict[int, tuple[str, str]] = {2: ("half", "halves"), 4: ("quarter", "quarters")}
for _d in (3, *range(5, 20), *range(20, 100, 10), 100, 1000):
    _ordinal = ordinal_words(_d).removeprefix("one ")
    _DENOMINATOR_WORDS[_d] = (_ordinal, _ordinal + "s")


def _decimal_words(d: Decimal) -> str:
    sign, text = ("negative ", str(-d)) if d < 0 else ("", str(d))
    whole, _, frac = text.partition(".")
    spoken = _int_words(int(whole))
    if frac:
        spoken += " point " + " ".join(UNITS[int(c)] for c in frac)
    return sign + spoken


def _fraction_words(f: Fraction) -> str:
    if f.denominator == 1:
        return _int_words(f.numerator)
    if f < 0:
        return "negative " + _fraction_words(-f)
    num, den = f.numerator, f.denominator
    if den in _DENOMINATOR_WORDS:
        singular, plural = _DENOMINATOR_WORDS[den]
        return f"{_int_words(num)} {singular if num == 1 else plural}"
    return f"{_int_words(num)} over {_int_words(den)}"


def _to_decimal(text: str) -> Decimal:
    try:
        return Decimal(text)
    except InvalidOperation:
        raise ValueError(f"value must be a number like '42', '-2.5' or '3/4', got {text!r}") from None


def number_to_words(value: int | float | Fraction | Decimal | str) -> str:
    """Say one number: ``-3 -> 'negative three'``, ``'3.5' -> 'three point five'``,
    ``Fraction(3, 4) -> 'three quarters'``, ``1234567 -> 'one million two hundred thirty-four thousand five
    hundred sixty-seven'``. Floats are read through their shortest repr; decimals keep their digits
    ("2.50" -> "two point five zero"); strings may carry thousands separators or be ``n/d``."""
    if isinstance(value, bool):
        raise ValueError(f"value must be a number, got the bool {value!r}")
    if isinstance(value, int):
        return _int_words(value)
    if isinstance(value, Fraction):
        return _fraction_words(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError(f"value must be finite, got {value!r}")
        value = Decimal(repr(value))
    if isinstance(value, str):
        text = value.strip().replace(",", "")
        if re.fullmatch(r"-?\d+/\d+", text):
            num, den = text.split("/")
            if int(den) == 0:
                raise ValueError(f"value has a zero denominator: {value!r}")
            return _fraction_words(Fraction(int(num), int(den)))
        if not re.fullmatch(r"-?(\d+\.?\d*|\.\d+)", text):
            raise ValueError(f"value must be a number like '42', '-2.5' or '3/4', got {value!r}")
        value = _to_decimal(text)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"value must be finite, got {value!r}")
        if value == value.to_integral_value() and "." not in str(value) and "E" not in str(value).upper():
            return _int_words(int(value))
        return _decimal_words(Decimal(format(value, "f")))
    raise ValueError(f"value must be an int, float, Fraction, Decimal or str, got {type(value).__name__}")


def money_words(amount: Decimal | str) -> str:
    """``'4.50' -> 'four dollars and fifty cents'``, ``'0.75' -> 'seventy-five cents'``, ``'1' -> 'one dollar'``."""
    d = _to_decimal(str(amount).replace(",", ""))
    if d < 0:
        return "negative " + money_words(-d)
    cents_total = d * 100
    if cents_total != cents_total.to_integral_value():
        return number_to_words(d) + " dollars"
    dollars, cents = divmod(int(cents_total), 100)
    parts = []
    if dollars or not cents:
        parts.append(f"{_int_words(dollars)} {'dollar' if dollars == 1 else 'dollars'}")
    if cents:
        parts.append(f"{_int_words(cents)} {'cent' if cents == 1 else 'cents'}")
    return " and ".join(parts)


def time_words(hours: int, minutes: int) -> str:
    """Clock times: ``(3, 0) -> "three o'clock"``, ``(3, 5) -> 'three oh five'``, ``(10, 45) -> 'ten forty-five'``."""
    if not 0 <= hours <= 23 or not 0 <= minutes <= 59:
        raise ValueError(f"time must be hours 0-23 and minutes 0-59, got {hours}:{minutes:02d}")
    if minutes == 0:
        return f"{_int_words(hours)} o'clock"
    if minutes < 10:
        return f"{_int_words(hours)} oh {_int_words(minutes)}"
    return f"{_int_words(hours)} {_int_words(minutes)}"


# --- running text -> words ---------------------------------------------------------------------------
_NUM = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+"
_OPERATORS = {"+": "plus", "-": "minus", "−": "minus", "×": "times", "x": "times", "*": "times",
              "÷": "divided by", "/": "divided by"}
_SPOKEN_PATTERN = re.compile(
    rf"""
    (?P<money>-?\$(?P<amount>{_NUM}))
  | (?P<time>\b(?P<hh>[01]?\d|2[0-3]):(?P<mm>[0-5]\d)\b)
  | (?P<mixed>(?<![\d.])(?P<mw>\d+)\s+(?P<mn>\d+)/(?P<md>\d+)(?![\d/]))
  | (?P<frac>(?<![\d./])(?P<fneg>-)?(?P<fn>\d+)/(?P<fd>\d+)(?![\d/]))
  | (?P<ordinal>\b(?P<on>\d+)(?:st|nd|rd|th)\b)
  | (?P<percent>(?P<pneg>-)?(?P<pv>{_NUM})\s?%)
  | (?P<op>(?<=\d)\s*(?P<sym>[+\-−×x*÷/])\s*(?=[$]?[\d.]))
  | (?P<eq>\s*=\s*)
  | (?P<num>(?P<nneg>(?<![\w.])-)?(?P<nv>{_NUM}))
    """,
    re.VERBOSE,
)


def _mixed_words(whole: int, frac: Fraction) -> str:
    if frac.numerator == 1 and frac.denominator in (2, 3, 4):
        return f"{_int_words(whole)} and a {_DENOMINATOR_WORDS[frac.denominator][0]}"
    return f"{_int_words(whole)} and {_fraction_words(frac)}"


def _spoken_match(m: re.Match[str]) -> str:
    if m["money"]:
        words = money_words(m["amount"])
        return ("negative " + words) if m["money"].startswith("-") else words
    if m["time"]:
        return time_words(int(m["hh"]), int(m["mm"]))
    if m["mixed"]:
        den = int(m["md"])
        if den == 0:
            return m["mixed"]
        return _mixed_words(int(m["mw"]), Fraction(int(m["mn"]), den))
    if m["frac"]:
        if int(m["fd"]) == 0:
            return m["frac"]
        num, den = int(m["fn"]), int(m["fd"])
        words = f"{_int_words(num)} {_DENOMINATOR_WORDS[den][num != 1]}" if den in _DENOMINATOR_WORDS \
            else f"{_int_words(num)} over {_int_words(den)}"
        return ("negative " if m["fneg"] else "") + words
    if m["ordinal"]:
        return ordinal_words(int(m["on"])) if int(m["on"]) > 0 else m["ordinal"]
    if m["percent"]:
        return ("negative " if m["pneg"] else "") + number_to_words(m["pv"]) + " percent"
    if m["op"]:
        return f" {_OPERATORS[m['sym']]} "
    if m["eq"] is not None:
        return " equals "
    words = number_to_words(m["nv"])
    return ("negative " + words) if m["nneg"] else words


def spoken_form(text: str) -> str:
    """Rewrite the digits and math symbols of running text as words a TTS engine reads as a person would.

    >>> spoken_form("It costs $4.50, about 12.5% of 36 - 3/4 at 3:05.")
    'It costs four dollars and fifty cents, about twelve point five percent of thirty-six minus three quarters at three oh five.'
    """
    if not isinstance(text, str):
        raise ValueError(f"text must be a str, got {type(text).__name__}")
    return _SPOKEN_PATTERN.sub(_spoken_or_as_written, text)


def _spoken_or_as_written(m: re.Match[str]) -> str:
    """A number too large to word (>= 10**21) is left in digits: a TTS engine reads digits one by one."""
    try:
        return _spoken_match(m)
    except ValueError:
        return m.group(0)
