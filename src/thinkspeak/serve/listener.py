"""The listener stage: wire pcm16 -> 16 kHz float -> VAD -> typed speech frames (+ the input audio buffer).

One :class:`Listener` per session (the Silero VAD is recurrent, so its state is per stream). Turn detection is
:class:`thinkspeak.speech.segmenter.VADSegmenter` (OpenAI ``server_vad`` semantics with pre-roll and a
*tentative end* for speculative decoding), configured from the session's one turn-parameter type,
:class:`~thinkspeak.serve.config.TurnDetection`. Around it the listener adds what a server needs:

* session-wide times: the segmenter's clock restarts when ``session.update`` changes the VAD, the
  protocol's ``audio_start_ms``/``audio_end_ms`` count from the start of the session's audio;
* the wall time each chunk arrived, so the true end of speech (a position in the stream) becomes a wall
  time for the latency figures;
* a :class:`~thinkspeak.serve.frames.SpeechLongFrame` once speech has lasted ``long_ms`` while still voiced:
  the barge-in confirmation (shorter speech while the assistant talks is a false interruption);
* a :class:`~thinkspeak.serve.frames.SpeechVoicedFrame` with the speech so far once it has lasted
  ``verdict_ms`` while still voiced: the early barge-in verdict of a detector that tells backchannels;
* the protocol's input audio buffer for manual turns (``input_audio_buffer.commit`` with VAD off).

Its methods do blocking numpy/VAD work; :class:`ListenerStage` runs them in a worker thread, fed through a
queue of typed messages, and pushes the frames into the turn machine (:mod:`thinkspeak.serve.turns`) on the
event loop, whose actions the session carries out.
"""

from __future__ import annotations

import asyncio
import bisect
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import numpy as np

from thinkspeak.audio import pcm16_to_float
from thinkspeak.serve import frames as F
from thinkspeak.serve.audio import HEARING_RATE, Resampler
from thinkspeak.serve.config import TurnDetection
from thinkspeak.serve.detectors import confirms_barge_in, judge
from thinkspeak.serve.items import decode_audio
from thinkspeak.serve.protocol import ClientEvent, ProtocolError, internal_error
from thinkspeak.serve.ratelimit import TokenBucket
from thinkspeak.serve.turns import TurnMachine
from thinkspeak.speech.segmenter import (
    SpeechResumed,
    SpeechStarted,
    SpeechStopped,
    SpeechTentativeEnd,
    VADSegmenter,
)
from thinkspeak.speech.vad import FrameVAD

log = logging.getLogger("thinkspeak.serve")

MIN_SPEECH_MS = 64


