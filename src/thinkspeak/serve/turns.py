"""Server VAD turn detection: speech probabilities per frame -> speech start / pause / resume / long / end.

A hysteresis state machine over Silero VAD frames (32 ms at 16 kHz) with OpenAI's server-VAD parameters:

* speech **starts** once ``min_speech_ms`` of frames reach ``threshold``; its start is pulled back by
  ``prefix_padding_ms`` (the pre-roll that keeps the first phoneme);
* a frame under ``threshold - 0.15`` opens a silence; after ``speculate_after_ms`` of it the detector emits a
  **pause** (the tentative end of turn: the session starts decoding speculatively), and if speech returns
  before ``silence_duration_ms`` a **resume** (the speculation is thrown away);
* ``silence_duration_ms`` of silence confirms the **end**; its ``end_sample`` is the true end of speech (the
  end of the last voiced frame), not the end of the confirming silence;
* **long** fires once the segment has ``long_ms`` of speech: the session's barge-in confirmation (user speech
  shorter than that while the assistant talks is treated as a false interruption).

Positions are sample indices of the session's 16 kHz input stream.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

SAMPLE_RATE = 16000
FRAME_SAMPLES = 512


@dataclass(frozen=True)
class TurnEvent:
    """What the detector saw at frame boundary ``at_sample``: ``start_sample`` / ``end_sample`` of the speech."""

    kind: Literal["start", "pause", "resume", "long", "end"]
    at_sample: int
    start_sample: int
    end_sample: int | None = None

    @property
    def start_ms(self) -> int:
        return self.start_sample * 1000 // SAMPLE_RATE

    @property
    def end_ms(self) -> int | None:
        return None if self.end_sample is None else self.end_sample * 1000 // SAMPLE_RATE


@dataclass(frozen=True)
class TurnParams:
    """Detector parameters, in milliseconds (``threshold`` is a speech probability)."""

    threshold: float = 0.5
    prefix_padding_ms: int = 300
    silence_duration_ms: int = 500
    min_speech_ms: int = 64
    speculate_after_ms: int = 96
    long_ms: int = 250

    def __post_init__(self) -> None:
        if not 0.0 <= self.threshold <= 1.0:
            raise ValueError(f"threshold must be in [0, 1], got {self.threshold}")
        for name in ("prefix_padding_ms", "silence_duration_ms", "min_speech_ms", "speculate_after_ms", "long_ms"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0 ms, got {getattr(self, name)}")


def _samples(ms: int) -> int:
    return ms * SAMPLE_RATE // 1000


class TurnDetector:
    """Feed one VAD probability per frame with :meth:`push`; it returns the turn events that frame caused."""

    def __init__(self, params: TurnParams, *, floor_sample: int = 0) -> None:
        self.params = params
        self._floor = floor_sample
        self._reset()

    def _reset(self) -> None:
        self._candidate: int | None = None
        self._voiced = 0
        self._in_speech = False
        self._speech_onset = 0
        self._start = 0
        self._silence_from: int | None = None
        self._paused = False
        self._long = False

    @property
    def in_speech(self) -> bool:
        return self._in_speech

    def reset(self, floor_sample: int) -> None:
        """Forget any speech in progress; pre-roll will not reach before ``floor_sample``."""
        self._floor = floor_sample
        self._reset()

    def push(self, prob: float, frame_start: int, frame_samples: int = FRAME_SAMPLES) -> list[TurnEvent]:
        """Advance over the frame ``[frame_start, frame_start + frame_samples)`` whose speech prob is ``prob``."""
        p = self.params
        frame_end = frame_start + frame_samples
        speech = prob >= p.threshold
        quiet = prob < max(p.threshold - 0.15, 0.01)
        if not self._in_speech:
            return self._push_idle(speech, quiet, frame_start, frame_end)
        events: list[TurnEvent] = []
        if not quiet:
            if self._silence_from is not None and speech:
                if self._paused:
                    events.append(TurnEvent("resume", frame_end, self._start))
                self._silence_from, self._paused = None, False
            if self._silence_from is None:
                self._voiced = frame_end - self._speech_onset
                if not self._long and self._voiced >= _samples(p.long_ms):
                    self._long = True
                    events.append(TurnEvent("long", frame_end, self._start))
            return events
        if self._silence_from is None:
            self._silence_from = frame_start
        silent = frame_end - self._silence_from
        if not self._paused and silent >= _samples(p.speculate_after_ms):
            self._paused = True
            events.append(TurnEvent("pause", frame_end, self._start, self._silence_from))
        if silent >= _samples(p.silence_duration_ms):
            events.append(TurnEvent("end", frame_end, self._start, self._silence_from))
            self._floor = frame_end
            self._reset()
        return events

    def _push_idle(self, speech: bool, quiet: bool, frame_start: int, frame_end: int) -> list[TurnEvent]:
        p = self.params
        if speech and self._candidate is None:
            self._candidate = frame_start
        elif quiet:
            self._candidate = None
        if self._candidate is None or frame_end - self._candidate < max(_samples(p.min_speech_ms), 1):
            return []
        self._in_speech = True
        self._speech_onset = self._candidate
        self._start = max(self._floor, self._candidate - _samples(p.prefix_padding_ms))
        self._voiced = frame_end - self._candidate
        events = [TurnEvent("start", frame_end, self._start)]
        if self._voiced >= _samples(p.long_ms):
            self._long = True
            events.append(TurnEvent("long", frame_end, self._start))
        return events
