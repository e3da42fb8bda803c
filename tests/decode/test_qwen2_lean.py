"""The lean Qwen2 forward pass equals transformers' Qwen2ForCausalLM on tiny random models."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from transformers import Qwen2Config, Qwen2ForCausalLM

from thinkspeak.decode.qwen2_lean import KVCache, LeanQwen2

CONFIGS = {
    "gqa-tied": dict(num_attention_heads=4, num_key_value_heads=2, tie_word_embeddings=True, rope_theta=10000.0),
    "mha-untied": dict(num_attention_heads=4, num_key_value_heads=4, tie_word_embeddings=False, rope_theta=500.0),
    "mqa-untied-long-theta": dict(num_attention_heads=8, num_key_value_heads=1, tie_word_embeddings=False,
                                  rope_theta=1e6),
    "wide-heads": dict(num_attention_heads=4, num_key_value_heads=2, head_dim=32, tie_word_embeddings=True,
                       rope_theta=20000.0),
}
VOCAB = 97
ATOL = 2e-4


@pytest.fixture(scope="session")
def qwen2(randomise):
    return lambda name, seed=0: _qwen2(randomise, name, seed)


def _qwen2(randomise, name: str, seed: int) -> Qwen2ForCausalLM:
    config = Qwen2Config(vocab_size=VOCAB, hidden_size=64, intermediate_size=96, num_hidden_layers=3,
                         max_position_embeddings=256, **CONFIGS[name])
    torch.manual_seed(seed)
    model = Qwen2ForCausalLM(config).eval()
    randomise(model, seed=seed, std=0.2)
    return model


def hf_logits(model, ids=None, embeds=None):
    with torch.no_grad():
        return model(input_ids=ids, inputs_embeds=embeds).logits


@pytest.mark.parametrize("name", sorted(CONFIGS))
@settings(deadline=None, max_examples=8)
@given(data=st.data())
def test_incremental_logits_equal_a_full_forward(qwen2, name, data):
    model = qwen2(name)
    length = data.draw(st.integers(2, 40), label="length")
    ids = torch.tensor([data.draw(st.lists(st.integers(0, VOCAB - 1), min_size=length, max_size=length))])
    # Any split into a chunked prefill followed by chunks (single steps included) must give the same logits.
    cuts = sorted(data.draw(st.sets(st.integers(1, length - 1), max_size=length - 1), label="cuts"))
    engine = LeanQwen2(model)
    cache = KVCache(engine, 1, 64)
    pieces = []
    for a, b in zip([0, *cuts], [*cuts, length], strict=True):
        pieces.append(engine.forward(engine.embed(ids[:, a:b]), cache, all_logits=True))
    assert cache.length == length
    torch.testing.assert_close(torch.cat(pieces, 1), hf_logits(model, ids), atol=ATOL, rtol=0)


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_prompt_embeddings_are_accepted_in_place_of_token_ids(qwen2, name):
    model = qwen2(name, seed=3)
    embeds = torch.randn(1, 12, 64, generator=torch.Generator().manual_seed(0))
    engine = LeanQwen2(model)
    cache = KVCache(engine, 1, 32)
    last = engine.forward(embeds, cache)
    torch.testing.assert_close(last, hf_logits(model, embeds=embeds)[:, -1], atol=ATOL, rtol=0)
    # and decoding continues after them like after any prefix
    nxt = torch.tensor([[5]])
    step = engine.forward(engine.embed(nxt), cache)
    full = torch.cat([embeds, model.model.embed_tokens(nxt).detach()], 1)
    torch.testing.assert_close(step, hf_logits(model, embeds=full)[:, -1], atol=ATOL, rtol=0)


@pytest.mark.parametrize("name", ["gqa-tied", "mqa-untied-long-theta"])
def test_left_padded_batch_rows_equal_each_row_decoded_alone(qwen2, name):
    model = qwen2(name, seed=1)
    engine = LeanQwen2(model)
    g = torch.Generator().manual_seed(1)
    prompts = [torch.randint(0, VOCAB, (n,), generator=g) for n in (3, 9, 6)]
    continuation = torch.randint(0, VOCAB, (3, 5), generator=g)
    cache = KVCache(engine, 3, 32)
    width = cache.left_pad([len(p) for p in prompts])
    padded = torch.stack([torch.cat([torch.zeros(width - len(p), dtype=torch.long), p]) for p in prompts])
    batch = [engine.forward(engine.embed(padded), cache)]
    batch.append(engine.forward(engine.embed(continuation[:, :2]), cache, all_logits=True)[:, -1])
    for j in range(2, 5):
        batch.append(engine.forward(engine.embed(continuation[:, j : j + 1]), cache))
    for row, prompt in enumerate(prompts):
        full = hf_logits(model, torch.cat([prompt, continuation[row]])[None])[0]
        n = len(prompt)
        expected = torch.stack([full[n - 1], full[n + 1], full[n + 2], full[n + 3], full[n + 4]])
        got = torch.stack([batch[0][row], batch[1][row], batch[2][row], batch[3][row], batch[4][row]])
        torch.testing.assert_close(got, expected, atol=ATOL, rtol=0)


def test_cache_overflow_and_batch_mismatch_are_clear_errors(qwen2):
    engine = LeanQwen2(qwen2("gqa-tied"))
    cache = KVCache(engine, 1, 4)
    with pytest.raises(ValueError, match="holds 4 positions; 5 are needed"):
        engine.forward(engine.embed(torch.zeros(1, 5, dtype=torch.long)), cache)
    with pytest.raises(ValueError, match="batch 2"):
        engine.forward(engine.embed(torch.zeros(2, 1, dtype=torch.long)), cache)
    with pytest.raises(ValueError, match="max_len must be an int >= 1"):
        KVCache(engine, 1, 0)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (dict(rope_parameters={"rope_type": "linear", "factor": 2.0, "rope_theta": 10000.0}), "rope_type"),
        (dict(use_sliding_window=True, sliding_window=8, max_window_layers=0), "use_sliding_window"),
        (dict(hidden_act="gelu"), "hidden_act"),
    ],
)
def test_unsupported_qwen2_variants_are_refused(extra, message):
    config = Qwen2Config(vocab_size=VOCAB, hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                         num_attention_heads=2, num_key_value_heads=1, **extra)
    with pytest.raises(ValueError, match=message):
        LeanQwen2(Qwen2ForCausalLM(config))


def test_a_bfloat16_model_decodes_in_bfloat16_as_accurately_as_transformers(qwen2):
    model = qwen2("gqa-tied", seed=2)
    ids = torch.randint(0, VOCAB, (1, 20), generator=torch.Generator().manual_seed(2))
    exact = hf_logits(model, ids)
    model = model.to(torch.bfloat16)
    engine = LeanQwen2(model)
    cache = KVCache(engine, 1, 32)
    steps = [engine.forward(engine.embed(ids[:, :5]), cache, all_logits=True)]
    steps += [engine.forward(engine.embed(ids[:, i : i + 1]), cache, all_logits=True) for i in range(5, 20)]
    got = torch.cat(steps, 1)
    assert got.dtype == torch.bfloat16
    # bfloat16 keeps 8 mantissa bits: judge the error against fp32 by transformers' own bf16 error
    ours = (got.float() - exact).abs().max()
    theirs = (hf_logits(model, ids).float() - exact).abs().max()
    assert ours <= 2 * theirs
