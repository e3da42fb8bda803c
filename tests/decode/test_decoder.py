"""TiSDecoder on tiny random Thinkers: equality with transformers, the p:q schedule, forced pads, cancel, events,
batching, sampling, audio input and argument checks."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from thinkspeak.decode import Done, Request, SayToken, ThinkToken, TiSDecoder
from thinkspeak.decode.schedule import FreeSchedule, Slot, special_ids
from thinkspeak.layouts.interleave import slot_channel

QUESTION = "What is 3 plus 4?"


def allowed_sets(thinker):
    """The admissible tokens of each channel, from the spec: text is every non-special tokenizer id."""
    ids = thinker.ids
    text = set(range(len(thinker.tokenizer))) - special_ids(thinker.tokenizer, ids)
    return {"say": text | {ids.say_pad, ids.end}, "think": text | {ids.think_pad}}


def greedy_next(thinker, seq, allowed):
    """The argmax over ``allowed`` of a full (uncached) HF forward pass over ``seq``."""
    with torch.no_grad():
        logits = thinker.model(torch.tensor([seq])).logits[0, -1]
    banned = torch.tensor([t not in allowed for t in range(logits.shape[0])])
    return int(logits.masked_fill(banned, float("-inf")).argmax())


def reference_tis(thinker, prompt, p, q, steps, reasoning=None):
    """Greedy TiS by the spec: masks by slot, pads forced once reasoning ended; with ``reasoning`` (a list),
    think slots take its tokens in order instead of choosing."""
    ids, allowed = thinker.ids, allowed_sets(thinker)
    seq, out, ended = list(prompt), [], False
    for i in range(steps):
        channel = slot_channel(i, p, q)
        if channel == "think" and ended:
            token = ids.think_pad
        elif channel == "think" and reasoning is not None:
            token = reasoning.pop(0)
        else:
            token = greedy_next(thinker, seq, allowed[channel])
        ended = ended or (channel == "think" and token == ids.think_pad)
        out.append(token)
        seq.append(token)
        if token == ids.end:
            break
    return out


def reference_reasoning(thinker, prompt, steps):
    """Greedy think-first reasoning by the spec: text until <|think_end|> or <|end|>, which becomes think_pad."""
    ids = thinker.ids
    allowed = allowed_sets(thinker)["think"] - {ids.think_pad} | {ids.think_end, ids.end}
    seq, out = list(prompt), []
    while len(out) < steps:
        token = greedy_next(thinker, seq, allowed)
        if token in (ids.think_end, ids.end):
            return [*out, ids.think_pad]
        out.append(token)
        seq.append(token)
    return out


@pytest.fixture(scope="module")
def ending_thinker(make_thinker, boost_token):
    """A random Thinker whose greedy reasoning ends (think_pad) after some reasoning tokens, mid-stream."""
    for seed in range(10):
        for strength in (0.5, 0.75, 1.0, 1.25, 1.5, 2.0):
            thinker = make_thinker(seed=seed)
            boost_token(thinker, thinker.ids.think_pad, strength)
            tokens = TiSDecoder(thinker, max_steps=60).answer(text=QUESTION).tokens
            first_pad = tokens.index(thinker.ids.think_pad) if thinker.ids.think_pad in tokens else None
            if first_pad is not None and 4 <= first_pad < 40:
                return thinker
    raise AssertionError("no random Thinker among the seeds ends its reasoning mid-stream")


@pytest.mark.parametrize("config", [dict(seed=0), dict(seed=1, kv_heads=1, rope_theta=500.0),
                                    dict(seed=2, heads=2, kv_heads=2, layers=3, rope_theta=1e6)])
def test_greedy_unconstrained_mode_equals_transformers_generate(make_thinker, config):
    thinker = make_thinker(**config)
    history = [("How much is 2 and 2?", "The answer is 4.")]
    prompt = thinker.prompt_ids(QUESTION, "no-think", history)
    with torch.no_grad():
        out = thinker.model.generate(torch.tensor([prompt]), max_new_tokens=48, do_sample=False,
                                     eos_token_id=thinker.ids.end, pad_token_id=thinker.ids.pad)
    expected = out[0, len(prompt):].tolist()
    decoder = TiSDecoder(thinker, mode="no-think", max_steps=48)
    assert list(decoder.answer(text=QUESTION, history=history).tokens) == expected
    assert len(set(expected)) > 3  # a varied stream, so the comparison means something
    # the same prompt given ready-made, as token ids or as input embeddings
    assert list(decoder.answer(prompt=prompt).tokens) == expected
    embeds = thinker.model.get_input_embeddings()(torch.tensor([prompt])).detach()
    assert list(decoder.answer(prompt=embeds).tokens) == expected


@pytest.mark.parametrize("forced_runs", [True, False])
def test_greedy_tis_equals_the_spec_with_full_forward_passes(ending_thinker, forced_runs):
    thinker = ending_thinker
    prompt = thinker.prompt_ids(QUESTION, "tis")
    done = TiSDecoder(thinker, max_steps=60, forced_runs=forced_runs).answer(text=QUESTION)
    assert list(done.tokens) == reference_tis(thinker, prompt, 2, 8, 60)


@pytest.fixture(scope="module")
def reasoning_ending_thinker(make_thinker, boost_token):
    """A random Thinker whose greedy think-first reasoning ends (<|think_end|>) after some tokens."""
    for seed in range(10):
        for strength in (0.5, 0.75, 1.0, 1.25, 1.5, 2.0):
            thinker = make_thinker(seed=seed)
            boost_token(thinker, thinker.ids.think_end, strength)
            n = len(reference_reasoning(thinker, thinker.prompt_ids(QUESTION, "think-first"), 30))
            if 5 <= n < 30:
                return thinker
    raise AssertionError("no random Thinker among the seeds ends its think-first reasoning mid-way")


@pytest.mark.parametrize("which", ["plain", "reasoning ends"])
def test_batch_parallel_speaks_in_tis_and_reasons_in_think_first(make_thinker, reasoning_ending_thinker, which):
    thinker = make_thinker(seed=12) if which == "plain" else reasoning_ending_thinker
    reasoning = reference_reasoning(thinker, thinker.prompt_ids(QUESTION, "think-first"), 60)
    expected = reference_tis(thinker, thinker.prompt_ids(QUESTION, "tis"), 2, 8, 60, list(reasoning))
    events = list(TiSDecoder(thinker, max_steps=60, batch_parallel=True).stream(text=QUESTION))
    done = events[-1]
    assert list(done.tokens) == expected
    used = [t for i, t in enumerate(done.tokens) if slot_channel(i, 2, 8) == "think"]
    # the think slots hold the think-first row's reasoning, in order, then pads once it ended
    assert used[: len(reasoning)] == reasoning[: len(used)]
    assert set(used[len(reasoning) :]) <= {thinker.ids.think_pad}
    assert done.think == thinker.tokenizer.decode([t for t in used if t != thinker.ids.think_pad])
    if which == "reasoning ends":
        assert thinker.ids.think_pad in used and done.stats.forwards < len(done.tokens) - 1
    assert sum(isinstance(e, Done) for e in events) == 1  # the think-first row is silent


def test_batch_parallel_batches_like_single_requests(make_thinker, boost_token):
    thinker = make_thinker(seed=13)
    decoder = TiSDecoder(thinker, max_steps=35, batch_parallel=True)
    questions = ["What is 3 plus 4?", "A café sells 12 crêpes and then 7 more, how many?"]
    assert [d.tokens for d in decoder.answer_batch([Request(text=q) for q in questions])] == [
        decoder.answer(text=q).tokens for q in questions
    ]
    # when the spoken row ends, its think-first row stops with it: no forward pass after the Done
    for seed in range(4):
        for strength in (1.0, 1.5, 2.0):
            ender = make_thinker(seed=seed)
            boost_token(ender, ender.ids.end, strength)
            paired = TiSDecoder(ender, max_steps=60, batch_parallel=True)
            passes, forward = [], paired.engine.forward
            paired.engine.forward = lambda *a, forward=forward, passes=passes, **k: passes.append(1) or forward(*a, **k)
            done = paired.answer(text=QUESTION)
            assert len(passes) == 1 + done.stats.forwards  # the prompt pass + those counted up to the Done
    with pytest.raises(ValueError, match="batch_parallel needs mode='tis'"):
        TiSDecoder(thinker, mode="think-first", batch_parallel=True)
    with pytest.raises(ValueError, match="prompt= cannot be used with batch_parallel"):
        decoder.stream(prompt=[1, 2, 3])


def rhythm_violations(tokens, allowed, p, q):
    return [i for i, t in enumerate(tokens) if t not in allowed[slot_channel(i, p, q)]]


@pytest.mark.parametrize("drift_to", ["think_pad", "say_pad"])
def test_a_drifting_model_still_keeps_p_say_then_q_think_slots(make_thinker, boost_token, drift_to):
    thinker = make_thinker(seed=3)
    boost_token(thinker, getattr(thinker.ids, drift_to), 8.0)
    allowed = allowed_sets(thinker)
    free = TiSDecoder(thinker, mode="no-think", max_steps=40).answer(text=QUESTION).tokens
    assert len(rhythm_violations(free, allowed, 2, 8)) > 5  # left alone, this model breaks the rhythm
    events = list(TiSDecoder(thinker, max_steps=40).stream(text=QUESTION))
    done = events[-1]
    assert len(done.tokens) == 40 and rhythm_violations(done.tokens, allowed, 2, 8) == []
    for e in events[:-1]:
        assert slot_channel(e.step, 2, 8) == ("say" if isinstance(e, SayToken) else "think")


@settings(deadline=None, max_examples=12)
@given(seed=st.integers(0, 50), p=st.integers(1, 4), q=st.integers(1, 9), temperature=st.sampled_from([0.0, 1.5]))
def test_schedule_holds_for_any_model_rhythm_and_sampling(make_thinker, seed, p, q, temperature):
    thinker = make_thinker(seed=seed % 5)
    ids = thinker.ids
    done = TiSDecoder(thinker, p=p, q=q, max_steps=50, temperature=temperature, seed=seed).answer(text=QUESTION)
    tokens = done.tokens
    assert rhythm_violations(tokens, allowed_sets(thinker), p, q) == []
    if ids.end in tokens:
        assert tokens.index(ids.end) == len(tokens) - 1 and done.stats.stop_reason == "end"
    think_slots = [t for i, t in enumerate(tokens) if slot_channel(i, p, q) == "think"]
    if ids.think_pad in think_slots:  # once reasoning ends, every later think slot is a pad
        first = think_slots.index(ids.think_pad)
        assert set(think_slots[first:]) == {ids.think_pad}


def test_forced_runs_give_the_same_stream_in_fewer_forward_passes(ending_thinker):
    pads = ending_thinker.ids.think_pad
    saved = []
    for seed in range(4):
        kwargs = dict(max_steps=80, temperature=0.8, seed=seed)
        chunked = TiSDecoder(ending_thinker, forced_runs=True, **kwargs).answer(text=QUESTION)
        stepwise = TiSDecoder(ending_thinker, forced_runs=False, **kwargs).answer(text=QUESTION)
        assert chunked.tokens == stepwise.tokens
        assert stepwise.stats.forwards == len(stepwise.tokens) - 1
        if pads in chunked.tokens:
            saved.append(stepwise.stats.forwards - chunked.stats.forwards)
    assert saved and min(saved) > 0


def test_forced_pads_are_counted_but_never_emitted(ending_thinker):
    events = list(TiSDecoder(ending_thinker, max_steps=60).stream(text=QUESTION))
    done = events[-1]
    ids = ending_thinker.ids
    n_pads = sum(t in (ids.say_pad, ids.think_pad) for t in done.tokens)
    assert n_pads > 10
    assert len(events) - 1 == len(done.tokens) - n_pads - done.tokens.count(ids.end)
    assert all(e.token_id not in (ids.say_pad, ids.think_pad, ids.end) for e in events[:-1])


def test_events_are_typed_ordered_and_add_up_to_the_texts(make_thinker):
    thinker = make_thinker(seed=4)
    events = list(TiSDecoder(thinker, max_steps=50).stream(text=QUESTION))
    *tokens, done = events
    assert isinstance(done, Done) and tokens and all(isinstance(e, SayToken | ThinkToken) for e in tokens)
    steps = [e.step for e in tokens]
    assert steps == sorted(set(steps))
    times = [e.t for e in events]
    assert times == sorted(times)
    for e in tokens:
        assert done.tokens[e.step] == e.token_id
    says = [e for e in tokens if isinstance(e, SayToken)]
    thinks = [e for e in tokens if isinstance(e, ThinkToken)]
    assert "".join(e.text for e in says) == done.say and "".join(e.text for e in thinks) == done.think
    assert done.stats.say_tokens == len(says) and done.stats.think_tokens == len(thinks)
    assert done.stats.first_say_step == says[0].step
    assert done.stats.steps == len(done.tokens) and done.stats.tokens_per_s > 0
    assert 0 < done.stats.prefill_s <= done.stats.elapsed_s


@pytest.mark.parametrize("after", [0, 1, 7])
def test_cancel_stops_within_one_step(ending_thinker, after):
    decoder = TiSDecoder(ending_thinker, max_steps=200)
    after = min(after, len(list(decoder.stream(text=QUESTION))) - 2)  # fewer than the uncancelled token events
    seen = []
    events = []
    for event in decoder.stream(text=QUESTION, cancel=lambda: len(seen) >= after):
        events.append(event)
        if not isinstance(event, Done):
            seen.append(event)
    done = events[-1]
    assert isinstance(done, Done) and done.stats.stop_reason == "cancelled"
    assert len(events) - 1 == after  # not one token event after cancel() turned true
    last_step = seen[-1].step if seen else -1
    # at most the forward already under way: the token that was fed plus its run of forced pads
    assert set(done.tokens[last_step + 1 :]) <= {ending_thinker.ids.think_pad}


def test_max_steps_and_end_stop_reasons(make_thinker, boost_token):
    thinker = make_thinker(seed=5)
    assert TiSDecoder(thinker, max_steps=7).answer(text=QUESTION).stats.stop_reason == "max_steps"
    boost_token(thinker, thinker.ids.end, 8.0)
    done = TiSDecoder(thinker, max_steps=30).answer(text=QUESTION)
    assert done.stats.stop_reason == "end" and done.tokens[-1] == thinker.ids.end
    assert slot_channel(len(done.tokens) - 1, 2, 8) == "say"


def test_batched_requests_decode_like_each_request_alone(ending_thinker, make_thinker):
    questions = ["What is 3 plus 4?", "Half of 9?", "A café sells 12 crêpes and then 7 more, how many in all?"]
    for thinker in (ending_thinker, make_thinker(seed=6)):
        decoder = TiSDecoder(thinker, max_steps=45)
        alone = [decoder.answer(text=q).tokens for q in questions]
        together = decoder.answer_batch([Request(text=q) for q in questions])
        assert [d.tokens for d in together] == alone
        assert all(d.stats.forwards <= len(d.tokens) for d in together)


def test_batched_stream_tags_events_and_finishes_rows_independently(make_thinker):
    checks = []

    def cancel_first_row() -> bool:  # true at its third check: row 0 gets exactly two steps (two say slots)
        checks.append(1)
        return len(checks) > 2

    requests = [Request(text=QUESTION, cancel=cancel_first_row), Request(text="Half of 9?")]
    events = list(TiSDecoder(make_thinker(seed=7), max_steps=30).stream_batch(requests))
    dones = {i: e for i, e in events if isinstance(e, Done)}
    assert dones[0].stats.stop_reason == "cancelled" and len(dones[0].tokens) == 2
    assert dones[1].stats.stop_reason == "max_steps" and len(dones[1].tokens) == 30
    assert {e.step for i, e in events if i == 0 and not isinstance(e, Done)} <= {0, 1}
    # row 0's Done comes as soon as it stops, while row 1 goes on
    assert events.index((0, dones[0])) < max(k for k, (i, _) in enumerate(events) if i == 1) - 20


def test_sampling_is_seeded_and_top_k_1_is_greedy(make_thinker):
    thinker = make_thinker(seed=8)
    greedy = TiSDecoder(thinker, max_steps=40).answer(text=QUESTION).tokens

    def sample(seed, **kw):
        return TiSDecoder(thinker, max_steps=40, temperature=1.2, seed=seed, **kw).answer(text=QUESTION).tokens

    assert sample(1) == sample(1)
    assert len({sample(s) for s in range(4)}) > 1
    assert sample(2, top_k=1) == greedy
    assert sample(3, top_p=1e-6) == greedy


def test_think_first_and_no_think_route_by_the_think_end_marker(tokenizer, make_thinker):
    ids = make_thinker().ids
    text = tokenizer("ok", add_special_tokens=False)["input_ids"][0]
    schedule = FreeSchedule(ids, "think-first", special_ids(tokenizer, ids))
    stream = [text, ids.think_pad, ids.think_end, ids.user, text, ids.say_pad, ids.end]
    assert [schedule.push(t) for t in stream] == [
        Slot("think", "token"), Slot("think", "pad"), Slot("think", "marker"), Slot("say", "marker"),
        Slot("say", "token"), Slot("say", "pad"), Slot("say", "end"),
    ]
    schedule = FreeSchedule(ids, "no-think", special_ids(tokenizer, ids))
    assert schedule.push(text) == Slot("say", "token") and schedule.push(ids.think_end) == Slot("say", "marker")


class FixedEncoder:
    """Stands in for the Whisper encoder: PCM -> fixed features, so the test can check the plumbing only."""

    def __init__(self, features):
        self.features_out, self.calls = features, []

    def features(self, pcm):
        self.calls.append(pcm.shape)
        return self.features_out


def test_audio_and_features_inputs_go_through_the_thinkers_audio_path(make_thinker):
    thinker = make_thinker(seed=9)
    features = torch.randn(37, thinker.adapter.config.feature_dim, generator=torch.Generator().manual_seed(0))
    by_features = TiSDecoder(thinker, max_steps=30).answer(features=features)
    encoder = FixedEncoder(features.numpy())
    by_audio = TiSDecoder(thinker, max_steps=30, encoder=encoder).answer(audio=np.zeros(16000, np.float32))
    assert by_audio.tokens == by_features.tokens and encoder.calls == [(16000,)]
    embeds = thinker.prompt_embeds(features=features, mode="tis")
    assert by_features.stats.steps == 30 and embeds.shape[1] > 10  # the audio positions really were in the prompt
    with pytest.raises(ValueError, match="mono PCM"):
        TiSDecoder(thinker, encoder=encoder).stream(audio=np.zeros((2, 100), np.float32))
    with pytest.raises(ValueError, match="features must have shape"):
        TiSDecoder(thinker).stream(features=torch.zeros(10, 7))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(p=0), "p must be an int >= 1, got 0"),
        (dict(q=-1), "q must be an int >= 1, got -1"),
        (dict(p=2.5), "p must be an int >= 1"),
        (dict(mode="loud"), "mode must be one of .*'tis'.*got 'loud'"),
        (dict(max_steps=0), "max_steps must be an int >= 1, got 0"),
        (dict(temperature=-0.5), "temperature must be a number >= 0"),
        (dict(top_p=0.0), r"top_p must be a number in \(0, 1\], got 0.0"),
        (dict(top_k=-2), "top_k must be an int >= 0"),
        (dict(seed="x"), "seed must be an int or None"),
    ],
)
def test_bad_decoder_arguments_raise_clear_value_errors(make_thinker, kwargs, message):
    with pytest.raises(ValueError, match=message):
        TiSDecoder(make_thinker(), **kwargs)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(text="hi", audio=np.zeros(10, np.float32)), "exactly one of .* got text and audio"),
        (dict(), "exactly one of text=, audio=, features= or prompt=, got none of them"),
        (dict(prompt=[1, 2], history=[("a", "b")]), "history= cannot be combined with prompt="),
        (dict(prompt=[1, 10**6]), "prompt token ids must lie in"),
        (dict(prompt=torch.zeros(3, 5)), r"prompt must be token ids \[L\] or input embeddings"),
        (dict(text="   "), "text must be a non-empty str"),
        (dict(text="hi", cancel=3), "cancel must be a callable"),
    ],
)
def test_bad_stream_arguments_raise_at_the_call(make_thinker, kwargs, message):
    decoder = TiSDecoder(make_thinker())
    with pytest.raises(ValueError, match=message):
        decoder.stream(**kwargs)  # not only once iterated
    with pytest.raises(ValueError, match="non-empty sequence of Request"):
        decoder.stream_batch([])
