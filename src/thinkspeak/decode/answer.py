"""The answer a spoken response states (re-exported from :mod:`thinkspeak.text.answers`).

The decoder's ``Done.answer`` and the server's are the number *as written* ("3/4", "2.5", "-7"), the form of
the corpus's canonical answers; the scorer's numeric normalisation ("3/4" -> "0.75") is left to
:func:`thinkspeak.eval.spoken_mqa.score`, which reads the same number with the same rule.
"""

from __future__ import annotations

from thinkspeak.text.answers import stated_number


def spoken_answer(text: str) -> str | None:
    """The number ``text`` gives as its answer, or None (:func:`thinkspeak.text.answers.stated_number`).

    >>> spoken_answer("Three and four make seven. The answer is 7.")
    '7'
    """
    if not isinstance(text, str):
        raise ValueError(f"text must be a str, got {type(text).__name__}")
    return stated_number(text)
