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
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch

from thinkspeak.layouts.interleave import MODES, Channel, TokenRouter

Kind = Literal["token", "pad", "end", "marker"]


def check_mode(mode: object) -> str:
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
    """Additive logit masks (0 = allowed, -inf = banned) over the model's output rows, one per channel."""

    def __init__(self, tokenizer, ids, vocab_size: int, *, dtype: torch.dtype, device: torch.device):
        n_tokens = min(len(tokenizer), vocab_size)
        special = special_ids(tokenizer, ids)
        text = torch.zeros(vocab_size, dtype=torch.bool)
        text[:n_tokens] = True
        text[[i for i in special if i < vocab_size]] = False

        def additive(extra: tuple[int, ...]) -> torch.Tensor:
            allowed = text.clone()
            allowed[list(extra)] = True
            mask = torch.zeros(vocab_size, dtype=dtype)
            return mask.masked_fill_(~allowed, float("-inf")).to(device)

        self.say = additive((ids.say_pad, ids.end))
        self.think = additive((ids.think_pad,))

    def for_channel(self, channel: Channel) -> torch.Tensor:
        return self.say if channel == "say" else self.think


class TisSchedule:
    """One stream's p:q thinking-in-speaking schedule (Mini-Omni-Reasoner §3)."""

    def __init__(self, ids, p: int, q: int):
        self.router = TokenRouter(say_pad=ids.say_pad, think_pad=ids.think_pad, end=ids.end, p=p, q=q)
        self.think_pad = ids.think_pad
        self.reasoning_ended = False

    @property
    def channel(self) -> Channel | None:
        """The channel the next slot must hold (its mask), None when unconstrained."""
        return self.router.next_channel

    def forced(self) -> int | None:
        """The token the next slot must be (never sampled), if any."""
        return self.think_pad if self.reasoning_ended and self.router.next_channel == "think" else None

    def forced_run(self) -> int:
        """How many slots from the next one on are forced (think slots left in this block, once reasoning ended)."""
        if self.forced() is None:
            return 0
        block = self.router.p + self.router.q
        return block - self.router.index % block

    def push(self, token: int) -> Slot:
        routed = self.router.push(token)
        if routed.channel == "think" and token == self.think_pad:
            self.reasoning_ended = True
        return Slot(routed.channel, routed.kind)


class FreeSchedule:
    """The 'think-first' and 'no-think' layouts: nothing masked or forced; ``<|think_end|>`` switches channel.

    Pads count as pads; any other special token (a prompt marker the model should not produce) is a marker,
    never text, so it cannot count as the first spoken token.
    """

    def __init__(self, ids, mode: str, special: frozenset[int]):
        self.ids = ids
        self.special = special
        self.phase: Channel = "think" if mode == "think-first" else "say"

    @property
    def channel(self) -> Channel | None:
        return None

    def forced(self) -> int | None:
        return None

    def forced_run(self) -> int:
        return 0

    def push(self, token: int) -> Slot:
        if token == self.ids.end:
            return Slot("say", "end")
        if token == self.ids.think_end and self.phase == "think":
            self.phase = "say"
            return Slot("think", "marker")
        if token in (self.ids.say_pad, self.ids.think_pad):
            return Slot(self.phase, "pad")
        return Slot(self.phase, "marker" if token in self.special else "token")


def make_schedule(mode: str, ids, p: int, q: int, special: frozenset[int]) -> TisSchedule | FreeSchedule:
    """The schedule of one stream in ``mode``; ``special``: the ids that are never text (:func:`special_ids`)."""
    return TisSchedule(ids, p, q) if check_mode(mode) == "tis" else FreeSchedule(ids, mode, special)
