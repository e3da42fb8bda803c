"""Duplex serving: the full-duplex Thinker holds the floor (issue 14; SyncLLM §3.3, OmniFlatten §3).

``turn_detection: {"type": "duplex"}`` (a thinkspeak extension; ``thinkspeak serve --duplex``) gives each session
a :class:`FloorStream`: every 160 ms chunk of the user's audio, as the listener receives it, goes through the
unit stream into a :class:`~thinkspeak.decode.duplex.ChunkClockDecoder`, which writes the model's own chunk.
No fixed silence ends a turn; the model's channel does:

* **take** -- the user has paused (the VAD's tentative end, 96 ms) and the model starts speaking: the turn ends
  now (``speech_stopped``, ``committed``; the response speculated at the pause goes live);
* **yield** -- the user speaks over the assistant and the model's P(speaking) falls under its threshold: a real
  interruption (``speech_started``, the response ``cancelled``, ``conversation.item.truncated`` at the played
  point);
* **keep** -- the user paused while the assistant talked and the model still holds the floor: that was a
  backchannel or a cough; the speech is dropped and the answer never stopped (no output is held meanwhile).

What the session says while the model holds the floor comes from the session's Thinker and voice, as in every
other mode: the duplex model's channel is held *speaking* while the answer is audible and *silent* while nobody
has asked anything, so its context matches what the user hears, and only its decisions are used. (Voicing the
duplex model's own words is the simulator's job, ``thinkspeak eval duplex``; its answers are not yet worth
hearing: docs/duplex.md.) Should the model never take the floor, ``FALLBACK_SILENCE_MS`` of silence ends the
turn, so a failing model cannot stall a session.

The model hears the user through a noise floor (``NOISE_FLOOR_DBFS``, white noise added to its copy of the
audio only): its corpus has noise on the user channel throughout (SNR 15-25 dB), and on digitally silent input
-- TTS clips, a muted microphone -- it never takes the floor (P(speaking) 0.00 through a 2 s pause after a
question; 0.66 at the pause's first chunk with the floor at -50 dBFS). A microphone's own noise is usually
louder than this floor, so real input is barely changed.

``eagerness`` sets the model's threshold: ``high`` takes the floor and keeps it more readily (0.3), ``low`` less
(0.7), ``medium``/``auto`` at 0.5 (greedy).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from thinkspeak.speech.endpoint import EAGERNESS

#: the silence that ends the user's turn when the model has not taken the floor by then
FALLBACK_SILENCE_MS = 2000
#: the model's speak threshold per eagerness
THRESHOLDS = {"low": 0.7, "medium": 0.5, "auto": 0.5, "high": 0.3}
#: white noise under what the model hears (module docstring)
NOISE_FLOOR_DBFS = -50.0
#: chunks the floor stays held after a take while the response has not become audible yet
HOLD_CHUNKS = 20

User = Literal["silent", "speaking", "pausing"]
Decision = Literal["take", "yield", "keep"]


@dataclass(frozen=True)
class FloorTick:
    """One chunk of the model's channel: what it decided (None: nothing for the server), its P(speaking)."""

    chunk: int
    decision: Decision | None
    p_speak: float
    speaking: bool


class FloorStream:
    """One session's full-duplex model on the chunk clock (rules in the module docstring).

    :meth:`push` takes the user's 16 kHz audio with what the VAD says of it (``user``) and whether the assistant
    is audible; it returns one :class:`FloorTick` per completed chunk. Runs in the listener's worker thread."""

    def __init__(self, model, unit_model, speak_threshold: float = 0.5, *, noise_dbfs: float | None = NOISE_FLOOR_DBFS,
                 seed: int = 0) -> None:
        from thinkspeak.decode.duplex import ChunkClockDecoder

        self.model = model
        self.noise = None if noise_dbfs is None else 10.0 ** (noise_dbfs / 20.0)
        self.rng = np.random.default_rng(seed)
        self.stream = unit_model.stream()
        self.decoder = ChunkClockDecoder(model, speak_threshold=speak_threshold)
        self.threshold = speak_threshold
        self._units: list[int] = []
        self._received = 0
        self._held = 0  # chunks left of the hold after a take
        self._yielded = False
        self.decoder.tick(False)  # chunk 0 is written before any audio: silence

    def push(self, pcm: np.ndarray, *, user: User, audible: bool) -> list[FloorTick]:
        n = self.model.clock.chunk_units
        if self.noise is not None:
            pcm = pcm + self.rng.normal(0.0, self.noise, pcm.size).astype(np.float32)
        self._units += [int(u) for u in self.stream.push(pcm)]
        out = []
        while len(self._units) >= n:
            self.decoder.receive(self._received, self._units[:n])
            del self._units[:n]
            self._received += 1
            out.append(self._tick(user, audible))
        return out

    def _tick(self, user: User, audible: bool) -> FloorTick:
        if self._yielded and audible:  # the interruption is being carried out: the model stays silent
            chunk = self.decoder.tick(False)
            return FloorTick(chunk.chunk, None, chunk.p_speak, False)
        self._yielded = False
        if audible:
            self._held = 0
        if audible or self._held > 0:
            self._held = max(0, self._held - 1)
            chunk = self.decoder.tick(True)
            decision = "yield" if user == "speaking" and audible and chunk.p_speak < self.threshold else \
                "keep" if user == "pausing" and audible and chunk.p_speak >= self.threshold else None
            self._yielded = decision == "yield"
            return FloorTick(chunk.chunk, decision, chunk.p_speak, not self._yielded)
        if user == "pausing":  # the user may be done: the model decides
            chunk = self.decoder.tick(None)
            if chunk.speaking:
                self._held = HOLD_CHUNKS
            return FloorTick(chunk.chunk, "take" if chunk.speaking else None, chunk.p_speak, chunk.speaking)
        chunk = self.decoder.tick(False)  # nobody asked anything yet, or the user is speaking: listen
        return FloorTick(chunk.chunk, None, chunk.p_speak, False)


@dataclass(frozen=True)
class DuplexFloor:
    """The turn detector of ``type: duplex``: the model owns the floor. Stateless and shared by every session of
    a turn detection; :meth:`new_stream` gives each session its own :class:`FloorStream`."""

    model: object
    unit_model: object
    speak_threshold: float = 0.5
    judges_pauses = hears_words = False
    judges_barge_ins = owns_floor = True
    max_silence_ms = FALLBACK_SILENCE_MS

    def silence_ms(self, pause) -> int:
        return FALLBACK_SILENCE_MS

    def interrupts(self, audio: np.ndarray, early: bool = False) -> bool:
        return False  # the stream yields by itself while it hears the speech; a pause it kept is no interruption

    def new_stream(self) -> FloorStream:
        return FloorStream(self.model, self.unit_model, self.speak_threshold)


def duplex_floor(td) -> DuplexFloor:
    """``TURN_DETECTORS`` factory: the shipped duplex model (loaded once per process, hash-checked)."""
    from thinkspeak.speech.turn.duplex import load_duplex_turn

    if td.eagerness not in EAGERNESS:
        raise ValueError(f"eagerness must be one of {sorted(EAGERNESS)}, got {td.eagerness!r}")
    shared = load_duplex_turn()
    return DuplexFloor(shared.model, shared.unit_model, THRESHOLDS[td.eagerness])
