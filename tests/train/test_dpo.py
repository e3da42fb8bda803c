"""Journey learning's DPO stage (O1 Journey): on-policy pairs, frozen reference, the DPO loss on the trainer."""

from __future__ import annotations

import json
import math
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from tiny_corpus import write_tiny_corpus

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "model"))
from thinker_fixtures import TEXTS, TINY_SHAPE, tiny_thinker  # noqa: E402

from thinkspeak.model.thinker import Thinker
from thinkspeak.model.tokenizer import train_tokenizer
from thinkspeak.train.corpus import read_samples
from thinkspeak.train.dpo import (
    PAIRS_FILE,
    DPOLoss,
    DpoSpec,
    Pair,
    collate_pairs,
    reference_logps,
    sample_pairs,
    sequence_logps,
)
from thinkspeak.train.examples import encode_samples, target_ids
from thinkspeak.train.recipe import recipe_from_dict
from thinkspeak.train.trainer import WeightedLMLoss, train_recipe


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return write_tiny_corpus(tmp_path_factory.mktemp("corpus"), n=80)


@pytest.fixture(scope="module")
def init_dir(tmp_path_factory) -> Path:
    return tiny_thinker().save(tmp_path_factory.mktemp("init") / "thinker")


def dpo_recipe(corpus, init, **dpo) -> dict:
    return {
        "name": "dpo", "corpus": str(corpus), "mixed_precision": "no", "model": {"init": str(init)},
        "stages": [{"name": "dpo", "modes": {"tis": 1.0}, "train": ["backbone"], "steps": 24, "lr": 5e-3,
                    "warmup_steps": 1, "weight_decay": 0.0, "max_batch": 4, "save_every": 100, "eval_samples": 0,
                    "log_every": 1, "dpo": {"questions": 8, "samples": 4, "pairs": 1, "beta": 0.5, **dpo}}],
    }


def stream_pairs(thinker: Thinker, corpus) -> list[Pair]:
    """Whole TiS streams: each question's own stream (right) against the same stream ending in a wrong answer."""
    samples = read_samples(corpus, "train")[:12]
    wrong = [replace(s, response=(*s.response[:-1], f"The answer is {int(s.answer) + 3}.")) for s in samples]
    right_streams, wrong_streams = ([tuple(target_ids(e, "tis", thinker.ids)) for e in encode_samples(thinker.tokenizer, x)]
                                    for x in (samples, wrong))
    return [Pair(s.id, tuple(thinker.prompt_ids(s.question, "tis")), r, w)
            for s, r, w in zip(samples, right_streams, wrong_streams, strict=True)]


def margins(thinker: Thinker, pairs: list[Pair], reference: torch.Tensor) -> torch.Tensor:
    b = collate_pairs(pairs, thinker.ids, 0.1)
    with torch.no_grad():
        lp = sequence_logps(thinker, b.input_ids, b.attention_mask, b.weights)
    n = len(pairs)
    return (lp[:n] - reference[:, 0]) - (lp[n:] - reference[:, 1])


