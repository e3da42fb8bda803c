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


def _boost_token(thinker: Thinker, token: int, strength: float) -> None:
    """Make ``token`` likelier everywhere, by ``strength``.

    Hidden dimension 0 becomes a constant channel: every embedding row holds 3.0 there and no layer writes to
    it (its rows of o_proj and down_proj are zeroed), so after the final RMSNorm (gain 30 on it) it is
    positive at every position. ``token``'s (tied) head row gets ``strength`` more weight on it. Large strengths give a model
    that always wants ``token`` (a drifting model); small ones make ``token`` appear now and then.
    """
    model = thinker.model
    with torch.no_grad():
        if not getattr(model, "constant_channel", False):
            for layer in model.model.layers:
                layer.self_attn.o_proj.weight[0] = 0.0
                layer.mlp.down_proj.weight[0] = 0.0
            model.model.embed_tokens.weight[:, 0] = 3.0
            model.model.norm.weight[0] = 30.0
            model.constant_channel = True
        model.lm_head.weight[token, 0] += strength


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
