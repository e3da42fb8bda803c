"""The interface every Thinker backend implements for the server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np

from thinkspeak.serve.cancel import Turn

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
    """Streams decoder events for a request; stops at the next token once ``turn`` is cancelled."""

    name: str
    hears_audio: bool

    def stream(self, request: ThinkRequest, turn: Turn) -> AsyncIterator[SayToken | ThinkToken | Done]: ...
