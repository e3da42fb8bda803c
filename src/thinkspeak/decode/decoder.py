"""The streaming thinking-in-speaking decoder (Mini-Omni-Reasoner §3; contract 4).

:class:`TiSDecoder` turns a question (text, 16 kHz audio or encoder features) into a stream of typed events
as the Thinker produces its interleaved stream: :class:`~thinkspeak.decode.events.SayToken` for spoken
tokens, :class:`~thinkspeak.decode.events.ThinkToken` for reasoning tokens, then one
:class:`~thinkspeak.decode.events.Done`. Each step:

1. ``cancel()`` is asked (a barge-in stops the decode before the next token);
2. the next slot's token is *forced* (a think slot after reasoning ended) or *chosen* from the logits with the
   slot's channel mask (:mod:`thinkspeak.decode.schedule`), greedily or by sampling;
3. the token is routed to its channel and detokenised incrementally; pads are counted, not emitted;
4. the token goes through the model (:class:`~thinkspeak.decode.qwen2_lean.LeanQwen2` over a preallocated KV
   cache) — together with the run of forced pads that follows it, when there is one, in a single forward.

Several requests decode together in one forward per step (:meth:`TiSDecoder.stream_batch`): prompts are
left-padded, every row keeps its own positions, schedule, detokenisers and stop state. See docs/decoding.md
for how this relates to Mini-Omni's batch-parallel decoding.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from thinkspeak.decode.answer import spoken_answer
from thinkspeak.decode.detokenize import IncrementalDetokenizer
from thinkspeak.decode.events import DecodeStats, Done, Event, SayToken, StopReason, ThinkToken
from thinkspeak.decode.qwen2_lean import KVCache, LeanQwen2
from thinkspeak.decode.sampling import SamplingParams, choose
from thinkspeak.decode.schedule import SlotMasks, check_mode, make_schedule, special_ids
from thinkspeak.layouts.interleave import check_rhythm

SAMPLE_RATE = 16000


@dataclass(frozen=True)
class Request:
    """One question: exactly one of ``text``, ``audio`` (16 kHz mono float PCM) or ``features`` (encoder
    features ``[T, D]``), earlier ``(user, assistant)`` turns, and an optional ``cancel()`` asked every step."""

    text: str | None = None
    audio: Any = None
    features: Any = None
    history: Sequence[tuple[str, str]] = ()
    cancel: Callable[[], bool] | None = None

    def __post_init__(self) -> None:
        given = [name for name in ("text", "audio", "features") if getattr(self, name) is not None]
        if len(given) != 1:
            got = " and ".join(given) if given else "none of them"
            raise ValueError(f"give exactly one of text=, audio= or features=, got {got}")
        if self.text is not None and (not isinstance(self.text, str) or not self.text.strip()):
            raise ValueError(f"text must be a non-empty str, got {self.text!r}")
        if self.cancel is not None and not callable(self.cancel):
            raise ValueError(f"cancel must be a callable returning bool, got {self.cancel!r}")


class _Row:
    """The state of one request inside a (possibly batched) decode."""

    def __init__(self, request: Request, schedule, tokenizer):
        self.request = request
        self.schedule = schedule
        self.say = IncrementalDetokenizer(tokenizer)
        self.think = IncrementalDetokenizer(tokenizer)
        self.tokens: list[int] = []
        self.first_say_step: int | None = None
        self.stop: StopReason | None = None

    def take(self, token: int, t: float) -> Event | None:
        """Append ``token`` to this row's stream; return the event it makes, if any."""
        step = len(self.tokens)
        self.tokens.append(token)
        slot = self.schedule.push(token)
        if slot.kind == "end":
            self.stop = "end"
        if slot.kind != "token":
            return None
        if slot.channel == "say":
            if self.first_say_step is None:
                self.first_say_step = step
            return SayToken(self.say.push(token), token, step, t)
        return ThinkToken(self.think.push(token), token, step, t)

    def done(self, started: float, prefill_s: float, forwards: int) -> Done:
        now = time.monotonic()
        say, think = self.say.text, self.think.text
        elapsed = now - started
        decoding = elapsed - prefill_s
        stats = DecodeStats(
            steps=len(self.tokens),
            first_say_step=self.first_say_step,
            say_tokens=len(self.say.ids),
            think_tokens=len(self.think.ids),
            tokens_per_s=len(self.tokens) / decoding if decoding > 0 else 0.0,
            prefill_s=prefill_s,
            elapsed_s=elapsed,
            forwards=forwards,
            stop_reason=self.stop or "max_steps",
        )
        return Done(spoken_answer(say), say, think, stats, now, tuple(self.tokens))


