"""Number words <-> digits (thinkspeak.text.numbers): exact round trips and ASR-style spellings."""

from __future__ import annotations

import re
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from thinkspeak.text.numbers import money_words, number_to_words, ordinal_words, spoken_form, time_words
from thinkspeak.text.reading import canonical_number, words_to_digits

INTS = st.integers(min_value=-(10**21) + 1, max_value=10**21 - 1)


@given(INTS)
def test_int_round_trip(n: int) -> None:
    words = number_to_words(n)
    assert not re.search(r"\d", words)
    assert words_to_digits(words) == str(n)


@given(st.integers(min_value=-(10**9), max_value=10**9), st.integers(min_value=1, max_value=6))
def test_decimal_round_trip_keeps_spoken_digits(units: int, places: int) -> None:
    d = Decimal(units).scaleb(-places)
    words = number_to_words(d)
    assert " point " in words
    assert words_to_digits(words) == format(d, "f")


@given(st.integers(min_value=-5000, max_value=5000), st.integers(min_value=2, max_value=2000))
def test_fraction_round_trip(num: int, den: int) -> None:
    f = Fraction(num, den)
    expected = str(f.numerator) if f.denominator == 1 else f"{f.numerator}/{f.denominator}"
    assert words_to_digits(number_to_words(f)) == expected


@given(st.integers(min_value=0, max_value=10**7), st.integers(min_value=0, max_value=99))
def test_money_round_trip(dollars: int, cents: int) -> None:
    written = f"${dollars}.{cents:02d}" if cents else f"${dollars}"
    spoken = spoken_form(f"It costs {written} today.")
    assert not re.search(r"[\d$]", spoken)
    expected = written if dollars or not cents else f"$0.{cents:02d}"
    assert words_to_digits(spoken) == f"It costs {expected} today."


@given(st.integers(min_value=0, max_value=1000), st.integers(min_value=0, max_value=3))
def test_percent_round_trip(units: int, places: int) -> None:
    value = format(Decimal(units).scaleb(-places), "f")
    assert words_to_digits(spoken_form(f"{value}% of them")) == f"{value}% of them"


@given(st.integers(min_value=0, max_value=23), st.integers(min_value=0, max_value=59))
def test_time_words(hours: int, minutes: int) -> None:
    words = spoken_form(f"at {hours}:{minutes:02d}.")
    assert not re.search(r"\d", words)
    back = words_to_digits(words)
    if minutes < 10:  # "o'clock" and "oh five" are unambiguous clock times
        assert back == f"at {hours}:{minutes:02d}."


@given(st.lists(st.integers(min_value=0, max_value=10**6), min_size=2, max_size=5),
       st.lists(st.sampled_from(["+", "-", "×", "÷", "x", "*"]), min_size=4, max_size=4))
def test_spoken_arithmetic_has_no_symbols(operands: list[int], ops: list[str]) -> None:
    written = " ".join(f"{a} {op}" for a, op in zip(operands[:-1], ops, strict=False)) + f" {operands[-1]} = ?"
    spoken = spoken_form(f"What is {written}")
    assert not re.search(r"[\d+×÷*=$%]", spoken)
    numbers = [int(x) for x in re.findall(r"\d+", words_to_digits(spoken))]
    assert numbers == [int(x) for x in re.findall(r"\d+", written)]


@given(st.text(max_size=80))
@example("1000000000000000000000")  # past inflect's scales: stays in digits (a CI draw once crashed here)
def test_words_to_digits_never_crashes(text: str) -> None:
    assert isinstance(words_to_digits(text), str)
    assert isinstance(spoken_form(text), str)


@pytest.mark.parametrize(
    ("heard", "digits"),
    [
        ("The answer is one hundred and twenty three.", "The answer is 123."),
        ("twenty-five apples", "25 apples"),
        ("twenty five apples", "25 apples"),
        ("3 point 5", "3.5"),
        ("three point one four", "3.14"),
        ("point five", "0.5"),
        ("a thousand and two", "1002"),
        ("2 million", "2000000"),
        ("1.5 million", "1500000"),
        ("The answer is minus four.", "The answer is -4."),
        ("ten minus four", "10 minus 4"),
        ("three and a half hours", "3.5 hours"),
        ("two and one third", "7/3"),
        ("seven over two", "7/2"),
        ("a third of it", "1/3 of it"),
        ("Fifty percent", "50%"),
        ("fifty per cent", "50%"),
        ("four dollars and fifty cents", "$4.50"),
        ("seventy-five cents", "$0.75"),
        ("one second, two seconds", "1 second, 2 seconds"),
        ("two and three", "2 and 3"),
        ("fifteen hundred and six", "1506"),
        ("the twenty-first", "the 21st"),
        ("three o'clock", "3:00"),
        ("Twenty, thirty.", "20, 30."),
        ("no numbers here", "no numbers here"),
    ],
)
def test_asr_spellings(heard: str, digits: str) -> None:
    assert words_to_digits(heard) == digits


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (0, "zero"),
        (-3, "negative three"),
        (1234567, "one million two hundred thirty-four thousand five hundred sixty-seven"),
        ("3.5", "three point five"),
        (2.25, "two point two five"),
        (Fraction(3, 4), "three quarters"),
        (Fraction(2, 5), "two fifths"),
        (Fraction(1, 2), "one half"),
        ("7/2", "seven halves"),
        (Fraction(5, 123), "five over one hundred twenty-three"),
        (Decimal("1000.0"), "one thousand point zero"),
    ],
)
def test_number_to_words_examples(value: object, words: str) -> None:
    assert number_to_words(value) == words


