"""Text normalisation shared by data and eval: numbers as spoken words and back (see :mod:`.numbers`)."""

from thinkspeak.text.numbers import (
    canonical_number,
    money_words,
    number_to_words,
    ordinal_words,
    spoken_form,
    time_words,
    words_to_digits,
)

__all__ = [
    "canonical_number",
    "money_words",
    "number_to_words",
    "ordinal_words",
    "spoken_form",
    "time_words",
    "words_to_digits",
]
