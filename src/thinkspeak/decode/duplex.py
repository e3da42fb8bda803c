"""Decoding the full-duplex Thinker on a real-time chunk clock, with SyncLLM's latency tolerance (§3.3).

At the start of time chunk ``t`` the model must write its own chunk ``t`` (it is played during ``t``), but the
user's units of chunk ``t`` exist only when ``t`` ends, and later still over a network. So, per tick:

1. user chunks that have arrived replace the model's estimates of them: the KV cache is cut back to the first
   chunk whose estimate was wrong and the chunks from there are fed again (the assistant chunks already played
   stay as they were);
2. the model predicts the user's chunks it has not received yet, up to ``t`` (greedy units, SyncLLM's
   "predict the user's next chunk");
3. it writes its own chunk ``t``: ``say_slots`` say tokens then ``think_slots`` think tokens, greedy under the
   slot constraints of :mod:`thinkspeak.layouts.duplex` (say slots: text, ``say_pad`` or ``<|silence|>``;
   think slots: text or ``think_pad``; a chunk is either all ``<|silence|>`` or none of it). While silent, the
   model takes the floor when its probability of speaking reaches ``speak_threshold`` (0.5: greedy); while
   speaking, its say slot is greedy.

The context is bounded: past ``context_chunks`` chunks the oldest are dropped and the newest ``keep_chunks``
are fed again from position 0, the window lengths the model was trained on. The forward pass is
:class:`thinkspeak.decode.qwen2_lean.LeanQwen2` over a cache that is cut by moving its length back.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from thinkspeak.decode.qwen2_lean import KVCache, LeanQwen2
from thinkspeak.layouts import duplex as layout
from thinkspeak.model.duplex import DuplexModel


@dataclass
class ChunkRecord:
    """One time chunk in the context: the user's tokens (``real`` once received) and the assistant's slots."""

    user: list[int]
    real: bool
    assistant: list[int]


@dataclass(frozen=True)
class AssistantChunk:
    """What the model wrote for chunk ``chunk``: slot token ids, whether it holds the floor and
    ``p_speak`` = P(its say slot is not ``<|silence|>``) when it chose."""

    chunk: int
    slots: tuple[int, ...]
    speaking: bool
    p_speak: float


class ChunkClockDecoder:
    """Greedy chunk-clock decoding of a :class:`DuplexModel` (rule in the module docstring)."""

    def __init__(self, model: DuplexModel, *, context_chunks: int = 64, keep_chunks: int = 40,
                 speak_threshold: float = 0.5):
        if not 1 <= keep_chunks < context_chunks:
            raise ValueError(f"keep_chunks must be in [1, context_chunks), got {keep_chunks} and {context_chunks}")
        if isinstance(speak_threshold, bool) or not isinstance(speak_threshold, int | float) \
                or not 0 < speak_threshold < 1:
            raise ValueError(f"speak_threshold must be a probability in (0, 1), got {speak_threshold!r}")
        self.speak_threshold = float(speak_threshold)
        self.model = model
        self.clock = model.clock
        self.markers = model.markers
        self.units = model.units
        self.context_chunks, self.keep_chunks = context_chunks, keep_chunks
        self.engine = LeanQwen2(model.model)
        per_chunk = self.clock.chunk_units + self.clock.slots + 2
        self.cache = KVCache(self.engine, 1, per_chunk * (context_chunks + 2))
        self.chunks: list[ChunkRecord] = []
        self.first = 0  # index of the oldest chunk in the context
        self.fed: list[int] = []  # tokens in the cache, in order
        self.logits: torch.Tensor | None = None
        vocab = model.model.config.vocab_size
        text = torch.zeros(vocab, dtype=torch.bool)
        text[:self.units.text_size] = True
        text[list(model.ids.all())] = False
        self.say_mask = text.clone()
        self.say_mask[[self.markers.say_pad, self.markers.silence]] = True
        self.think_mask = text.clone()
        self.think_mask[self.markers.think_pad] = True
        self.unit_mask = torch.zeros(vocab, dtype=torch.bool)
        self.unit_mask[self.units.unit_offset:self.units.user_tag] = True

    # ------------------------------------------------------------------ context
    def _tokens(self, c: int) -> list[int]:
        rec = self.chunks[c]
        if self.clock.layout == "syncllm":
            return [self.markers.user_tag, *rec.user, self.markers.assistant_tag, *rec.assistant]
        return [*rec.user, *rec.assistant]

    def _feed(self, tokens: list[int]) -> None:
        if tokens:
            ids = torch.tensor([tokens])
            self.logits = self.engine.forward(self.engine.embed(ids), self.cache)[0].float()
            self.fed += tokens

    def _sync(self, target: list[int]) -> None:
        """Make the cache hold ``target``: keep the common prefix, cut the rest, feed the difference."""
        common = 0
        for a, b in zip(self.fed, target, strict=False):
            if a != b:
                break
            common += 1
        if common == len(target) == len(self.fed):
            return
        if not target:
            self.cache.length, self.fed, self.logits = 0, [], None
            return
        if common == len(target):  # logits must come from the last token: refeed it
            common -= 1
        self.cache.length = common
        self.fed = self.fed[:common]
        self._feed(target[common:])

    def _context(self, upto: int) -> list[int]:
        return [tok for c in range(self.first, upto) for tok in self._tokens(c)]

    # ------------------------------------------------------------------ inputs
    def receive(self, chunk: int, units: list[int]) -> None:
        """The user's real units (``chunk_units`` raw unit indices) of time chunk ``chunk``."""
        if len(units) != self.clock.chunk_units:
            raise ValueError(f"units must hold {self.clock.chunk_units} units of one chunk, got {len(units)}")
        bad = [u for u in units if not 0 <= int(u) < self.units.n_units]
        if bad:
            raise ValueError(f"units must be in [0, {self.units.n_units}), got {bad[:3]}")
        user = [self.units.unit(u) for u in layout.user_chunk([int(u) for u in units], self.clock)]
        if chunk < len(self.chunks):
            self.chunks[chunk].user, self.chunks[chunk].real = user, True
        elif chunk == len(self.chunks):
            self.chunks.append(ChunkRecord(user, True, []))
        else:
            raise ValueError(f"chunk {chunk} arrived before chunk {len(self.chunks)}")

    # ------------------------------------------------------------------ generation
    def _pick(self, mask: torch.Tensor) -> int:
        return int(torch.argmax(self.logits.masked_fill(~mask, float("-inf"))))

    def _user_tokens(self, c: int) -> list[int]:
        rec = self.chunks[c]
        if self.clock.layout == "syncllm":
            return [self.markers.user_tag, *rec.user, self.markers.assistant_tag]
        return list(rec.user)

    def _predict_user(self) -> list[int]:
        """Greedy estimate of the user's next chunk, fed as it is generated (after ``[S0]``, which the caller
        fed); the cache ends after it and, in the SyncLLM layout, its closing ``[S1]``.

        The OmniFlatten layout has no tag to predict from at an empty context: there the estimate is the
        last heard unit held (unit 0 before any)."""
        n, m = self.clock.chunk_units, self.markers
        out: list[int] = []
        if self.clock.layout == "syncllm":
            stop = self.unit_mask.clone()
            stop[m.assistant_tag] = True
            while len(out) < n:
                tok = self._pick(stop if out else self.unit_mask)
                if tok == m.assistant_tag:
                    self._feed([tok])
                    return out
                out.append(tok)
                self._feed([tok, m.assistant_tag] if len(out) == n else [tok])
            return out
        if self.logits is None:
            heard = [u for rec in self.chunks if rec.real for u in rec.user]
            out = [heard[-1] if heard else self.units.unit(0)] * n
            self._feed(out)
            return out
        for _ in range(n):
            out.append(self._pick(self.unit_mask))
            self._feed(out[-1:])
        return out

    def _write_assistant(self, floor: bool | None = None) -> tuple[list[int], float]:
        """The assistant's slots of the current chunk and P(its say slot is not silence). A slot is fed as it is
        written when the next slot needs its logits; the rest (the last slot, the forced silence of a silent
        chunk) are fed with the next tick's first tokens. ``floor`` True/False forces the chunk to speak / be
        silent (``p_speak`` is still the model's own)."""
        m, clock = self.markers, self.clock
        only_silence = torch.zeros_like(self.say_mask)
        only_silence[m.silence] = True
        speaking = self.say_mask.clone()
        speaking[m.silence] = False
        p_speak = 1.0 - float(torch.softmax(self.logits.masked_fill(~self.say_mask, float("-inf")), -1)[m.silence])
        slots: list[int] = []
        was_speaking = self.written > 0 and self.chunks[self.written - 1].assistant[0] != m.silence
        for j in range(clock.slots):
            if not slots and floor is not None:
                mask = speaking if floor else only_silence
            elif not slots and not was_speaking:  # taking the floor: speak when P(speak) >= speak_threshold
                mask = speaking if p_speak >= self.speak_threshold else only_silence
            elif not slots:
                mask = self.say_mask
            elif slots[0] == m.silence:
                mask = only_silence
            else:
                mask = speaking if j < clock.say_slots else self.think_mask
            slots.append(self._pick(mask))
            if j + 1 < clock.slots and slots[0] != m.silence:
                self._feed(slots[-1:])
        return slots, p_speak

    @property
    def written(self) -> int:
        """Number of assistant chunks written so far (the next tick's chunk)."""
        return sum(1 for c in self.chunks if c.assistant)

    def tick(self, floor: bool | None = None) -> AssistantChunk:
        """Write the assistant's next chunk ``t`` (every chunk before it has been received or estimated).

        ``floor``: None lets the model decide (the rule in the module docstring); True / False holds its channel
        speaking / silent for this chunk, for a server that owns the audio the model's words stand for (the
        cascade's Thinker speaks while the model holds the floor: :mod:`thinkspeak.serve.floor`)."""
        t = self.written
        if t - self.first >= self.context_chunks:
            self.first = t - self.keep_chunks
            self.cache.length, self.fed, self.logits = 0, [], None
        context = self._context(t)
        if t < len(self.chunks) and self.chunks[t].real:
            self._sync(context + self._user_tokens(t))
        else:
            self._sync(context + ([self.markers.user_tag] if self.clock.layout == "syncllm" else []))
            user = self._predict_user()
            if t < len(self.chunks):
                self.chunks[t].user = user
            else:
                self.chunks.append(ChunkRecord(user, False, []))
        slots, p_speak = self._write_assistant(floor)
        self.chunks[t].assistant = slots
        return AssistantChunk(t, tuple(slots), slots[0] != self.markers.silence, p_speak)
