"""Text normalisation shared by data and eval: numbers as spoken words and back (see :mod:`.numbers` and :mod:`.reading`)."""

from thinkspeak.text.numbers import money_words, number_to_words, ordinal_words, spoken_form, time_words
from thinkspeak.text.reading import NumberSpan, canonical_number, find_numbers, words_to_digits

__all__ = [
    "NumberSpan",
    "canonical_number",
    "find_numbers",
    "money_words",
    "number_to_words",
    "ordinal_words",
    "spoken_form",
    "time_words",
    "words_to_digits",
]
