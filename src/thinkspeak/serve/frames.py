"""The typed frames that flow between the stages of a session (pipecat's frames, in one place).

* listener -> turn machine: what the user's voice did, in session time (ms of audio since the session began):
  :class:`SpeechStartFrame`, :class:`SpeechLongFrame`, :class:`SpeechVoicedFrame`, :class:`SpeechPauseFrame`,
  :class:`SpeechResumeFrame`, :class:`SpeechEndFrame`;
* session -> turn machine: :class:`ResponseStartFrame`, :class:`ResponseEndFrame`, :class:`ForgetFrame`,
  :class:`CommitFrame` (what the client or the response lifecycle did), :class:`BargeInVerdictFrame` (what the
  turn detector made of a barge-in);
* listener -> turn machine, duplex mode: :class:`FloorYieldFrame` (the full-duplex model gave the floor up to
  an interruption), :class:`FloorStateFrame` (who holds the floor, for the client);
* turn machine -> session: the actions of :mod:`thinkspeak.serve.turns` (``*Action``), which the session
  carries out on the socket, the hearing and the responses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class SpeechStartFrame:
    """Speech began; its audio (with pre-roll) starts at ``start_ms``."""

    at_ms: int
    start_ms: int


@dataclass(frozen=True)
class SpeechLongFrame:
    """The speech in progress has lasted the barge-in minimum while still voiced (a real interruption)."""

    at_ms: int


@dataclass(frozen=True)
class SpeechVoicedFrame:
    """The speech in progress has lasted the barge-in verdict span while still voiced: ``audio`` (16 kHz) is the
    speech so far, for a turn detector that tells backchannels from interruptions to judge before any pause."""

    at_ms: int
    audio: np.ndarray = field(repr=False, compare=False)


@dataclass(frozen=True)
class SpeechPauseFrame:
    """Tentative end of turn: speech ended at ``end_ms``; ``audio`` (16 kHz) is the utterance so far and
    ``arrived`` the wall time its last voiced audio reached the server."""

    at_ms: int
    end_ms: int
    audio: np.ndarray = field(repr=False, compare=False)
    arrived: float | None = field(default=None, compare=False)


@dataclass(frozen=True)
class SpeechResumeFrame:
    """Speech came back after a pause: whatever was started on the pause is void."""

    at_ms: int


@dataclass(frozen=True)
class SpeechEndFrame:
    """The turn ended: speech ended at ``end_ms``; ``audio`` (16 kHz) is the utterance."""

    at_ms: int
    end_ms: int
    audio: np.ndarray = field(repr=False, compare=False)
    arrived: float | None = field(default=None, compare=False)


SpeechFrame = (SpeechStartFrame | SpeechLongFrame | SpeechVoicedFrame | SpeechPauseFrame | SpeechResumeFrame
               | SpeechEndFrame)


@dataclass(frozen=True)
class BargeInVerdictFrame:
    """The turn detector judged the speech heard while the assistant talked, up to ``end_ms`` (its pause, or
    the early verdict's point): ``interrupts`` (a bid for the floor) or not (a backchannel, a cough);
    ``item_id``: the speech judged (a verdict on an earlier speech is ignored)."""

    end_ms: int
    interrupts: bool
    item_id: str | None = None


@dataclass(frozen=True)
class FloorYieldFrame:
    """Duplex mode (:mod:`thinkspeak.serve.floor`): the model yielded the floor to the user speaking over it."""

    at_ms: int
    p_speak: float = field(default=0.0, compare=False)


@dataclass(frozen=True)
class FloorStateFrame:
    """Duplex mode: the full-duplex model's channel went speaking (it holds the floor) or silent."""

    at_ms: int
    speaking: bool
    p_speak: float = field(default=0.0, compare=False)


@dataclass(frozen=True)
class ResponseStartFrame:
    """A response became the session's live one."""


@dataclass(frozen=True)
class ResponseEndFrame:
    """The session's live response finished (completed, cancelled or failed)."""


@dataclass(frozen=True)
class ForgetFrame:
    """Drop the speech in progress (``input_audio_buffer.clear``, a new turn detection or input rate)."""


@dataclass(frozen=True)
class CommitFrame:
    """``input_audio_buffer.commit``: the buffer becomes a user item now, whatever the VAD thought."""


# ---------------------------------------------------------------------------------------------- turn state
@dataclass
class Speech:
    """The user's speech segment in progress; ``announced`` once speech_started went out."""

    item_id: str
    start_ms: int
    announced: bool


@dataclass
class Speculation:
    """A response started at a pause, valid only if the speech ends at ``end_ms``. The session fills ``run``
    and ``transcript`` when it carries out the :class:`SpeculateAction`."""

    item_id: str
    end_ms: int
    audio: np.ndarray = field(repr=False)
    arrived: float | None
    run: Any = None
    transcript: Any = None


@dataclass
class PauseHearing:
    """semantic end of turn without a speculation: the words before the pause at ``end_ms`` being heard."""

    end_ms: int
    audio: np.ndarray = field(repr=False)
    transcript: Any = None


# ---------------------------------------------------------------------------------------------- actions
@dataclass(frozen=True)
class AnnounceAction:
    """Send ``input_audio_buffer.speech_started``."""

    item_id: str
    start_ms: int


@dataclass(frozen=True)
class HoldOutputAction:
    """Possible barge-in: pause the assistant's audio until the speech proves long or short."""


@dataclass(frozen=True)
class ReleaseOutputAction:
    """Let the assistant's audio flow again; ``false_interruption`` when the speech was only a blip."""

    false_interruption: bool = False


@dataclass(frozen=True)
class InterruptAction:
    """Confirmed barge-in: cut the assistant's item to what was played, cancel the response, release output."""


@dataclass(frozen=True)
class SpeculateAction:
    """Hear and answer the speech so far, buffered; ``endpoint``: also decide the end of turn from the words."""

    spec: Speculation
    endpoint: bool


@dataclass(frozen=True)
class HearPauseAction:
    """Hear the speech before a pause to decide the end of turn from its words (no speculation)."""

    pause: PauseHearing


@dataclass(frozen=True)
class DropPauseAction:
    """The pause's hearing is void (speech resumed, committed, or forgotten)."""

    pause: PauseHearing


@dataclass(frozen=True)
class DiscardAction:
    """The speculation is void: stop it silently (the client never saw it)."""

    spec: Speculation


@dataclass(frozen=True)
class JudgeBargeInAction:
    """Ask the turn detector whether the speech before ``end_ms`` (a pause, or the early verdict's point)
    interrupts the assistant; push its :class:`BargeInVerdictFrame` for speech ``item_id``."""

    end_ms: int
    audio: np.ndarray = field(repr=False, compare=False)
    item_id: str | None = None
    early: bool = False  # the speech is still going on (the early verdict)


@dataclass(frozen=True)
class EndPauseAction:
    """The pause after speech that ended at ``end_ms`` ends the speech after ``silence_ms`` of silence."""

    end_ms: int
    silence_ms: int


@dataclass(frozen=True)
class FloorAction:
    """Send ``thinkspeak.floor`` (duplex mode): who holds the floor now, by the full-duplex model."""

    at_ms: int
    assistant: bool
    p_speak: float


@dataclass(frozen=True)
class StoppedAction:
    """Send ``input_audio_buffer.speech_stopped``."""

    item_id: str
    end_ms: int


@dataclass(frozen=True)
class CommitSpeechAction:
    """The user's turn is over: commit its item; answer it with ``spec`` (goes live) or a new response when
    ``respond``; ``pause`` is the hearing of the same speech to reuse as its transcript."""

    item_id: str
    audio: np.ndarray = field(repr=False, compare=False)
    arrived: float | None = field(compare=False)
    spec: Speculation | None = None
    pause: PauseHearing | None = None
    respond: bool = False


@dataclass(frozen=True)
class CommitBufferAction:
    """``input_audio_buffer.commit`` accepted: the buffered audio becomes user item ``item_id``."""

    item_id: str


Action = (AnnounceAction | HoldOutputAction | ReleaseOutputAction | InterruptAction | SpeculateAction
          | HearPauseAction | DropPauseAction | DiscardAction | JudgeBargeInAction | EndPauseAction | StoppedAction
          | CommitSpeechAction | CommitBufferAction | FloorAction)
