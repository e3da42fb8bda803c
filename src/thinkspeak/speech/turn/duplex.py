"""The full-duplex Thinker as a turn model: its own probability of speaking next ends the turn (issue 14).

The duplex model (:mod:`thinkspeak.model.duplex`, docs/duplex.md) hears the user's speech units on the 160 ms
chunk clock and writes its own channel (SyncLLM §3.3); ``p_speak``, its probability that its next chunk is not
``<|silence|>``, is the learned end-of-turn signal :class:`~thinkspeak.decode.duplex_session.DuplexSession`
exposes. Here it judges a pause for a cascade server that keeps its own floor logic:

* :meth:`DuplexTurn.probability`: the model reads the last ``WINDOW_S`` seconds of the utterance as units
  with its own channel at ``<|silence|>`` (what the cascade server did meanwhile), in one forward pass; its
  P(speaking) in the last chunk heard is P(complete). (Decoding chunk by chunk, as :class:`DuplexSession`
  does, gave the same probabilities on the duplex run's weights at ~8x the cost: docs/results.md.)
* :meth:`DuplexTurn.backchannel`: a chunk-clock decoder first holds the floor for ``PRIME_CHUNKS`` chunks
  (say tokens of :data:`PRIME_TEXT` over user silence), then hears the speech, writing its own channel; its
  ``p_speak`` after it is P(it keeps speaking): a backchannel or a cough leaves the floor with the model, an
  interruption takes it.

One model per process is shared by every session; each judgement builds its own decoder and unit stream, so
calls from several threads are independent.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

from thinkspeak.audio.pcm import as_mono_float32
from thinkspeak.speech.turn import TurnModelUnavailable

WINDOW_S = 3.0  # 18 chunks: inside the 32-chunk training windows
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
        from thinkspeak.decode.duplex import ChunkClockDecoder

        self._say_mask = ChunkClockDecoder(model).say_mask  # the say slot's choices: text, say_pad, silence

    def _units(self, audio: np.ndarray, lead_chunks: int = 0) -> list[list[int]]:
        """The user's unit token ids per 160 ms chunk: ``lead_chunks`` of silence, then the last ``WINDOW_S``
        seconds of ``audio`` (16 kHz), through one fresh unit stream."""
        x = as_mono_float32(audio, "audio")[-int(WINDOW_S * 16000):]
        n, vocab = self.model.clock.chunk_units, self.model.units
        stream = self.unit_model.stream()
        units = [vocab.unit(int(u)) for u in stream.push(np.zeros(lead_chunks * n * 640, np.float32))]
        units += [vocab.unit(int(u)) for u in stream.push(x)]
        return [units[k * n:(k + 1) * n] for k in range(len(units) // n)]

    def p_speak(self, audio: np.ndarray) -> list[float]:
        """The model's P(speaking) in each 160 ms chunk of ``audio`` once it has heard that chunk, its own channel
        silent throughout: one forward pass over the chunks' tokens, read at each chunk's first say slot."""
        import torch

        from thinkspeak.layouts.duplex import chunk_tokens

        clock, m = self.model.clock, self.model.markers
        tokens, reads = [], []
        for user in self._units(audio):
            chunk, _ = chunk_tokens(user, [m.silence] * clock.slots, clock, m)
            reads.append(len(tokens) + len(chunk) - clock.slots - 1)
            tokens += chunk
        if not tokens:
            return []
        with torch.inference_mode():
            logits = self.model.model(torch.tensor([tokens])).logits[0, reads].float()
        say = torch.softmax(logits.masked_fill(~self._say_mask, float("-inf")), -1)
        return (1.0 - say[:, m.silence]).tolist()

    def keeps_floor(self, audio: np.ndarray) -> list[float]:
        """P(the model speaks in its next chunk) after each 160 ms chunk of ``audio`` heard while it holds the
        floor: :data:`PRIME_CHUNKS` chunks of its speech over user silence, then the chunk clock decoding of
        :class:`~thinkspeak.decode.duplex_session.DuplexSession`, its own channel as it writes it."""
        from thinkspeak.decode.duplex import ChunkClockDecoder, ChunkRecord
        from thinkspeak.layouts.duplex import user_chunk

        chunks = self._units(audio, PRIME_CHUNKS)
        decoder = ChunkClockDecoder(self.model)
        for user, slots in zip(chunks, self._prime, strict=False):
            decoder.chunks.append(ChunkRecord(user_chunk(user, self.model.clock), True, list(slots)))
        decoder.tick()
        out = []
        for k, user in enumerate(chunks[PRIME_CHUNKS:]):
            decoder.receive(PRIME_CHUNKS + k, [u - self.model.units.unit_offset for u in user])
            out.append(decoder.tick().p_speak)
        return out

    def probability(self, audio: np.ndarray) -> float:
        p = self.p_speak(audio)
        return p[-1] if p else 0.0

    def backchannel(self, audio: np.ndarray) -> float:
        p = self.keeps_floor(audio)
        return p[-1] if p else 1.0


_LOADED: dict[str, DuplexTurn] = {}
_LOCK = threading.Lock()


def load_duplex_turn() -> DuplexTurn:
    """The process's one :class:`DuplexTurn` on the shipped duplex model (hash-checked on first use)."""
    with _LOCK:
        if "default" not in _LOADED:
            _LOADED["default"] = DuplexTurn()
        return _LOADED["default"]
