"""Training examples: target layouts, token-level licences, loss weights, batching, the weighted loss."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "model"))
from thinker_fixtures import tiny_thinker  # noqa: E402

from thinkspeak.layouts.interleave import deinterleave  # noqa: E402
from thinkspeak.train.batches import bucket_batches, collate, plan_examples  # noqa: E402
from thinkspeak.train.corpus import MathSample  # noqa: E402
from thinkspeak.train.examples import build_example, encode_sample, encode_samples  # noqa: E402
from thinkspeak.train.trainer import WeightedLMLoss, lr_factor  # noqa: E402

THINKER = tiny_thinker()
TOK, IDS = THINKER.tokenizer, THINKER.ids


def sample(i: int = 0, reasoning=("We add 7 and 5.", "7 plus 5 is 12."),
           response=("Let me add those up.", "The answer is 12."), licenses=(-1, 1)) -> MathSample:
    return MathSample(f"s-{i}", "train", "arith_short", "What is 7 plus 5?", "12", tuple(reasoning),
                      tuple(response), tuple(licenses))


def test_tis_target_deinterleaves_to_response_and_reasoning():
    enc = encode_sample(TOK, sample())
    ex = build_example(enc, "tis", IDS)
    prompt_len = 1 + len(enc.question) + 2
    assert ex.input_ids[:prompt_len] == (IDS.user, *enc.question, IDS.assistant, IDS.tis)
    say, think = deinterleave(list(ex.input_ids[prompt_len:]), say_pad=IDS.say_pad, think_pad=IDS.think_pad,
                              end=IDS.end)
    assert TOK.decode(say) == "Let me add those up. The answer is 12."
    assert TOK.decode(think) == "We add 7 and 5. 7 plus 5 is 12."


def test_token_licences_follow_reasoning_steps():
    """The last chunk is licensed by step 1: none of its tokens may precede the whole reasoning."""
    enc = encode_sample(TOK, sample())
    n_think = len(enc.think)
    n_first = len(TOK(" ".join(["Let me add those up."]), add_special_tokens=False)["input_ids"])
    assert enc.say_licenses[:n_first] == (0,) * n_first
    assert set(enc.say_licenses[n_first:]) == {n_think}
    stream = build_example(enc, "tis", IDS).input_ids
    first_answer_tok = enc.say[n_first]
    pos = stream.index(first_answer_tok, stream.index(IDS.tis))
    think_positions = [i for i, t in enumerate(stream) if t in enc.think and i > stream.index(IDS.tis)]
    assert pos > max(think_positions[:n_think])


def test_batched_encoding_equals_single():
    samples = [sample(i, reasoning=(f"Step {i} here.", "Then more.") , licenses=(-1, 0)) for i in range(5)]
    assert encode_samples(TOK, samples) == [encode_sample(TOK, s) for s in samples]


@pytest.mark.parametrize("mode", ["tis", "think-first", "no-think", "asr"])
def test_weights_zero_on_prompt_down_weight_pads(mode):
    enc = encode_sample(TOK, sample())
    ex = build_example(enc, mode, IDS, pad_weight=0.25, n_audio=5 if mode == "asr" else 0)
    start = ex.input_ids.index(IDS.mode(mode)) + 1
    assert all(w == 0 for w in ex.weights[:start])
    for tok, w in zip(ex.input_ids[start:], ex.weights[start:], strict=True):
        assert w == (0.25 if tok in (IDS.say_pad, IDS.think_pad) else 1.0)
    assert ex.input_ids[-1] == IDS.end
    if mode == "think-first":
        assert IDS.think_end in ex.input_ids
    if mode == "asr":
        assert ex.input_ids[1:6] == (IDS.audio,) * 5 and ex.audio_id == "s-0"
        assert TOK.decode(ex.input_ids[start:-1]) == "What is 7 plus 5?"


def test_licence_mismatch_is_rejected():
    with pytest.raises(ValueError, match="licenses"):
        encode_sample(TOK, sample(licenses=(-1,)))
    with pytest.raises(ValueError, match="licenses\\[1\\]"):
        encode_sample(TOK, sample(licenses=(-1, 5)))


def test_plan_is_deterministic_and_mixes_modes():
    encoded = encode_samples(TOK, [sample(i) for i in range(200)])
    kw = dict(modes={"tis": 0.5, "no-think": 0.5}, audio=0.0, seed=3, p=2, q=8, pad_weight=0.1, history_prob=0.2)
    a = plan_examples(encoded, IDS, epoch=0, **kw)
    assert a == plan_examples(encoded, IDS, epoch=0, **kw)
    assert a != plan_examples(encoded, IDS, epoch=1, **kw)
    modes = [e.input_ids[len(e.input_ids) - e.input_ids[::-1].index(IDS.assistant)] for e in a]
    assert {IDS.tis, IDS.no_think} <= set(modes)
    with_history = [e for e in a if e.input_ids.count(IDS.user) == 2]
    assert 10 < len(with_history) < 80
    for e in with_history:  # no loss on the history turn either
        second_user = e.input_ids.index(IDS.user, 1)
        assert not any(e.weights[:second_user])


@settings(max_examples=40, deadline=None)
@given(lengths=st.lists(st.integers(1, 300), min_size=1, max_size=300), budget=st.integers(300, 3000),
       max_batch=st.integers(1, 40))
def test_bucket_batches_cover_each_example_once_within_budget(lengths, budget, max_batch):
    batches = bucket_batches(lengths, budget, max_batch, seed=0, epoch=0)
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
    for b in batches:
        assert len(b) <= max_batch
        assert len(b) == 1 or len(b) * max(lengths[i] for i in b) <= budget


def test_weighted_loss_counts_only_weighted_targets():
    encoded = encode_samples(TOK, [sample(i) for i in range(4)])
    examples = [build_example(e, m, IDS, pad_weight=0.1) for e, m in zip(encoded, ["tis", "think-first",
                                                                                     "no-think", "tis"], strict=True)]
    batch = collate(examples, IDS.pad)
    loss_sum, w_sum = WeightedLMLoss(THINKER)(batch.input_ids, batch.attention_mask, batch.weights)
    logits = THINKER.model(input_ids=batch.input_ids, attention_mask=batch.attention_mask).logits
    ce = torch.nn.functional.cross_entropy(logits[:, :-1].transpose(1, 2), batch.input_ids[:, 1:], reduction="none")
    w = batch.weights[:, 1:]
    torch.testing.assert_close(loss_sum, (ce * w).sum(), rtol=1e-4, atol=1e-4)
    assert w_sum == pytest.approx(float(w.sum()))
    pads = (batch.input_ids[:, 1:] == IDS.say_pad) | (batch.input_ids[:, 1:] == IDS.think_pad)
    assert pads.any() and torch.allclose(w[pads], torch.full_like(w[pads], 0.1))
    assert (w[batch.attention_mask[:, 1:] == 0] == 0).all()


def test_audio_examples_train_the_adapter_through_the_backbone():
    enc = encode_samples(TOK, [sample(0)])[0]
    feats = torch.randn(10, 16)
    ex = build_example(enc, "asr", IDS, n_audio=3)
    batch = collate([ex], IDS.pad, load_features=lambda sid: feats)
    THINKER.zero_grad()
    loss_sum, w_sum = WeightedLMLoss(THINKER)(batch.input_ids, batch.attention_mask, batch.weights, batch.features)
    (loss_sum / w_sum).backward()
    assert THINKER.adapter.fc1.weight.grad is not None and THINKER.adapter.fc1.weight.grad.abs().sum() > 0
    THINKER.zero_grad()


def test_lr_schedule_warmup_cosine_and_time_budget():
    f = lr_factor
    assert f(0, 10, 110, 0.1) == pytest.approx(0.1) and f(9, 10, 110, 0.1) == pytest.approx(1.0)
    assert f(60, 10, 110, 0.1) == pytest.approx(0.55) and f(110, 10, 110, 0.1) == pytest.approx(0.1)
    assert f(500, 10, 110, 0.1) == pytest.approx(0.1)
    # Half of the time budget gone at step 20: the decay follows time, not steps.
    assert f(20, 10, 110, 0.1, elapsed_s=50, budget_s=100) == pytest.approx(0.55)
    assert f(100, 10, 110, 0.1, elapsed_s=5, budget_s=100) == pytest.approx(f(100, 10, 110, 0.1))


def test_tool_traces_get_waits_and_no_loss_on_what_the_decoder_injects():
    import copy

    from thinkspeak.layouts.interleave import slot_channel
    from thinkspeak.layouts.toolcalls import Call, Result, render

    thinker = copy.deepcopy(THINKER)
    thinker.add_tool_tokens()
    tools = thinker.tool_ids
    step = render(["7 plus 5 is ", Call("calc", "7 + 5"), Result("12"), "."])
    weights_seen: dict = {}
    for i in range(12):
        enc = encode_samples(thinker.tokenizer, [sample(i, reasoning=("We add 7 and 5.", step))])[0]
        think = list(enc.think)
        waits = think.count(tools.tool_wait)
        assert 0 <= waits <= 2 and think.index(tools.call_end) + waits + 1 == think.index(tools.result)
        start, end = think.index(tools.result), think.index(tools.result_end)
        assert enc.injected == frozenset({*range(think.index(tools.call_end) + 1, end + 1)})
        assert start > think.index(tools.call_end)
        for mode in ("tis", "think-first"):
            ex = build_example(enc, mode, thinker.ids)
            weights_seen[(i, mode)] = waits
            target_start = ex.input_ids.index(thinker.ids.mode(mode)) + 1
            target = ex.input_ids[target_start:]
            weights = ex.weights[target_start:]
            if mode == "tis":
                think_pos = [j for j, t in enumerate(target) if slot_channel(j, 2, 8) == "think"
                             and t != thinker.ids.think_pad]
            else:
                think_pos = list(range(len(think)))
            for k, j in enumerate(think_pos):
                assert target[j] == think[k]
                assert (weights[j] == 0.0) == (k in enc.injected)
            assert all(w > 0 for j, w in enumerate(weights) if j not in think_pos)  # say, pads, end still learn
    assert {w for w in weights_seen.values()} == {0, 1, 2}
