"""Any backbone (Mini-Omni "Any Model Can Talk", MooER): a local Qwen2 folder, adapter-only alignment, LoRA."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import torch
from tiny_corpus import write_tiny_corpus

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "model"))
from thinker_fixtures import TEXTS  # noqa: E402

from thinkspeak.model.thinker import Thinker
from thinkspeak.train.corpus import MathSample
from thinkspeak.train.examples import build_example, encode_samples
from thinkspeak.train.lora import LoraSpec, add_lora, merged_state_dict
from thinkspeak.train.recipe import recipe_from_dict
from thinkspeak.train.trainer import WeightedLMLoss, make_optimizer, set_trainable, train_recipe


@pytest.fixture(scope="module")
def qwen_dir(tmp_path_factory) -> Path:
    """A plain Qwen2 HF folder (its own byte-level BPE tokenizer, no thinkspeak tokens), as a pretrained
    Qwen2.5 download would be, only tiny."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM

    raw = Tokenizer(models.BPE(unk_token="<unk>"))
    raw.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    raw.train_from_iterator(TEXTS, trainers.BpeTrainer(vocab_size=400, special_tokens=["<unk>", "<eos>"],
                                                       initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    tok = PreTrainedTokenizerFast(tokenizer_object=raw, eos_token="<eos>", unk_token="<unk>")
    torch.manual_seed(0)
    qwen = Qwen2ForCausalLM(Qwen2Config(vocab_size=len(tok), hidden_size=64, intermediate_size=128,
                                        num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                                        tie_word_embeddings=True))
    folder = tmp_path_factory.mktemp("qwen") / "qwen2-tiny"
    qwen.save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return write_tiny_corpus(tmp_path_factory.mktemp("corpus"), n=80)


def lora_recipe(corpus, init, **stage) -> dict:
    return {
        "name": "lora", "corpus": str(corpus), "mixed_precision": "no", "model": {"init": str(init)},
        "defaults": {"batch_tokens": 800, "max_batch": 8, "save_every": 100, "eval_every": 100, "eval_samples": 0,
                     "log_every": 1, "warmup_steps": 1},
        "stages": [{"name": "tis", "steps": 16, "lr": 3e-2, "modes": {"tis": 1.0},
                    "lora": {"targets": ["q_proj", "v_proj", "up_proj"], "rank": 4, "alpha": 8}, **stage}],
    }


def test_lora_stage_trains_few_weights_and_exports_merged(corpus, qwen_dir, tmp_path):
    recipe = recipe_from_dict(lora_recipe(corpus, qwen_dir))
    train_recipe(recipe, tmp_path / "run", progress=False)
    records = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert records[-1]["loss"] < records[0]["loss"] - 0.2  # a random tiny backbone: LoRA alone moves it a little

    start = Thinker.load(tmp_path / "run" / "tis" / "start").state_dict()
    final = Thinker.load(tmp_path / "run" / "tis" / "final").state_dict()
    assert set(start) == set(final)  # merged: a plain Thinker, no LoRA keys
    changed = {k for k in final if not torch.equal(start[k], final[k])}
    targets = {f"model.model.layers.{i}.{part}.weight" for i in range(2)
               for part in ("self_attn.q_proj", "self_attn.v_proj", "mlp.up_proj")}
    assert changed == targets


def test_lora_trains_at_most_five_percent_of_the_backbone(qwen_dir):
    thinker = Thinker.load(qwen_dir)
    backbone = sum(p.numel() for p in thinker.model.parameters())
    lora = add_lora(thinker.model, LoraSpec(("q_proj", "v_proj", "up_proj"), rank=4, alpha=8))
    assert 0 < sum(p.numel() for p in lora) <= 0.05 * backbone
    assert {id(p) for p in thinker.model.parameters() if p.requires_grad} == {id(p) for p in lora}


def test_merged_export_decodes_exactly_as_the_lora_model(qwen_dir, tmp_path):
    thinker = Thinker.load(qwen_dir)
    spec = LoraSpec(("q_proj", "k_proj", "o_proj", "down_proj"), rank=2, alpha=6)
    lora = add_lora(thinker.model, spec)
    torch.manual_seed(1)
    for p in lora:  # B starts at zero; give both factors values so the merge has something to add
        p.data.normal_(0, 0.3)
    thinker.eval()
    prompt = torch.tensor([thinker.prompt_ids("What is 3 plus 4?")])
    want = thinker.model.generate(prompt, max_new_tokens=24, do_sample=False, pad_token_id=thinker.ids.pad)
    thinker.save(tmp_path / "merged", state_dict=merged_state_dict(thinker.state_dict(), spec))
    merged = Thinker.load(tmp_path / "merged")
    got = merged.model.generate(prompt, max_new_tokens=24, do_sample=False, pad_token_id=merged.ids.pad)
    assert torch.equal(got, want)
    with torch.no_grad():
        torch.testing.assert_close(merged(prompt), thinker(prompt), rtol=1e-4, atol=1e-5)
    base = Thinker.load(qwen_dir)
    with torch.no_grad():
        assert not torch.allclose(base(prompt), thinker(prompt), atol=1e-3)  # the LoRA factors mattered


def test_alignment_stage_on_a_pretrained_backbone_moves_only_the_adapter(qwen_dir):
    """Mini-Omni §3.4 stage 1 / MooER: backbone frozen (``train: [adapter]``), the adapter learns."""
    thinker = Thinker.load(qwen_dir)
    stage = recipe_from_dict(lora_recipe("c", qwen_dir, train=["adapter"], audio=1.0, lora=None)).stages[0]
    set_trainable(thinker, stage.train)
    before = {k: v.clone() for k, v in thinker.state_dict().items()}
    enc = encode_samples(thinker.tokenizer, [MathSample("s", "train", "a", "What is 1 plus 2?", "3",
                                                         ("1 plus 2 is 3.",), ("The answer is 3.",), (0,))])[0]
    from thinkspeak.train.batches import collate

    batch = collate([build_example(enc, "asr", thinker.ids, n_audio=2)], thinker.ids.pad,
                    load_features=lambda sid: torch.randn(7, 512))
    opt = make_optimizer(thinker, stage)
    loss_sum, w_sum = WeightedLMLoss(thinker)(batch.input_ids, batch.attention_mask, batch.weights, batch.features)
    (loss_sum / w_sum).backward()
    opt.step()
    changed = {k for k, v in thinker.state_dict().items() if not torch.equal(v, before[k])}
    assert changed and all(k.startswith("adapter.") for k in changed)


def test_lora_target_the_backbone_lacks_fails_before_training(corpus, qwen_dir, tmp_path):
    recipe = recipe_from_dict(lora_recipe(corpus, qwen_dir, lora={"targets": ["q_proj", "c_attn"], "rank": 4}))
    with pytest.raises(ValueError, match=r"\['c_attn'\].*does not have.*q_proj"):
        train_recipe(recipe, tmp_path / "run", progress=False)
    assert not (tmp_path / "run" / "metrics.jsonl").exists()


@pytest.mark.parametrize(("lora", "match"), [
    ({"targets": []}, "targets must be a non-empty list"),
    ({"targets": ["q_proj"], "rank": 0}, "rank >= 1"),
    ({"targets": ["q_proj"], "scale": 2}, "unknown key"),
    ("q_proj", "must be a mapping"),
])
def test_bad_lora_recipes_are_rejected(lora, match):
    with pytest.raises(ValueError, match=match):
        recipe_from_dict(lora_recipe("c", "q", lora=lora))


def test_lora_needs_the_backbone_in_train():
    with pytest.raises(ValueError, match="sets lora but does not train the backbone"):
        recipe_from_dict(lora_recipe("c", "q", train=["adapter"], audio=1.0))
