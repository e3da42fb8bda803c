"""Turn detectors: how long a silence must last before it ends the user's turn.

The listener's VAD finds speech and pauses; a turn detector decides, at a pause, how much silence ends the
turn. ``server_vad`` always waits ``silence_duration_ms`` (OpenAI's default, 500 ms); ``semantic_vad`` hears
the words before the pause and waits less when they sound finished (:mod:`thinkspeak.speech.endpoint`). Both
are entries of :data:`TURN_DETECTORS`, keyed by the protocol's ``turn_detection.type``; a learned detector
registers a factory under its own type and is chosen by clients the same way.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from thinkspeak.serve.registry import Registry
from thinkspeak.speech.endpoint import EAGERNESS, Eagerness, utterance_state

if TYPE_CHECKING:
    pass

log = logging.getLogger("thinkspeak.serve")


class TurnDetector(Protocol):
    """``hears_words``: :meth:`silence_ms` needs the transcript of the speech before each pause;
    ``max_silence_ms``: the silence that ends a turn when nothing else does."""

    hears_words: bool
    max_silence_ms: int

    def silence_ms(self, text: str) -> int:
        """The silence (ms) that ends the turn after a pause following ``text``."""


@dataclass(frozen=True)
class FixedSilence:
    """``server_vad``: a fixed silence ends the turn."""

    max_silence_ms: int
    hears_words = False

    def silence_ms(self, text: str) -> int:
        return self.max_silence_ms


@dataclass(frozen=True)
class WordsDecide:
    """``semantic_vad``: finished-sounding words end the turn sooner (tuned by ``eagerness``)."""

    eagerness: Eagerness
    hears_words = True

    @property
    def max_silence_ms(self) -> int:
        return self.eagerness.max_ms

    def silence_ms(self, text: str) -> int:
        state = utterance_state(text)
        log.debug("%r is %s", text[-60:], state)
        return self.eagerness.silence_ms(state)


#: turn detectors by ``turn_detection.type``: ``factory(detection: TurnDetection) -> TurnDetector``
TURN_DETECTORS: Registry = Registry("turn_detectors")
TURN_DETECTORS.register("server_vad", lambda td: FixedSilence(td.silence_duration_ms))
TURN_DETECTORS.register("semantic_vad", lambda td: WordsDecide(EAGERNESS[td.eagerness]))
