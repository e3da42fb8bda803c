"""Inner pauses of user turns (Full-Duplex-Bench v1 pause handling) and the floor events of a dialogue."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from thinkspeak.data.duplex.config import DuplexConfig
from thinkspeak.data.duplex.events import floor_events
from thinkspeak.data.duplex.sample import make_sample
from thinkspeak.data.duplex.store import sample_to_row
from thinkspeak.data.duplex.timeline import inner_pauses, pause_split


@given(st.lists(st.sampled_from(["two", "plus", "three.", "What", "is", "it?", "Okay,"]), min_size=0, max_size=12),
       st.floats(0.0, 1.0))
def test_pause_split_cuts_at_a_sentence_break_or_mid_turn(words, where):
    spoken = " ".join(words)
    split = pause_split(spoken, where)
    if len(words) < 4:
        assert split is None
        return
    before, after = split
    assert f"{before} {after}" == spoken and before and after
    if any(w[-1] in ".!?" for w in words[:-1]):
        assert before[-1] in ".!?"


@pytest.mark.parametrize("share", [0.0, 1.0])
def test_pause_share_puts_a_pause_in_user_turns_and_the_events_keep_it(share):
    config = DuplexConfig(no_audio=True, pause_share=share, pause_range=(0.4, 0.6), barge_in_share=0.5,
                          backchannel_share=0.5)
    for index in range(8):
        row = sample_to_row(make_sample(11, index, config), config)
        events = floor_events(row["turns"], row["duration"])
        pauses = [e for e in events if e.kind == "pause"]
        for turn in row["turns"]:
            if turn["role"] != "user" or turn["kind"] == "backchannel":
                continue
            gaps = [b["start"] - a["end"] for a, b in zip(turn["words"], turn["words"][1:], strict=False)]
            long = [g for g in gaps if g >= 0.25]
            if share == 0.0 or len(turn["words"]) < 4:
                assert long == []
            else:
                assert len(long) == 1 and 0.4 - 1e-6 <= long[0] <= 0.6 + 1e-6
                assert any(e.until == turn["end"] and turn["start"] < e.start < e.end < turn["end"] for e in pauses)
        users = [t for t in row["turns"] if t["role"] == "user" and t["kind"] != "backchannel"]
        assert sum(e.kind == "barge_in" for e in events) == row["n_barge_ins"]
        assert sum(e.kind in ("turn_end", "barge_in") for e in events) == len(users)
        assert sum(e.kind == "backchannel" for e in events) == row["n_backchannels"]


def test_same_seed_same_dialogue_whatever_the_pause_share_leaves_the_text():
    a = make_sample(5, 2, DuplexConfig(no_audio=True, pause_share=0.0))
    b = make_sample(5, 2, DuplexConfig(no_audio=True, pause_share=1.0))
    assert a.dialogue == b.dialogue and a.plan == b.plan
    assert inner_pauses([]) == []


def test_bad_pause_options_are_named():
    with pytest.raises(ValueError, match="pause_share must be a probability"):
        DuplexConfig(pause_share=1.5)
    with pytest.raises(ValueError, match="pause_range must be LO HI seconds"):
        DuplexConfig(pause_range=(0.7, 0.3))
