"""The turn state machine of one session: speech frames in, actions out -- no sockets, no models, no clock.

States (:class:`TurnState`) and the frames that move between them (``audible``: a response runs or its audio
is still playing at the client; ``interrupt``/``create``: the session's turn detection allows it):

===================  ===================================  ========================================================
state                frame                                next state, actions
===================  ===================================  ========================================================
idle / responding    speech start, not audible            user_speaking; announce (speech_started)
idle / responding    speech start, audible + interrupt    possible_barge_in; hold the assistant's output
possible_barge_in    speech long (length rule)            user_speaking; announce, interrupt (cancel + truncate)
possible_barge_in    voiced for the verdict span (same)   judge the speech so far; verdict: interrupt, or wait
possible_barge_in    pause (detector tells backchannels)  judge it; verdict: interrupt, or end the speech now
possible_barge_in    pause (otherwise)                    end the speech after server_vad's silence at the most
possible_barge_in    speech end                           idle / responding; release output (false interruption)
possible_barge_in    floor yield (duplex)                 user_speaking; announce, interrupt
user_speaking        pause, create and not responding     speculating; speculate (hear + answer, buffered)
user_speaking        pause, words decide the end          paused; hear the pause
speculating/paused   resume                               user_speaking; discard / drop the hearing
user_speaking ...    speech end                           responding / idle; speech_stopped, commit the item with
                                                          the speculation going live, or a new response
any                  response start                       responding; discard any speculation
any                  forget / commit (client)             idle / responding; drop what was under way
===================  ===================================  ========================================================

A pause decides the end of turn when the turn detector judges pauses (``semantic_vad``: its turn model hears the
words or the audio before the pause and the session sets the silence that ends the turn,
:mod:`thinkspeak.serve.detectors`). Speech while the assistant talks interrupts it once it has lasted the
barge-in minimum, unless the detector tells backchannels and coughs from interruptions: then its verdict
decides, on the speech so far once it has stayed voiced for the verdict span (``barge_in_verdict_ms``, 800 ms:
few backchannels last that long) or at its first pause, whichever comes first; an early "not an interruption"
waits for the pause's verdict. A detector that ``owns_floor`` (``type: duplex``, :mod:`thinkspeak.serve.floor`)
holds no output during a possible barge-in and judges no pause: the full-duplex model yields
(:class:`~thinkspeak.serve.frames.FloorYieldFrame`), takes the floor or keeps it, and the listener ends the speech. The speculation and the barge-in are Mini-Omni-Reasoner's real-time interaction loop made
explicit: speak while the user may still go on, but never let a discarded guess reach the client.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum

from thinkspeak.serve import frames as F
from thinkspeak.serve.config import TurnDetection
from thinkspeak.serve.detectors import FALLBACK_SILENCE_MS
from thinkspeak.serve.protocol import new_id


def owns_floor(td: TurnDetection) -> bool:
    """The detector is a full-duplex model deciding the floor itself (``type: duplex``)."""
    return getattr(td.detector, "owns_floor", False)


class TurnState(Enum):
    IDLE = "idle"
    RESPONDING = "responding"
    USER_SPEAKING = "user_speaking"
    POSSIBLE_BARGE_IN = "possible_barge_in"
    SPECULATING = "speculating"
    PAUSED = "paused"


class TurnMachine:
    """Push frames with :meth:`push`; carry out the actions it returns, in order.

    ``playing()`` says whether the last answer's audio is still playing at the client after it finished.
    """

    def __init__(self, detection: TurnDetection | None, *, playing: Callable[[], bool] = lambda: False) -> None:
        self.detection = detection
        self.playing = playing
        self.responding = False
        self.speech: F.Speech | None = None
        self.spec: F.Speculation | None = None
        self.pause: F.PauseHearing | None = None
        self.barge_pause: F.SpeechPauseFrame | None = None

    @property
    def state(self) -> TurnState:
        if self.speech is None:
            return TurnState.RESPONDING if self.responding else TurnState.IDLE
        if not self.speech.announced:
            return TurnState.POSSIBLE_BARGE_IN
        if self.spec is not None:
            return TurnState.SPECULATING
        return TurnState.PAUSED if self.pause is not None else TurnState.USER_SPEAKING

    def push(self, frame: object) -> list[F.Action]:
        """Apply one frame; return the actions that carry it out."""
        if isinstance(frame, F.ResponseStartFrame | F.ResponseEndFrame):
            self.responding = isinstance(frame, F.ResponseStartFrame)
            return self._discard() if self.responding else []  # a response began: no guess may go live now
        if isinstance(frame, F.FloorStateFrame):
            return [F.FloorAction(frame.at_ms, frame.speaking, frame.p_speak)]
        if isinstance(frame, F.ForgetFrame):
            released = [F.ReleaseOutputAction()] if self.speech is not None and not self.speech.announced else []
            self.speech = None
            return [*self._void(), *released]
        if isinstance(frame, F.CommitFrame):
            item_id = self.speech.item_id if self.speech is not None else new_id("item")
            return [*self.push(F.ForgetFrame()), F.CommitBufferAction(item_id)]
        td = self.detection
        if td is None:
            return []
        if isinstance(frame, F.SpeechStartFrame):
            barge = td.interrupt_response and (self.responding or self.playing())
            self.speech, self.barge_pause = F.Speech(new_id("item"), frame.start_ms, announced=not barge), None
            if barge:
                return [] if owns_floor(td) else [F.HoldOutputAction()]
            return [F.AnnounceAction(self.speech.item_id, frame.start_ms)]
        speech = self.speech
        if speech is None:
            return []
        if isinstance(frame, F.FloorYieldFrame):
            return self._interrupt() if not speech.announced else []
        if isinstance(frame, F.SpeechLongFrame) and not speech.announced and not td.detector.judges_barge_ins:
            return self._interrupt()
        if isinstance(frame, F.SpeechVoicedFrame):
            if speech.announced or owns_floor(td) or not td.detector.judges_barge_ins:
                return []
            return [F.JudgeBargeInAction(frame.at_ms, frame.audio, speech.item_id, early=True)]
        if isinstance(frame, F.SpeechPauseFrame):
            return self._paused(frame, td) if speech.announced else self._barge_pause(frame, td)
        if isinstance(frame, F.BargeInVerdictFrame):
            return self._verdict(frame, speech, td)
        if isinstance(frame, F.SpeechResumeFrame):
            return self._void()
        if isinstance(frame, F.SpeechEndFrame):
            return self._ended(frame, td)
        return []

    def _interrupt(self) -> list[F.Action]:
        self.speech.announced = True
        return [F.AnnounceAction(self.speech.item_id, self.speech.start_ms), F.InterruptAction()]

    def _verdict(self, frame: F.BargeInVerdictFrame, speech: F.Speech, td: TurnDetection) -> list[F.Action]:
        """The detector's verdict on a barge-in, at its pause (``barge_pause``) or early (no pause yet)."""
        if frame.item_id not in (None, speech.item_id):
            return []  # judged an earlier speech
        pause = self.barge_pause if self.barge_pause is not None and self.barge_pause.end_ms == frame.end_ms else None
        if pause is not None:
            self.barge_pause = None
        if speech.announced:  # an early verdict interrupted already: the pause is the user's own now
            return self._paused(pause, td) if pause is not None else []
        if frame.interrupts:
            return self._interrupt() + (self._paused(pause, td) if pause is not None else [])
        return [F.EndPauseAction(frame.end_ms, 0)] if pause is not None else []

    def _barge_pause(self, frame: F.SpeechPauseFrame, td: TurnDetection) -> list[F.Action]:
        """A pause in speech heard while the assistant talks: a detector that tells backchannels judges it;
        otherwise the speech was too short to interrupt, and at most server_vad's silence ends it."""
        if owns_floor(td):
            return []  # the model keeps the floor (the listener ends the speech) or yields
        if td.detector.judges_barge_ins:
            self.barge_pause = frame
            return [F.JudgeBargeInAction(frame.end_ms, frame.audio, self.speech.item_id)]
        if td.detector.max_silence_ms > FALLBACK_SILENCE_MS:
            return [F.EndPauseAction(frame.end_ms, FALLBACK_SILENCE_MS)]
        return []

    def _paused(self, frame: F.SpeechPauseFrame, td: TurnDetection) -> list[F.Action]:
        out = self._drop_pause()
        if td.create_response and not self.responding:
            out += self._discard()
            self.spec = F.Speculation(self.speech.item_id, frame.end_ms, frame.audio, frame.arrived)
            out.append(F.SpeculateAction(self.spec, endpoint=td.detector.judges_pauses))
        elif td.detector.judges_pauses:
            self.pause = F.PauseHearing(frame.end_ms, frame.audio)
            out.append(F.HearPauseAction(self.pause))
        return out

    def _ended(self, frame: F.SpeechEndFrame, td: TurnDetection) -> list[F.Action]:
        speech, self.speech = self.speech, None
        if not speech.announced:
            return [F.ReleaseOutputAction(false_interruption=True)]
        out: list[F.Action] = [F.StoppedAction(speech.item_id, frame.end_ms)]
        spec = self.spec if self.spec is not None and self.spec.end_ms == frame.end_ms else None
        if spec is None:
            out += self._discard()
        self.spec = None
        pause = self.pause if self.pause is not None and self.pause.end_ms == frame.end_ms and spec is None else None
        if pause is None:
            out += self._drop_pause()
        self.pause = None
        respond = spec is None and td.create_response and not self.responding
        out.append(F.CommitSpeechAction(speech.item_id, frame.audio, frame.arrived, spec=spec, pause=pause,
                                        respond=respond))
        return out

    def _void(self) -> list[F.Action]:
        self.barge_pause = None
        return [*self._drop_pause(), *self._discard()]

    def _discard(self) -> list[F.Action]:
        spec, self.spec = self.spec, None
        return [F.DiscardAction(spec)] if spec is not None else []

    def _drop_pause(self) -> list[F.Action]:
        pause, self.pause = self.pause, None
        return [F.DropPauseAction(pause)] if pause is not None else []
