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
left-padded, every row keeps its own positions, schedule, detokenisers and stop state.

``batch_parallel=True`` is Mini-Omni's batch-parallel decoding (§3.2, Fig. 2c) carried over to a single-stream
Thinker: each question runs as a pair of rows, the TiS stream that speaks and a think-first stream of the
same question whose reasoning tokens fill the TiS stream's think slots (docs/decoding.md says when that helps).

``tools=`` (a :class:`thinkspeak.tools.ToolRegistry`, for a Thinker with the tool tokens) lets the think
stream call tools (issue 12, :mod:`thinkspeak.decode.tooluse`): a closed call runs on a worker thread, its
result is injected into later think slots while say slots keep flowing, and the decode yields
:class:`~thinkspeak.decode.events.ToolCall` / :class:`~thinkspeak.decode.events.ToolResult` events.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from thinkspeak.decode.answer import spoken_answer
from thinkspeak.decode.detokenize import IncrementalDetokenizer
from thinkspeak.decode.events import DecodeStats, Done, Event, SayToken, StopReason, ThinkToken, ToolCall
from thinkspeak.decode.qwen2_lean import KVCache, LeanQwen2
from thinkspeak.decode.sampling import SamplingParams, choose
from thinkspeak.decode.schedule import (
    ReasoningDonor,
    SlotMasks,
    TisSchedule,
    check_mode,
    make_schedule,
    special_ids,
)
from thinkspeak.decode.tooluse import ToolRunner, ToolSlots
from thinkspeak.layouts.interleave import check_rhythm

SAMPLE_RATE = 16000


@dataclass(frozen=True)
class Request:
    """One question: exactly one of ``text``, ``audio`` (16 kHz mono float PCM), ``features`` (encoder
    features ``[T, D]``) or a ready ``prompt`` (token ids, or input embeddings ``[L, d]``, ending with the mode
    token); earlier ``(user, assistant)`` turns (not with ``prompt``); an optional ``cancel()`` asked every step."""

    text: str | None = None
    audio: Any = None
    features: Any = None
    history: Sequence[tuple[str, str]] = ()
    cancel: Callable[[], bool] | None = None
    prompt: Any = None

    def __post_init__(self) -> None:
        given = [name for name in ("text", "audio", "features", "prompt") if getattr(self, name) is not None]
        if len(given) != 1:
            got = " and ".join(given) if given else "none of them"
            raise ValueError(f"give exactly one of text=, audio=, features= or prompt=, got {got}")
        if self.prompt is not None and self.history:
            raise ValueError("history= cannot be combined with prompt= (a ready prompt already holds its history)")
        if self.text is not None and (not isinstance(self.text, str) or not self.text.strip()):
            raise ValueError(f"text must be a non-empty str, got {self.text!r}")
        if self.audio is not None:
            shape = np.shape(self.audio)
            if len(shape) != 1 or shape[0] == 0:
                raise ValueError(f"audio must be non-empty mono PCM at {SAMPLE_RATE} Hz (a 1-D array), got shape {shape}")
        if self.cancel is not None and not callable(self.cancel):
            raise ValueError(f"cancel must be a callable returning bool, got {self.cancel!r}")


