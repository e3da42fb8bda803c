"""The stream layouts enforced at decode time: which tokens a slot admits and what each produced token is.

Thinking-in-speaking (Mini-Omni-Reasoner §3): the generated stream is blocks of ``p`` say slots then ``q``
think slots; the channel of a slot comes from its position alone (:class:`~thinkspeak.layouts.interleave.
TokenRouter`). The decoder does not trust the model to keep that rhythm, it imposes it:

* a say slot admits only say-channel tokens: response text, ``say_pad`` and ``end``;
* a think slot admits only think-channel tokens: reasoning text and ``think_pad``;
* once reasoning has ended (the model put ``think_pad`` in a think slot), every later think slot *is*
  ``think_pad``: it is forced, never sampled, which is exactly what :func:`~thinkspeak.layouts.interleave.
  interleave` does with the training data, and lets the decoder feed a whole run of forced pads to the model
  in one forward pass.

"Text" excludes every special token of the tokenizer (prompt markers, mode tokens, the other channel's pad)
and any embedding row beyond the tokenizer's vocabulary. The ablation layouts 'think-first' (reasoning,
``<|think_end|>``, response, ``end``) and 'no-think' (response, ``end``) are decoded unconstrained; their
tokens are routed by the ``<|think_end|>`` marker.

With tools (issue 12) a :class:`~thinkspeak.decode.tooluse.ToolSlots` joins the schedule: think slots also
admit ``<|call|>``, ``<|args|>`` and ``<|call_end|>``; while a call is open, running or being answered, its
waits and result tokens are forced into the think slots, and say slots admit no ``end`` ('say_hold'), so the
turn cannot end before the answer is in. ``<|tool_wait|>`` counts as a pad. Tool tokens are never text.

Batch-parallel decoding (after Mini-Omni §3.2 "batch parallel decoding", Fig. 2c; see docs/decoding.md)
pairs a TiS stream with a :class:`ReasoningDonor`, a think-first stream of the same question whose reasoning
tokens fill the TiS stream's think slots, in order, instead of the TiS stream's own choices.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Literal

import torch

from thinkspeak.layouts.interleave import MODES, Channel, TokenRouter

Kind = Literal["token", "pad", "end", "marker"]
MaskKey = Literal["say", "say_hold", "think", "reasoning"]


def check_mode(mode: object) -> str:
    """``mode`` if it is one of the decodable arrangements ('tis', 'think-first', 'no-think'), else ValueError."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    return mode  # type: ignore[return-value]


@dataclass(frozen=True)
class Slot:
    """Where a produced token goes: its channel and whether it is text, a pad, the end or a marker."""

    channel: Channel
    kind: Kind


def special_ids(tokenizer, ids) -> frozenset[int]:
    """Every special token id: the tokenizer's own and the Thinker's (``ids``: ``SpecialIds``)."""
    return frozenset(getattr(tokenizer, "all_special_ids", ())) | frozenset(ids.all())


class SlotMasks:
    """Additive logit masks (0 = allowed, -inf = banned) over the model's output rows, one per channel.

    ``tool_ids`` (:class:`~thinkspeak.model.tokens.ToolIds`) lets think slots write calls."""

    def __init__(self, tokenizer, ids, vocab_size: int, *, dtype: torch.dtype, device: torch.device,
                 tool_ids=None):
        from thinkspeak.model.tokens import ToolIds

        n_tokens = min(len(tokenizer), vocab_size)
        known = ToolIds.from_tokenizer(tokenizer)
        special = special_ids(tokenizer, ids) | frozenset(known.all() if known is not None else ())
        text = torch.zeros(vocab_size, dtype=torch.bool)
        text[:n_tokens] = True
        text[[i for i in special if i < vocab_size]] = False

        def additive(extra: tuple[int, ...]) -> torch.Tensor:
            allowed = text.clone()
            allowed[list(extra)] = True
            mask = torch.zeros(vocab_size, dtype=dtype)
            return mask.masked_fill_(~allowed, float("-inf")).to(device)

        calls = tool_ids.model_written if tool_ids is not None else ()
        self.masks: dict[MaskKey, torch.Tensor] = {
            "say": additive((ids.say_pad, ids.end)),
            "say_hold": additive((ids.say_pad,)),
            "think": additive((ids.think_pad, *calls)),
            "reasoning": additive((ids.think_end, ids.end)),  # a think-first stream's reasoning, until it ends
        }
        self.none = torch.zeros(vocab_size, dtype=dtype, device=device)

    def get(self, key: MaskKey | None) -> torch.Tensor:
        return self.none if key is None else self.masks[key]