def test_dpo_stage_raises_the_margin_against_a_frozen_reference(corpus, init_dir, tmp_path):
    start = Thinker.load(init_dir)
    pairs = stream_pairs(start, corpus)
    reference = reference_logps(start, pairs, start.ids, 0.1)
    run = tmp_path / "run"
    (run / "dpo").mkdir(parents=True)
    torch.save({"pairs": [vars(p) for p in pairs], "reference": reference, "counts": {}}, run / "dpo" / PAIRS_FILE)
    recipe = recipe_from_dict(dpo_recipe(corpus, init_dir))
    train_recipe(recipe, run, resume=True, progress=False)  # reuses the pairs file, as a resumed run does

    losses = [json.loads(line)["loss"] for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert losses[0] == pytest.approx(math.log(2), abs=1e-4)  # policy == reference at the first step
    assert sum(losses[-3:]) / 3 < losses[0] - 0.1
    final = Thinker.load(run / "dpo" / "final")
    assert margins(start, pairs, reference).abs().max() < 1e-4
    assert margins(final, pairs, reference).mean() > 1.0
    saved = torch.load(run / "dpo" / PAIRS_FILE, weights_only=False)
    assert torch.equal(saved["reference"], reference)  # computed once, never updated
    assert all(torch.equal(a, b) for a, b in zip(Thinker.load(init_dir).state_dict().values(),
                                                 start.state_dict().values(), strict=True))


def test_nll_term_adds_the_chosen_streams_sft_loss(corpus):
    """DPO + NLL (Pang et al. 2024): at policy == reference the pair loss is log 2 + nll * the chosen SFT loss."""
    thinker = tiny_thinker()
    pairs = stream_pairs(thinker, corpus)[:3]
    ref = reference_logps(thinker, pairs, thinker.ids, 0.1)
    b = collate_pairs(pairs, thinker.ids, 0.1, torch.cat([ref[:, 0], ref[:, 1]]))
    with torch.no_grad():
        plain, n = DPOLoss(thinker, 0.1)(*b.inputs())
        mixed, _ = DPOLoss(thinker, 0.1, nll=0.5)(*b.inputs())
        sft_sum, sft_w = WeightedLMLoss(thinker)(b.input_ids[:3], b.attention_mask[:3], b.weights[:3])
    assert float(plain) == pytest.approx(3 * math.log(2), abs=1e-4) and float(n) == 3
    per_row = [WeightedLMLoss(thinker)(b.input_ids[i:i + 1], b.attention_mask[i:i + 1], b.weights[i:i + 1])
               for i in range(3)]
    with torch.no_grad():
        expected = sum(float(s / w) for s, w in per_row)
    assert float(mixed - plain) == pytest.approx(0.5 * expected, rel=1e-4)
    assert float(sft_sum / sft_w) > 0


def test_positions_the_decoder_injected_weigh_zero_in_both_streams(corpus):
    thinker = tiny_thinker()
    pair = stream_pairs(thinker, corpus)[0]
    skipped = replace(pair, chosen_skip=(1, 4), rejected_skip=(2,))
    plain, masked = (collate_pairs([x], thinker.ids, 0.1) for x in (pair, skipped))
    start = len(pair.prompt)
    changed = (plain.weights != masked.weights).nonzero().tolist()
    assert changed == [[0, start + 1], [0, start + 4], [1, start + 2]]
    assert float(masked.weights[0, start + 1]) == 0.0 and float(plain.weights[0, start + 1]) > 0


def test_sampling_uses_the_batched_decoder_and_pairs_right_with_wrong(corpus):
    thinker = tiny_thinker()
    questions = read_samples(corpus, "train")[:2]
    spec = DpoSpec(samples=5, pairs=2, max_steps=24)
    pairs, counts = sample_pairs(thinker, questions, spec, mode="tis", p=2, q=8, seed=0)
    assert counts["samples"] == 10 and counts["questions"] == 2 and counts["pairs"] == len(pairs)
    assert 0 <= counts["right"] <= 10
    by_question = {q.id: [p for p in pairs if p.question_id == q.id] for q in questions}
    assert all(len(v) <= spec.pairs for v in by_question.values())
    for pair in pairs:
        assert pair.prompt[-1] == thinker.ids.mode("tis") and pair.chosen != pair.rejected


def test_reference_with_another_vocabulary_fails_before_sampling(corpus, init_dir, tmp_path):
    other_tokenizer = train_tokenizer([t.upper() for t in TEXTS], vocab_size=320)
    other = Thinker.build(other_tokenizer, TINY_SHAPE).save(tmp_path / "other")
    recipe = recipe_from_dict(dpo_recipe(corpus, init_dir, reference=str(other)))
    with pytest.raises(ValueError, match="dpo.reference must have the policy's vocabulary"):
        train_recipe(recipe, tmp_path / "run", progress=False)
    assert not (tmp_path / "run" / "dpo" / PAIRS_FILE).exists()
    assert not (tmp_path / "run" / "metrics.jsonl").exists()


@pytest.mark.parametrize(("stage", "match"), [
    ({"modes": {"tis": 0.5, "no-think": 0.5}}, "modes must name one of"),
    ({"dpo": {"samples": 0}}, r"dpo.samples must be an int >= 1"),
    ({"dpo": {"top_p": 1.5}}, r"dpo.top_p must be in"),
    ({"dpo": {"gamma": 1}}, "unknown key"),
    ({"dpo": {"nll": -1}}, r"dpo.nll must be a number >= 0"),
])
def test_bad_dpo_recipes_are_rejected(stage, match):
    data = dpo_recipe("c", "i")
    data["stages"][0].update(stage)
    with pytest.raises(ValueError, match=match):
        recipe_from_dict(data)
