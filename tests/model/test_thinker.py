"""Thinker: tokenizer, prompt formats, audio adapter path, save/load, foreign Qwen2 checkpoints."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from thinker_fixtures import TINY_SHAPE, tiny_thinker, tiny_tokenizer

from thinkspeak.model.adapter import AdapterConfig, AudioAdapter, n_audio_positions
from thinkspeak.model.thinker import Thinker
from thinkspeak.model.tokens import SPECIAL_TOKENS, SpecialIds


@pytest.fixture(scope="module")
def thinker() -> Thinker:
    return tiny_thinker()


def test_tokenizer_special_ids_and_single_digits():
    tok = tiny_tokenizer()
    ids = SpecialIds.from_tokenizer(tok)
    assert ids.all() == tuple(range(len(SPECIAL_TOKENS)))
    pieces = tok.tokenize("What is 1234 plus 56?")
    digits = [p.lstrip("Ġ") for p in pieces if p.lstrip("Ġ").isdigit()]
    assert digits == list("123456")
    text = "We add 17 and 5. The answer is 22."
    assert tok.decode(tok(text, add_special_tokens=False)["input_ids"]) == text


def test_prompt_ids_layout(thinker):
    ids = thinker.ids
    q = thinker.text_ids("What is 2 plus 3?")
    assert thinker.prompt_ids("What is 2 plus 3?", "tis") == [ids.user, *q, ids.assistant, ids.tis]
    assert thinker.prompt_ids("What is 2 plus 3?", "no-think")[-1] == ids.no_think
    assert thinker.prompt_ids("What is 2 plus 3?", "think-first")[-1] == ids.think_first
    assert thinker.audio_prompt_ids(3, "asr") == [ids.user, ids.audio, ids.audio, ids.audio, ids.assistant, ids.asr]


def test_history_turns_come_first(thinker):
    ids = thinker.ids
    hist = [("What is 1 plus 1?", "The answer is 2.")]
    got = thinker.prompt_ids("And 2 plus 2?", "tis", history=hist)
    first = [ids.user, *thinker.text_ids("What is 1 plus 1?"), ids.assistant, *thinker.text_ids("The answer is 2."),
             ids.end]
    assert got == first + thinker.prompt_ids("And 2 plus 2?", "tis")


@pytest.mark.parametrize("bad", [("mode", "fast"), ("text", ""), ("history", [("only one",)])])
def test_prompt_ids_rejects_bad_input(thinker, bad):
    kwargs = {"text": "What is 2 plus 3?", "mode": "tis", "history": ()}
    kwargs[bad[0]] = bad[1]
    with pytest.raises(ValueError, match=bad[0]):
        thinker.prompt_ids(**kwargs)


def test_text_prompt_embeds_shape(thinker):
    emb = thinker.prompt_embeds(text="What is 2 plus 3?")
    assert emb.shape == (1, len(thinker.prompt_ids("What is 2 plus 3?")), TINY_SHAPE.d_model)


@settings(max_examples=25, deadline=None)
@given(n_frames=st.integers(min_value=1, max_value=90))
def test_audio_prompt_embeds_any_length(thinker, n_frames):
    feats = torch.randn(n_frames, 16)
    emb = thinker.prompt_embeds(features=feats, mode="tis")
    n = math.ceil(n_frames / 4)
    assert emb.shape == (1, n + 3, TINY_SHAPE.d_model)
    with torch.no_grad():
        expected = thinker.adapter(feats)
    torch.testing.assert_close(emb[0, 1:1 + n], expected)
    text_part = thinker.model.get_input_embeddings()(torch.tensor([thinker.ids.user, thinker.ids.assistant]))
    torch.testing.assert_close(emb[0, [0, n + 1]], text_part.detach())


@pytest.mark.parametrize("shape", [(10, 15), (10, 17), (1, 10, 15), (10,)])
def test_adapter_rejects_wrong_width(thinker, shape):
    with pytest.raises(ValueError, match="features must have shape"):
        thinker.prompt_embeds(features=torch.randn(*shape))


def test_prompt_embeds_needs_exactly_one_input(thinker):
    with pytest.raises(ValueError, match="exactly one"):
        thinker.prompt_embeds()
    with pytest.raises(ValueError, match="exactly one"):
        thinker.prompt_embeds(text="hi", features=torch.randn(4, 16))


def test_adapter_stacks_frames_with_zero_padding():
    adapter = AudioAdapter(AdapterConfig(feature_dim=3, stack=4, hidden_dim=5, out_dim=7))
    x = torch.arange(6 * 3, dtype=torch.float32).reshape(6, 3)
    stacked = adapter.stack_frames(x)
    assert stacked.shape == (2, 12)
    assert torch.equal(stacked[0], x[:4].reshape(-1))
    assert torch.equal(stacked[1, :6], x[4:].reshape(-1)) and not stacked[1, 6:].any()
    assert adapter(x).shape == (2, 7) and n_audio_positions(6, 4) == 2
    with pytest.raises(ValueError, match="n_frames"):
        n_audio_positions(0, 4)


def test_embed_counts_must_match(thinker):
    ids = torch.tensor([thinker.audio_prompt_ids(2)])
    with pytest.raises(ValueError, match="audio positions"):
        thinker.embed(ids, [torch.randn(12, 16)])  # 12 frames -> 3 positions, prompt has 2
    with pytest.raises(ValueError, match="no features"):
        thinker.embed(ids)


def test_save_load_roundtrip_same_logits(thinker, tmp_path):
    thinker.save(tmp_path / "t")
    again = Thinker.load(tmp_path / "t")
    assert again.ids == thinker.ids and again.config.to_dict() == thinker.config.to_dict()
    feats = torch.randn(9, 16)
    for kwargs in ({"text": "What is 2 plus 3?"}, {"features": feats}):
        a = thinker.model(inputs_embeds=thinker.prompt_embeds(**kwargs)).logits
        b = again.model(inputs_embeds=again.prompt_embeds(**kwargs)).logits
        torch.testing.assert_close(a, b)


def test_load_rejects_missing_folder(tmp_path):
    with pytest.raises(ValueError, match="config.json"):
        Thinker.load(tmp_path / "nothing")


def test_foreign_qwen2_checkpoint_loads_and_gets_special_tokens(tmp_path):
    """A plain Qwen2 HF folder (its own tokenizer, no thinkspeak tokens) loads with the same code."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM

    raw = Tokenizer(models.BPE(unk_token="<unk>"))
    raw.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    raw.train_from_iterator(["the user says spoken audio silence end of the answer padding think"] * 20,
                            trainers.BpeTrainer(vocab_size=300, special_tokens=["<unk>", "<eos>"],
                                                initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    tok = PreTrainedTokenizerFast(tokenizer_object=raw, eos_token="<eos>", unk_token="<unk>")
    qwen = Qwen2ForCausalLM(Qwen2Config(vocab_size=len(tok), hidden_size=32, intermediate_size=64,
                                        num_hidden_layers=1, num_attention_heads=2, num_key_value_heads=1))
    qwen.save_pretrained(tmp_path / "qwen")
    tok.save_pretrained(tmp_path / "qwen")

    thinker = Thinker.load(tmp_path / "qwen")
    assert len(thinker.tokenizer) >= len(tok) + len(SPECIAL_TOKENS)
    assert thinker.model.get_input_embeddings().weight.shape[0] >= len(thinker.tokenizer)
    assert len(set(thinker.ids.all())) == len(SPECIAL_TOKENS)
    assert thinker.adapter is not None and thinker.adapter.config.out_dim == 32
    emb = thinker.prompt_embeds(features=torch.randn(20, 512), mode="think-first")
    assert emb.shape == (1, 5 + 3, 32)
    ids = thinker.prompt_ids("the user says", "no-think")
    assert ids[0] == thinker.ids.user and ids[-1] == thinker.ids.no_think
