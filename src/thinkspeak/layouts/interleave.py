"""Thinking-in-speaking: one token stream interleaving spoken-response and reasoning tokens.

Mini-Omni-Reasoner (2025, §3 "Thinking-in-Speaking") lets the Thinker emit ONE stream made of blocks of
``p`` response ("say") slots followed by ``q`` reasoning ("think") slots, ``p:q = 2:8`` by default, so speech
starts at once while reasoning keeps running ahead of it.

The exact rule implemented by :func:`interleave`
-------------------------------------------------
The output is a sequence of blocks; each block is ``p`` say slots then ``q`` think slots.

* **Say slot.** Emit the next response token if it is *licensed*, i.e. at least ``licenses[j]`` reasoning
  tokens have already been emitted (this is how the data pipeline prevents anticipation drift: a response
  token never comes before the reasoning that derives what it says). Otherwise emit ``say_pad``. Once every
  response token is out, the say slot holds ``end`` as soon as every reasoning token is out too, and
  ``say_pad`` until then.
* **Think slot.** Emit the next reasoning token; once reasoning has ended, ``think_pad`` (speech goes on).
* The sequence stops right after ``end``; nothing follows it, so a decoder stops on ``end``.

Example (p=2, q=3, say=[a b c], think=[1 2 3 4], licenses=[0, 0, 4], S=say_pad, T=think_pad, E=end)::

    a b | 1 2 3 | S S | 4 T T | c E
    ^say  ^think  ^c waits for 4 reasoning tokens

:func:`deinterleave` is the exact inverse (pads dropped); :class:`TokenRouter` labels each arriving token
'say' or 'think' from its position alone, which is how a streaming decoder routes tokens to the Talker.
:func:`arrange` produces the same sample in the ablation forms 'think-first' (all reasoning, then the
response) and 'no-think' (response only) used to reproduce the paper's comparison.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Literal, TypeVar

T = TypeVar("T", bound=Hashable)

Channel = Literal["say", "think"]
Kind = Literal["token", "pad", "end"]
MODES = ("tis", "think-first", "no-think")


def check_rhythm(p: object, q: object) -> None:
    """Validate a p:q schedule (both ints >= 1)."""
    for name, value in (("p", p), ("q", q)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be an int >= 1, got {value!r}")


def _check_markers(say: Sequence, think: Sequence, markers: dict[str, Hashable]) -> None:
    values = list(markers.values())
    if len(set(values)) != len(values):
        raise ValueError(f"say_pad, think_pad and end must be distinct, got {markers!r}")
    for stream_name, stream in (("say", say), ("think", think)):
        for i, tok in enumerate(stream):
            for marker_name, marker in markers.items():
                if tok == marker:
                    raise ValueError(
                        f"{stream_name}[{i}] is {tok!r}, which is the {marker_name} marker; "
                        "content tokens must differ from say_pad, think_pad and end"
                    )


def _check_licenses(licenses: Sequence[int] | None, n_say: int, n_think: int) -> list[int]:
    if licenses is None:
        return [0] * n_say
    if len(licenses) != n_say:
        raise ValueError(f"licenses must have one entry per say token ({n_say}), got {len(licenses)}")
    out = []
    for j, lic in enumerate(licenses):
        if not isinstance(lic, int) or isinstance(lic, bool) or not 0 <= lic <= n_think:
            raise ValueError(f"licenses[{j}] must be an int in [0, {n_think}] (reasoning tokens), got {lic!r}")
        out.append(lic)
    return out


def interleave(
    say: Sequence[T],
    think: Sequence[T],
    *,
    say_pad: T,
    think_pad: T,
    end: T,
    p: int = 2,
    q: int = 8,
    licenses: Sequence[int] | None = None,
) -> list[T]:
    """Interleave response and reasoning tokens p:q following the rule in the module docstring.

    ``licenses[j]`` is the number of reasoning tokens that must precede response token ``j`` (default: 0).
    """
    check_rhythm(p, q)
    _check_markers(say, think, {"say_pad": say_pad, "think_pad": think_pad, "end": end})
    need = _check_licenses(licenses, len(say), len(think))
    out: list[T] = []
    i_say = i_think = 0
    while True:
        for _ in range(p):
            if i_say < len(say):
                if need[i_say] <= i_think:
                    out.append(say[i_say])
                    i_say += 1
                else:
                    out.append(say_pad)
            elif i_think >= len(think):
                out.append(end)
                return out
            else:
                out.append(say_pad)
        for _ in range(q):
            if i_think < len(think):
                out.append(think[i_think])
                i_think += 1
            else:
                out.append(think_pad)


def slot_channel(index: int, p: int = 2, q: int = 8) -> Channel:
    """The channel of position ``index`` of an interleaved stream (blocks of p say then q think)."""
    check_rhythm(p, q)
    if not isinstance(index, int) or index < 0:
        raise ValueError(f"index must be an int >= 0, got {index!r}")
    return "say" if index % (p + q) < p else "think"


@dataclass(frozen=True)
class Routed:
    """One token of an interleaved stream with its channel and kind ('token', 'pad' or 'end')."""

    index: int
    channel: Channel
    kind: Kind
    token: Hashable


class TokenRouter:
    """Streaming router: labels each arriving token 'say' or 'think' as it is produced.

    The channel comes from the position alone (the rhythm is fixed), so the router needs no look-ahead; a
    token equal to a pad or ``end`` marker is flagged so a Talker skips it. After ``end`` the stream is
    closed and further tokens are rejected.
    """

    def __init__(self, *, say_pad: Hashable, think_pad: Hashable, end: Hashable, p: int = 2, q: int = 8):
        check_rhythm(p, q)
        _check_markers((), (), {"say_pad": say_pad, "think_pad": think_pad, "end": end})
        self.p, self.q = p, q
        self.say_pad, self.think_pad, self.end = say_pad, think_pad, end
        self.index = 0
        self.closed = False

    @property
    def next_channel(self) -> Channel:
        """The channel the next token will be routed to (what a constrained decoder must produce)."""
        return slot_channel(self.index, self.p, self.q)

    def push(self, token: Hashable) -> Routed:
        if self.closed:
            raise ValueError(f"token {token!r} arrived after the end marker {self.end!r}; the stream is closed")
        channel = self.next_channel
        if token == self.end:
            kind: Kind = "end"
            self.closed = True
        elif token in (self.say_pad, self.think_pad):
            kind = "pad"
        else:
            kind = "token"
        routed = Routed(self.index, channel, kind, token)
        self.index += 1
        return routed

    def feed(self, tokens: Iterable[Hashable]) -> Iterator[Routed]:
        for tok in tokens:
            yield self.push(tok)


def deinterleave(
    stream: Sequence[T],
    *,
    say_pad: T,
    think_pad: T,
    end: T,
    p: int = 2,
    q: int = 8,
    strict: bool = True,
) -> tuple[list[T], list[T]]:
    """Inverse of :func:`interleave`: return ``(say, think)`` with pads and the end marker removed.

    With ``strict`` the stream must follow the rhythm exactly: ``end`` only in a say slot, as the last
    token; say tokens only in say slots and reasoning only in think slots is implied by position. A model's
    raw output may be checked with ``strict=False``, which routes by position and stops at ``end``.
    """
    router = TokenRouter(say_pad=say_pad, think_pad=think_pad, end=end, p=p, q=q)
    say: list[T] = []
    think: list[T] = []
    for pos, tok in enumerate(stream):
        r = router.push(tok)
        if r.kind == "end":
            if strict and (r.channel != "say" or pos != len(stream) - 1):
                raise ValueError(
                    f"stream[{pos}] is the end marker but it must be the last token and in a say slot "
                    f"(stream length {len(stream)}, slot channel {r.channel!r})"
                )
            break
        if r.kind == "pad":
            if strict and tok != (say_pad if r.channel == "say" else think_pad):
                raise ValueError(f"stream[{pos}] is {tok!r}, a pad of the other channel, in a {r.channel} slot")
            continue
        (say if r.channel == "say" else think).append(tok)
    else:
        if strict:
            raise ValueError(f"stream of length {len(stream)} has no end marker {end!r}")
    return say, think


def arrange(
    say: Sequence[T],
    think: Sequence[T],
    mode: str,
    *,
    say_pad: T,
    think_pad: T,
    end: T,
    think_end: T | None = None,
    p: int = 2,
    q: int = 8,
    licenses: Sequence[int] | None = None,
) -> list[T]:
    """The same sample in one of the forms compared by Mini-Omni-Reasoner (§4, ablations).

    * ``'tis'``: thinking-in-speaking, :func:`interleave` with p:q.
    * ``'think-first'``: all reasoning, then ``think_end`` (if given), then the response, then ``end``.
    * ``'no-think'``: the response then ``end``; the reasoning is dropped.
    """
    if mode == "tis":
        return interleave(say, think, say_pad=say_pad, think_pad=think_pad, end=end, p=p, q=q, licenses=licenses)
    _check_markers(say, think, {"say_pad": say_pad, "think_pad": think_pad, "end": end})
    if mode == "think-first":
        sep = [] if think_end is None else [think_end]
        return [*think, *sep, *say, end]
    if mode == "no-think":
        return [*say, end]
    raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
