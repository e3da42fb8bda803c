"""The trainer end to end on a tiny corpus: stages, checkpoints, exact resume, export."""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
from pathlib import Path

import pytest
import torch
from tiny_corpus import write_tiny_corpus

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "model"))
from thinker_fixtures import tiny_thinker  # noqa: E402

from thinkspeak.model.thinker import Thinker
from thinkspeak.train.batches import collate
from thinkspeak.train.corpus import MathSample, read_samples
from thinkspeak.train.examples import build_example, encode_samples
from thinkspeak.train.export import export_run
from thinkspeak.train.recipe import recipe_from_dict
from thinkspeak.train.trainer import StageData, WeightedLMLoss, make_optimizer, set_trainable, train_recipe


def tiny_recipe(corpus, **stage) -> dict:
    return {
        "name": "tiny",
        "corpus": str(corpus),
        "mixed_precision": "no",
        "model": {"vocab_size": 300, "layers": 2, "d_model": 32, "heads": 2, "kv_heads": 1, "ffn": 64,
                  "feature_dim": 16, "adapter_hidden": 16},
        "defaults": {"batch_tokens": 600, "max_batch": 8, "save_every": 3, "eval_every": 3, "eval_samples": 6,
                     "log_every": 1, "warmup_steps": 2, "history_prob": 0.2},
        "stages": [{"name": "text", "steps": 6, "modes": {"tis": 0.6, "think-first": 0.2, "no-think": 0.2},
                    "grad_accum": 2, **stage}],
    }


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return write_tiny_corpus(tmp_path_factory.mktemp("corpus"), n=80)


def losses(run) -> dict[int, float]:
    return {r["step"]: r["loss"] for r in map(json.loads, (run / "metrics.jsonl").read_text().splitlines())}


def test_resume_reproduces_the_next_step_losses_and_weights(corpus, tmp_path):
    recipe = recipe_from_dict(tiny_recipe(corpus))
    full = tmp_path / "full"
    train_recipe(recipe, full, progress=False)
    assert (full / "train.log").read_text().count("step=") == 6
    assert [p.name for p in (full / "text" / "checkpoints").iterdir()] == ["step-000003"]

    # Simulate a run killed after the checkpoint at step 3: same checkpoint, no final weights, resume.
    cut = tmp_path / "cut"
    shutil.copytree(full, cut)
    shutil.rmtree(cut / "text" / "final")
    (cut / "metrics.jsonl").write_text("")
    train_recipe(recipe, cut, resume=True, progress=False)

    before, after = losses(full), losses(cut)
    assert sorted(after) == [4, 5, 6]
    for step in (4, 5, 6):
        assert after[step] == pytest.approx(before[step], rel=1e-6, abs=1e-7)
    a = Thinker.load(full / "text" / "final").state_dict()
    b = Thinker.load(cut / "text" / "final").state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_finished_stage_needs_resume_and_loss_goes_down(corpus, tmp_path):
    recipe = recipe_from_dict(tiny_recipe(corpus, steps=12, lr=3e-3))
    train_recipe(recipe, tmp_path / "r", progress=False)
    got = losses(tmp_path / "r")
    assert got[12] < got[1]
    with pytest.raises(ValueError, match="already finished"):
        train_recipe(recipe, tmp_path / "r", progress=False)
    assert train_recipe(recipe, tmp_path / "r", resume=True, progress=False) == []
    with pytest.raises(ValueError, match="not in recipe"):
        train_recipe(recipe, tmp_path / "r", only=["nope"], progress=False)


def test_frozen_backbone_step_changes_only_the_adapter():
    """Alignment with a pretrained backbone (Mini-Omni §3.4 stage 1): only the adapter moves."""
    thinker = tiny_thinker()
    stage = recipe_from_dict(tiny_recipe("c", train=["adapter"], audio=1.0)).stages[0]
    params = set_trainable(thinker, stage.train)
    assert {id(p) for p in params} == {id(p) for p in thinker.adapter.parameters()}
    before = {k: v.clone() for k, v in thinker.state_dict().items()}
    enc = encode_samples(thinker.tokenizer, [MathSample("s", "train", "a", "What is 1 plus 2?", "3", ("1 plus 2 is 3.",),
                                                         ("The answer is 3.",), (0,))])[0]
    batch = collate([build_example(enc, "asr", thinker.ids, n_audio=2)], thinker.ids.pad,
                    load_features=lambda sid: torch.randn(7, 16))
    opt = make_optimizer(thinker, stage)
    loss_sum, w_sum = WeightedLMLoss(thinker)(batch.input_ids, batch.attention_mask, batch.weights, batch.features)
    (loss_sum / w_sum).backward()
    opt.step()
    after = thinker.state_dict()
    changed = {k for k in after if not torch.equal(after[k], before[k])}
    assert changed and all(k.startswith("adapter.") for k in changed)


def test_adapter_only_stage_without_audio_is_rejected():
    with pytest.raises(ValueError, match="audio > 0"):
        recipe_from_dict(tiny_recipe("c", train=["adapter"]))


