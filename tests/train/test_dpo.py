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


def train_on_pairs(corpus, init_dir, run: Path, pairs: list[Pair], **dpo) -> tuple[torch.Tensor, list[float]]:
    """The DPO stage on ``pairs`` (saved as a sampled stage would save them, with the start model's reference
    log-probabilities): the reference and the logged losses."""
    start = Thinker.load(init_dir)
    reference = reference_logps(start, pairs, start.ids, 0.1)
    (run / "dpo").mkdir(parents=True)
    torch.save({"pairs": [vars(p) for p in pairs], "reference": reference, "counts": {}}, run / "dpo" / PAIRS_FILE)
    recipe = recipe_from_dict(dpo_recipe(corpus, init_dir, **dpo))
    train_recipe(recipe, run, resume=True, progress=False)  # reuses the pairs file, as a resumed run does
    return reference, [json.loads(line)["loss"] for line in (run / "metrics.jsonl").read_text().splitlines()]


def test_dpo_stage_raises_the_margin_against_a_frozen_reference(corpus, init_dir, tmp_path):
    start = Thinker.load(init_dir)
    pairs = stream_pairs(start, corpus)
    run = tmp_path / "run"
    reference, losses = train_on_pairs(corpus, init_dir, run, pairs)
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


def spoken_pairs(thinker: Thinker, corpus, n: int = 6) -> list[Pair]:
    """:func:`stream_pairs` asked aloud: the prompt holds audio positions and the pair keeps its features."""
    from thinkspeak.model.adapter import n_audio_positions

    out = []
    gen = torch.Generator().manual_seed(0)
    for i, pair in enumerate(stream_pairs(thinker, corpus)[:n]):
        feats = torch.randn(9 + 4 * i, thinker.adapter.config.feature_dim, generator=gen)
        prompt = tuple(thinker.audio_prompt_ids(n_audio_positions(feats.shape[0], thinker.adapter.config.stack)))
        out.append(replace(pair, prompt=prompt, features=feats))
    return out


def test_spoken_pairs_are_scored_through_their_own_features_in_any_batch(corpus):
    """A batch mixing typed and spoken pairs gives every pair the log-probabilities it has alone (the features
    follow the rows' reading order: chosen rows, then rejected rows), and those depend on the features."""
    thinker = tiny_thinker()
    pairs = [x for t, s in zip(stream_pairs(thinker, corpus)[6:9], spoken_pairs(thinker, corpus, 3), strict=True)
             for x in (s, t)]
    together = reference_logps(thinker, pairs, thinker.ids, 0.1, batch=16)
    alone = torch.cat([reference_logps(thinker, [x], thinker.ids, 0.1) for x in pairs])
    assert torch.allclose(together, alone, atol=1e-4)
    other = replace(pairs[0], features=pairs[0].features.flip(0))
    assert not torch.allclose(reference_logps(thinker, [other], thinker.ids, 0.1), alone[:1], atol=1e-3)
    assert len(collate_pairs(pairs, thinker.ids, 0.1).features) == 2 * 3


def test_dpo_stage_trains_on_spoken_pairs(corpus, init_dir, tmp_path):
    pairs = spoken_pairs(Thinker.load(init_dir), corpus)
    run = tmp_path / "run"
    reference, losses = train_on_pairs(corpus, init_dir, run, pairs, spoken=1.0)
    assert losses[0] == pytest.approx(math.log(2), abs=1e-4)
    assert margins_spoken(Thinker.load(run / "dpo" / "final"), pairs, reference).mean() > 1.0


def margins_spoken(thinker: Thinker, pairs: list[Pair], reference: torch.Tensor) -> torch.Tensor:
    lp = reference_logps(thinker, pairs, thinker.ids, 0.1)
    return (lp[:, 0] - reference[:, 0]) - (lp[:, 1] - reference[:, 1])


class FramesEncoder:
    """Stand-in for Whisper (not under test): 16 numbers per 20 ms frame of the PCM."""

    def features(self, pcm):
        import numpy as np

        frames = len(pcm) // 320
        return np.asarray(pcm[:frames * 320], dtype=np.float32).reshape(frames, 20, 16).mean(1)


def test_sampling_hears_the_spoken_questions_once_each(corpus):
    thinker = tiny_thinker()
    questions = read_samples(corpus, "train")[:3]
    rng = torch.Generator().manual_seed(1)
    audio = {questions[0].id: torch.randn(16000, generator=rng).numpy() * 0.1}
    spec = DpoSpec(samples=6, pairs=3, max_steps=24)
    pairs, counts = sample_pairs(thinker, questions, spec, mode="tis", p=2, q=8, seed=0, audio=audio,
                                 encoder=FramesEncoder())
    assert counts["spoken_questions"] == 1 and counts["samples"] == 18
    for pair in pairs:
        spoken = pair.question_id in audio
        assert (pair.features is not None) == spoken and (thinker.ids.audio in pair.prompt) == spoken


def test_balanced_draw_spreads_over_categories():
    from thinkspeak.train.corpus import MathSample
    from thinkspeak.train.dpo import draw_questions

    samples = [MathSample(f"a{i}", "train", "arith_short", "q", "1", (), (), ()) for i in range(90)]
    samples += [MathSample(f"k{i}", "train", "knowledge", "q", "1", (), (), ()) for i in range(10)]
    balanced = draw_questions(samples, DpoSpec(questions=16, balance=True), seed=3)
    plain = draw_questions(samples, DpoSpec(questions=16), seed=3)
    assert sum(s.category == "knowledge" for s in balanced) == 8 and len({s.id for s in balanced}) == 16
    assert sum(s.category == "knowledge" for s in plain) < 8
    few = draw_questions(samples, DpoSpec(questions=40, balance=True), seed=3)
    assert sum(s.category == "knowledge" for s in few) == 10 and len(few) == 40  # the rest from the larger category


@pytest.mark.parametrize(("dpo", "match"), [
    ({"spoken": 1.5}, r"dpo.spoken must be a share in \[0, 1\]"),
    ({"balance": "yes"}, r"dpo.balance must be true or false"),
])
def test_bad_spoken_and_balance_options_are_rejected(dpo, match):
    data = dpo_recipe("c", "i", **dpo)
    with pytest.raises(ValueError, match=match):
        recipe_from_dict(data)
