"""The turn state machine of one session: speech frames in, actions out -- no sockets, no models, no clock.

States (:class:`TurnState`) and the frames that move between them (``audible``: a response runs or its audio
is still playing at the client; ``interrupt``/``create``: the session's turn detection allows it):

===================  ===================================  ========================================================
state                frame                                next state, actions
===================  ===================================  ========================================================
idle / responding    speech start, not audible            user_speaking; announce (speech_started)
idle / responding    speech start, audible + interrupt    possible_barge_in; hold the assistant's output
possible_barge_in    speech long                          user_speaking; announce, interrupt (cancel + truncate)
possible_barge_in    speech end                           idle / responding; release output (false interruption)
user_speaking        pause, create and not responding     speculating; speculate (hear + answer, buffered)
user_speaking        pause, words decide the end          paused; hear the pause
speculating/paused   resume                               user_speaking; discard / drop the hearing
user_speaking ...    speech end                           responding / idle; speech_stopped, commit the item with
                                                          the speculation going live, or a new response
any                  response start                       responding; discard any speculation
any                  forget / commit (client)             idle / responding; drop what was under way
===================  ===================================  ========================================================

A pause's words decide the end of turn when the turn detector hears words (``semantic_vad``; the session then
sets the silence that ends the turn from them, :mod:`thinkspeak.serve.detectors`). The speculation and the barge-in are Mini-Omni-Reasoner's real-time interaction loop made
explicit: speak while the user may still go on, but never let a discarded guess reach the client.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum

from thinkspeak.serve import frames as F
from thinkspeak.serve.config import TurnDetection
from thinkspeak.serve.protocol import new_id


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
            self.speech = F.Speech(new_id("item"), frame.start_ms, announced=not barge)
            return [F.HoldOutputAction()] if barge else [F.AnnounceAction(self.speech.item_id, frame.start_ms)]
        speech = self.speech
        if speech is None:
            return []
        if isinstance(frame, F.SpeechLongFrame) and not speech.announced:
            speech.announced = True
            return [F.AnnounceAction(speech.item_id, speech.start_ms), F.InterruptAction()]
        if isinstance(frame, F.SpeechPauseFrame) and speech.announced:
            return self._paused(frame, td)
        if isinstance(frame, F.SpeechResumeFrame):
            return self._void()
        if isinstance(frame, F.SpeechEndFrame):
            return self._ended(frame, td)
        return []

    def _paused(self, frame: F.SpeechPauseFrame, td: TurnDetection) -> list[F.Action]:
        out = self._drop_pause()
        if td.create_response and not self.responding:
            out += self._discard()
            self.spec = F.Speculation(self.speech.item_id, frame.end_ms, frame.audio, frame.arrived)
            out.append(F.SpeculateAction(self.spec, endpoint=td.detector.hears_words))
        elif td.detector.hears_words:
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
        return [*self._drop_pause(), *self._discard()]

    def _discard(self) -> list[F.Action]:
        spec, self.spec = self.spec, None
        return [F.DiscardAction(spec)] if spec is not None else []

    def _drop_pause(self) -> list[F.Action]:
        pause, self.pause = self.pause, None
        return [F.DropPauseAction(pause)] if pause is not None else []
