"""The input side of a session: wire pcm16 -> 16 kHz float buffer -> VAD frames -> turn events.

One :class:`Listener` per session (the Silero VAD is recurrent, so its state is per stream). It keeps the
input audio buffer of the protocol (what ``input_audio_buffer.commit`` commits), the wall time every chunk
arrived (so the true end of speech, a sample position, maps to a wall time for the latency figures), and
runs the :class:`~thinkspeak.serve.turns.TurnDetector` when server VAD is on. Its methods are blocking
numpy/VAD work; the session calls them from a worker thread.
"""

from __future__ import annotations

import bisect
from typing import Protocol

import numpy as np
import soxr

from thinkspeak.audio import pcm16_to_float
from thinkspeak.serve.turns import FRAME_SAMPLES, SAMPLE_RATE, TurnDetector, TurnEvent, TurnParams


class FrameVAD(Protocol):
    """What the listener needs from a VAD (``thinkspeak.speech.vad.SileroVAD`` is one)."""

    def process(self, frame: np.ndarray) -> float: ...

    def reset(self) -> None: ...


class Listener:
    """Input buffer + resampler + VAD + turn detector of one session."""

    def __init__(self, vad: FrameVAD, input_rate: int, params: TurnParams | None, *, max_buffer_s: float) -> None:
        self.vad = vad
        self.max_samples = int(max_buffer_s * SAMPLE_RATE)
        self._chunks: list[np.ndarray] = []
        self._base = 0
        self._end = 0
        self._arrivals: list[tuple[int, float]] = []
        self._pending = np.zeros(0, np.float32)
        self._pending_start = 0
        self.configure(input_rate, params)

    @property
    def end_sample(self) -> int:
        """Samples (16 kHz) received since the session started."""
        return self._end

    @property
    def buffered_samples(self) -> int:
        return self._end - self._base

    @property
    def detector(self) -> TurnDetector | None:
        return self._detector

    def configure(self, input_rate: int, params: TurnParams | None) -> None:
        """Apply a new wire rate and VAD parameters (None: manual turns); speech in progress is forgotten."""
        self.input_rate = input_rate
        self._resampler = None if input_rate == SAMPLE_RATE else soxr.ResampleStream(
            input_rate, SAMPLE_RATE, 1, dtype="float32", quality="HQ")
        self._detector = None if params is None else TurnDetector(params, floor_sample=self._end)

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
        events: list[TurnEvent] = []
        if self._detector is not None:
            events = self._run_vad(x)
        self._bound()
        return events

    def _run_vad(self, x: np.ndarray) -> list[TurnEvent]:
        pending = np.concatenate([self._pending, x]) if self._pending.size else x
        events: list[TurnEvent] = []
        n = pending.size // FRAME_SAMPLES
        for i in range(n):
            frame = pending[i * FRAME_SAMPLES:(i + 1) * FRAME_SAMPLES]
            events += self._detector.push(float(self.vad.process(frame)), self._pending_start + i * FRAME_SAMPLES)
        self._pending = pending[n * FRAME_SAMPLES:].copy()
        self._pending_start += n * FRAME_SAMPLES
        return events

    def _bound(self) -> None:
        """Drop audio nobody can need: outside speech keep only pre-roll, and never more than the cap."""
        keep_from = self._end - self.max_samples
        detector = self._detector
        if detector is not None and not detector.in_speech:
            keep_from = max(keep_from, self._end - 2 * SAMPLE_RATE)
        if keep_from > self._base:
            self.discard_before(keep_from)

    def audio(self, start: int, end: int) -> np.ndarray:
        """Buffered 16 kHz audio ``[start, end)`` (clipped to what is still buffered)."""
        start, end = max(start, self._base), min(end, self._end)
        if end <= start:
            return np.zeros(0, np.float32)
        whole = np.concatenate(self._chunks) if len(self._chunks) > 1 else self._chunks[0]
        self._chunks = [whole]
        return whole[start - self._base:end - self._base].copy()

    def take(self) -> tuple[int, np.ndarray]:
        """Commit the whole buffer (manual turns): its start sample and audio; the buffer is emptied."""
        start = self._base
        audio = self.audio(start, self._end)
        self.discard_before(self._end)
        return start, audio

    def clear(self) -> None:
        """``input_audio_buffer.clear``: drop buffered audio and any speech in progress."""
        self.discard_before(self._end)
        if self._detector is not None:
            self._detector.reset(self._end)

    def discard_before(self, sample: int) -> None:
        sample = min(sample, self._end)
        if sample <= self._base:
            return
        whole = np.concatenate(self._chunks) if self._chunks else np.zeros(0, np.float32)
        whole = whole[sample - self._base:]
        self._chunks = [whole] if whole.size else []
        self._base = sample
        drop = bisect.bisect_left(self._arrivals, (sample, float("-inf")))
        self._arrivals = self._arrivals[max(0, drop - 1):]

    def arrival(self, sample: int) -> float | None:
        """Wall time at which the chunk holding ``sample`` arrived (None if no longer known)."""
        i = bisect.bisect_right(self._arrivals, (sample, float("inf")))
        if i >= len(self._arrivals):
            return self._arrivals[-1][1] if self._arrivals else None
        return self._arrivals[i][1]