class Listener:
    """Input buffer + resampler + turn detection of one session."""

    def __init__(self, make_vad: Callable[[], FrameVAD], input_rate: int, detection: TurnDetection | None, *,
                 max_buffer_s: float, long_ms: int = 250, speculate_after_ms: int = 96, verdict_ms: int = 0,
                 audible: Callable[[], bool] = lambda: False) -> None:
        self.make_vad = make_vad
        self.audible = audible  # the assistant is speaking or its audio still plays (duplex mode's floor)
        self.long_ms = long_ms
        self.verdict_ms = verdict_ms  # 0: no early barge-in verdict
        self.speculate_after_ms = speculate_after_ms
        self.max_samples = int(max_buffer_s * HEARING_RATE)
        self._chunks: list[np.ndarray] = []
        self._base = 0
        self._end = 0
        self._arrivals: list[tuple[int, float]] = []
        self.configure(input_rate, detection)

    def configure(self, input_rate: int, detection: TurnDetection | None) -> None:
        """Apply a new wire rate and turn detection (None: manual turns); speech in progress is forgotten."""
        self.input_rate = input_rate
        self._resampler = Resampler(input_rate, HEARING_RATE)
        self.detection = detection
        self._segmenter = None if detection is None else VADSegmenter(
            threshold=detection.threshold, prefix_padding_ms=detection.prefix_padding_ms,
            silence_duration_ms=detection.max_silence_ms, min_speech_ms=MIN_SPEECH_MS,
            tentative_silence_ms=min(self.speculate_after_ms, detection.max_silence_ms), vad=self.make_vad())
        owns = detection is not None and getattr(detection.detector, "owns_floor", False)
        self._floor = detection.detector.new_stream() if owns else None
        self._floor_speaking = False
        self._origin_ms = self._end * 1000 // HEARING_RATE
        self._fed = 0
        self._speech_start_ms: int | None = None
        self._long_sent = self._voiced_sent = False

    def feed(self, pcm16: bytes, arrived: float) -> list[F.SpeechFrame]:
        """Append one wire chunk that arrived at monotonic time ``arrived``; return the frames it caused."""
        x = self._resampler.push(pcm16_to_float(pcm16))
        if x.size == 0:
            return []
        self._chunks.append(x)
        self._end += x.size
        self._arrivals.append((self._end, arrived))
        frames = self._detect(x) if self._segmenter is not None else []
        self._bound()
        return frames

    def _detect(self, x: np.ndarray) -> list[F.SpeechFrame]:
        """Run the segmenter one VAD frame at a time, so 'long' is checked after every frame."""
        seg, step = self._segmenter, self._segmenter.frame_samples
        frames: list[F.SpeechFrame] = []
        for offset in range(0, x.size, step):
            piece = x[offset:offset + step]
            self._fed += piece.size
            frames += [self._convert(event) for event in seg.push(piece)]
            now_ms = self._origin_ms + self._fed * 1000 // HEARING_RATE
            voiced_ms = (now_ms - self._speech_start_ms if seg.speaking and self._speech_start_ms is not None
                         and seg.probability >= seg.end_threshold else -1)
            if not self._long_sent and voiced_ms >= self.long_ms:
                self._long_sent = True
                frames.append(F.SpeechLongFrame(now_ms))
            if self.verdict_ms and not self._voiced_sent and voiced_ms >= self.verdict_ms:
                self._voiced_sent = True
                frames.append(F.SpeechVoicedFrame(now_ms, seg.utterance()))
        if self._floor is not None:
            frames += self._floor_frames(x)
        return frames

    def _floor_frames(self, x: np.ndarray) -> list[F.SpeechFrame | F.FloorYieldFrame]:
        """Duplex mode: the model's decisions on the chunks ``x`` completed (:mod:`thinkspeak.serve.floor`)."""
        seg = self._segmenter
        pause = seg.pause_end_ms
        user = "pausing" if pause is not None else "speaking" if seg.speaking else "silent"
        frames: list[F.SpeechFrame | F.FloorYieldFrame] = []
        for tick in self._floor.push(x, user=user, audible=self.audible()):
            now_ms = self._origin_ms + self._fed * 1000 // HEARING_RATE
            if tick.speaking != self._floor_speaking:
                self._floor_speaking = tick.speaking
                frames.append(F.FloorStateFrame(now_ms, tick.speaking, tick.p_speak))
            if tick.decision in ("take", "keep") and seg.pause_end_ms is not None:
                frames += [self._convert(e) for e in seg.end_pause_after(seg.pause_end_ms, 0)]
            elif tick.decision == "yield":
                frames.append(F.FloorYieldFrame(now_ms, tick.p_speak))
        return frames

    def end_pause_after(self, end_ms: int, silence_ms: int) -> list[F.SpeechFrame]:
        """Semantic end of turn: the pause after speech that ended at session time ``end_ms`` ends the turn after
        ``silence_ms`` (see :meth:`VADSegmenter.end_pause_after`); returns the end frame if that is now."""
        if self._segmenter is None:
            return []
        return [self._convert(e) for e in self._segmenter.end_pause_after(end_ms - self._origin_ms, silence_ms)]

    def _convert(self, event: object) -> F.SpeechFrame:
        o = self._origin_ms
        if isinstance(event, SpeechStarted):
            self._speech_start_ms, self._long_sent, self._voiced_sent = o + event.speech_start_ms, False, False
            return F.SpeechStartFrame(o + event.at_ms, start_ms=o + event.audio_start_ms)
        if isinstance(event, SpeechTentativeEnd):
            end = o + event.speech_end_ms
            return F.SpeechPauseFrame(o + event.at_ms, end, event.audio, self.arrival(end - 1))
        if isinstance(event, SpeechResumed):
            return F.SpeechResumeFrame(o + event.at_ms)
        if isinstance(event, SpeechStopped):
            self._speech_start_ms = None
            end = o + event.speech_end_ms
            return F.SpeechEndFrame(o + event.at_ms, end, event.audio, self.arrival(end - 1))
        raise TypeError(f"unexpected segmenter event {event!r}")

    def _bound(self) -> None:
        """Keep the input buffer (manual commits) under its cap; with server VAD keep only a few seconds."""
        cap = self.max_samples if self._segmenter is None else 2 * HEARING_RATE
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
        self.configure(self.input_rate, self.detection)

    def _discard_before(self, sample: int) -> None:
        whole = np.concatenate(self._chunks) if self._chunks else np.zeros(0, np.float32)
        whole = whole[sample - self._base:]
        self._chunks = [whole] if whole.size else []
        self._base = sample
        keep = bisect.bisect_left(self._arrivals, (sample, float("-inf")))
        self._arrivals = self._arrivals[max(0, keep - 1):]

    def arrival(self, ms: int) -> float | None:
        """Wall time at which the audio at session time ``ms`` arrived (None if no longer known)."""
        sample = ms * HEARING_RATE // 1000
        i = bisect.bisect_right(self._arrivals, (sample, float("inf")))
        if not self._arrivals:
            return None
        return self._arrivals[min(i, len(self._arrivals) - 1)][1]


