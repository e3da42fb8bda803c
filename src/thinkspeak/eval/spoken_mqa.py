"""Spoken-MQA answer extraction and scoring, the way AudioBench scores it.

Spoken-MQA (Wei et al. 2025, arXiv 2505.15000) is evaluated with AudioBench (AudioLLMs/AudioBench,
``src/dataset_src/spoken_mqa.py`` + the MAmmoTH answer utilities it ships in ``math_utils/utils.py``); the
Mini-Omni-Reasoner paper reports its Spoken-MQA numbers with that scorer. This module re-implements the
scorer (no code copied) so our accuracies sit next to the published ones:

1. Strip newlines from both ends. If any trigger occurs more than once (AudioBench's few-shot guard), keep
   only the text before the first blank line.
2. Split on the triggers ``"The answer is:"``, ``"The answer is"``, ``"the answer is"``. If a trigger was
   found, keep the text after the LAST trigger and take the FIRST number in it; otherwise take the LAST
   number of the whole response.
3. Before searching, drop a trailing ``.``/``/``, surrounding spaces, and every comma ("1,200" -> "1200").
   Numbers are matched by ``-?\\d+/?\\.?\\d*`` (so "3/4", "-2.5", "12." are single matches).
4. Each number is normalised like AudioBench's ``delete_extra_zero`` (:func:`normalise_number`): through
   a Python float, trailing zeros dropped ("1200.0" -> "1200", "2.50" -> "2.5"), a fraction ``a/b``
   evaluated to its decimal ("3/4" -> "0.75").
5. The prediction (cut to 100 characters) must equal the reference string exactly (case-insensitively).

AudioBench normalises the reference the same way for the reasoning subsets but compares against the raw
reference for the arithmetic subsets; :func:`score` takes that choice as ``normalise_reference``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from thinkspeak.text.answers import NUMBER_PATTERN, TRIGGERS, stated_number

__all__ = ["NUMBER_PATTERN", "TRIGGERS", "Score", "extract_answer", "is_correct", "normalise_number", "score"]

MAX_PREDICTION_CHARS = 100
# A Python integer literal: no leading zeros except for zero itself ("0", "00" are valid, "07" is not).
_INT_LITERAL = re.compile(r"(?:[1-9]\d*|0+)")


@dataclass(frozen=True)
class Score:
    """One scored response: the extracted ``prediction`` (None when the response holds no number), the
    ``reference`` as compared, and whether they match."""

    prediction: str | None
    reference: str
    correct: bool


def _slash_value(text: str) -> float | None:
    """The value Python's ``eval`` gives a matched ``a/b`` string, or None where ``eval`` would fail."""
    numerator, _, denominator = text.partition("/")
    sign = -1 if numerator.startswith("-") else 1
    numerator = numerator.lstrip("-")
    if not text.isascii() or not _INT_LITERAL.fullmatch(numerator):
        return None
    if denominator.startswith("."):
        if len(denominator) == 1:
            return None
        divisor: float | int = float(denominator)
    elif _INT_LITERAL.fullmatch(denominator):
        divisor = int(denominator)
    else:
        return None
    try:
        return sign * int(numerator) / divisor
    except (ZeroDivisionError, OverflowError):
        return None


def normalise_number(text: str) -> str:
    """Normalise one matched number as AudioBench's ``delete_extra_zero`` does.

    The string goes through a Python float (``a/b`` is divided out), trailing zeros of its ``repr`` are
    dropped and a bare trailing point turns the value into an int: ``"1200.0" -> "1200"``,
    ``"2.50" -> "2.5"``, ``"-3/4" -> "-0.75"``, ``"007" -> "7"``. A string that is not a number (``"3/"``,
    ``"1/0"``) comes back unchanged. Like AudioBench, values of 1e16 and beyond go through the float's
    exponent notation and lose digits.
    """
    try:
        value: float | None = float(text)
    except ValueError:
        value = _slash_value(text)
    if value is None:
        return text
    digits = repr(value).rstrip("0")
    if digits.endswith("."):
        return str(int(digits[:-1]))
    return repr(float(digits))


def extract_answer(response: str) -> str | None:
    """The answer AudioBench reads from a Spoken-MQA response (steps 1-4 of the module docstring).

    Returns None when the response (or, after a trigger, the text after it) contains no number.

    >>> extract_answer("So we add them. The answer is: 1,200.0")
    '1200'
    >>> extract_answer("Half of 9 is 4.5")
    '4.5'
    """
    number = stated_number(response)
    if number is None:
        return None
    return normalise_number(number).rstrip(".").rstrip("/")


def score(response: str, reference: str, *, normalise_reference: bool = True) -> Score:
    """Score ``response`` against ``reference`` (step 5 of the module docstring).

    ``normalise_reference`` passes the reference through :func:`normalise_number` first (AudioBench's
    reasoning subsets and our corpus, whose answers are canonical anyway); False compares against the
    reference as given (AudioBench's arithmetic subsets).
    """
    if not isinstance(reference, str) or not reference.strip():
        raise ValueError(f"reference must be a non-empty str, got {reference!r}")
    expected = reference.strip()
    if normalise_reference:
        expected = normalise_number(expected)
    prediction = extract_answer(response)
    correct = prediction is not None and prediction[:MAX_PREDICTION_CHARS].lower() == expected.lower()
    return Score(prediction=prediction, reference=expected, correct=correct)


def is_correct(response: str, reference: str) -> bool:
    """True when AudioBench's Spoken-MQA scorer accepts ``response`` for ``reference`` (reference
    normalised; see :func:`score`)."""
    return score(response, reference).correct
