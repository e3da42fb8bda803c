"""Moshi inner-monologue alignment: golden vector, word recovery, streaming decoder, bad input."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from thinkspeak.layouts.moshi import WordDecoder, align_text, split_words

GOLDEN_WORDS = [([101, 102], 0.0, 0.4), ([201], 0.5, 0.9)]


def test_golden_hello_world():
    assert align_text(GOLDEN_WORDS, 1.2) == [101, 102, 3, 3, 3, 0, 201, 3, 3, 3, 3, 3, 3, 3, 3]
    assert split_words(align_text(GOLDEN_WORDS, 1.2)) == [[101, 102], [201]]


def test_frame_count_is_robust_to_float_error():
    assert len(align_text([([5], 0.0, 0.1)], 1.12)) == 14  # 1.12 * 12.5 = 14.000000000000002 in floats
    assert len(align_text([([5], 0.0, 0.1)], 1.13)) == 15


def test_word_starting_at_a_frame_boundary_is_queued_at_that_frame():
    # start 0.56 s * 12.5 = 7.000000000000001 -> frame 7; 0.08 s * 12.5 = 1 -> frame 1
    assert align_text([([5], 0.56, 0.6)], 0.8).index(5) == 7
    assert align_text([([5], 0.08, 0.1)], 0.4) == [0, 5, 3, 3, 3]


def test_touching_words_queue_up_and_come_back_merged():
    text = align_text([([11, 12, 13], 0.0, 0.1), ([14], 0.1, 0.2), ([15], 0.6, 0.7)], 1.0)
    assert text == [11, 12, 13, 14, 3, 3, 0, 15, 3, 3, 3, 3, 3]  # 0.6 s * 12.5 = 7.5 -> frame 7
    assert split_words(text) == [[11, 12, 13, 14], [15]]


@st.composite
def separated_words(draw, frame_rate=12.5):
    """Words whose first frame leaves at least one free frame after the previous word's tokens."""
    n = draw(st.integers(0, 6))
    words, frame = [], draw(st.integers(0, 3))
    for _ in range(n):
        tokens = draw(st.lists(st.integers(10, 999), min_size=1, max_size=4))
        start = (frame + draw(st.sampled_from([0.0, 0.25, 0.5, 0.9]))) / frame_rate
        words.append((tokens, start, start + 0.1))
        frame += len(tokens) + 1 + draw(st.integers(0, 3))
    duration = (frame + draw(st.integers(0, 3)) + 0.5) / frame_rate
    return words, duration


@given(separated_words())
def test_split_words_inverts_align_text_for_separated_words(sample):
    words, duration = sample
    text = align_text(words, duration)
    assert split_words(text) == [list(tokens) for tokens, _, _ in words]
    first_frames = {}
    for w in WordDecoder().feed(text):
        first_frames.setdefault(w.word, w.frame)
    # a separated word is emitted at the frame where it starts
    # (a small epsilon: 2.32 * 12.5 is 28.999999999999996 in floating point, frame 29 by intent)
    assert [first_frames[k] for k in range(len(words))] == [int(start * 12.5 + 1e-9) for _, start, _ in words]


@st.composite
def any_words(draw, frame_rate=12.5):
    n = draw(st.integers(0, 6))
    starts = sorted(draw(st.lists(st.integers(0, 40), min_size=n, max_size=n)))
    words = [(draw(st.lists(st.integers(10, 999), min_size=1, max_size=3)), s / 10, s / 10 + 0.05) for s in starts]
    n_tokens = sum(len(w[0]) for w in words)
    return words, (max(starts, default=0) / 10) + (n_tokens + 1) / frame_rate


@given(any_words())
def test_any_words_keep_every_token_in_order_and_merge_at_most(sample):
    words, duration = sample
    text = align_text(words, duration)
    groups = split_words(text)
    assert [t for g in groups for t in g] == [t for tokens, _, _ in words for t in tokens]
    assert len(groups) <= len(words)
    assert all(text[i + 1] not in (0, 3) for i, tok in enumerate(text) if tok == 0)  # EPAD precedes a token


@given(any_words(), st.data())
def test_streaming_equals_batch_for_any_split(sample, data):
    words, duration = sample
    text = align_text(words, duration)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(text)), max_size=6)))
    decoder = WordDecoder()
    got = []
    for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True):
        got += decoder.feed(text[a:b])
    decoder.close()
    assert [w.frame for w in got] == [i for i, t in enumerate(text) if t not in (0, 3)]
    groups = split_words(text)
    assert [w.token for w in got] == [t for g in groups for t in g]
    assert [w.word for w in got] == [k for k, g in enumerate(groups) for _ in g]


def test_custom_markers_and_frame_rate():
    assert align_text([([7], 0.0, 0.1), ([8], 0.3, 0.4)], 0.5, frame_rate=10, pad=-1, epad=-2) == [7, -1, -2, 8, -1]


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (([([1], 0.0, 0.1)], 0), "duration must be a finite number > 0, got 0"),
        (([([1], 0.0, 0.1)], 1.0, 0), "frame_rate must be a finite number > 0"),
        (([([1], 0.0, 0.1)], 1.0, 12.5, 3, 3), "pad and epad must differ"),
        (([([], 0.0, 0.1)], 1.0), r"words\[0\] must have at least one token"),
        (([([3], 0.0, 0.1)], 1.0), r"words\[0\] token 0 is 3, which is the pad or epad marker"),
        (([([1], -0.1, 0.1)], 1.0), r"words\[0\] start must be a finite number of seconds >= 0"),
        (([([1], 0.5, 0.1)], 1.0), r"words\[0\] must have start <= end"),
        (([([1], 0.5, 0.6), ([2], 0.1, 0.2)], 1.0), r"sorted by start time: words\[1\]"),
        (([([1], 1.05, 1.1)], 1.0), r"words\[0\] starts at 1.05 s, not before the end of the 1.0 s \(13 frames\)"),
        (([([11, 12, 13], 0.0, 0.1)], 0.16), "duration 0.16 s \\(2 frames\\) is too short: 1 text tokens"),
        (([([1, 2.5], 0.0, 0.1)], 1.0), r"words\[0\] token 1 must be an int token id, got 2.5"),
        (([([1], 0.0)], 1.0), r"words\[0\] must be \(tokens, start, end\)"),
    ],
)
def test_align_text_rejects_bad_input(args, match):
    with pytest.raises(ValueError, match=match):
        align_text(*args)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ([3, 5], "text token 5 follows PAD"),
        ([0, 3], "EPAD at frame 0 must be followed by a text token"),
        ([5, 0], "text ends with EPAD"),
        ([5, "x"], "frame 1 token must be an int token id"),
    ],
)
def test_split_words_rejects_broken_streams(text, match):
    with pytest.raises(ValueError, match=match):
        split_words(text)