# ------------------------------------------------------------------ the stage's queue messages
@dataclass(frozen=True)
class AudioMessage:
    pcm16: bytes
    arrived: float


@dataclass(frozen=True)
class TakeMessage:
    done: asyncio.Future


@dataclass(frozen=True)
class ClearMessage:
    pass


@dataclass(frozen=True)
class ConfigureMessage:
    input_rate: int
    detection: TurnDetection | None


@dataclass(frozen=True)
class EndpointMessage:
    end_ms: int
    silence_ms: int


Message = AudioMessage | TakeMessage | ClearMessage | ConfigureMessage | EndpointMessage


class ListenerStage:
    """A :class:`Listener` behind a bounded queue, and the next stage in line: client audio comes in through
    :meth:`append` (drawing on the session's one audio budget), messages are applied in a worker thread
    (batched), and the speech frames they cause go, in order on the event loop, to the turn machine, whose
    actions go to ``act``. A failure is logged, reported to ``on_error`` as a generic error and the stage
    goes on listening."""

    def __init__(self, listener: Listener, turns: TurnMachine, act: Callable[[F.Action], Awaitable[None]],
                 on_error: Callable[[ProtocolError], Awaitable[object]], *, budget: TokenBucket, name: str) -> None:
        self.listener, self.name = listener, name
        self.turns = turns
        self._act = act
        self._on_error = on_error
        self.budget = budget
        self.input_rate, self.detection = listener.input_rate, listener.detection  # as the event loop sees them
        self._queue: asyncio.Queue[Message] = asyncio.Queue(maxsize=64)
        self.task = asyncio.create_task(self._work(), name=f"listen-{name}")

    async def append(self, event: ClientEvent) -> None:
        """``input_audio_buffer.append``: base64 pcm16 at the wire rate, queued for the VAD."""
        pcm = decode_audio(event.field("audio", str), "audio", event.event_id)
        if pcm:
            self.spend(len(pcm) / 2 / self.input_rate, "audio", event.event_id)
            await self.put(AudioMessage(pcm, time.monotonic()))

    def spend(self, seconds: float, param: str, event_id: str | None) -> None:
        """Every audio path (appended audio, ``input_audio`` items) draws on this one budget."""
        if not self.budget.take(seconds, time.monotonic()):
            raise ProtocolError("rate_limit_exceeded", f"audio is arriving faster than {self.budget.rate}x real "
                                "time; dropped", param, event_id, type="rate_limit_error")

    async def configure(self, input_rate: int, detection: TurnDetection | None) -> None:
        self.input_rate, self.detection = input_rate, detection
        await self.put(ConfigureMessage(input_rate, detection))

    async def put(self, message: Message) -> None:
        await self._queue.put(message)

    async def take(self, min_ms: int, event_id: str | None) -> np.ndarray:
        """``input_audio_buffer.commit``: the buffered audio, after everything queued before it; at least
        ``min_ms`` of it or ProtocolError."""
        done: asyncio.Future = asyncio.get_running_loop().create_future()
        await self._queue.put(TakeMessage(done))
        audio = await done
        if audio.size < min_ms * HEARING_RATE // 1000:
            raise ProtocolError("input_audio_buffer_commit_empty", f"buffer too small: "
                                f"{audio.size * 1000 // HEARING_RATE} ms < {min_ms} ms", None, event_id)
        return audio

    async def end_turn_when_heard(self, end_ms: int, audio: np.ndarray, transcript: asyncio.Future | None) -> None:
        """A pause judged by the turn detector (its words or its audio): once judged, set the silence that ends
        the speech before ``end_ms`` (a stale pause is ignored by the segmenter)."""
        if self.detection is None or not self.detection.detector.judges_pauses:
            return
        silence_ms = await judge(self.detection.detector, audio, transcript)
        if silence_ms is not None:
            await self.end_pause(end_ms, silence_ms)

    async def end_pause(self, end_ms: int, silence_ms: int) -> None:
        await self.put(EndpointMessage(end_ms, silence_ms))

    async def judge_barge_in(self, end_ms: int, audio: np.ndarray, item_id: str | None = None,
                             early: bool = False) -> None:
        """Speech heard while the assistant talks: the detector's verdict (an interruption, or a backchannel or
        cough) on speech ``item_id`` goes to the turn machine."""
        if self.detection is not None:
            verdict = await confirms_barge_in(self.detection.detector, audio, early)
            for action in self.turns.push(F.BargeInVerdictFrame(end_ms, verdict, item_id)):
                await self._act(action)

    async def _work(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while not self._queue.empty() and len(batch) < 32:
                batch.append(self._queue.get_nowait())
            try:
                results = await asyncio.to_thread(self._apply, batch)
                for message, result in zip(batch, results, strict=True):
                    if isinstance(message, TakeMessage):
                        message.done.set_result(result)
                    elif result:
                        for frame in result:
                            for action in self.turns.push(frame):
                                await self._act(action)
            except Exception as exc:  # a bug must not silence the session: report it and go on listening
                for message in batch:
                    if isinstance(message, TakeMessage) and not message.done.done():
                        message.done.set_exception(exc)
                log.error("session %s: input processing failed", self.name, exc_info=exc)
                await self._on_error(internal_error("input_processing_failed"))

    def _apply(self, batch: list[Message]) -> list[object]:
        listener, out = self.listener, []
        for m in batch:
            if isinstance(m, AudioMessage):
                out.append(listener.feed(m.pcm16, m.arrived))
            elif isinstance(m, TakeMessage):
                out.append(listener.take())
            elif isinstance(m, ClearMessage):
                out.append(listener.clear())
            elif isinstance(m, EndpointMessage):
                out.append(listener.end_pause_after(m.end_ms, m.silence_ms))
            else:
                out.append(listener.configure(m.input_rate, m.detection))
        return out
