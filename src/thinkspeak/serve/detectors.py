"""Turn detectors: how long a silence must last before it ends the user's turn, and whether a barge-in is real.

The listener's VAD finds speech and pauses; a turn detector decides, at each pause, how much silence ends the
turn. ``server_vad`` always waits ``silence_duration_ms`` (OpenAI's default, 500 ms). ``semantic_vad`` judges
the pause with a *turn model* chosen by name from :data:`TURN_MODELS` (``turn_detection.turn_model``, a
thinkspeak extension; ``thinkspeak serve --turn-model``):

* ``rule`` (default): the words before the pause, heard by ASR, sorted by :mod:`thinkspeak.speech.endpoint`;
* ``smart-turn``: Pipecat's Smart Turn v3.2 on the audio (:mod:`thinkspeak.speech.turn.smart_turn`);
* ``learned``: the learned head on Whisper-base encoder features (:mod:`thinkspeak.speech.turn.learned`);
* ``duplex``: the full-duplex Thinker's own probability of speaking next (:mod:`thinkspeak.speech.turn.duplex`);
* ``learned+rule``, ``smart-turn+rule``: the audio model and the words together (:class:`BothDecide`): the
  pause ends after the longer of their two silences, so each covers the other's blind spot -- the words hear
  that a word problem's first sentence asks nothing yet, the audio that a trail-off's words only look finished.

An audio model's P(complete) becomes a state (complete / unsure / incomplete) and ``eagerness`` maps the
state to a silence, as for the rule, so every model is tuned the same way; a model that can tell a
backchannel or a cough from a bid for the floor also confirms barge-ins. Any
:class:`~thinkspeak.speech.turn.EndOfTurnModel` (a full-duplex Thinker's end-of-turn probability included)
plugs in as one more entry: ``TURN_MODELS.register(name, lambda td: ModelDecides(model, EAGERNESS[td.eagerness]))``
or an entry point in the group ``thinkspeak.serve.turn_models``.

A detector that fails or takes longer than ``JUDGE_TIMEOUT_S`` never stalls a session: :func:`judge` logs it
and the pause gets server_vad's fixed silence; :func:`confirms_barge_in` lets the interruption through.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np

from thinkspeak.serve.registry import Registry
from thinkspeak.speech.endpoint import EAGERNESS, Eagerness, State, utterance_state

if TYPE_CHECKING:
    from thinkspeak.speech.turn import EndOfTurnModel

log = logging.getLogger("thinkspeak.serve")

#: the silence that ends a turn when a detector fails (server_vad's default)
FALLBACK_SILENCE_MS = 500
#: the longest a detector may take to judge a pause before the fallback applies
JUDGE_TIMEOUT_S = 2.0
#: P(complete) at or above which a pause sounds finished; below ``UNSURE_P`` it sounds unfinished
COMPLETE_P, UNSURE_P = 0.5, 0.1
#: P(backchannel or noise) at or above which speech during the assistant's turn does not interrupt it
BACKCHANNEL_P = 0.5
#: the same for the early verdict (speech still going on, judged on its first ``barge_in_verdict_ms``): an early
#: mistake is a false interruption, an unsure early verdict only waits for the pause's, so it must be sure
EARLY_BACKCHANNEL_P = 0.02


@dataclass(frozen=True)
class Pause:
    """What a detector may judge at a pause: ``audio`` (16 kHz) is the utterance so far, including the
    silence heard since the speech stopped; ``text`` its transcript (only for detectors that hear words)."""

    audio: np.ndarray
    text: str | None = None


class TurnDetector(Protocol):
    """``judges_pauses``: :meth:`silence_ms` is asked at each pause (else ``max_silence_ms`` always ends the
    turn); ``hears_words``: it needs the pause's transcript; ``judges_barge_ins``: :meth:`interrupts` decides
    whether speech during the assistant's turn is a real interruption (else its length does)."""

    judges_pauses: bool
    hears_words: bool
    judges_barge_ins: bool
    max_silence_ms: int

    def silence_ms(self, pause: Pause) -> int:
        """The silence (ms) that ends the turn after ``pause``."""

    def interrupts(self, audio: np.ndarray, early: bool = False) -> bool:
        """Whether ``audio`` (16 kHz speech heard while the assistant talks) takes the floor; ``early``: the
        speech is still going on (the early verdict), so only a sure interruption counts."""


@dataclass(frozen=True)
class FixedSilence:
    """``server_vad``: a fixed silence ends the turn."""

    max_silence_ms: int
    judges_pauses = hears_words = judges_barge_ins = False

    def silence_ms(self, pause: Pause) -> int:
        return self.max_silence_ms

    def interrupts(self, audio: np.ndarray, early: bool = False) -> bool:
        return True


@dataclass(frozen=True)
class WordsDecide:
    """``semantic_vad`` with the ``rule`` turn model: finished-sounding words end the turn sooner."""

    eagerness: Eagerness
    judges_pauses = hears_words = True
    judges_barge_ins = False

    @property
    def max_silence_ms(self) -> int:
        return self.eagerness.max_ms

    def silence_ms(self, pause: Pause) -> int:
        state = utterance_state(pause.text or "")
        log.debug("%r is %s", (pause.text or "")[-60:], state)
        return self.eagerness.silence_ms(state)

    def interrupts(self, audio: np.ndarray, early: bool = False) -> bool:
        return True


def probability_state(p: float) -> State:
    """A P(complete) as the rule's states: >= ``COMPLETE_P`` complete, >= ``UNSURE_P`` unsure, else incomplete."""
    return "complete" if p >= COMPLETE_P else "unsure" if p >= UNSURE_P else "incomplete"


