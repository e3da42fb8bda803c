"""The full-duplex Thinker as a turn model: its own probability of speaking next ends the turn (issue 14).

The duplex model (:mod:`thinkspeak.model.duplex`, docs/duplex.md) hears the user's speech units on the 160 ms
chunk clock and writes its own channel (SyncLLM §3.3); ``p_speak``, its probability that its next chunk is not
``<|silence|>``, is the learned end-of-turn signal :class:`~thinkspeak.decode.duplex_session.DuplexSession`
exposes. Here it judges a pause for a cascade server that keeps its own floor logic:

* :meth:`DuplexTurn.probability`: a fresh decoder hears the last ``WINDOW_S`` seconds of the utterance
  (chunk by chunk, as a :class:`DuplexSession` would) with its own channel held at ``<|silence|>`` (what the
  cascade server did meanwhile: a greedy chunk that spoke would otherwise feed its own speech back), and its
  ``p_speak`` after the last chunk is P(complete);
* :meth:`DuplexTurn.backchannel`: the decoder first holds the floor for ``PRIME_CHUNKS`` chunks (say tokens of
  :data:`PRIME_TEXT` over user silence), then hears the speech; its ``p_speak`` after it is P(it keeps
  speaking): a backchannel or a cough leaves the floor with the model, an interruption takes it.

One model per process is shared by every session; each judgement builds its own decoder and unit stream, so
calls from several threads are independent.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

from thinkspeak.audio.pcm import as_mono_float32
from thinkspeak.speech.turn import TurnModelUnavailable

WINDOW_S = 3.0  # 18 chunks: inside the 32-chunk training windows, and one judgement well under 2 s on 2 loaded cores
PRIME_CHUNKS = 6
PRIME_TEXT = "Let me explain how we get there, step by step."
EXPORT = ("thinkspeak train --recipe duplex --out runs/duplex --export src/thinkspeak/assets/duplex-default "
          "(docs/duplex.md)")


class DuplexTurn:
    """The duplex model's end-of-turn and keep-the-floor probabilities (module docstring)."""

    name = "duplex"
    tells_backchannels = True

    def __init__(self, path: str | Path | None = None, *, model=None, unit_model=None) -> None:
        from thinkspeak.model.duplex import DuplexModel

        if unit_model is None:
            from thinkspeak.units import load_unit_model

            unit_model = load_unit_model()
        if model is None:
            try:
                model = DuplexModel.load(path, unit_model=unit_model)
            except (OSError, ValueError) as exc:
                where = "the shipped full-duplex Thinker" if path is None else f"the duplex model at {str(path)!r}"
                raise TurnModelUnavailable(f"the duplex turn model needs {where}, which cannot be loaded ({exc}); "
                                           f"train and export it: {EXPORT}") from exc
        self.model, self.unit_model = model, unit_model
        clock, m = model.clock, model.markers
        say = model.text_ids(PRIME_TEXT)
        self._prime = []
        for c in range(PRIME_CHUNKS):
            words = say[c * clock.say_slots:(c + 1) * clock.say_slots]
            words += [m.say_pad] * (clock.say_slots - len(words))
            self._prime.append(words + [m.think_pad] * clock.think_slots)

    def p_speak(self, audio: np.ndarray, *, holding_floor: bool = False) -> list[float]:
        """The model's P(speaking in its next chunk) after each 160 ms chunk of ``audio`` (16 kHz, the last
        ``WINDOW_S`` seconds), heard from silence or, with ``holding_floor``, while it speaks."""
        from thinkspeak.decode.duplex import ChunkClockDecoder, ChunkRecord
        from thinkspeak.layouts.duplex import user_chunk

        x = as_mono_float32(audio, "audio")[-int(WINDOW_S * 16000):]
        clock, vocab = self.model.clock, self.model.units
        n = clock.chunk_units
        decoder, stream = ChunkClockDecoder(self.model), self.unit_model.stream()
        if holding_floor:
            quiet = [int(u) for u in stream.push(np.zeros(PRIME_CHUNKS * n * 640, np.float32))]
            for c, slots in enumerate(self._prime):
                user = [vocab.unit(u) for u in user_chunk(quiet[c * n:(c + 1) * n], clock)]
                decoder.chunks.append(ChunkRecord(user, True, list(slots)))
        start = len(decoder.chunks)
        quiet = [self.model.markers.silence] * clock.slots
        units = [int(u) for u in stream.push(x)]
        out = []
        for k in range(len(units) // n + 1):
            if k:
                decoder.receive(start + k - 1, units[(k - 1) * n:k * n])
            chunk = decoder.tick()
            if not holding_floor:  # the cascade server was silent while the user spoke: so is its channel
                decoder.chunks[chunk.chunk].assistant = list(quiet)
            out.append(chunk.p_speak)
        return out[1:]

    def probability(self, audio: np.ndarray) -> float:
        p = self.p_speak(audio)
        return p[-1] if p else 0.0

    def backchannel(self, audio: np.ndarray) -> float:
        p = self.p_speak(audio, holding_floor=True)
        return p[-1] if p else 1.0


_LOADED: dict[str, DuplexTurn] = {}
_LOCK = threading.Lock()


def load_duplex_turn() -> DuplexTurn:
    """The process's one :class:`DuplexTurn` on the shipped duplex model (hash-checked on first use)."""
    with _LOCK:
        if "default" not in _LOADED:
            _LOADED["default"] = DuplexTurn()
        return _LOADED["default"]
