"""The thinker stage: every backend streams the decoder's events (SayToken, ThinkToken, Done).

Backends are chosen by name from :data:`THINKERS` (third-party ones register there, or by entry point):

* ``local``: :class:`~thinkspeak.serve.thinkers.local.LocalThinker`, a thinkspeak Thinker folder or any local
  Qwen2-family HF folder, decoded by :class:`thinkspeak.decode.TiSDecoder` (thinking-in-speaking,
  Mini-Omni-Reasoner §3);
* ``openai``: :class:`~thinkspeak.serve.thinkers.openai_chat.OpenAIChatThinker`, any OpenAI-compatible chat
  endpoint; reasoning deltas become ThinkTokens, content deltas SayTokens.
"""

from __future__ import annotations

from typing import Any

from thinkspeak.serve.registry import Registry
from thinkspeak.serve.thinkers.base import ThinkerBackend, ThinkRequest

#: thinker backends by name: ``factory(**options) -> ThinkerBackend``
THINKERS: Registry = Registry("thinkers")


@THINKERS.register("local")
def local_thinker(path: str | None = None, hears_audio: bool = False, tools: bool = True, index: str | None = None,
                  search: str | None = None, **_: Any) -> ThinkerBackend:
    from thinkspeak.serve.thinkers.local import LocalThinker

    return LocalThinker.load(path, hears_audio=hears_audio, tools=tools, index=index, search=search)


@THINKERS.register("openai")
def openai_thinker(base_url: str, model: str, api_key: str | None = None, **_: Any) -> ThinkerBackend:
    from thinkspeak.serve.thinkers.openai_chat import OpenAIChatThinker

    return OpenAIChatThinker(base_url, model, api_key=api_key)


__all__ = ["THINKERS", "ThinkRequest", "ThinkerBackend"]