@dataclass(frozen=True)
class ModelDecides:
    """``semantic_vad`` with an audio turn model: its P(complete) decides the silence (tuned by ``eagerness``);
    its P(backchannel), when it has one, decides barge-ins."""

    model: EndOfTurnModel
    eagerness: Eagerness
    judges_pauses = True
    hears_words = False

    @property
    def max_silence_ms(self) -> int:
        return self.eagerness.max_ms

    @property
    def judges_barge_ins(self) -> bool:
        return self.model.tells_backchannels

    def silence_ms(self, pause: Pause) -> int:
        p = self.model.probability(pause.audio)
        log.debug("%s: P(complete) %.2f", self.model.name, p)
        return self.eagerness.silence_ms(probability_state(p))

    def interrupts(self, audio: np.ndarray, early: bool = False) -> bool:
        threshold = EARLY_BACKCHANNEL_P if early else BACKCHANNEL_P
        return not self.model.tells_backchannels or self.model.backchannel(audio) < threshold


@dataclass(frozen=True)
class BothDecide:
    """Several turn models judge each pause; the turn ends after the longest silence any of them asks for (the
    most cautious), and barge-ins are judged by those that tell backchannels (all of them must let it through).
    Every judge reads the same :class:`Pause`; the words come once, from the server's own ASR."""

    detectors: tuple[TurnDetector, ...]
    judges_pauses = True

    def __post_init__(self) -> None:
        if len(self.detectors) < 2:
            raise ValueError(f"detectors must hold at least two turn detectors, got {len(self.detectors)}")

    @property
    def hears_words(self) -> bool:
        return any(d.hears_words for d in self.detectors)

    @property
    def judges_barge_ins(self) -> bool:
        return any(d.judges_barge_ins for d in self.detectors)

    @property
    def max_silence_ms(self) -> int:
        return max(d.max_silence_ms for d in self.detectors)

    def silence_ms(self, pause: Pause) -> int:
        return max(d.silence_ms(pause) for d in self.detectors)

    def interrupts(self, audio: np.ndarray, early: bool = False) -> bool:
        return all(d.interrupts(audio, early) for d in self.detectors if d.judges_barge_ins)


async def judge(detector: TurnDetector, audio: np.ndarray, transcript: asyncio.Future | None) -> int | None:
    """The silence that ends the turn after a pause (``audio``; ``transcript`` for detectors that hear words),
    judged in a worker thread. None when the words never came (the pause's speculation was discarded). A
    detector that raises or takes over ``JUDGE_TIMEOUT_S`` is logged and server_vad's silence is used."""
    text = None
    if detector.hears_words:
        if transcript is None:
            return None
        try:
            text = await asyncio.shield(transcript)
        except (asyncio.CancelledError, Exception):  # discarded speculation or ASR failure: the long wait stands
            return None
    try:
        return int(await asyncio.wait_for(asyncio.to_thread(detector.silence_ms, Pause(audio, text)),
                                          JUDGE_TIMEOUT_S))
    except Exception as exc:  # noqa: BLE001 -- any detector failure: fall back, never stall the session
        log.error("turn detector %s failed (%r); this pause ends after server_vad's %d ms", type(detector).__name__,
                  exc, FALLBACK_SILENCE_MS)
        return FALLBACK_SILENCE_MS


async def confirms_barge_in(detector: TurnDetector, audio: np.ndarray, early: bool = False) -> bool:
    """Whether speech heard while the assistant talks interrupts it (``early``: judged before its pause); a
    failing detector lets it through."""
    try:
        return bool(await asyncio.wait_for(asyncio.to_thread(detector.interrupts, audio, early), JUDGE_TIMEOUT_S))
    except Exception as exc:  # noqa: BLE001 -- fall back to the length rule: the speech was long enough
        log.error("turn detector %s failed on a barge-in (%r); interrupting", type(detector).__name__, exc)
        return True


#: turn models of ``semantic_vad`` by name: ``factory(detection: TurnDetection) -> TurnDetector``
TURN_MODELS: Registry = Registry("turn_models")
TURN_MODELS.register("rule", lambda td: WordsDecide(EAGERNESS[td.eagerness]))


@TURN_MODELS.register("smart-turn")
def _smart_turn(td) -> ModelDecides:
    from thinkspeak.speech.turn.smart_turn import load_smart_turn

    return ModelDecides(load_smart_turn(), EAGERNESS[td.eagerness])


@TURN_MODELS.register("learned")
def _learned(td) -> ModelDecides:
    from thinkspeak.speech.turn.learned import load_learned

    return ModelDecides(load_learned(), EAGERNESS[td.eagerness])


@TURN_MODELS.register("duplex")
def _duplex(td) -> ModelDecides:
    from thinkspeak.speech.turn.duplex import load_duplex_turn

    return ModelDecides(load_duplex_turn(), EAGERNESS[td.eagerness])


for _audio in ("learned", "smart-turn"):
    TURN_MODELS.register(f"{_audio}+rule", lambda td, _audio=_audio: BothDecide((TURN_MODELS.create(_audio, td),
                                                                               TURN_MODELS.create("rule", td))))

#: turn detectors by ``turn_detection.type``: ``factory(detection: TurnDetection) -> TurnDetector``
TURN_DETECTORS: Registry = Registry("turn_detectors")
TURN_DETECTORS.register("server_vad", lambda td: FixedSilence(td.silence_duration_ms))
TURN_DETECTORS.register("semantic_vad", lambda td: TURN_MODELS.create(td.turn_model, td))


@TURN_DETECTORS.register("duplex")
def _duplex_floor(td):
    from thinkspeak.serve.floor import duplex_floor

    return duplex_floor(td)
