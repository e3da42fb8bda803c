"""A live full-duplex session: 16 kHz PCM of the user in, the model's chunk-clock events out.

The server-facing face of :class:`~thinkspeak.decode.duplex.ChunkClockDecoder`: audio goes through the unit
model's stream (:mod:`thinkspeak.units`); every time a user chunk (160 ms) is complete it replaces the model's
estimate of it and the model writes its next chunk (SyncLLM §3.3), which comes back as events:
:class:`~thinkspeak.decode.events.SayToken` (words for the Talker/TTS), :class:`~thinkspeak.decode.events.ThinkToken`
(the reasoning stream) and :class:`FloorChange` when the model takes or yields the floor.
:attr:`DuplexSession.end_of_turn_probability` is the model's probability of speaking in its next chunk, a
learned end-of-turn signal for a server that keeps its own floor logic.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from thinkspeak.decode.duplex import AssistantChunk, ChunkClockDecoder
from thinkspeak.decode.events import SayToken, ThinkToken
from thinkspeak.model.duplex import DuplexModel, check_unit_model

SAMPLE_RATE = 16000


@dataclass(frozen=True)
class FloorChange:
    """The model took (``speaking``) or yielded the floor at chunk ``chunk``."""

    speaking: bool
    chunk: int
    t: float


DuplexEvent = SayToken | ThinkToken | FloorChange


def check_pcm(pcm: Any, sample_rate: Any) -> np.ndarray:
    """Mono float32 16 kHz PCM in [-1, 1] (int16 is scaled); anything else is a ValueError naming it."""
    if sample_rate != SAMPLE_RATE:
        raise ValueError(f"sample_rate must be {SAMPLE_RATE} (Hz, mono PCM), got {sample_rate!r}")
    if not isinstance(pcm, np.ndarray) or pcm.ndim != 1:
        shape = getattr(pcm, "shape", type(pcm).__name__)
        raise ValueError(f"pcm must be a 1-D numpy array of mono samples, got {shape!r}")
    if pcm.dtype == np.int16:
        return pcm.astype(np.float32) / 32768.0
    if pcm.dtype not in (np.float32, np.float64):
        raise ValueError(f"pcm must be float32 in [-1, 1] or int16, got dtype {pcm.dtype}")
    return pcm.astype(np.float32, copy=False)


class DuplexSession:
    """One user's full-duplex session (sessions are independent; one model may serve many)."""

    def __init__(self, model: DuplexModel | None = None, unit_model: Any = None):
        if unit_model is None:
            from thinkspeak.units import load_unit_model

            unit_model = load_unit_model()
        self.model = model or DuplexModel.load(unit_model=unit_model)
        check_unit_model(self.model.config, unit_model, "(session)")
        self.stream = unit_model.stream()
        self.decoder = ChunkClockDecoder(self.model)
        self.speaking = False
        self.end_of_turn_probability = 0.0
        self._units: list[int] = []
        self._received = 0
        self._first: list[DuplexEvent] = self._events(self.decoder.tick())

    def push_user(self, pcm: Any, sample_rate: int = SAMPLE_RATE) -> list[DuplexEvent]:
        """Feed user audio; returns the events of every chunk the model wrote meanwhile."""
        pcm = check_pcm(pcm, sample_rate)
        events, self._first = self._first, []
        self._units += [int(u) for u in self.stream.push(pcm)]
        n = self.model.clock.chunk_units
        while len(self._units) >= n:
            self.decoder.receive(self._received, self._units[:n])
            del self._units[:n]
            self._received += 1
            events += self._events(self.decoder.tick())
        return events

    def _events(self, chunk: AssistantChunk) -> list[DuplexEvent]:
        now = time.monotonic()
        out: list[DuplexEvent] = []
        self.end_of_turn_probability = chunk.p_speak
        if chunk.speaking != self.speaking:
            self.speaking = chunk.speaking
            out.append(FloorChange(chunk.speaking, chunk.chunk, now))
        m, clock, tok = self.model.markers, self.model.clock, self.model.tokenizer
        for j, token in enumerate(chunk.slots):
            if token in (m.silence, m.say_pad, m.think_pad):
                continue
            kind = SayToken if j < clock.say_slots else ThinkToken
            out.append(kind(tok.decode([token]), token, chunk.chunk, now))
        return out
