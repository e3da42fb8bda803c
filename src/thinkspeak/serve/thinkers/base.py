"""The thinker stage's interface: a request in, the decoder's events out; and the prompt budget of a turn."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Protocol

import numpy as np

from thinkspeak.serve.cancel import CancelToken

if TYPE_CHECKING:
    from thinkspeak.decode.events import Done, SayToken, ThinkToken


@dataclass(frozen=True)
class ThinkRequest:
    """One user turn to answer: the heard or typed ``text``, or for end-to-end hearing the 16 kHz ``audio``;
    ``history`` holds the earlier (user text, assistant text as heard) pairs of this session only."""

    text: str | None = None
    audio: np.ndarray | None = None
    history: tuple[tuple[str, str], ...] = ()
    instructions: str = ""

    def __post_init__(self) -> None:
        if (self.text is None) == (self.audio is None):
            raise ValueError("ThinkRequest needs exactly one of text= or audio=")


class ThinkerBackend(Protocol):
    """Streams decoder events for a request; stops at the next token once ``token`` is cancelled.

    ``count_tokens`` (optional) measures text in the backend's own tokens for the prompt budget; backends
    without one are measured by :func:`estimate_tokens`."""

    name: str
    hears_audio: bool

    def stream(self, request: ThinkRequest, token: CancelToken) -> AsyncIterator[SayToken | ThinkToken | Done]: ...


class PromptTooLong(ValueError):
    """The turn's own text and instructions exceed the prompt budget even without any history."""


def estimate_tokens(text: str) -> int:
    """A safe over-estimate of a BPE tokenizer's count: one token per 3 bytes of UTF-8."""
    return len(text.encode("utf-8")) // 3 + 1


def fit_prompt(request: ThinkRequest, max_tokens: int, count: Callable[[str], int] = estimate_tokens) -> ThinkRequest:
    """``request`` with its history trimmed oldest-first so the prompt holds at most ``max_tokens`` tokens
    (audio counts as nothing here: its length is bounded by the input buffer); PromptTooLong when the turn
    alone is over."""
    own = count(request.instructions) + (count(request.text) if request.text is not None else 0)
    if own > max_tokens:
        raise PromptTooLong(f"the turn's text and instructions take about {own} tokens; the limit is {max_tokens}")
    sizes = [count(user) + count(assistant) for user, assistant in request.history]
    keep = len(sizes)
    while keep and own + sum(sizes[len(sizes) - keep:]) > max_tokens:
        keep -= 1
    return replace(request, history=request.history[len(sizes) - keep:])
