"""Tiny random Thinkers for the decoder tests (no downloads): a byte-level BPE trained on a few sentences and a
randomly initialised Qwen2 backbone, built by the real ``Thinker`` class."""

import pytest
import torch

from thinkspeak.model.thinker import BackboneShape, Thinker
from thinkspeak.model.tokenizer import train_tokenizer

CORPUS = [
    "First add 3 and 4 to get 7.",
    "Then multiply 7 by 2 to get 14.",
    "Half of 9 is 4.5 and a quarter is 3/4.",
    "So she has 12 apples left. The answer is 12.",
    "A café in Zürich sells crêpes for 5 francs 😀",
    "Twenty minus eight leaves twelve, the answer is 12.",
]


@pytest.fixture(scope="session")
def tokenizer():
    return train_tokenizer(CORPUS * 4, vocab_size=420, min_frequency=1)


def _randomise(model: torch.nn.Module, *, seed: int, std: float) -> None:
    """Re-draw every weight but the norm gains from N(0, std): std 0.3 gives varied, peaked next-token choices."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" not in name:
                p.copy_(torch.randn(p.shape, generator=g) * std)


@pytest.fixture(scope="session")
def randomise():
    return _randomise


def _boost_token(thinker: Thinker, token: int, strength: float, *, seed: int = 1) -> None:
    """Make ``token`` likely everywhere: a shared direction e0 is added to every (tied) embedding row, so every
    hidden state leans on e0, and ``strength`` times more of it to ``token``'s row, which then wins the logits."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        emb = thinker.model.model.embed_tokens.weight
        e0 = torch.randn(emb.shape[1], generator=g)
        e0 *= 0.5 / e0.norm()
        emb += e0
        emb[token] += strength * e0


@pytest.fixture(scope="session")
def boost_token():
    return _boost_token


@pytest.fixture(scope="session")
def make_thinker(tokenizer):
    def make(*, seed: int = 0, std: float = 0.3, layers: int = 2, d_model: int = 64, heads: int = 4,
             kv_heads: int = 2, rope_theta: float = 10000.0) -> Thinker:
        shape = BackboneShape(layers=layers, d_model=d_model, heads=heads, kv_heads=kv_heads, ffn=2 * d_model,
                              max_positions=1024, rope_theta=rope_theta)
        thinker = Thinker.build(tokenizer, shape, seed=seed)
        _randomise(thinker.model, seed=seed, std=std)
        return thinker.eval()

    return make