class TiSDecoder:
    """Streaming decoder for a Thinker (contract 4).

    ``p``/``q``: the thinking-in-speaking rhythm; ``mode``: 'tis', 'think-first' or 'no-think' (the mode token
    of the prompt; the p:q schedule applies to 'tis' only); ``max_steps``: longest generated stream;
    ``temperature`` 0 decodes greedily, otherwise ``top_k``/``top_p`` sampling with a ``torch.Generator``
    seeded by ``seed`` at the start of every decode (None: PyTorch's global generator); ``forced_runs``: feed
    each run of forced pads to the model in one forward (False: one forward per token, the baseline);
    ``encoder``: what turns ``audio=`` into features (default: the packaged Whisper-base encoder, built on
    first use).
    """

    def __init__(
        self,
        thinker,
        p: int = 2,
        q: int = 8,
        mode: str = "tis",
        max_steps: int = 512,
        temperature: float = 0.0,
        top_p: float = 1.0,
        seed: int | None = None,
        *,
        top_k: int = 0,
        forced_runs: bool = True,
        encoder=None,
    ):
        check_rhythm(p, q)
        if isinstance(max_steps, bool) or not isinstance(max_steps, int) or max_steps < 1:
            raise ValueError(f"max_steps must be an int >= 1, got {max_steps!r}")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise ValueError(f"seed must be an int or None, got {seed!r}")
        self.thinker = thinker
        self.p, self.q, self.mode, self.max_steps = p, q, check_mode(mode), max_steps
        self.sampling = SamplingParams(temperature, top_k, top_p)
        self.seed = seed
        self.forced_runs = forced_runs
        self.engine = LeanQwen2(thinker.model)
        self.masks = SlotMasks(
            thinker.tokenizer, thinker.ids, self.engine.shape.vocab, dtype=self.engine.dtype, device=self.engine.device
        )
        self._special = special_ids(thinker.tokenizer, thinker.ids)
        self._encoder = encoder

    # ------------------------------------------------------------------ public API
    def stream(self, text: str | None = None, audio=None, features=None, history: Sequence[tuple[str, str]] = (),
               cancel: Callable[[], bool] | None = None) -> Iterator[Event]:
        """Events of one decode as they are produced: say/think tokens, then one :class:`Done`."""
        rows = self._decode([Request(text, audio, features, tuple(history), cancel)])
        return (event for _, event in rows)

    def answer(self, text: str | None = None, audio=None, features=None, history: Sequence[tuple[str, str]] = (),
               cancel: Callable[[], bool] | None = None) -> Done:
        """Decode to the end and return the :class:`Done` event."""
        *_, done = self.stream(text, audio, features, history, cancel)
        return done

    def stream_batch(self, requests: Sequence[Request]) -> Iterator[tuple[int, Event]]:
        """Decode several requests in one forward per step; yields ``(request index, event)``.

        A row's :class:`Done` comes as soon as that row stops; the others go on.
        """
        requests = list(requests)
        if not requests or not all(isinstance(r, Request) for r in requests):
            raise ValueError(f"requests must be a non-empty sequence of Request, got {requests!r}")
        return self._decode(requests)

    def answer_batch(self, requests: Sequence[Request]) -> list[Done]:
        """Decode several requests together; their :class:`Done` events in request order."""
        out: dict[int, Done] = {}
        for i, event in self.stream_batch(requests):
            if isinstance(event, Done):
                out[i] = event
        return [out[i] for i in range(len(out))]

    # ------------------------------------------------------------------ internals
    def _prompt(self, request: Request) -> torch.Tensor:
        """Prompt embeddings ``[L, d]``: the Thinker's prompt for text or features (audio goes through the encoder)."""
        if request.text is not None:
            embeds = self.thinker.prompt_embeds(text=request.text, mode=self.mode, history=request.history)
        else:
            features = request.features if request.features is not None else self._features(request.audio)
            embeds = self.thinker.prompt_embeds(features=features, mode=self.mode, history=request.history)
        return embeds[0].detach()

    def _features(self, audio):
        import numpy as np

        pcm = np.asarray(audio, dtype=np.float32)
        if pcm.ndim != 1 or pcm.size == 0:
            raise ValueError(f"audio must be non-empty mono PCM at {SAMPLE_RATE} Hz (1-D array), got shape {pcm.shape}")
        if self._encoder is None:
            from thinkspeak.speech.encoder import WhisperEncoder

            self._encoder = WhisperEncoder()
        return torch.as_tensor(np.asarray(self._encoder.features(pcm), dtype=np.float32))

    def _prefill(self, prompts: list[torch.Tensor]) -> tuple[KVCache, torch.Tensor]:
        """Run the (left-padded) prompts through the model; returns the cache and the first logits ``[B, V]``."""
        lengths = [p.shape[0] for p in prompts]
        cache = KVCache(self.engine, len(prompts), max(lengths) + self.max_steps)
        width = cache.left_pad(lengths)
        x = torch.stack([torch.cat([p.new_zeros(width - p.shape[0], p.shape[1]), p]) for p in prompts])
        return cache, self.engine.forward(x, cache)

    def _choose(self, logits: torch.Tensor, rows: list[_Row], generator) -> list[int]:
        """The next token of every row: forced where the schedule says so, else chosen under the slot's mask.

        Rows that have stopped get ``<|pad|>`` (they are still fed, their outputs are never read).
        """
        forced = [self.thinker.ids.pad if r.stop is not None else r.schedule.forced() for r in rows]
        if None not in forced:
            return forced
        # Active rows all sit at the same stream position, so they share the slot's channel.
        channel = next(r for r, f in zip(rows, forced, strict=True) if f is None).schedule.channel
        if channel is not None:
            logits = logits + self.masks.for_channel(channel)
        chosen = choose(logits, self.sampling, generator).tolist()
        return [c if f is None else f for c, f in zip(chosen, forced, strict=True)]

    def _decode(self, requests: list[Request]) -> Iterator[tuple[int, Event]]:
        """Build the prompts now (so bad input fails at the call), decode when iterated."""
        started = time.monotonic()
        prompts = [self._prompt(r) for r in requests]
        return self._run(requests, prompts, started)

    def _run(self, requests: list[Request], prompts: list[torch.Tensor], started: float) -> Iterator[tuple[int, Event]]:
        ids = self.thinker.ids
        generator = None if self.seed is None else torch.Generator(self.engine.device).manual_seed(self.seed)
        rows = [_Row(r, make_schedule(self.mode, ids, self.p, self.q, self._special), self.thinker.tokenizer)
                for r in requests]
        cache, logits = self._prefill(prompts)
        prefill_s = time.monotonic() - started
        forwards = position = 0  # forward passes after the prefill; stream position shared by the active rows
        while True:
            for i, row in enumerate(rows):
                if row.stop is None:
                    if row.request.cancel is not None and row.request.cancel():
                        row.stop = "cancelled"
                    elif position >= self.max_steps:
                        row.stop = "max_steps"
                    if row.stop is not None:
                        yield i, row.done(started, prefill_s, forwards)
            if all(r.stop is not None for r in rows):
                return
            tokens = self._choose(logits, rows, generator)
            now = time.monotonic()
            for i, (row, token) in enumerate(zip(rows, tokens, strict=True)):
                if row.stop is None:
                    event = row.take(token, now)
                    if event is not None:
                        yield i, event
                    if row.stop is not None:
                        yield i, row.done(started, prefill_s, forwards)
            position += 1
            active = [r for r in rows if r.stop is None]
            if not active or position >= self.max_steps:
                continue
            feed = [tokens]
            if self.forced_runs:
                # Every active row is forced for the next `run` slots: they go in with this token, one forward.
                run = min(min(r.schedule.forced_run() for r in active), self.max_steps - position)
                for _ in range(run):
                    feed.append([ids.pad if r.stop is not None else r.schedule.forced() for r in rows])
                    for row, token in zip(rows, feed[-1], strict=True):
                        if row.stop is None:
                            row.take(token, now)
                position += run
            logits = self.engine.forward(self.engine.embed(torch.tensor(feed, device=self.engine.device).T), cache)
            forwards += 1