class TisSchedule:
    """One stream's p:q thinking-in-speaking schedule (Mini-Omni-Reasoner §3).

    With a ``reasoning`` queue (batch-parallel decoding) the think slots take its tokens in order instead of
    choosing their own; the queue's producer (:class:`ReasoningDonor`) stays at least one token ahead.
    """

    def __init__(self, ids, p: int, q: int, reasoning: deque[int] | None = None, tools=None):
        self.router = TokenRouter(say_pad=ids.say_pad, think_pad=ids.think_pad, end=ids.end, p=p, q=q)
        self.think_pad = ids.think_pad
        self.reasoning = reasoning
        self.reasoning_ended = False
        self.tools = tools

    @property
    def mask(self) -> MaskKey:
        """Which mask the next slot's choice goes through: its channel's ('say_hold' while a tool is out)."""
        channel = self.router.next_channel
        if channel == "say" and self.tools is not None and self.tools.outstanding:
            return "say_hold"
        return channel

    def forced(self) -> int | None:
        """The token the next slot must be (never sampled), if any."""
        if self.router.next_channel != "think":
            return None
        if self.tools is not None and (tool := self.tools.forced()) is not None:
            return tool
        if self.reasoning_ended:
            return self.think_pad
        return self.reasoning[0] if self.reasoning is not None else None

    def forced_run(self) -> int:
        """How many slots from the next one on are forced (think slots left in this block once reasoning ended;
        a tool's injection or wait, up to the end of the block)."""
        if self.forced() is None:
            return 0
        block = self.router.p + self.router.q
        left = block - self.router.index % block
        if self.tools is not None and self.tools.outstanding:
            return min(left, self.tools.forced_run())
        return left

    def push(self, token: int) -> Slot:
        routed = self.router.push(token)
        kind = routed.kind
        if routed.channel == "think":
            if self.reasoning is not None and not self.reasoning_ended:
                self.reasoning.popleft()
            self.reasoning_ended = self.reasoning_ended or token == self.think_pad
            if self.tools is not None and token == self.tools.ids.tool_wait:
                kind = "pad"
        return Slot(routed.channel, kind)


class ReasoningDonor:
    """The think-first half of a batch-parallel pair: its reasoning tokens go into a queue that a
    :class:`TisSchedule` reads; ``<|think_end|>`` (or ``end``) closes the reasoning, queued as ``think_pad``.

    Its choices go through the 'reasoning' mask (reasoning text, ``<|think_end|>``, ``end``); it emits no events.
    """

    def __init__(self, ids):
        self.ids = ids
        self.queue: deque[int] = deque()

    @property
    def mask(self) -> MaskKey:
        return "reasoning"

    def forced(self) -> int | None:
        return None

    def forced_run(self) -> int:
        return 0

    def push(self, token: int) -> Slot:
        if token in (self.ids.think_end, self.ids.end):
            self.queue.append(self.ids.think_pad)
            return Slot("think", "end")
        self.queue.append(token)
        return Slot("think", "token")


class FreeSchedule:
    """The 'think-first' and 'no-think' layouts: nothing masked or forced; ``<|think_end|>`` switches channel.

    Pads count as pads; any other special token (a prompt marker the model should not produce) is a marker,
    never text, so it cannot count as the first spoken token.
    """

    def __init__(self, ids, mode: str, special: frozenset[int], tools=None):
        self.ids = ids
        self.special = special
        self.phase: Channel = "think" if mode == "think-first" else "say"
        self.tools = tools

    @property
    def mask(self) -> None:
        return None

    def forced(self) -> int | None:
        return self.tools.forced() if self.tools is not None and self.phase == "think" else None

    def forced_run(self) -> int:
        return self.tools.forced_run() if self.tools is not None and self.phase == "think" else 0

    def push(self, token: int) -> Slot:
        if self.tools is not None and self.phase == "think" and token in self.tools.ids.all():
            return Slot("think", "pad" if token == self.tools.ids.tool_wait else "token")
        if token == self.ids.end:
            return Slot("say", "end")
        if token == self.ids.think_end and self.phase == "think":
            self.phase = "say"
            return Slot("think", "marker")
        if token in (self.ids.say_pad, self.ids.think_pad):
            return Slot(self.phase, "pad")
        return Slot(self.phase, "marker" if token in self.special else "token")


def make_schedule(mode: str, ids, p: int, q: int, special: frozenset[int], tools=None) -> TisSchedule | FreeSchedule:
    """The schedule of one stream in ``mode``; ``special``: the ids that are never text (:func:`special_ids`);
    ``tools``: the stream's :class:`~thinkspeak.decode.tooluse.ToolSlots` (None: no tool calls)."""
    if check_mode(mode) == "tis":
        return TisSchedule(ids, p, q, tools=tools)
    return FreeSchedule(ids, mode, special, tools)
