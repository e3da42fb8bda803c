"""Typed and heard numbers in the corpus's written form (text/written.py)."""

import re

from hypothesis import assume, example, given
from hypothesis import strategies as st

from thinkspeak.text.numbers import spoken_form
from thinkspeak.text.written import corpus_numbers

numbers = st.integers(min_value=0, max_value=10**12)


@given(numbers, numbers, st.sampled_from(["+", "-", "×", "x", "*", "/", "÷", "="]), st.sampled_from(["", " "]))
def test_grouped_numbers_and_operators_become_the_corpus_form(a, b, op, space):
    assume(op != "/" or space)  # "3/4" unspaced is a fraction (below)
    words = {"+": "plus", "-": "minus", "×": "times", "x": "times", "*": "times", "/": "divided by",
             "÷": "divided by", "=": "equals"}[op]
    heard = f"So, {a:,}{space}{op}{space}{b:,}."
    assert corpus_numbers(heard) == f"So, {a} {words} {b}."


NUMBER_WORD = re.compile(r"(?i)zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|teen|ty|hundred"
                         r"|thousand|illion|half|halves|third|quarter|fifth|sixth|seventh|eighth|ninth|th\b|point|minus"
                         r"|negative|percent|dollar|cent")


@given(st.text(alphabet=st.characters(blacklist_categories=("Nd",)), max_size=60))
def test_text_without_numbers_is_unchanged(text):
    assume(not NUMBER_WORD.search(text))
    assert corpus_numbers(text) == text


@given(numbers, numbers, st.sampled_from(["plus", "minus", "times", "divided by"]),
       st.sampled_from(["What is {a} {op} {b}?", "quick one: {a} {op} {b}?", "{a} {op} {b}, what do you get?"]))
@example(23, 19, "plus", "What is {a} {op} {b}?")
@example(1, 1, "plus", "What is {a} {op} {b}?")
def test_typed_number_words_become_digits(a, b, op, template):
    """The inverse of the corpus's own number-word phrasing (spoken_form): "twenty-three plus nineteen"."""
    typed = template.format(a=a, b=b, op=op)
    assert corpus_numbers(spoken_form(typed)) == typed


def test_a_pronoun_one_stays_a_word():
    assert corpus_numbers("Which one is bigger, seven or nine?") == "Which one is bigger, 7 or 9?"
    assert corpus_numbers("Quick one: twenty-eight plus fifty-five?") == "Quick one: 28 plus 55?"
    assert corpus_numbers("the third one") == "the third one"
    assert corpus_numbers("what is one plus one") == "what is 1 plus 1"
    assert corpus_numbers("add one and 5") == "add 1 and 5"
    assert corpus_numbers("one, two, three") == "1, 2, 3"


def test_fractions_money_and_divisions_keep_the_corpus_forms():
    assert corpus_numbers("Three quarters of them are red.") == "3/4 of them are red."
    assert corpus_numbers("A quarter of them walk to school.") == "A quarter of them walk to school."  # the template's
    assert corpus_numbers("a hundred minus one") == "100 minus 1"
    assert corpus_numbers("3/4 of them are red.") == "3/4 of them are red."
    assert corpus_numbers("84 / 7") == "84 divided by 7"
    assert corpus_numbers("It costs four dollars and fifty cents.") == "It costs $4.50."
    assert corpus_numbers("twenty three + nineteen") == "23 plus 19"


def test_lists_decimals_and_words_stay_readable():
    assert corpus_numbers("Add 12, 30 and 7.") == "Add 12, 30 and 7."  # a list, not a grouped number
    assert corpus_numbers("It costs 1,285.92 dollars.") == "It costs $1285.92."
    assert corpus_numbers("What is 1,000 plus 2?") == "What is 1000 plus 2?"
    assert corpus_numbers("a well-known x-ray") == "a well-known x-ray"


PIECES = [*"0123456789 ,.-+x*/=$%", " one", " two", " twenty", " hundred", " thousand", " and", " a", " half",
          " quarter", " minus", " point", " plus", " dollars", " cents", " percent", " times"]


@given(st.lists(st.sampled_from(PIECES), max_size=24).map("".join))
def test_any_mix_of_digits_symbols_and_number_words_reads_without_error(text):
    assert isinstance(corpus_numbers(text), str)
