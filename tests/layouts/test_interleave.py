"""Thinking-in-speaking interleave: invariants of the p:q stream, inverse, router, ablation forms."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from thinkspeak.layouts.interleave import (
    TokenRouter,
    arrange,
    check_rhythm,
    deinterleave,
    interleave,
    slot_channel,
)

SP, TP, END = -1, -2, -3
MARKERS = {"say_pad": SP, "think_pad": TP, "end": END}


@st.composite
def samples(draw):
    say = draw(st.lists(st.integers(0, 99), max_size=12))
    think = draw(st.lists(st.integers(100, 199), max_size=25))
    licenses = draw(st.lists(st.integers(0, len(think)), min_size=len(say), max_size=len(say)))
    p = draw(st.integers(1, 4))
    q = draw(st.integers(1, 9))
    return say, think, licenses, p, q


def test_docstring_example():
    out = interleave(list("abc"), [1, 2, 3, 4], say_pad="S", think_pad="T", end="E", p=2, q=3, licenses=[0, 0, 4])
    assert out == ["a", "b", 1, 2, 3, "S", "S", 4, "T", "T", "c", "E"]


def test_default_rhythm_is_two_say_then_eight_think():
    out = interleave([1, 2, 3], list(range(100, 120)), **MARKERS)
    assert out[:10] == [1, 2, *range(100, 108)]
    assert out[10:20] == [3, SP, *range(108, 116)]
    assert out[20:] == [SP, SP, 116, 117, 118, 119, TP, TP, TP, TP, END]


@given(samples())
def test_deinterleave_inverts_interleave(sample):
    say, think, licenses, p, q = sample
    stream = interleave(say, think, **MARKERS, p=p, q=q, licenses=licenses)
    assert deinterleave(stream, **MARKERS, p=p, q=q) == (say, think)


@given(samples())
def test_rhythm_order_end_and_licenses(sample):
    say, think, licenses, p, q = sample
    stream = interleave(say, think, **MARKERS, p=p, q=q, licenses=licenses)
    channels = [slot_channel(i, p, q) for i in range(len(stream))]
    # p:q rhythm: say tokens and say pads only in say slots, reasoning and think pads only in think slots.
    for tok, channel in zip(stream, channels, strict=True):
        if tok == SP or 0 <= tok < 100:
            assert channel == "say"
        elif tok == TP or tok >= 100:
            assert channel == "think"
    # each stream keeps its order
    assert [t for t in stream if 0 <= t < 100] == say
    assert [t for t in stream if t >= 100] == think
    # exactly one end marker, last, in a say slot
    assert stream.count(END) == 1 and stream[-1] == END and channels[-1] == "say"
    # no response token before the reasoning that licenses it
    emitted_think = 0
    j = 0
    for tok in stream:
        if tok >= 100:
            emitted_think += 1
        elif 0 <= tok < 100:
            assert emitted_think >= licenses[j]
            j += 1


@given(samples())
def test_pads_only_when_nothing_may_be_emitted(sample):
    say, think, licenses, p, q = sample
    stream = interleave(say, think, **MARKERS, p=p, q=q, licenses=licenses)
    i_say = i_think = 0
    for tok in stream:
        if tok == SP:
            waiting_for_license = i_say < len(say) and licenses[i_say] > i_think
            waiting_for_reasoning_to_end = i_say == len(say) and i_think < len(think)
            assert waiting_for_license or waiting_for_reasoning_to_end
        elif tok == TP:
            assert i_think == len(think)
        elif tok == END:
            assert (i_say, i_think) == (len(say), len(think))
        elif tok >= 100:
            i_think += 1
        else:
            i_say += 1


@given(samples(), st.data())
def test_router_over_any_split_matches_deinterleave(sample, data):
    say, think, licenses, p, q = sample
    stream = interleave(say, think, **MARKERS, p=p, q=q, licenses=licenses)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=5)))
    router = TokenRouter(**MARKERS, p=p, q=q)
    routed = []
    for a, b in zip([0, *cuts], [*cuts, len(stream)], strict=True):
        routed += list(router.feed(stream[a:b]))
    assert [r.index for r in routed] == list(range(len(stream)))
    assert [r.token for r in routed if r.kind == "token" and r.channel == "say"] == say
    assert [r.token for r in routed if r.kind == "token" and r.channel == "think"] == think
    assert routed[-1].kind == "end" and router.closed
    assert all(r.kind == "pad" for r in routed if r.token in (SP, TP))


def test_next_channel_follows_the_rhythm():
    router = TokenRouter(**MARKERS, p=1, q=2)
    seen = []
    for tok in [1, 100, 101, 2, 102, TP]:
        seen.append(router.next_channel)
        router.push(tok)
    assert seen == ["say", "think", "think", "say", "think", "think"]


def test_arrange_forms():
    say, think = [1, 2], [100, 101, 102]
    assert arrange(say, think, "tis", **MARKERS, p=1, q=2) == interleave(say, think, **MARKERS, p=1, q=2)
    assert arrange(say, think, "think-first", **MARKERS, think_end=-4) == [100, 101, 102, -4, 1, 2, END]
    assert arrange(say, think, "think-first", **MARKERS) == [100, 101, 102, 1, 2, END]
    assert arrange(say, think, "no-think", **MARKERS) == [1, 2, END]


@pytest.mark.parametrize(("p", "q", "match"), [(0, 8, "p must be an int >= 1, got 0"),
                                               (2, 0, "q must be an int >= 1, got 0"),
                                               (True, 8, "p must be an int >= 1, got True"),
                                               (2, 1.5, "q must be an int >= 1, got 1.5")])
def test_bad_rhythm(p, q, match):
    with pytest.raises(ValueError, match=match):
        check_rhythm(p, q)
    with pytest.raises(ValueError, match=match):
        interleave([1], [100], **MARKERS, p=p, q=q)
    with pytest.raises(ValueError, match=match):
        TokenRouter(**MARKERS, p=p, q=q)


def test_bad_interleave_input():
    with pytest.raises(ValueError, match="licenses must have one entry per say token"):
        interleave([1, 2], [100], **MARKERS, licenses=[0])
    with pytest.raises(ValueError, match=r"licenses\[1\] must be an int in \[0, 1\]"):
        interleave([1, 2], [100], **MARKERS, licenses=[0, 2])
    with pytest.raises(ValueError, match=r"think\[0\] is -2, which is the think_pad marker"):
        interleave([1], [TP], **MARKERS)
    with pytest.raises(ValueError, match="must be distinct"):
        interleave([1], [100], say_pad=0, think_pad=0, end=-3)
    with pytest.raises(ValueError, match="mode must be one of"):
        arrange([1], [100], "think-later", **MARKERS)
    with pytest.raises(ValueError, match="index must be an int >= 0"):
        slot_channel(-1)


def test_strict_deinterleave_rejects_broken_streams():
    with pytest.raises(ValueError, match="no end marker"):
        deinterleave([1, 2, 100], **MARKERS, p=2, q=1)
    with pytest.raises(ValueError, match="must be the last token"):
        deinterleave([END, 1], **MARKERS, p=2, q=1)
    with pytest.raises(ValueError, match="in a say slot"):
        deinterleave([1, 2, END], **MARKERS, p=2, q=1)
    with pytest.raises(ValueError, match="a pad of the other channel"):
        deinterleave([TP, 1, 100, END], **MARKERS, p=2, q=1)
    assert deinterleave([1, 2, END, 7], **MARKERS, p=2, q=1, strict=False) == ([1, 2], [])


def test_router_rejects_tokens_after_end():
    router = TokenRouter(**MARKERS)
    router.push(END)
    with pytest.raises(ValueError, match="after the end marker"):
        router.push(1)
