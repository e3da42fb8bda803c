"""Text normalisation shared by data and eval: numbers as spoken words and back (see :mod:`.numbers`)."""

from thinkspeak.text.numbers import (
    NumberSpan,
    canonical_number,
    find_numbers,
    money_words,
    number_to_words,
    ordinal_words,
    spoken_form,
    time_words,
    words_to_digits,
)

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
