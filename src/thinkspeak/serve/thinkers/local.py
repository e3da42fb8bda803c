"""A local Thinker (the shipped default, a trained folder, or any Qwen2-family HF folder) decoded in-process.

Decoding is :class:`thinkspeak.decode.TiSDecoder` (thinking-in-speaking: p spoken tokens, then q reasoning
tokens, Mini-Omni-Reasoner §3), run in its own thread per response so the event loop never waits on the
model; the decoder's iterator is consumed through :func:`~thinkspeak.serve.threads.iterate_in_thread`,
which also stops it at the next token once its token is cancelled. With ``hears_audio`` the question's
16 kHz audio goes straight into the Thinker's audio adapter (Mini-Omni §3.1, the end-to-end path). With
``tools`` the think stream calls tools that the server runs while the say stream keeps talking (issue 12,
:mod:`thinkspeak.decode.tooluse`); their calls and results stream as ToolCall / ToolResult events.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from thinkspeak.serve.cancel import CancelToken
from thinkspeak.serve.thinkers.base import ThinkRequest
from thinkspeak.serve.threads import iterate_in_thread


@dataclass(frozen=True)
class DecodeSettings:
    """Decoder arguments for the server: greedy by default, answers capped at ``max_steps``."""

    mode: str = "tis"
    max_steps: int = 512
    temperature: float = 0.0
    top_p: float = 1.0


class LocalThinker:
    """Serve a :class:`thinkspeak.model.Thinker` (one model shared by every session; state is per stream)."""

    def __init__(self, thinker: Any, *, hears_audio: bool = False, settings: DecodeSettings = DecodeSettings(),
                 name: str = "thinker", tools: Any = None) -> None:
        from thinkspeak.decode import TiSDecoder

        if hears_audio and getattr(thinker, "adapter", None) is None:
            raise ValueError("end-to-end hearing needs a Thinker with an audio adapter; this one has none")
        self.name = name
        self.hears_audio = hears_audio
        self.tokenizer = thinker.tokenizer
        self.decoder = TiSDecoder(thinker, p=thinker.config.p, q=thinker.config.q, mode=settings.mode,
                                  max_steps=settings.max_steps, temperature=settings.temperature,
                                  top_p=settings.top_p, tools=tools)

    @classmethod
    def load(cls, path: str | Path | None, *, tools: bool = True, index: str | None = None,
             search: str | None = None, **kwargs: Any) -> LocalThinker:
        """Load ``path`` (None: the shipped default Thinker). A Thinker with the tool-call tokens calls the
        default tools from its think stream (``tools=False``: none): calc, retrieve over ``index`` (None: the
        shipped fact base) and, with a ``search`` provider, web search (:func:`thinkspeak.tools.defaults.
        default_tools`); the server runs them."""
        from thinkspeak.model import Thinker

        thinker = Thinker.load(path)
        registry = None
        if tools and thinker.tool_ids is not None:
            from thinkspeak.tools.defaults import default_tools

            registry = default_tools(index, search, preload=True)
        return cls(thinker, name=str(path) if path is not None else "thinker-default", tools=registry, **kwargs)

    def count_tokens(self, text: str) -> int:
        """Tokens of ``text`` in the Thinker's own tokenizer (the prompt budget)."""
        return len(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def stream(self, request: ThinkRequest, token: CancelToken) -> AsyncIterator:
        """Decode the answer; the user's words (the turn and the history's) are read with their numbers in the
        corpus's written form (:func:`thinkspeak.text.written.corpus_numbers`: ASR writes "924,929-756,361")."""
        from thinkspeak.text.written import corpus_numbers

        history = [(corpus_numbers(user), assistant) for user, assistant in request.history]
        text = None if request.text is None else corpus_numbers(request.text)
        if request.audio is not None and self.hears_audio:
            def make_iter():
                return self.decoder.stream(audio=request.audio, history=history, cancel=token)
        elif text is not None:
            def make_iter():
                return self.decoder.stream(text=text, history=history, cancel=token)
        else:
            raise ValueError("this Thinker hears text only; give the request a transcript (ASR hearing)")
        return iterate_in_thread(make_iter, token, maxsize=64, name="thinkspeak-decoder")
