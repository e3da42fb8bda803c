"""Bring-your-own Thinker: every backend streams the decoder's events (SayToken, ThinkToken, Done).

* :class:`~thinkspeak.serve.thinkers.local.LocalThinker`: a thinkspeak Thinker folder or any local Qwen2-family
  HF folder, decoded by :class:`thinkspeak.decode.TiSDecoder` (thinking-in-speaking, Mini-Omni-Reasoner §3).
* :class:`~thinkspeak.serve.thinkers.openai_chat.OpenAIChatThinker`: any OpenAI-compatible chat endpoint;
  reasoning deltas become ThinkTokens, content deltas SayTokens.
"""

from thinkspeak.serve.thinkers.base import ThinkerBackend, ThinkRequest

__all__ = ["ThinkRequest", "ThinkerBackend"]
