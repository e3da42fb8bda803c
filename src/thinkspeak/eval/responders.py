"""What the math harness asks a system for: one :class:`Response` per :class:`MathItem`.

Any callable ``Responder(item) -> Response`` can be evaluated (a cascade, an API, a baseline). The one the
CLI builds, :func:`decoder_responder`, answers with our Thinker through the thinking-in-speaking decoder
(contract 4), in one of the three arrangements Mini-Omni-Reasoner contrasts: ``tis`` (thinking-in-speaking,
interleaved p:q), ``think-first`` (all reasoning before speech) and ``no-think`` (speech only).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from thinkspeak.eval.math_items import MathItem

INPUTS = ("text", "audio")
MODES = ("tis", "think-first", "no-think")


@dataclass(frozen=True)
class Response:
    """A system's answer: ``text`` is what gets scored (the spoken response for a speaking model), ``say``
    the spoken channel, ``think`` the reasoning channel, ``first_say_step`` the decoding step of the first
    spoken token (None when nothing was said), ``tokens`` the number of decoding steps."""

    text: str
    say: str
    think: str = ""
    first_say_step: int | None = None
    tokens: int = 0


class Responder(Protocol):
    def __call__(self, item: MathItem) -> Response: ...


class DecoderResponder:
    """Answers each item with a ``thinkspeak.decode.TiSDecoder``, from the question text or its audio."""

    def __init__(self, decoder: Any, input_kind: str = "text") -> None:
        if input_kind not in INPUTS:
            raise ValueError(f"input_kind must be one of {INPUTS}, got {input_kind!r}")
        self.decoder = decoder
        self.input_kind = input_kind

    def __call__(self, item: MathItem) -> Response:
        if self.input_kind == "audio":
            if item.audio is None:
                raise ValueError(f"item {item.id!r} has no audio; load items with with_audio=True")
            done = self.decoder.answer(audio=item.audio)
        else:
            done = self.decoder.answer(text=item.question)
        return Response(text=done.say, say=done.say, think=done.think,
                        first_say_step=done.stats.first_say_step, tokens=done.stats.steps)


def decoder_responder(model: str | None, mode: str, input_kind: str) -> DecoderResponder:
    """Load the Thinker at ``model`` (None: the shipped default) and wrap a greedy decoder in ``mode``."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    from thinkspeak.decode import TiSDecoder
    from thinkspeak.model import Thinker

    return DecoderResponder(TiSDecoder(Thinker.load(model), mode=mode), input_kind)
