"""duplex-seq rows: the response delay, floor weighting, and a new layout from an existing corpus's units."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
from duplex_fixtures import DIGEST, N_UNITS, corpus_rows, random_units, tiny_duplex, write_seq_corpus

from thinkspeak.data import shards
from thinkspeak.data.duplex import generate_duplex
from thinkspeak.data.duplex.sequences import generate_sequences, sequence_row, spoken_turns
from thinkspeak.layouts import duplex as layout
from thinkspeak.train.duplex import role_weights


@dataclass(frozen=True)
class UnitModelInfo:
    n_units: int
    digest: str


def _first_say(row, model):
    """Per chunk: the first say slot's token."""
    return [slots[0] for _, slots in layout.split_chunks(row["tokens"], model.clock, model.markers)]


def test_delay_moves_replies_but_not_barge_in_cuts():
    model = tiny_duplex()
    row = corpus_rows(6)[0]
    for r in corpus_rows(6):
        if any(t["truncated"] for t in r["turns"]):
            row = r
            break
    units = random_units(row)
    plain, late = (sequence_row(row, units, model, model.clock, d) for d in (0.0, 0.24))
    assert plain["units"] == late["units"] and plain["events"] == late["events"]
    turns0, turns1 = spoken_turns(row["turns"], model.text_ids), spoken_turns(row["turns"], model.text_ids, 0.24)
    for a, b in zip(turns0, turns1, strict=True):
        assert b.start == pytest.approx(a.start + 0.24)
        assert b.end == (a.end if a.truncated else pytest.approx(a.end + 0.24))
        assert all(start >= a.start + 0.24 - 1e-9 for _, start in b.words)
    silence = model.markers.silence
    starts = [c for c, tok in enumerate(_first_say(late, model)) if tok != silence
              and (c == 0 or _first_say(late, model)[c - 1] == silence)]
    assert starts[0] == layout.chunk_of(turns1[0].start, model.clock)


def test_floor_weight_marks_exactly_the_chunks_where_the_floor_changes():
    model = tiny_duplex()
    row = sequence_row(corpus_rows(1)[0], random_units(corpus_rows(1)[0]), model, model.clock, 0.24)
    weights = role_weights(row["roles"], row["tokens"], model, 0.3, 0.3, floor_weight=5.0)
    firsts = [i for i, r in enumerate(row["roles"]) if r == layout.SAY and row["roles"][i - 1] != layout.SAY]
    state = [row["tokens"][i] != model.markers.silence for i in firsts]
    changes = {firsts[k] for k in range(1, len(firsts)) if state[k] != state[k - 1]}
    assert {i for i, w in enumerate(weights) if w == 5.0} == changes and len(changes) >= 2


def test_units_from_an_existing_corpus_and_a_mismatched_one_is_refused(tmp_path):
    model = tiny_duplex()
    generate_duplex(3, tmp_path / "dialogues", seed=3, no_audio=True, progress=False, turns=(2, 2))
    rows = list(shards.iter_rows(tmp_path / "dialogues"))
    first = write_seq_corpus(tmp_path / "first", model, rows)
    manifest = generate_sequences(tmp_path / "dialogues", tmp_path / "second", model, UnitModelInfo(N_UNITS, DIGEST),
                                  clock=model.clock, delay=0.24, units_from=first, progress=False)
    assert manifest["complete"] and manifest["delay"] == 0.24 and manifest["counts"]["dialogues"] == 3
    old = {r["id"]: r for r in shards.iter_rows(first)}
    for r in shards.iter_rows(tmp_path / "second"):
        assert r["units"] == old[r["id"]]["units"] and json.loads(r["events"]) == json.loads(old[r["id"]]["events"])
    with pytest.raises(ValueError, match="units_from .* holds 24 units"):
        generate_sequences(tmp_path / "dialogues", tmp_path / "third", model, UnitModelInfo(500, DIGEST),
                           clock=model.clock, units_from=first, progress=False)
    with pytest.raises(ValueError, match="delay must be a number of seconds"):
        generate_sequences(tmp_path / "dialogues", tmp_path / "third", model, UnitModelInfo(N_UNITS, DIGEST),
                           clock=model.clock, delay=-1, progress=False)
