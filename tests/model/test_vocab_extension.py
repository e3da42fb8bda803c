"""Vocabulary extension on a tiny BPE tokenizer and a tiny Qwen2 model built here."""

import pytest
import torch
import transformers
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers  # noqa: E402

from thinkspeak.model.vocab_extension import extend_vocabulary  # noqa: E402

CORPUS = [
    "silence in the spoken response",
    "silence in the reasoning",
    "the end of the spoken answer",
    "twelve times four is forty eight",
    "the answer is forty eight",
]
DESCRIPTIONS = {
    "<|say_pad|>": "silence in the spoken response",
    "<|think_pad|>": "silence in the reasoning",
    "<|end|>": "the end of the spoken answer",
}


def tiny_tokenizer():
    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.normalizer = normalizers.Replace("~", "")  # lets a test build a description with no tokens
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=320, special_tokens=["<unk>", "<|endoftext|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(CORPUS * 20, trainer)
    return transformers.PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", eos_token="<|endoftext|>")


def tiny_qwen2(vocab_size, tied):
    torch.manual_seed(0)
    config = transformers.Qwen2Config(vocab_size=vocab_size, hidden_size=32, intermediate_size=64,
                                      num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                                      max_position_embeddings=64, tie_word_embeddings=tied)
    return transformers.Qwen2ForCausalLM(config).eval()


def description_mean(weight, tokenizer, text):
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    return weight[torch.tensor(ids)].mean(dim=0)


@pytest.mark.parametrize("tied", [True, False])
def test_new_rows_are_description_means_and_old_rows_unchanged(tied):
    tokenizer = tiny_tokenizer()
    n_old = len(tokenizer)
    model = tiny_qwen2(n_old, tied)
    old_in = model.get_input_embeddings().weight.detach().clone()
    old_out = model.get_output_embeddings().weight.detach().clone()
    means_in = {t: description_mean(old_in, tokenizer, d) for t, d in DESCRIPTIONS.items()}
    means_out = {t: description_mean(old_out, tokenizer, d) for t, d in DESCRIPTIONS.items()}

    ext = extend_vocabulary(tokenizer, model, DESCRIPTIONS)

    assert ext.added == tuple(DESCRIPTIONS)
    assert sorted(ext.ids.values()) == list(range(n_old, n_old + 3))
    assert ext.embedding_rows == len(tokenizer) == n_old + 3
    emb = model.get_input_embeddings().weight
    head = model.get_output_embeddings().weight
    assert emb.shape[0] == head.shape[0] == n_old + 3
    assert torch.equal(emb[:n_old], old_in)
    assert torch.equal(head[:n_old], old_out)
    assert (head is emb) == tied
    for token, i in ext.ids.items():
        assert torch.allclose(emb[i], means_in[token])
        assert torch.allclose(head[i], means_out[token])
        assert tokenizer(f"the {token} answer", add_special_tokens=False)["input_ids"].count(i) == 1
    ids = tokenizer(f"twelve {'<|say_pad|>'} four", return_tensors="pt")["input_ids"]
    assert model(ids).logits.shape[-1] == n_old + 3
    assert "<|say_pad|>" not in tokenizer.decode(ids[0], skip_special_tokens=True)


def test_spare_rows_are_reused_and_never_shrunk():
    tokenizer = tiny_tokenizer()
    n_old = len(tokenizer)
    model = tiny_qwen2(n_old + 8, tied=True)  # like Qwen2: more rows than tokenizer ids
    before = model.get_input_embeddings().weight.detach().clone()
    ext = extend_vocabulary(tokenizer, model, DESCRIPTIONS)
    emb = model.get_input_embeddings().weight
    assert emb.shape[0] == n_old + 8 == ext.embedding_rows
    untouched = [i for i in range(n_old + 8) if i not in ext.ids.values()]
    assert torch.equal(emb[untouched], before[untouched])
    assert torch.allclose(emb[ext.ids["<|end|>"]], description_mean(before, tokenizer, DESCRIPTIONS["<|end|>"]))


def test_second_call_changes_nothing_and_pad_to_multiple():
    tokenizer = tiny_tokenizer()
    model = tiny_qwen2(len(tokenizer), tied=True)
    first = extend_vocabulary(tokenizer, model, DESCRIPTIONS, pad_to_multiple_of=64)
    assert first.embedding_rows % 64 == 0 and first.embedding_rows >= len(tokenizer)
    snapshot = model.get_input_embeddings().weight.detach().clone()
    second = extend_vocabulary(tokenizer, model, {"<|say_pad|>": "something else entirely"})
    assert second.added == () and second.ids["<|say_pad|>"] == first.ids["<|say_pad|>"]
    assert torch.equal(model.get_input_embeddings().weight, snapshot)


def test_output_head_bias_rows_are_description_means():
    tokenizer = tiny_tokenizer()
    n_old = len(tokenizer)
    model = tiny_qwen2(n_old, tied=False)
    model.lm_head = torch.nn.Linear(32, n_old, bias=True)
    old_bias = model.lm_head.bias.detach().clone()
    ext = extend_vocabulary(tokenizer, model, DESCRIPTIONS)
    bias = model.get_output_embeddings().bias
    assert torch.equal(bias[:n_old], old_bias)
    i = ext.ids["<|think_pad|>"]
    assert torch.allclose(bias[i], description_mean(old_bias, tokenizer, DESCRIPTIONS["<|think_pad|>"]))


@pytest.mark.parametrize(
    ("descriptions", "kwargs", "match"),
    [
        ({}, {}, "descriptions must be a non-empty mapping"),
        ({"<|x|>": "  "}, {}, "the description of '<|x|>' must be a non-empty string"),
        ({"<|x|>": "~~~"}, {}, "tokenizes to no tokens"),
        ({" <|x|>": "silence"}, {}, "without surrounding spaces"),
        ({"<|x|>": "silence"}, {"pad_to_multiple_of": 0}, "pad_to_multiple_of must be None or an int >= 1"),
    ],
)
def test_bad_input(descriptions, kwargs, match):
    tokenizer = tiny_tokenizer()
    model = tiny_qwen2(len(tokenizer), tied=True)
    with pytest.raises(ValueError, match=match):
        extend_vocabulary(tokenizer, model, descriptions, **kwargs)
    assert len(tokenizer) == model.get_input_embeddings().weight.shape[0]  # nothing was added
