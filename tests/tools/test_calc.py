"""calc: exact rational arithmetic from a safe parser; every failure is a ToolError."""

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from thinkspeak.text.numbers import number_to_words
from thinkspeak.tools.base import ToolError
from thinkspeak.tools.calc import MAX_CHARS, MAX_DIGITS, MAX_EXPONENT, Calculator, evaluate

numbers = st.fractions(min_value=0, max_value=10_000, max_denominator=1).map(Fraction) | st.decimals(
    min_value=0, max_value=1000, places=2).map(Fraction)


@st.composite
def trees(draw, depth=3):
    """(written expression, exact value or None for a division by zero) of a random tree."""
    if depth == 0 or draw(st.booleans()):
        value = draw(numbers)
        return (str(value) if value.denominator == 1 else f"{float(value):.2f}".rstrip("0").rstrip(".")), value
    op = draw(st.sampled_from("+-*/"))
    (a, va), (b, vb) = draw(trees(depth=depth - 1)), draw(trees(depth=depth - 1))
    if va is None or vb is None:
        return f"({a}) {op} ({b})", None
    if op == "/" and vb == 0:
        return f"({a}) / ({b})", None
    value = {"+": va + vb, "-": va - vb, "*": va * vb, "/": va / vb if vb else None}[op]
    return f"({a}) {op} ({b})", value


@given(trees())
def test_value_is_exact_or_division_by_zero_is_a_tool_error(tree):
    text, value = tree
    if value is None:
        with pytest.raises(ToolError, match="division by zero"):
            evaluate(text)
    else:
        assert evaluate(text) == value


@given(st.text(max_size=80))
def test_any_text_gives_a_value_or_a_tool_error(text):
    try:
        assert isinstance(evaluate(text), Fraction)
    except ToolError as exc:
        assert str(exc)


@pytest.mark.parametrize("text, value", [
    ("23 + 19", "42"), ("2 + 3 * 4", "14"), ("(2 + 3) * 4", "20"), ("10 - 2 - 3", "5"), ("2 ^ 3 ^ 2", "512"),
    ("-2^2", "-4"), ("1/3 + 1/6", "0.5"), ("1 / 3", "1/3"), ("15% of 80", "12"), ("2.5 x 4", "10"),
    ("1,234 + 1", "1235"), ("3 squared", "9"), ("What is 12 times 7?", "84"),
    ("twenty three plus nineteen", "42"), ("a third of ninety", "30"), ("100 divided by 8", "12.5"),
])
def test_examples(text, value):
    assert Calculator()(text) == value


@given(st.integers(0, 10**6), st.integers(0, 10**6))
def test_number_words_read_like_digits(a, b):
    assert evaluate(f"{number_to_words(a)} plus {number_to_words(b)}") == a + b


@pytest.mark.parametrize("text, message", [
    ("7 / 0", "division by zero"), ("0 ^ -1", "division by zero"), (f"2 ^ {MAX_EXPONENT + 1}", "exponent"),
    ("2 ^ 0.5", "whole number"), ("9" * (MAX_DIGITS + 1), "too large"), ("10^40 * 10^40", "too large"),
    ("1 +" * 100, "longer than"), ("(" * 45 + "1" + ")" * 45, "nested"), ("2 +", "ends too early"),
    ("(2 + 3", "missing"), ("1 2", "unexpected"), ("import os", "cannot read"), ("", "no expression"),
    ("__import__('os')", "cannot read"),
])
def test_refusals_are_tool_errors(text, message):
    if len(text) > MAX_CHARS:
        message = "longer than"
    with pytest.raises(ToolError, match=message):
        evaluate(text)
