"""AudioBench Spoken-MQA scoring: tricky responses with answers worked out by hand, and properties."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from thinkspeak.eval.spoken_mqa import extract_answer, is_correct, normalise_number, score


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        ("The answer is: 1,200.0", "1200"),
        ("The answer is 42.", "42"),
        ("Ten minus thirteen leaves us below zero. The answer is -3.", "-3"),
        ("Three of the four slices are left, so the answer is 3/4.", "0.75"),
        ("The answer is 2.50 dollars.", "2.5"),
        ("The answer is 7 apples and 9 pears.", "7"),
        ("First 12 then 30, and at last 18", "18"),
        ("We get 4.5 after halving 9.", "9"),
        ("There is no number in this reply.", None),
        ("We counted 12 apples, but the answer is unknown.", None),
        ("Step 1 gives 10. The answer is 15, not 10. The answer is 20.", "20"),
        ("The answer is 5.\n\nThe answer is 7.", "5"),
        ("\n\nThe answer is 0.125000\n", "0.125"),
        ("The answer is -0.0", "0"),
        ("The answer is 12/.", "12"),
    ],
)
def test_extract_answer_tricky_responses(response: str, expected: str | None) -> None:
    assert extract_answer(response) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1200.0", "1200"), ("2.50", "2.5"), ("007", "7"), ("-3/4", "-0.75"), ("3/.5", "6"), ("1/0", "1/0"),
     ("3/", "3/"), ("07/2", "07/2"), ("0.10", "0.1"), ("-12", "-12")],
)
def test_normalise_number_follows_delete_extra_zero(text: str, expected: str) -> None:
    assert normalise_number(text) == expected


def test_reference_normalisation_is_a_choice() -> None:
    # AudioBench arithmetic subsets compare against the raw reference, reasoning subsets normalise it.
    assert score("The answer is 5.", "5.0").correct
    assert not score("The answer is 5.", "5.0", normalise_reference=False).correct
    assert is_correct("So three quarters: the answer is 3/4.", "3/4")
    assert is_correct("The answer is 0.75", "3/4")
    assert not is_correct("The answer is 4/3", "3/4")


def test_score_reports_prediction_and_reference() -> None:
    result = score("The answer is: 1,200.0", "1200")
    assert (result.prediction, result.reference, result.correct) == ("1200", "1200", True)
    assert score("nothing", "3") == score("still nothing", "3.0")


def test_bad_input_raises_value_error_naming_the_argument() -> None:
    with pytest.raises(ValueError, match="reference"):
        is_correct("The answer is 3", "  ")
    with pytest.raises(ValueError, match="response"):
        extract_answer(None)  # type: ignore[arg-type]


@given(st.integers(min_value=-10**15, max_value=10**15), st.sampled_from(["", ".", ".0", ".00"]))
def test_integer_answers_with_separators_and_trailing_zeros(n: int, tail: str) -> None:
    response = f"Let me think. The answer is: {n:,}{tail}"
    assert extract_answer(response) == str(n)
    assert is_correct(response, str(n))


@given(st.decimals(min_value=Decimal("-9999"), max_value=Decimal("9999"), places=3, allow_nan=False),
       st.integers(min_value=0, max_value=3))
def test_decimal_answers_match_their_canonical_form(value: Decimal, extra_zeros: int) -> None:
    written = f"{value:f}" + ("0" * extra_zeros if "." in f"{value:f}" else "")
    canonical = format(value.normalize(), "f")
    assert is_correct(f"The answer is {written}.", canonical)


@given(st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=6),
       st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=6))
def test_trigger_takes_first_number_after_it_else_last_number(before: list[int], after: list[int]) -> None:
    words_before = " then ".join(map(str, before))
    words_after = " and ".join(map(str, after))
    assert extract_answer(f"We saw {words_before}. The answer is {words_after}.") == str(after[0])
    assert extract_answer(f"We saw {words_before} and {words_after}.") == str(after[-1])
