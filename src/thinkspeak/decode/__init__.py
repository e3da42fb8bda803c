"""thinkspeak.decode: the streaming thinking-in-speaking decoder (contract 4).

``TiSDecoder(thinker, p=2, q=8, mode="tis", max_steps=512, temperature=0.0, top_p=1.0, seed=None)
.stream(text=..., audio=..., features=..., history=(), cancel=None)`` yields :class:`SayToken` /
:class:`ThinkToken` events as they are produced, then one :class:`Done`. See docs/decoding.md.
"""

from thinkspeak.decode.answer import spoken_answer
from thinkspeak.decode.decoder import Request, TiSDecoder
from thinkspeak.decode.events import DecodeStats, Done, Event, SayToken, ThinkToken
from thinkspeak.decode.qwen2_lean import KVCache, LeanQwen2

__all__ = [
    "DecodeStats",
    "Done",
    "Event",
    "KVCache",
    "LeanQwen2",
    "Request",
    "SayToken",
    "ThinkToken",
    "TiSDecoder",
    "spoken_answer",
]
