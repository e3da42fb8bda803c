"""ASR transcripts' numbers in the corpus's written form (text/written.py)."""

from hypothesis import given
from hypothesis import strategies as st

from thinkspeak.text.written import corpus_numbers

numbers = st.integers(min_value=0, max_value=10**12)


@given(numbers, numbers, st.sampled_from(["+", "-", "×", "x", "*", "/", "÷", "="]), st.sampled_from(["", " "]))
def test_grouped_numbers_and_operators_become_the_corpus_form(a, b, op, space):
    words = {"+": "plus", "-": "minus", "×": "times", "x": "times", "*": "times", "/": "divided by",
             "÷": "divided by", "=": "equals"}[op]
    heard = f"So, {a:,}{space}{op}{space}{b:,}."
    assert corpus_numbers(heard) == f"So, {a} {words} {b}."


@given(st.text(alphabet=st.characters(blacklist_categories=("Nd",)), max_size=60))
def test_text_without_digits_is_unchanged(text):
    assert corpus_numbers(text) == text


def test_lists_decimals_and_words_stay_readable():
    assert corpus_numbers("Add 12, 30 and 7.") == "Add 12, 30 and 7."  # a list, not a grouped number
    assert corpus_numbers("It costs 1,285.92 dollars.") == "It costs 1285.92 dollars."
    assert corpus_numbers("What is 1,000 plus 2?") == "What is 1000 plus 2?"
    assert corpus_numbers("a well-known x-ray") == "a well-known x-ray"
