"""The number a response states as its answer -- the Spoken-MQA reading rule, shared by the decoder (which
reports ``answer``) and the scorer (:mod:`thinkspeak.eval.spoken_mqa`, which normalises it and compares).

The rule (AudioBench's Spoken-MQA scorer, steps 1-3 of :mod:`thinkspeak.eval.spoken_mqa`):

1. strip newlines from both ends; if a trigger occurs more than once, keep the text before the first blank
   line (AudioBench's guard against few-shot transcripts);
2. split on the triggers ``"The answer is:"``, ``"The answer is"``, ``"the answer is"``: after a trigger the
   FIRST number of the text after the LAST trigger, without one the LAST number of the response;
3. drop a trailing ``.``/``/``, surrounding spaces and every comma ("1,200" -> "1200"); numbers match
   ``-?\\d+/?\\.?\\d*`` ("3/4", "-2.5" and "12." are single matches).
"""

from __future__ import annotations

import re

TRIGGERS = ("The answer is:", "The answer is", "the answer is")
NUMBER_PATTERN = re.compile(r"-?\d+/?\.?\d*")

_TRIGGER_SPLIT = re.compile("|".join(re.escape(t) for t in TRIGGERS))


def stated_number(response: str) -> str | None:
    """The answer ``response`` states, *as written* ("3/4", "2.5", "-7"; trailing "." or "/" dropped), or None
    when it holds no number (after the trigger, if there is one).

    >>> stated_number("Three and four make seven. The answer is 7.")
    '7'
    >>> stated_number("We get 1,200 in all")
    '1200'
    """
    if not isinstance(response, str):
        raise ValueError(f"response must be a str, got {type(response).__name__}")
    text = response.strip("\n")
    if any(text.count(trigger) > 1 for trigger in TRIGGERS):
        text = text.split("\n\n")[0]
    parts = _TRIGGER_SPLIT.split(text)
    tail = parts[-1].strip("\n").rstrip(".").rstrip("/").strip(" ").replace(",", "")
    numbers = NUMBER_PATTERN.findall(tail)
    if not numbers:
        return None
    return (numbers[0] if len(parts) > 1 else numbers[-1]).rstrip(".").rstrip("/") or None
