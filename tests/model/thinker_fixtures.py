"""Tiny tokenizers and Thinkers built by the tests (no downloads)."""

from __future__ import annotations

from thinkspeak.model.adapter import AdapterConfig
from thinkspeak.model.thinker import BackboneShape, Thinker, ThinkerConfig
from thinkspeak.model.tokenizer import train_tokenizer

TEXTS = [
    f"What is {a} plus {b}? We add {a} and {b}. {a} plus {b} is {a + b}. The answer is {a + b}."
    for a in range(1, 30) for b in range(1, 10)
]
TINY_SHAPE = BackboneShape(layers=2, d_model=32, heads=2, kv_heads=1, ffn=64, max_positions=512)


def tiny_tokenizer(vocab_size: int = 320):
    return train_tokenizer(TEXTS, vocab_size=vocab_size)


def tiny_thinker(feature_dim: int = 16, stack: int = 4, seed: int = 0) -> Thinker:
    config = ThinkerConfig(adapter=AdapterConfig(feature_dim=feature_dim, stack=stack, hidden_dim=24, out_dim=32))
    return Thinker.build(tiny_tokenizer(), TINY_SHAPE, config, seed=seed)
