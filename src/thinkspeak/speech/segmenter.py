"""Streaming turn segmentation: VAD probabilities -> speech start / tentative end / resumed / stop events.

Implements the OpenAI Realtime ``server_vad`` turn detection (threshold 0.5, prefix_padding_ms 300,
silence_duration_ms 500) with Silero's hysteresis (speech ends below ``threshold - 0.15``) and one addition
for low latency: a *tentative end* as soon as silence begins, so the server can start ASR and the Thinker
speculatively and drop that work on *resumed* (speech came back) -- the user-perceived gap then no longer
includes the 500 ms confirmation silence (cf. REFERENCE "Latency conventions": endpointing counts).
Times are milliseconds of audio since the segmenter started (or was reset), not wall-clock.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from thinkspeak.audio.pcm import as_mono_float32
from thinkspeak.speech.vad import FrameVAD, SileroVAD


@dataclass(frozen=True)
class SpeechStarted:
    """Speech began at ``speech_start_ms``; the utterance's audio (with pre-roll) starts at ``audio_start_ms``
    (= speech_start_ms - prefix_padding_ms, clamped at 0, as in OpenAI's speech_started)."""

    audio_start_ms: int
    speech_start_ms: int
    at_ms: int


@dataclass(frozen=True)
class SpeechTentativeEnd:
    """Silence began at ``speech_end_ms`` but is not yet long enough to end the turn. ``audio`` is the
    utterance so far (from audio_start_ms to at_ms) for speculative decoding."""

    speech_end_ms: int
    at_ms: int
    audio: np.ndarray = field(repr=False, compare=False)


@dataclass(frozen=True)
class SpeechResumed:
    """Speech returned after a :class:`SpeechTentativeEnd`: discard speculative work."""

    at_ms: int


@dataclass(frozen=True)
class SpeechStopped:
    """The turn ended: speech stopped at ``speech_end_ms`` and silence lasted ``silence_duration_ms``.
    ``audio`` covers [audio_start_ms, audio_end_ms) including pre-roll and the trailing silence, like the
    buffer OpenAI commits after speech_stopped."""

    audio_end_ms: int
    speech_end_ms: int
    at_ms: int
    audio: np.ndarray = field(repr=False, compare=False)


VADEvent = SpeechStarted | SpeechTentativeEnd | SpeechResumed | SpeechStopped


def _check_ms(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be a whole number of milliseconds >= 0, got {value!r}")
    return value


class VADSegmenter:
    """Consumes PCM chunks of any size and returns the turn events they complete (``push``).

    A turn starts when a frame scores >= ``threshold`` and the following frames stay >= ``end_threshold``
    for ``min_speech_ms`` in all (shorter blips are ignored); the start is dated to the first such frame.
    While speaking, a frame < ``end_threshold`` opens a silence run that only a frame >= ``threshold``
    closes; after ``tentative_silence_ms`` of it a tentative end is emitted, after ``silence_duration_ms``
    the turn stops. Times are quantised to VAD frames (32 ms).
    """

    def __init__(
        self,
        threshold: float = 0.5,
        prefix_padding_ms: int = 300,
        silence_duration_ms: int = 500,
        min_speech_ms: int = 64,
        tentative_silence_ms: int = 0,
        end_threshold: float | None = None,
        vad: FrameVAD | None = None,
    ) -> None:
        if not 0.0 < threshold < 1.0:
            raise ValueError(f"threshold must be in (0, 1), got {threshold!r}")
        end = max(threshold - 0.15, 0.01) if end_threshold is None else end_threshold
        if not 0.0 < end <= threshold:
            raise ValueError(f"end_threshold must be in (0, threshold={threshold}], got {end!r}")
        self.threshold = threshold
        self.end_threshold = end
        self.prefix_padding_ms = _check_ms("prefix_padding_ms", prefix_padding_ms)
        self.silence_duration_ms = _check_ms("silence_duration_ms", silence_duration_ms)
        self.min_speech_ms = _check_ms("min_speech_ms", min_speech_ms)
        self.tentative_silence_ms = _check_ms("tentative_silence_ms", tentative_silence_ms)
        if self.tentative_silence_ms > self.silence_duration_ms:
            raise ValueError(
                f"tentative_silence_ms must be <= silence_duration_ms={silence_duration_ms}, "
                f"got {tentative_silence_ms}"
            )
        self.vad = vad if vad is not None else SileroVAD(16000)
        self.sample_rate = self.vad.sample_rate
        self.frame_samples = self.vad.frame_samples
        self._prefix_samples = self.prefix_padding_ms * self.sample_rate // 1000
        self._min_speech_frames = max(1, math.ceil(self.min_speech_ms / self.frame_ms))
        self._history_frames = math.ceil(self._prefix_samples / self.frame_samples) + self._min_speech_frames
        self.reset()

    @property
    def frame_ms(self) -> float:
        return 1000.0 * self.frame_samples / self.sample_rate

    @property
    def speaking(self) -> bool:
        """True between SpeechStarted and SpeechStopped."""
        return self._utterance is not None

    @property
    def pause_end_ms(self) -> int | None:
        """While the speech is in a pause announced by :class:`SpeechTentativeEnd`: where the speech ended (ms);
        else None."""
        return self._ms(self._silence_start) if self._tentative_sent and self._silence_start is not None else None

    def reset(self) -> None:
        """Drop all state (VAD memory, pending audio, open turn) and restart the clock at 0."""
        self.vad.reset()
        self._pending = np.zeros(0, dtype=np.float32)
        self._frame_index = 0
        self._history: deque[tuple[int, np.ndarray]] = deque(maxlen=self._history_frames)
        self._candidate_start: int | None = None
        self._utterance: list[np.ndarray] | None = None
        self._audio_start = 0
        self._silence_start: int | None = None
        self._tentative_sent = False
        self._silence_limit: int | None = None
        self.probability = 0.0

    def _ms(self, samples: int) -> int:
        return samples * 1000 // self.sample_rate

    def push(self, pcm: np.ndarray) -> list[VADEvent]:
        """Feed 16 kHz mono float32 audio; returns the events decided by the complete frames it contained."""
        samples = as_mono_float32(pcm, "pcm")
        buffered = np.concatenate([self._pending, samples]) if self._pending.size else samples
        n = self.frame_samples
        whole = buffered.size - buffered.size % n
        events: list[VADEvent] = []
        for offset in range(0, whole, n):
            events.extend(self._frame(buffered[offset : offset + n].copy()))
        self._pending = buffered[whole:].copy()
        return events

    def flush(self) -> list[VADEvent]:
        """End of input: close an open turn (its audio includes any partial last frame) and reset."""
        events: list[VADEvent] = []
        if self._utterance is not None:
            self._utterance.append(self._pending)
            end = self._frame_index * self.frame_samples + self._pending.size
            speech_end = self._silence_start if self._silence_start is not None else end
            events.append(self._stop(speech_end, end))
        self.reset()
        return events

    def _frame(self, frame: np.ndarray) -> list[VADEvent]:
        index = self._frame_index
        self._frame_index += 1
        start = index * self.frame_samples
        end = start + self.frame_samples
        p = self.probability = float(self.vad.process(frame))
        self._history.append((index, frame))
        if self._utterance is None:
            return self._while_silent(index, p, end)
        self._utterance.append(frame)
        return self._while_speaking(start, p, end)

    def _while_silent(self, index: int, p: float, end: int) -> list[VADEvent]:
        if self._candidate_start is None:
            if p < self.threshold:
                return []
            self._candidate_start = index
        elif p < self.end_threshold:
            self._candidate_start = None
            return []
        if index - self._candidate_start + 1 < self._min_speech_frames:
            return []
        speech_start = self._candidate_start * self.frame_samples
        self._audio_start = max(0, speech_start - self._prefix_samples)
        first = self._history[0][0] * self.frame_samples
        kept = np.concatenate([f for _, f in self._history])[self._audio_start - first :]
        self._utterance = [kept]
        self._candidate_start = None
        return [SpeechStarted(self._ms(self._audio_start), self._ms(speech_start), self._ms(end))]

    def _while_speaking(self, start: int, p: float, end: int) -> list[VADEvent]:
        if p >= self.threshold:
            resumed = self._tentative_sent
            self._silence_start, self._tentative_sent, self._silence_limit = None, False, None
            return [SpeechResumed(self._ms(end))] if resumed else []
        if self._silence_start is None:
            if p >= self.end_threshold:
                return []
            self._silence_start = start
        silent_ms = self._ms(end - self._silence_start)
        limit = self.silence_duration_ms if self._silence_limit is None else self._silence_limit
        if silent_ms >= limit:
            return [self._stop(self._silence_start, end)]
        if not self._tentative_sent and silent_ms >= self.tentative_silence_ms:
            self._tentative_sent = True
            return [SpeechTentativeEnd(self._ms(self._silence_start), self._ms(end), self._audio())]
        return []

    def end_pause_after(self, speech_end_ms: int, silence_ms: int) -> list[VADEvent]:
        """Let the pause after speech that ended at ``speech_end_ms`` end the turn after ``silence_ms`` of silence
        instead of ``silence_duration_ms`` (semantic end of turn, :mod:`thinkspeak.speech.endpoint`).

        Applies to that pause only: if the speech has resumed (or the turn ended) since, nothing happens. When
        the pause is already that long the turn stops now: the returned list holds the :class:`SpeechStopped`.
        """
        silence_ms = _check_ms("silence_ms", silence_ms)
        if self._utterance is None or self._silence_start is None or self._ms(self._silence_start) != speech_end_ms:
            return []
        self._silence_limit = silence_ms
        end = self._frame_index * self.frame_samples
        if self._ms(end - self._silence_start) >= silence_ms:
            return [self._stop(self._silence_start, end)]
        return []

    def utterance(self) -> np.ndarray | None:
        """The speech in progress so far (with pre-roll), or None while silent."""
        return None if self._utterance is None else self._audio()

    def _audio(self) -> np.ndarray:
        assert self._utterance is not None
        return np.concatenate(self._utterance)

    def _stop(self, speech_end: int, end: int) -> SpeechStopped:
        event = SpeechStopped(self._ms(end), self._ms(speech_end), self._ms(end), self._audio())
        self._utterance, self._silence_start, self._tentative_sent, self._silence_limit = None, None, False, None
        return event
