"""Latency report from per-turn stage timestamps: percentiles worked out by hand."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from thinkspeak.eval.latency import latency_summary, load_turns, stage_latencies

TURNS = [
    {"turn": 1, "end_of_speech": 10.0, "speech_stopped": 10.5, "transcript": 10.7, "first_say_token": 10.9,
     "first_audio_byte": 11.0},
    {"turn": 2, "end_of_speech": 20.0, "speech_stopped": 20.3, "transcript": 20.4, "first_say_token": 20.6,
     "first_audio_byte": 20.8},
    {"turn": 3, "end_of_speech": 30.0, "speech_stopped": 30.6, "transcript": None, "first_say_token": 31.0,
     "first_audio_byte": 31.2},
]


def test_stage_percentiles(tmp_path: Path) -> None:
    path = tmp_path / "latency.jsonl"
    path.write_text("\n".join(json.dumps(t) for t in TURNS) + "\n\n")
    turns = load_turns(path)
    assert stage_latencies(turns)["transcript"] == pytest.approx([0.7, 0.4])
    rows = {row.stage: row for row in latency_summary(turns)}
    # speech_stopped: sorted .3 .5 .6 -> p50 .5; p90 at rank 1.8 -> .5 + .8 * .1 = .58
    assert (rows["speech_stopped"].count, rows["speech_stopped"].p50) == (3, pytest.approx(0.5))
    assert rows["speech_stopped"].p90 == pytest.approx(0.58)
    # transcript: .4 .7 -> p50 .55, p90 .4 + .9 * .3 = .67 (turn 3 never got one)
    assert (rows["transcript"].count, rows["transcript"].p50) == (2, pytest.approx(0.55))
    assert rows["transcript"].p90 == pytest.approx(0.67)
    # first_audio_byte: .8 1.0 1.2 -> p50 1.0, p90 1.16, mean 1.0
    assert rows["first_audio_byte"].p90 == pytest.approx(1.16)
    assert rows["first_audio_byte"].mean == pytest.approx(1.0)


def test_turn_without_origin_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="end_of_speech"):
        stage_latencies([{"speech_stopped": 1.0}])
    path = tmp_path / "bad.jsonl"
    path.write_text("[1, 2]\n")
    with pytest.raises(ValueError, match="JSON object"):
        load_turns(path)