def test_running_text_examples() -> None:
    assert spoken_form("It costs $4.50, about 12.5% of 36 - 3/4 at 3:05.") == (
        "It costs four dollars and fifty cents, about twelve point five percent of thirty-six minus three "
        "quarters at three oh five."
    )
    assert spoken_form("1 1/2 cups, the 2nd box, -5 degrees, $0.75, $1,200") == (
        "one and a half cups, the second box, negative five degrees, seventy-five cents, one thousand two "
        "hundred dollars"
    )
    assert money_words("1") == "one dollar"
    assert time_words(10, 45) == "ten forty-five"
    assert ordinal_words(112) == "one hundred twelfth"


def test_canonical_number() -> None:
    assert canonical_number(Fraction(5, 2)) == "2.5"
    assert canonical_number("3.50") == "3.5"
    assert canonical_number("1,200") == "1200"
    assert canonical_number(Fraction(3, 4), as_fraction=True) == "3/4"
    assert canonical_number(Fraction(1, 3)) == "1/3"
    assert canonical_number(Decimal("-4.000")) == "-4"


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), "abc", "1/0", True, 10**21, None, [1]])
def test_number_to_words_rejects_bad_values(bad: object) -> None:
    with pytest.raises(ValueError, match="value"):
        number_to_words(bad)  # type: ignore[arg-type]


def test_rejects_non_text() -> None:
    with pytest.raises(ValueError, match="text must be a str"):
        spoken_form(3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="text must be a str"):
        words_to_digits(None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="time must be"):
        time_words(24, 0)
    with pytest.raises(ValueError, match="n must be"):
        ordinal_words(0)


def test_find_numbers_spans_and_values() -> None:
    from thinkspeak.text.reading import find_numbers

    text = "So 4/5 of 20 is 16; 503 minus 1278 is -775, about $4.50 or twelve point five percent, ten minus four."
    found = [(text[s.start:s.end], s.value) for s in find_numbers(text)]
    assert found == [("4/5", Fraction(4, 5)), ("20", 20), ("16", 16), ("503", 503), ("1278", 1278), ("-775", -775),
                     ("$4.50", Fraction(9, 2)), ("twelve point five percent", Fraction(25, 2)), ("ten", 10),
                     ("four", 4)]
    # a value is known where its digits end, before a unit word that does not change it
    span = find_numbers("costs 72.80 dollars")[0]
    assert (span.end, span.value) == (11, Fraction(364, 5))
    assert find_numbers("four dollars and fifty cents")[0].end == len("four dollars and fifty cents")


@given(INTS)
def test_find_numbers_reads_words_and_digits_alike(n: int) -> None:
    from thinkspeak.text.reading import find_numbers

    assert [s.value for s in find_numbers(f"it is {n}.")] == [n]
    assert [s.value for s in find_numbers(f"it is {number_to_words(n)}.")] == [n]


# The corpus says integers below a billion (answers, operands, money); the libraries must agree there.
CORPUS_INTS = st.integers(min_value=0, max_value=10**9 - 1)


@given(CORPUS_INTS)
def test_inflect_agrees_with_num2words_over_the_corpus_range(n: int) -> None:
    """number_to_words is inflect's American form; num2words (British, "and" + commas) says the same words."""
    from num2words import num2words

    british = num2words(n).replace(",", "").replace(" and ", " ")
    assert number_to_words(n) == british
    assert ordinal_words(n + 1) == num2words(n + 1, to="ordinal").replace(",", "").replace(" and ", " ")


@given(CORPUS_INTS, st.sampled_from(["", " and"]))
def test_text2num_reads_what_number_to_words_says(n: int, and_word: str) -> None:
    """words_to_digits' integer grammar is text2num's: both read the corpus' spoken integers the same,
    with or without the British "and" after hundreds."""
    from text_to_num import text2num

    words = re.sub(r"hundred (?!thousand|million)", f"hundred{and_word} ", number_to_words(n))
    assert text2num(words, "en") == n
    assert words_to_digits(words) == str(n)


@pytest.mark.parametrize(
    ("heard", "digits"),
    [
        ("forty and seven", "40 and 7"),
        ("two million thousand", "2000000 thousand"),
        ("four million three billion", "4000003 billion"),
        ("zero eleven", "0 11"),
        ("one trillion and five", "1000000000005"),
        ("one quadrillion million", "1000000000000000 million"),
    ],
)
def test_where_text2num_is_too_lenient(heard: str, digits: str) -> None:
    assert words_to_digits(heard) == digits