def test_export_writes_checksummed_loadable_model(corpus, tmp_path):
    recipe = recipe_from_dict(tiny_recipe(corpus, steps=2))
    train_recipe(recipe, tmp_path / "r", progress=False)
    dest = export_run(recipe, tmp_path / "r", tmp_path / "ship")
    sums = dict(line.split("  ")[::-1] for line in (dest / "SHA256SUMS").read_text().splitlines())
    assert {"model.safetensors", "tokenizer.json", "thinker.json", "adapter.safetensors", "README.md"} <= set(sums)
    for name, digest in sums.items():
        assert hashlib.sha256((dest / name).read_bytes()).hexdigest() == digest
    shipped = Thinker.load(dest)
    assert shipped.model.get_input_embeddings().weight.dtype == torch.float32  # loaded for CPU inference
    assert "| text | 2 |" in (dest / "README.md").read_text()
    with pytest.raises(ValueError, match="no stage"):
        export_run(recipe, tmp_path / "empty", tmp_path / "x")


def test_export_of_a_kept_checkpoint_holds_that_steps_weights(corpus, tmp_path):
    from safetensors.torch import load_file

    recipe = recipe_from_dict(tiny_recipe(corpus))
    train_recipe(recipe, tmp_path / "r", progress=False)
    dest = export_run(recipe, tmp_path / "r", tmp_path / "ship", dtype=torch.float32, checkpoint=3)
    at_3 = {k.removeprefix("thinker."): v for k, v in
            load_file(str(tmp_path / "r" / "text" / "checkpoints" / "step-000003" / "model.safetensors")).items()}
    shipped, final = Thinker.load(dest).state_dict(), Thinker.load(tmp_path / "r" / "text" / "final").state_dict()
    assert at_3 and all(torch.equal(shipped[k], v) for k, v in at_3.items())
    assert any(not torch.equal(shipped[k], final[k]) for k in at_3)
    card = (dest / "README.md").read_text()
    assert "step-000003" in card and "| text | 3 |" in card
    with pytest.raises(ValueError, match=r"--checkpoint 4: .*kept checkpoints of this stage: \['step-000003'\]"):
        export_run(recipe, tmp_path / "r", tmp_path / "x", checkpoint=4)


def test_cli_trains_exports_and_reports_bad_recipes(corpus, tmp_path, capsys):
    import yaml

    from thinkspeak.cli import main

    recipe = tmp_path / "tiny.yaml"
    recipe.write_text(yaml.safe_dump(tiny_recipe(corpus, steps=2)))
    out, ship = tmp_path / "run", tmp_path / "ship"
    assert main(["train", "--recipe", str(recipe), "--out", str(out), "--no-progress", "--export", str(ship)]) == 0
    assert "text: 2 steps" in capsys.readouterr().out
    assert (ship / "SHA256SUMS").is_file() and (out / "train.log").is_file()
    assert f"--out {out} --no-progress --export {ship}" in (ship / "README.md").read_text()  # the card records the command
    assert main(["train", "--recipe", "no-such-recipe"]) == 2
    assert "recipe must be a built-in name" in capsys.readouterr().err


def test_micro_batches_walk_epochs_of_different_sizes(corpus):
    """Each epoch redraws modes and history, so epochs bucket into different numbers of batches; every global
    micro-batch index must map to one batch of one epoch, in order, with none skipped or out of range."""
    recipe = recipe_from_dict(tiny_recipe(corpus, batch_tokens=400))
    data = StageData(tiny_thinker(), recipe, recipe.stages[0], read_samples(corpus, "train"), None, 0, 1)
    counts = [data._count(e) for e in range(6)]
    assert len(set(counts)) > 1, counts  # the case that used to overflow: epochs of unequal sizes
    expected = [(e, i) for e, n in enumerate(counts) for i in range(n)]
    assert [data.locate(m) for m in range(len(expected))] == expected
    assert data.locate(len(expected) - 1) == expected[-1] and data.locate(3) == expected[3]  # and backwards
    fresh = StageData(tiny_thinker(), recipe, recipe.stages[0], read_samples(corpus, "train"), None, 0, 1)
    last = len(expected) - 1
    assert fresh.locate(last) == expected[last]  # a resumed run lands on the same batch
    assert fresh.batch(last).tokens > 0


def test_resume_into_a_later_stage_of_a_multi_stage_run(corpus, tmp_path):
    """A run killed inside its second stage resumes in a fresh process straight into that stage (its
    checkpoint must not depend on what the first stage registered) and ends with the same weights."""
    spec = tiny_recipe(corpus)
    spec["stages"].append({**spec["stages"][0], "name": "text2", "lr": 5e-4})
    recipe = recipe_from_dict(spec)
    full = tmp_path / "full"
    train_recipe(recipe, full, progress=False)
    assert [p.name for p in (full / "text2" / "checkpoints").iterdir()] == ["step-000003"]

    cut = tmp_path / "cut"
    shutil.copytree(full, cut)
    shutil.rmtree(cut / "text2" / "final")
    train_recipe(recipe, cut, resume=True, progress=False)
    a = Thinker.load(full / "text2" / "final").state_dict()
    b = Thinker.load(cut / "text2" / "final").state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
