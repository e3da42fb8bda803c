"""The full-duplex chunk-clock layout: user units + the assistant's say/think slots (layouts.duplex)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from thinkspeak.layouts import duplex as layout
from thinkspeak.layouts import syncllm
from thinkspeak.layouts.duplex import ClockConfig, Markers, SpokenTurn

MARKERS = Markers(user_tag=1000, assistant_tag=1001, silence=1002, say_pad=8, think_pad=9)
UNIT_OFFSET = 500  # units 0..99 -> ids 500..599; text ids 10..99


@st.composite
def dialogues(draw):
    """Non-overlapping assistant turns with words at increasing times, and a user unit stream."""
    clock = ClockConfig(layout=draw(st.sampled_from(layout.LAYOUTS)), say_slots=draw(st.integers(1, 2)),
                        think_slots=draw(st.integers(1, 4)))
    t = draw(st.floats(0.0, 1.0))
    turns = []
    for _ in range(draw(st.integers(0, 3))):
        start = t + draw(st.floats(0.05, 1.0))
        times = sorted(draw(st.lists(st.floats(0.0, 2.0), min_size=1, max_size=6)))
        words = tuple((tuple(draw(st.lists(st.integers(10, 99), min_size=1, max_size=3))), start + x) for x in times)
        end = start + times[-1] + draw(st.floats(0.05, 0.5))
        think = tuple(draw(st.lists(st.integers(10, 99), max_size=30)))
        turns.append(SpokenTurn(words, think, start, end, draw(st.booleans())))
        t = end + draw(st.floats(0.2, 1.0))
    n_chunks = clock.n_chunks(t + draw(st.floats(0.5, 2.0)))
    units = draw(st.lists(st.integers(0, 99), min_size=n_chunks * 4, max_size=n_chunks * 4))
    return clock, turns, n_chunks, units


def _flat_say(chunks, clock):
    """(chunk, token) of every say token in order."""
    return [(c, tok) for c, slots in enumerate(chunks) for tok in slots[:clock.say_slots]
            if tok not in (MARKERS.say_pad, MARKERS.silence)]


@given(dialogues())
@settings(max_examples=150, deadline=None)
def test_say_tokens_never_come_before_their_word_and_keep_order(case):
    clock, turns, n_chunks, _ = case
    chunks = layout.assistant_chunks(turns, n_chunks, clock, MARKERS)
    assert len(chunks) == n_chunks and all(len(c) == clock.slots for c in chunks)
    placed = _flat_say(chunks, clock)
    expected = []
    for k, turn in enumerate(turns):
        nxt = layout.chunk_of(turns[k + 1].start, clock) if k + 1 < len(turns) else n_chunks
        cut = min(nxt, layout.chunk_of(turn.end - 1e-12, clock) + 1) if turn.truncated else nxt
        expected += [(layout.chunk_of(start, clock), tok, cut) for tokens, start in turn.words for tok in tokens]
    # every placed token is the next expected one, in a chunk at or after its word's start chunk
    j = 0
    for c, tok in placed:
        while expected[j][1] != tok or c < expected[j][0] or c >= expected[j][2]:
            j += 1  # a token dropped at a cut or at the next turn
        assert c >= expected[j][0]
        j += 1


@given(dialogues())
@settings(max_examples=150, deadline=None)
def test_slots_hold_silence_outside_turns_and_reasoning_in_order(case):
    clock, turns, n_chunks, _ = case
    chunks = layout.assistant_chunks(turns, n_chunks, clock, MARKERS)
    for c, slots in enumerate(chunks):
        inside = any(layout.chunk_of(t.start, clock) <= c for t in turns)
        if not inside:
            assert slots == [MARKERS.silence] * clock.slots
        silent = slots == [MARKERS.silence] * clock.slots
        assert silent or MARKERS.silence not in slots  # a chunk is wholly silent or wholly in a turn
    for turn in turns:  # the think stream of a turn comes out in order, as a prefix
        c0 = layout.chunk_of(turn.start, clock)
        out = []
        for slots in chunks[c0:]:
            if slots[0] == MARKERS.silence:
                break
            out += [t for t in slots[clock.say_slots:] if t != MARKERS.think_pad]
        assert list(turn.think[:len(out)]) == out[:len(turn.think)]


@given(dialogues())
@settings(max_examples=150, deadline=None)
def test_sequence_chunks_match_syncllm_and_split_back(case):
    clock, turns, n_chunks, units = case
    chunks = layout.assistant_chunks(turns, n_chunks, clock, MARKERS)
    ids = [UNIT_OFFSET + u for u in units]
    tokens, roles, starts = layout.sequence(ids, chunks, clock, MARKERS)
    assert len(tokens) == len(roles) and len(starts) == n_chunks
    back = layout.split_chunks(tokens, clock, MARKERS)
    assert [slots for _, slots in back] == chunks
    if clock.layout == "syncllm":
        sync = syncllm.SyncConfig(n_units=100)
        # the user side is exactly SyncLLM's dedup; interpolating it back gives SyncLLM's decode of the stream
        s0 = [u for u, _ in back]
        assert [[x - UNIT_OFFSET for x in u] for u in s0] == [syncllm.dedup(units[4 * c:4 * c + 4])
                                                              for c in range(n_chunks)]
        rebuilt = [x for u in s0 for x in syncllm.interpolate([y - UNIT_OFFSET for y in u], 4)]
        assert rebuilt == syncllm.decode(syncllm.encode(units, units, sync), sync)[0]
        assert roles.count(layout.USER_TAG) == n_chunks == roles.count(layout.ASSISTANT_TAG)
    else:
        assert [x for u, _ in back for x in u] == ids
    assert roles.count(layout.SAY) == n_chunks * clock.say_slots
    assert roles.count(layout.THINK) == n_chunks * clock.think_slots


def test_truncated_turn_stops_at_its_cut_and_a_finished_turn_drains():
    clock = ClockConfig(say_slots=1)
    words = (((11, 12, 13), 0.0), ((14,), 0.05))  # four tokens, all queued in chunk 0, one say slot a chunk
    cut = layout.assistant_chunks([SpokenTurn(words, (), 0.0, 0.2, truncated=True)], 8, clock, MARKERS)
    assert [c[0] for c in cut] == [11, 12] + [MARKERS.silence] * 6
    done = layout.assistant_chunks([SpokenTurn(words, (), 0.0, 0.2, truncated=False)], 8, clock, MARKERS)
    assert [c[0] for c in done] == [11, 12, 13, 14] + [MARKERS.silence] * 4


def test_bad_config_and_markers_are_named():
    with pytest.raises(ValueError, match="layout must be one of"):
        ClockConfig(layout="moshi")
    with pytest.raises(ValueError, match="say_slots must be an int >= 1"):
        ClockConfig(say_slots=0)
    with pytest.raises(ValueError, match="5 distinct"):
        Markers(1, 1, 2, 3, 4)
    with pytest.raises(ValueError, match="user_units must hold 4 units per assistant chunk"):
        layout.sequence([1, 2, 3], [[MARKERS.silence] * 6], ClockConfig(), MARKERS)
