"""The input side of a session: wire pcm16 -> 16 kHz float -> server VAD turn events (+ the input buffer).

One :class:`Listener` per session (the Silero VAD is recurrent, so its state is per stream). Turn detection is
:class:`thinkspeak.speech.segmenter.VADSegmenter` (OpenAI ``server_vad`` semantics with pre-roll and a
*tentative end* for speculative decoding); the listener adds what a server needs around it:

* session-wide times: the segmenter's clock restarts when ``session.update`` changes the VAD, the
  protocol's ``audio_start_ms``/``audio_end_ms`` count from the start of the session's audio;
* the wall time each chunk arrived, so the true end of speech (a position in the stream) becomes a wall
  time for the latency figures;
* a ``long`` event once speech has lasted ``long_ms`` while still voiced: the barge-in confirmation (shorter
  speech while the assistant talks is a false interruption);
* the protocol's input audio buffer for manual turns (``input_audio_buffer.commit`` with VAD off).

Its methods do blocking numpy/VAD work; the session calls them from a worker thread.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import soxr

from thinkspeak.audio import pcm16_to_float
from thinkspeak.speech.segmenter import (
    SpeechResumed,
    SpeechStarted,
    SpeechStopped,
    SpeechTentativeEnd,
    VADSegmenter,
)
from thinkspeak.speech.vad import FrameVAD

SAMPLE_RATE = 16000


@dataclass(frozen=True)
class TurnParams:
    """Server VAD parameters (ms); ``speculate_after_ms`` of silence gives the tentative end."""

    threshold: float = 0.5
    prefix_padding_ms: int = 300
    silence_duration_ms: int = 500
    min_speech_ms: int = 64
    speculate_after_ms: int = 96
    long_ms: int = 250


@dataclass(frozen=True)
class TurnEvent:
    """A turn event in session time (ms of audio since the session started).

    ``start``: speech began, its audio (with pre-roll) from ``start_ms``; ``long``: speech has lasted
    ``long_ms``; ``pause``: tentative end, speech ended at ``end_ms`` (``audio`` = the utterance so far);
    ``resume``: speech came back; ``end``: the turn ended, speech ended at ``end_ms``, ``audio`` the utterance.
    """

    kind: Literal["start", "long", "pause", "resume", "end"]
    at_ms: int
    start_ms: int = 0
    end_ms: int | None = None
    audio: np.ndarray | None = field(default=None, repr=False, compare=False)


class Listener:
    """Input buffer + resampler + turn detection of one session."""

    def __init__(self, make_vad: Callable[[], FrameVAD], input_rate: int, params: TurnParams | None, *,
                 max_buffer_s: float) -> None:
        self.make_vad = make_vad
        self.max_samples = int(max_buffer_s * SAMPLE_RATE)
        self._chunks: list[np.ndarray] = []
        self._base = 0
        self._end = 0
        self._arrivals: list[tuple[int, float]] = []
        self.configure(input_rate, params)

    def configure(self, input_rate: int, params: TurnParams | None) -> None:
        """Apply a new wire rate and VAD parameters (None: manual turns); speech in progress is forgotten."""
        self.input_rate = input_rate
        self._resampler = None if input_rate == SAMPLE_RATE else soxr.ResampleStream(
            input_rate, SAMPLE_RATE, 1, dtype="float32", quality="HQ")
        self.params = params
        self._segmenter = None if params is None else VADSegmenter(
            threshold=params.threshold, prefix_padding_ms=params.prefix_padding_ms,
            silence_duration_ms=params.silence_duration_ms, min_speech_ms=params.min_speech_ms,
            tentative_silence_ms=min(params.speculate_after_ms, params.silence_duration_ms), vad=self.make_vad())
        self._origin_ms = self._end * 1000 // SAMPLE_RATE
        self._fed = 0
        self._speech_start_ms: int | None = None
        self._long_sent = False

    def feed(self, pcm16: bytes, arrived: float) -> list[TurnEvent]:
        """Append one wire chunk that arrived at monotonic time ``arrived``; return the turn events it caused."""
        x = pcm16_to_float(pcm16)
        if self._resampler is not None:
            x = self._resampler.resample_chunk(x)
        if x.size == 0:
            return []
        self._chunks.append(x)
        self._end += x.size
        self._arrivals.append((self._end, arrived))
        events = self._detect(x) if self._segmenter is not None else []
        self._bound()
        return events

    def _detect(self, x: np.ndarray) -> list[TurnEvent]:
        """Run the segmenter one VAD frame at a time, so 'long' is checked after every frame."""
        seg, step = self._segmenter, self._segmenter.frame_samples
        events: list[TurnEvent] = []
        for offset in range(0, x.size, step):
            piece = x[offset:offset + step]
            self._fed += piece.size
            for event in seg.push(piece):
                events.append(self._convert(event))
            now_ms = self._origin_ms + self._fed * 1000 // SAMPLE_RATE
            if (seg.speaking and not self._long_sent and self._speech_start_ms is not None
                    and seg.probability >= seg.end_threshold
                    and now_ms - self._speech_start_ms >= self.params.long_ms):
                self._long_sent = True
                events.append(TurnEvent("long", now_ms))
        return events

    def end_pause_after(self, end_ms: int, silence_ms: int) -> list[TurnEvent]:
        """Semantic end of turn: the pause after speech that ended at session time ``end_ms`` ends the turn after
        ``silence_ms`` (see :meth:`VADSegmenter.end_pause_after`); returns the ``end`` event if that is now."""
        if self._segmenter is None:
            return []
        return [self._convert(e) for e in self._segmenter.end_pause_after(end_ms - self._origin_ms, silence_ms)]

    def _convert(self, event: object) -> TurnEvent:
        o = self._origin_ms
        if isinstance(event, SpeechStarted):
            self._speech_start_ms, self._long_sent = o + event.speech_start_ms, False
            return TurnEvent("start", o + event.at_ms, start_ms=o + event.audio_start_ms)
        if isinstance(event, SpeechTentativeEnd):
            return TurnEvent("pause", o + event.at_ms, end_ms=o + event.speech_end_ms, audio=event.audio)
        if isinstance(event, SpeechResumed):
            return TurnEvent("resume", o + event.at_ms)
        if isinstance(event, SpeechStopped):
            self._speech_start_ms = None
            return TurnEvent("end", o + event.at_ms, end_ms=o + event.speech_end_ms, audio=event.audio)
        raise TypeError(f"unexpected segmenter event {event!r}")

    def _bound(self) -> None:
        """Keep the input buffer (manual commits) under its cap; with server VAD keep only a few seconds."""
        cap = self.max_samples if self._segmenter is None else 2 * SAMPLE_RATE
        if self._end - self._base > cap:
            self._discard_before(self._end - cap)

    def take(self) -> np.ndarray:
        """``input_audio_buffer.commit``: the buffered audio (16 kHz); the buffer is emptied."""
        audio = np.concatenate(self._chunks) if self._chunks else np.zeros(0, np.float32)
        self._discard_before(self._end)
        return audio

    def clear(self) -> None:
        """``input_audio_buffer.clear``: drop buffered audio and any speech in progress."""
        self._discard_before(self._end)
        self.configure(self.input_rate, self.params)

    def _discard_before(self, sample: int) -> None:
        whole = np.concatenate(self._chunks) if self._chunks else np.zeros(0, np.float32)
        whole = whole[sample - self._base:]
        self._chunks = [whole] if whole.size else []
        self._base = sample
        keep = bisect.bisect_left(self._arrivals, (sample, float("-inf")))
        self._arrivals = self._arrivals[max(0, keep - 1):]

    def arrival(self, ms: int) -> float | None:
        """Wall time at which the audio at session time ``ms`` arrived (None if no longer known)."""
        sample = ms * SAMPLE_RATE // 1000
        i = bisect.bisect_right(self._arrivals, (sample, float("inf")))
        if not self._arrivals:
            return None
        return self._arrivals[min(i, len(self._arrivals) - 1)][1]
