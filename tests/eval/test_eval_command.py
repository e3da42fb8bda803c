"""`thinkspeak eval math` end to end with a real (tiny, randomly initialised) Thinker and the real decoder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from parquet_fixtures import write_corpus

from thinkspeak.cli import main
from thinkspeak.eval.spoken_mqa import is_correct

TEXTS = [f"What is {a} times {b}? {a} times {b} is {a * b}. The answer is {a * b}."
         for a in range(2, 12) for b in range(2, 12)]


@pytest.fixture(scope="module")
def thinker_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from thinkspeak.model.thinker import BackboneShape, Thinker
    from thinkspeak.model.tokenizer import train_tokenizer

    shape = BackboneShape(layers=2, d_model=32, heads=2, kv_heads=1, ffn=64, max_positions=1024)
    thinker = Thinker.build(train_tokenizer(TEXTS, vocab_size=320), shape, seed=0)
    return thinker.save(tmp_path_factory.mktemp("thinker") / "tiny")


@pytest.mark.slow
@pytest.mark.parametrize(("mode", "input_kind"), [("tis", "text"), ("no-think", "audio")])
def test_eval_math_runs_the_decoder_and_scores_what_it_said(tmp_path: Path, thinker_dir: Path, mode: str,
                                                            input_kind: str) -> None:
    from thinkspeak.decode import TiSDecoder
    from thinkspeak.eval.math_items import load_math_items
    from thinkspeak.model.thinker import Thinker

    write_corpus(tmp_path / "corpus")
    run = tmp_path / "run"
    assert main(["eval", "math", "--data", str(tmp_path / "corpus"), "--model", str(thinker_dir), "--mode", mode,
                 "--input", input_kind, "--out", str(run)]) == 0
    lines = [json.loads(line) for line in (run / "items.jsonl").read_text().splitlines()]
    summary = json.loads((run / "summary.json").read_text())
    assert [line["id"] for line in lines] == ["7-00000001", "7-00000002", "7-00000003"]
    assert (summary["mode"], summary["input"], summary["count"]) == (mode, input_kind, 3)
    assert summary["correct"] == sum(is_correct(line["say"], line["answer"]) for line in lines)

    # Greedy decoding is deterministic: the run recorded exactly what the decoder says for each question.
    decoder = TiSDecoder(Thinker.load(thinker_dir), mode=mode)
    for item, line in zip(load_math_items(tmp_path / "corpus", with_audio=input_kind == "audio"), lines,
                          strict=True):
        done = decoder.answer(audio=item.audio) if input_kind == "audio" else decoder.answer(text=item.question)
        assert (line["say"], line["think"]) == (done.say, done.think)
        assert (line["first_say_step"], line["tokens"]) == (done.stats.first_say_step, done.stats.steps)
        if mode == "no-think":
            assert line["think"] == ""