class _Row:
    """One stream inside a (possibly batched) decode: request ``index``'s own stream, or (``follows`` set) the
    silent reasoning donor that serves the row it follows."""

    def __init__(self, index: int, request: Request, schedule, tokenizer, follows: _Row | None = None):
        self.index = index
        self.request = request
        self.schedule = schedule
        self.follows = follows
        self.tools: ToolSlots | None = getattr(schedule, "tools", None)
        self.say = IncrementalDetokenizer(tokenizer)
        self.think = IncrementalDetokenizer(tokenizer, skip_special=self.tools is None)
        self.tokens: list[int] = []
        self.first_say_step: int | None = None
        self.stop: StopReason | None = None
        self.tool_calls = 0

    def take(self, token: int, t: float) -> list[Event]:
        """Append ``token`` to this row's stream; return the events it makes."""
        step = len(self.tokens)
        self.tokens.append(token)
        slot = self.schedule.push(token)
        if slot.kind == "end":
            self.stop = "end"
        if self.follows is not None:
            return []
        tool_events = self.tools.push(token, step, t) if self.tools is not None and slot.channel == "think" else []
        self.tool_calls += sum(isinstance(e, ToolCall) for e in tool_events)
        if slot.kind != "token":
            return tool_events
        if slot.channel == "say":
            if self.first_say_step is None:
                self.first_say_step = step
            return [SayToken(self.say.push(token), token, step, t)]
        return [ThinkToken(self.think.push(token), token, step, t), *tool_events]

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
            tool_calls=self.tool_calls,
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
    first use); ``batch_parallel``: reason in a think-first row and speak in the TiS row ('tis' mode only; for a
    Thinker trained on both arrangements, as the default recipe does); ``tools``: a registry with
    ``run(Call) -> Result`` the think stream may call (the Thinker needs the tool tokens), each call answered
    within ``tool_timeout_s`` or with a timeout error.
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
        batch_parallel: bool = False,
        tools=None,
        tool_timeout_s: float = 5.0,
    ):
        check_rhythm(p, q)
        if isinstance(max_steps, bool) or not isinstance(max_steps, int) or max_steps < 1:
            raise ValueError(f"max_steps must be an int >= 1, got {max_steps!r}")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise ValueError(f"seed must be an int or None, got {seed!r}")
        self.thinker = thinker
        self.p, self.q, self.mode, self.max_steps = p, q, check_mode(mode), max_steps
        if batch_parallel and mode != "tis":
            raise ValueError(f"batch_parallel needs mode='tis' (it fills a TiS stream's think slots), got {mode!r}")
        self.batch_parallel = batch_parallel
        self.runner: ToolRunner | None = None
        if tools is not None:
            if thinker.tool_ids is None:
                raise ValueError("tools need a Thinker with the tool-call tokens (Thinker.add_tool_tokens, then "
                                 "fine-tune on tool traces); this one has none")
            if batch_parallel:
                raise ValueError("tools cannot be combined with batch_parallel (the donor stream runs no tools)")
            self.runner = ToolRunner(tools, tool_timeout_s)
        self.sampling = SamplingParams(temperature, top_k, top_p)
        self.seed = seed
        self.forced_runs = forced_runs
        self.engine = LeanQwen2(thinker.model)
        self.masks = SlotMasks(
            thinker.tokenizer, thinker.ids, self.engine.shape.vocab, dtype=self.engine.dtype, device=self.engine.device,
            tool_ids=thinker.tool_ids if tools is not None else None,
        )
        self._special = special_ids(thinker.tokenizer, thinker.ids)
        self._encoder = encoder

    # ------------------------------------------------------------------ public API
    def stream(self, text: str | None = None, audio=None, features=None, history: Sequence[tuple[str, str]] = (),
               cancel: Callable[[], bool] | None = None, *, prompt=None) -> Iterator[Event]:
        """Events of one decode as they are produced: say/think tokens, then one :class:`Done`.

        Bad input raises ValueError here, at the call; the decoding itself runs as the events are read.
        """
        rows = self._decode([Request(text, audio, features, tuple(history), cancel, prompt)])
        return (event for _, event in rows)

    def answer(self, text: str | None = None, audio=None, features=None, history: Sequence[tuple[str, str]] = (),
               cancel: Callable[[], bool] | None = None, *, prompt=None) -> Done:
        """Decode to the end and return the :class:`Done` event."""
        *_, done = self.stream(text, audio, features, history, cancel, prompt=prompt)
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
    def _prompt(self, request: Request, mode: str) -> torch.Tensor:
        """Prompt embeddings ``[L, d]``: the Thinker's prompt for text or features (audio goes through the encoder)."""
        if request.prompt is not None:
            if self.batch_parallel:
                raise ValueError("prompt= cannot be used with batch_parallel (it needs the question, to prompt twice)")
            return self._ready_prompt(request.prompt)
        if request.text is not None:
            embeds = self.thinker.prompt_embeds(text=request.text, mode=mode, history=request.history)
        else:
            features = request.features if request.features is not None else self._features(request.audio)
            embeds = self.thinker.prompt_embeds(features=features, mode=mode, history=request.history)
        return embeds[0].detach()

    def _ready_prompt(self, prompt) -> torch.Tensor:
        x = torch.as_tensor(prompt, device=self.engine.device)
        if x.dim() == 3 and x.shape[0] == 1:
            x = x[0]
        d = self.engine.shape.hidden
        if not x.is_floating_point() and x.dim() == 1 and x.numel() > 0:
            if int(x.min()) < 0 or int(x.max()) >= self.engine.shape.vocab:
                raise ValueError(f"prompt token ids must lie in [0, {self.engine.shape.vocab}), got {x.tolist()!r}")
            return self.engine.embed(x)
        if x.is_floating_point() and x.dim() == 2 and x.shape[0] > 0 and x.shape[1] == d:
            return x.to(self.engine.dtype)
        raise ValueError(f"prompt must be token ids [L] or input embeddings [L, {d}] / [1, L, {d}], "
                         f"got {x.dtype} of shape {tuple(x.shape)}")

    def _features(self, audio) -> torch.Tensor:
        pcm = np.asarray(audio, dtype=np.float32)
        return torch.as_tensor(np.asarray(self._load_encoder().features(pcm), dtype=np.float32))

    def _load_encoder(self):
        if self._encoder is None:
            from thinkspeak.speech.encoder import WhisperEncoder

            self._encoder = WhisperEncoder()
        return self._encoder

    def _prefill(self, prompts: list[torch.Tensor]) -> tuple[KVCache, torch.Tensor]:
        """Run the (left-padded) prompts through the model; returns the cache and the first logits ``[B, V]``."""
        lengths = [p.shape[0] for p in prompts]
        cache = KVCache(self.engine, len(prompts), max(lengths) + self.max_steps)
        width = cache.left_pad(lengths)
        x = torch.stack([torch.cat([p.new_zeros(width - p.shape[0], p.shape[1]), p]) for p in prompts])
        return cache, self.engine.forward(x, cache)

    def _choose(self, logits: torch.Tensor, rows: list[_Row], generator) -> list[int]:
        """The next token of every row: forced where the schedule says so, else chosen under the row's mask.

        Rows that have stopped get ``<|pad|>`` (they are still fed, their outputs are never read).
        """
        forced = [self.thinker.ids.pad if r.stop is not None else r.schedule.forced() for r in rows]
        if None not in forced:
            return forced
        keys = [r.schedule.mask if f is None else None for r, f in zip(rows, forced, strict=True)]
        if len(set(keys)) == 1:  # plain batches: rows share their stream position, hence their slot's mask
            logits = logits + self.masks.get(keys[0])
        else:
            logits = logits + torch.stack([self.masks.get(k) for k in keys])
        chosen = choose(logits, self.sampling, generator).tolist()
        return [c if f is None else f for c, f in zip(chosen, forced, strict=True)]

    def _decode(self, requests: list[Request]) -> Iterator[tuple[int, Event]]:
        """Build the rows and prompts now (so bad input fails at the call), decode when iterated.

        The clock (``prefill_s``, ``elapsed_s``) starts after a first-use load of the audio encoder.
        """
        if any(r.audio is not None for r in requests):
            self._load_encoder()
        started = time.monotonic()
        ids, tokenizer = self.thinker.ids, self.thinker.tokenizer
        rows, prompts = [], []
        for index, request in enumerate(requests):
            if self.batch_parallel:
                donor = ReasoningDonor(ids)
                speaker = _Row(index, request, TisSchedule(ids, self.p, self.q, donor.queue), tokenizer)
                rows += [speaker, _Row(index, request, donor, tokenizer, follows=speaker)]
                prompts += [self._prompt(request, "tis"), self._prompt(request, "think-first")]
            else:
                tools = None if self.runner is None else ToolSlots(self.thinker.tool_ids, tokenizer, self.runner)
                schedule = make_schedule(self.mode, ids, self.p, self.q, self._special, tools)
                rows.append(_Row(index, request, schedule, tokenizer))
                prompts.append(self._prompt(request, self.mode))
        return self._run(rows, prompts, started)

    def _run(self, rows: list[_Row], prompts: list[torch.Tensor], started: float) -> Iterator[tuple[int, Event]]:
        ids = self.thinker.ids
        generator = None if self.seed is None else torch.Generator(self.engine.device).manual_seed(self.seed)
        cache, logits = self._prefill(prompts)
        prefill_s = time.monotonic() - started
        forwards = position = 0  # forward passes after the prefill; stream position shared by the active rows
        while True:
            for row in rows:
                if row.stop is not None:
                    continue
                if row.follows is not None:  # a donor serves its row and stops with it
                    row.stop = row.follows.stop
                elif row.request.cancel is not None and row.request.cancel():
                    row.stop = "cancelled"
                elif position >= self.max_steps:
                    row.stop = "max_steps"
                if row.stop is not None and row.follows is None:
                    yield row.index, row.done(started, prefill_s, forwards)
            if all(r.stop is not None for r in rows):
                return
            tokens = self._choose(logits, rows, generator)
            now = time.monotonic()
            for row, token in zip(rows, tokens, strict=True):
                if row.stop is None and row.follows is not None and row.follows.stop is not None:
                    row.stop = row.follows.stop  # its speaker just ended: no token, no further forward for it
                if row.stop is None:
                    events = row.take(token, now)
                    if row.follows is None:
                        for event in events:
                            yield row.index, event
                        if row.stop is not None:
                            yield row.index, row.done(started, prefill_s, forwards)
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
                            for event in row.take(token, now):  # forced pads make none; injected results do
                                yield row.index, event
                position += run
            logits = self.engine.forward(self.engine.embed(torch.tensor(feed, device=self.engine.device).T), cache)
            forwards += 1
