"""Spoken-math harness: Parquet loaders for both layouts, the run loop, its JSONL and summary."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from parquet_fixtures import MULTI, SHORT, dominant_hz, tone, write_corpus, write_spoken_mqa

from thinkspeak.eval.math_items import MathItem, load_math_items, spoken_mqa_category
from thinkspeak.eval.math_run import run_math
from thinkspeak.eval.responders import Response


def test_spoken_mqa_layout_loads_text_audio_and_categories(tmp_path: Path) -> None:
    write_spoken_mqa(tmp_path, "short_digit", SHORT, 22050, "WAV")
    write_spoken_mqa(tmp_path, "multi_step_reasoning", MULTI, 16000, "FLAC")
    items = list(load_math_items(tmp_path, with_audio=True))
    assert [(i.category, i.question, i.answer) for i in items] == (
        [("multi_step_reasoning", q, a) for q, a in MULTI] + [("short_digit", q, a) for q, a in SHORT])
    assert [i.id for i in items][:3] == ["multi_step_reasoning-00000", "multi_step_reasoning-00001",
                                         "short_digit-00000"]
    assert [i.normalise_reference for i in items] == [True, True, False, False, False]
    assert items[0].instruction == "Solve it and end with 'The answer is'."
    for index, item in enumerate(items[2:]):  # the 22.05 kHz WAVs come back resampled to 16 kHz
        assert item.audio is not None and item.audio.dtype == np.float32
        assert abs(len(item.audio) - int((0.5 + 0.25 * index) * 16000)) <= 2
        assert dominant_hz(item.audio, 16000) == pytest.approx(440.0 * (index + 1), abs=3)
    assert all(i.audio is None for i in load_math_items(tmp_path))
    assert [i.category for i in load_math_items(tmp_path, limit=1)] == ["multi_step_reasoning", "short_digit"]


def test_spoken_mqa_decoded_audio_and_plain_string_columns(tmp_path: Path) -> None:
    # The layout `datasets` writes after decoding: {"array", "sampling_rate"}; answers as plain strings.
    audio_type = pa.struct([("array", pa.list_(pa.float32())), ("sampling_rate", pa.int64())])
    path = tmp_path / "single_step_reasoning" / "0000.parquet"
    path.parent.mkdir()
    pq.write_table(pa.table({
        "context": pa.array([{"array": tone(1.0, 8000, 300.0).tolist(), "sampling_rate": 8000}], audio_type),
        "context_transcript": ["Half of 9?"], "instruction": ["Answer."], "answer": ["4.5"],
    }), path)
    (item,) = load_math_items(path, with_audio=True)
    assert (item.category, item.answer, item.instruction) == ("single_step_reasoning", "4.5", "Answer.")
    assert item.audio is not None and abs(len(item.audio) - 16000) <= 2
    assert dominant_hz(item.audio, 16000) == pytest.approx(300.0, abs=2)


def test_corpus_layout_filters_split_and_limits_per_category(tmp_path: Path) -> None:
    write_corpus(tmp_path)
    items = list(load_math_items(tmp_path, with_audio=True))
    assert [(i.id, i.category, i.answer) for i in items] == [
        ("7-00000001", "arith_short", "81"), ("7-00000002", "arith_short", "-3"), ("7-00000003", "multi_step", "15")]
    assert all(i.audio is not None and len(i.audio) == 4000 for i in items)
    assert [i.id for i in load_math_items(tmp_path, split="train")] == ["7-00000000"]
    assert [i.id for i in load_math_items(tmp_path, limit=1)] == ["7-00000001", "7-00000003"]


def test_loader_rejects_unknown_layouts(tmp_path: Path) -> None:
    pq.write_table(pa.table({"text": ["hello"]}), tmp_path / "other.parquet")
    with pytest.raises(ValueError, match="expected Spoken-MQA"):
        load_math_items(tmp_path)
    with pytest.raises(ValueError, match="data must be"):
        load_math_items(tmp_path / "missing")
    with pytest.raises(ValueError, match="limit"):
        load_math_items(tmp_path, limit=0)


class EveryOtherRight:
    """Answers item k correctly when k is even and with a wrong number when k is odd; speaks 5 + k words and
    starts speaking at step 2k (a deterministic stand-in system, so the summary has a known value)."""

    def __init__(self) -> None:
        self.k = -1

    def __call__(self, item: MathItem) -> Response:
        self.k += 1
        answer = item.answer if self.k % 2 == 0 else "999"
        say = " ".join(["well"] * (self.k + 1)) + f" so the answer is {answer}."
        return Response(text=say, say=say, think="add them up", first_say_step=2 * self.k, tokens=10 + self.k)


def test_run_writes_items_and_summary_with_known_accuracy(tmp_path: Path) -> None:
    write_spoken_mqa(tmp_path / "data", "short_digit", SHORT, 16000, "WAV")
    write_spoken_mqa(tmp_path / "data", "multi_step_reasoning", MULTI, 16000, "WAV")
    items = list(load_math_items(tmp_path / "data"))  # order: multi (k=0,1), short (k=2,3,4)
    summary = run_math(items, EveryOtherRight(), tmp_path / "run", mode="tis", input="text")

    lines = [json.loads(line) for line in (tmp_path / "run" / "items.jsonl").read_text().splitlines()]
    assert [line["correct"] for line in lines] == [True, False, True, False, True]
    assert [line["prediction"] for line in lines] == ["10", "999", "42", "999", "3"]
    assert lines[1]["answer"] == "0.75"  # reasoning references are normalised like the predictions
    assert json.loads((tmp_path / "run" / "summary.json").read_text()) == json.loads(json.dumps(summary))
    assert (summary["count"], summary["correct"]) == (5, 3)
    assert summary["accuracy"] == pytest.approx(3 / 5)
    assert summary["categories"]["multi_step_reasoning"]["accuracy"] == pytest.approx(1 / 2)
    assert summary["categories"]["short_digit"]["accuracy"] == pytest.approx(2 / 3)
    assert summary["groups"] == {"arithmetic": {"count": 3, "correct": 2, "accuracy": pytest.approx(2 / 3)},
                                 "reasoning": {"count": 2, "correct": 1, "accuracy": pytest.approx(1 / 2)}}
    # say = (k + 1) x "well" + "so the answer is N." -> k + 6 words; first say step 2k; tokens 10 + k.
    assert summary["mean_say_words"] == pytest.approx(np.mean([k + 6 for k in range(5)]))
    assert summary["mean_first_say_step"] == pytest.approx(4.0)
    assert summary["mean_tokens"] == pytest.approx(12.0)
    assert (summary["run"], summary["mode"], summary["speech"]) == ("run", "tis", None)


def test_run_with_no_items_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no items"):
        run_math([], EveryOtherRight(), tmp_path / "run")


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.text(min_size=1, max_size=40).filter(str.strip),
                          st.from_regex(r"-?[1-9][0-9]{0,6}(\.[0-9]{1,3})?", fullmatch=True),
                          st.booleans()), min_size=1, max_size=6))
def test_spoken_mqa_text_columns_round_trip(tmp_path: Path, rows: list[tuple[str, str, bool]]) -> None:
    # Each answer is stored either as {"text": ...} or as a plain string; the loader reads both the same.
    path = tmp_path / "long_digit.parquet"
    answers = [{"text": a} if as_struct else a for _, a, as_struct in rows]
    column = pa.array(answers, pa.struct([("text", pa.string())])) if all(r[2] for r in rows) else \
        pa.array([a["text"] if isinstance(a, dict) else a for a in answers])
    pq.write_table(pa.table({"context": pa.array([None] * len(rows), pa.struct([("bytes", pa.binary())])),
                             "context_transcript": [q for q, _, _ in rows], "answer": column}), path)
    items = list(load_math_items(path))
    assert [(i.category, i.question, i.answer) for i in items] == [("long_digit", q.strip(), a) for q, a, _ in rows]


@pytest.mark.parametrize(("path", "category"), [
    ("hub/data/short_digit-00000-of-00001.parquet", "short_digit"),
    ("long_digit_runs/refs/convert/default/multi_step_reasoning/0000.parquet", "multi_step_reasoning"),
    ("long_digit/0003.parquet", "long_digit"),
    ("mine/extra.parquet", "extra"),
])
def test_category_comes_from_the_nearest_path_part(path: str, category: str) -> None:
    assert spoken_mqa_category(Path(path)) == category
