"""SyncLLM layout: chunking with tags, per-chunk dedup, equal-share interpolation, streaming decoder."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from thinkspeak.layouts import syncllm as sl

S0, S1 = 501, 502


def test_defaults_are_the_papers():
    assert sl.CONFIG.chunk_units == 4
    assert sl.CONFIG.tags == (S0, S1)


def test_encode_example():
    s0 = [7, 7, 7, 7, 12, 12, 40, 40]
    s1 = [0, 0, 0, 0, 0, 3, 3, 9]
    assert sl.encode(s0, s1) == [S0, 7, S1, 0, S0, 12, 40, S1, 0, 3, 9]


def test_dedup_is_per_chunk_not_global():
    # the run of 5s crosses the chunk boundary: one copy in each chunk
    assert sl.encode([1, 5, 5, 5, 5, 5, 2, 2], [0] * 8) == [S0, 1, 5, S1, 0, S0, 5, 2, S1, 0]


def test_interpolation_examples_from_the_docstring():
    assert sl.interpolate([7], 4) == [7, 7, 7, 7]
    assert sl.interpolate([7, 9], 4) == [7, 7, 9, 9]
    assert sl.interpolate([7, 8, 9], 4) == [7, 7, 8, 9]
    assert sl.decode(sl.encode([7, 7, 7, 9], [1, 1, 1, 1])) == ([7, 7, 9, 9], [1, 1, 1, 1])


def test_configurable_tags_and_chunk():
    cfg = sl.SyncConfig(n_units=10, unit_rate_hz=50, chunk_ms=60, tags=(-1, -2))
    assert cfg.chunk_units == 3
    seq = sl.encode([1, 1, 2, 3, 3, 3], [4, 4, 4, 5, 6, 6], cfg)
    assert seq == [-1, 1, 2, -2, 4, -1, 3, -2, 5, 6]


@st.composite
def equal_run_chunk(draw, n=4):
    """A chunk made of equally long runs (1, 2 or 4 distinct-adjacent units for n = 4)."""
    k = draw(st.sampled_from([d for d in range(1, n + 1) if n % d == 0]))
    units = draw(st.lists(st.integers(0, 500), min_size=k, max_size=k).filter(
        lambda u: all(a != b for a, b in zip(u, u[1:], strict=False))))
    return [u for u in units for _ in range(n // k)]


def streams_of(chunk_strategy):
    return st.integers(0, 5).flatmap(lambda n: st.tuples(
        st.lists(chunk_strategy, min_size=n, max_size=n), st.lists(chunk_strategy, min_size=n, max_size=n)
    )).map(lambda pair: tuple([u for chunk in side for u in chunk] for side in pair))


any_chunk = st.lists(st.integers(0, 500), min_size=4, max_size=4)
few_units_chunk = st.lists(st.integers(0, 3), min_size=4, max_size=4)  # many repeats


@given(streams_of(equal_run_chunk()))
def test_decode_inverts_encode_when_runs_are_equal(pair):
    s0, s1 = pair
    assert sl.decode(sl.encode(s0, s1)) == (s0, s1)


@given(streams_of(st.one_of(any_chunk, few_units_chunk)))
def test_heuristic_keeps_each_chunk_units_in_order(pair):
    s0, s1 = pair
    seq = sl.encode(s0, s1)
    d0, d1 = sl.decode(seq)
    assert (len(d0), len(d1)) == (len(s0), len(s1))
    for original, rebuilt in ((s0, d0), (s1, d1)):
        for c in range(0, len(original), 4):
            assert sl.dedup(rebuilt[c:c + 4]) == sl.dedup(original[c:c + 4])
    assert sl.encode(d0, d1) == seq  # encoding the rebuilt streams gives the same sequence
    assert len(seq) <= 2 * len(s0) + 2 * (len(s0) // 4)


@given(streams_of(st.one_of(any_chunk, few_units_chunk)), st.data())
def test_streaming_equals_batch_for_any_split(pair, data):
    seq = sl.encode(*pair)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(seq)), max_size=6)))
    decoder = sl.StreamDecoder()
    chunks = []
    for a, b in zip([0, *cuts], [*cuts, len(seq)], strict=True):
        chunks += decoder.feed(seq[a:b])
    chunks += decoder.close()
    assert [c.speaker for c in chunks] == [0, 1] * (len(pair[0]) // 4)
    assert [c.chunk for c in chunks] == [k for k in range(len(pair[0]) // 4) for _ in (0, 1)]
    rebuilt = ([u for c in chunks if c.speaker == 0 for u in c.units],
               [u for c in chunks if c.speaker == 1 for u in c.units])
    assert rebuilt == sl.decode(seq)


def test_chunk_is_emitted_when_the_next_tag_arrives():
    decoder = sl.StreamDecoder()
    assert decoder.feed([S0, 7, 8]) == []
    assert decoder.push(S1) == [sl.SpeakerChunk(0, 0, (7, 7, 8, 8))]
    assert decoder.feed([1]) == []
    assert decoder.close() == [sl.SpeakerChunk(0, 1, (1, 1, 1, 1))]


@pytest.mark.parametrize(
    ("s0", "s1", "match"),
    [
        ([1, 2, 3, 4], [1, 2, 3], "same length"),
        ([1, 2, 3], [1, 2, 3], "whole number of 4-unit chunks"),
        ([1, 2, 3, 501], [1, 2, 3, 4], r"s0\[3\] must be a unit in \[0, 501\), got 501"),
        ([1, 2, 3, 4], [1, -2, 3, 4], r"s1\[1\] must be a unit"),
    ],
)
def test_encode_rejects_bad_input(s0, s1, match):
    with pytest.raises(ValueError, match=match):
        sl.encode(s0, s1)


@pytest.mark.parametrize(
    ("seq", "match"),
    [
        ([7, S0], "must start with the \\[S0\\] tag"),
        ([S1, 7], "expected the tag of speaker 0"),
        ([S0, 7, S0], "expected the tag of speaker 1"),
        ([S0, S1, 7], "the chunk of speaker 0 is empty"),
        ([S0, 1, 2, 3, 4, 5], "holds more than 4 units"),
        ([S0, 1, S1, 900], "must be a unit"),
        ([S0, 1], "speaker 1's chunk is missing"),
    ],
)
def test_decode_rejects_broken_sequences(seq, match):
    with pytest.raises(ValueError, match=match):
        sl.decode(seq)


def test_bad_config_and_interpolation():
    with pytest.raises(ValueError, match="chunk_ms must hold a whole number"):
        sl.SyncConfig(chunk_ms=150)
    with pytest.raises(ValueError, match="chunk_ms must hold a whole number"):
        sl.SyncConfig(chunk_ms=10)
    with pytest.raises(ValueError, match="unit_rate_hz must be a number > 0"):
        sl.SyncConfig(unit_rate_hz=0)
    with pytest.raises(ValueError, match="tags must be two distinct int ids outside the units"):
        sl.SyncConfig(tags=(3, 502))
    with pytest.raises(ValueError, match="tags must be two distinct"):
        sl.SyncConfig(tags=(600, 600))
    with pytest.raises(ValueError, match="units must hold 1 to 4 units"):
        sl.interpolate([1, 2, 3, 4, 5], 4)
    with pytest.raises(ValueError, match="length must be an int >= 1"):
        sl.interpolate([1], 0)
