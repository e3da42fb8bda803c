"""Semantic end-of-turn detection: how long a pause must last depends on whether the words sound finished.

Silence alone is a poor end-of-turn signal: "what is twelve times" followed by a breath is not a question yet,
while "what is twelve times seven?" is finished after a fifth of a second. OpenAI's Realtime API calls the
content-aware detector ``semantic_vad`` (``turn_detection: {"type": "semantic_vad", "eagerness": ...}``);
thinkspeak implements it on the transcript of the utterance so far, which the server computes anyway at the
*tentative* end of speech to decode speculatively (docs/server.md):

* :func:`utterance_state` sorts a transcript into ``complete`` (its last sentence is a finished question or
  request: it ends in ``?``, or in ``.``/``!`` with a question word or a request verb -- "what", "how", "tell",
  "calculate"...), ``incomplete`` (it ends on a word that cannot end an English sentence -- a conjunction, a
  preposition, an arithmetic operator, a filler -- or on a comma or an ellipsis) or ``unsure`` (anything
  else, e.g. a statement such as "Tom has 23 apples." that a word problem's question usually follows);
* :data:`EAGERNESS` maps each state to the silence that ends the turn. ``low`` lets the user take their time,
  ``high`` answers as soon as the words allow; the longest waits (8 / 4 / 2 s for low / medium / high) are
  the ones OpenAI documents for its semantic VAD. ``auto`` is ``medium``.

Whisper punctuates its transcripts, so a finished question usually ends in ``?`` or ``.``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

State = Literal["complete", "unsure", "incomplete"]

#: words after which an English utterance is not over, whatever the punctuation (lower case, no apostrophes):
#: articles, conjunctions, prepositions, arithmetic operators, fillers.
DANGLING = frozenset("""
    a an the and or but so because if then than that which whose of to for from in on at by with about into
    onto over under between per plus minus times divided multiplied add subtract um uh er erm hmm like lets
""".split())

#: words that end a question only when the transcript says so ("what do I have?" but "what do I have").
WEAK = frozenset("""
    is are was were be been am do does did has have had will would can could should what whats how many much
    equals my your his her their our
""".split())

#: words that make a sentence ending in "." or "!" a question or a request.
ASKING = frozenset("""
    what whats how which who whom whose when where why is are was were can could do does did will would should
    calculate compute find solve tell give work add subtract multiply divide please
""".split())

_SENTENCE_END = re.compile(r"[.?!]+\s+")
_WORD = re.compile(r"[a-z']+|\d+", re.IGNORECASE)


def utterance_state(text: str) -> State:
    """Whether a transcript sounds like a finished turn: ``complete``, ``incomplete`` or ``unsure``.

    >>> utterance_state("What is twelve times seven?")
    'complete'
    >>> utterance_state("What is twelve times")
    'incomplete'
    >>> utterance_state("what is twelve times seven")
    'unsure'
    >>> utterance_state("Tom has 23 apples and gives away 9.")
    'unsure'
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    stripped = text.strip()
    words = _WORD.findall(stripped)
    if not words:
        return "incomplete"
    if stripped.endswith((",", "...", "\u2026", "-", ":", ";")):
        return "incomplete"
    last = words[-1].lower().replace("'", "")
    finished = stripped.endswith((".", "?", "!"))
    if last in DANGLING or (last in WEAK and not finished):
        return "incomplete"
    if stripped.endswith("?"):
        return "complete"
    sentence = _SENTENCE_END.split(stripped)[-1]
    asking = any(w.lower().replace("'", "") in ASKING for w in _WORD.findall(sentence))
    return "complete" if finished and asking else "unsure"


@dataclass(frozen=True)
class Eagerness:
    """Silence (ms) that ends a turn for each :data:`State` of its transcript; ``max_ms`` when none is known."""

    complete_ms: int
    unsure_ms: int
    max_ms: int

    def silence_ms(self, state: State) -> int:
        return {"complete": self.complete_ms, "unsure": self.unsure_ms, "incomplete": self.max_ms}[state]


EAGERNESS: dict[str, Eagerness] = {
    "low": Eagerness(complete_ms=600, unsure_ms=1500, max_ms=8000),
    "medium": Eagerness(complete_ms=250, unsure_ms=700, max_ms=4000),
    "high": Eagerness(complete_ms=100, unsure_ms=300, max_ms=2000),
}
EAGERNESS["auto"] = EAGERNESS["medium"]
