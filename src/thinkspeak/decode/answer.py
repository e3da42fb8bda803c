"""The answer a spoken response states, read with the Spoken-MQA rule.

Spoken-MQA (as scored by AudioBench; see :mod:`thinkspeak.eval.spoken_mqa`) reads the FIRST number after the
last "The answer is" / "The answer is:" / "the answer is" in the response, or the LAST number of the response
when no trigger occurs; commas inside numbers are dropped. This returns that number *as written* ("3/4",
"2.5", "-7"), the form of the corpus's canonical answers; the scorer's numeric normalisation ("3/4" ->
"0.75") is left to :func:`thinkspeak.eval.spoken_mqa.score`, which gives the same verdict on this string as
on the whole response (AudioBench's guard for few-shot transcripts, cutting at the first blank line when a
trigger repeats, is not applied: a decoded response is one turn).
"""

from __future__ import annotations

import re

_TRIGGER = re.compile(r"The answer is:?|the answer is")
_NUMBER = re.compile(r"-?\d+/?\.?\d*")


def spoken_answer(text: str) -> str | None:
    """The number ``text`` gives as its answer, or None when it holds no number (after the trigger, if any).

    >>> spoken_answer("Three and four make seven. The answer is 7.")
    '7'
    >>> spoken_answer("We get 1,200 in all")
    '1200'
    """
    if not isinstance(text, str):
        raise ValueError(f"text must be a str, got {type(text).__name__}")
    parts = _TRIGGER.split(text)
    numbers = _NUMBER.findall(parts[-1].replace(",", ""))
    if not numbers:
        return None
    number = numbers[0] if len(parts) > 1 else numbers[-1]
    return number.rstrip("./") or None
