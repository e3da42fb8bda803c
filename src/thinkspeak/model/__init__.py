"""thinkspeak.model: the Thinker (Qwen2 backbone + Whisper-feature adapter) and its tokenizer.

Heavy imports (torch, transformers) happen when a name is first used, so ``import thinkspeak.model.tokens``
stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from thinkspeak.model.adapter import AdapterConfig, AudioAdapter
    from thinkspeak.model.thinker import BackboneShape, Thinker, ThinkerConfig

__all__ = ["AdapterConfig", "AudioAdapter", "BackboneShape", "Thinker", "ThinkerConfig"]


def __getattr__(name: str):
    if name in ("AdapterConfig", "AudioAdapter"):
        from thinkspeak.model import adapter

        return getattr(adapter, name)
    if name in ("BackboneShape", "Thinker", "ThinkerConfig"):
        from thinkspeak.model import thinker

        return getattr(thinker, name)
    raise AttributeError(f"module 'thinkspeak.model' has no attribute {name!r}")
