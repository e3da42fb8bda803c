"""Sequences -> three training stages -> export -> `thinkspeak eval duplex --json`, on a tiny model and corpus
built by the test (random unit ids: this checks the pipeline and the CLI contract, not a model's quality)."""

from __future__ import annotations

import json

import pytest
import torch
import yaml
from duplex_fixtures import corpus_rows, tiny_duplex, write_seq_corpus
from thinker_fixtures import tiny_thinker

from thinkspeak.cli import main
from thinkspeak.layouts import duplex as layout
from thinkspeak.model.duplex import DuplexModel
from thinkspeak.train.duplex import StageData, examples, role_weights
from thinkspeak.train.recipe import load_recipe

KEYS = ("smooth_tor", "smooth_latency_s", "interruption_tor", "interruption_latency_s", "pause_tor", "backchannel_tor")


def test_loss_weights_mask_the_user_stream_except_its_next_chunk():
    model = tiny_duplex()
    rows = corpus_rows(2)
    from duplex_fixtures import random_units

    from thinkspeak.data.duplex.sequences import sequence_row

    row = sequence_row(rows[0], random_units(rows[0]), model, model.clock)
    for user_weight in (0.0, 0.5):
        w = role_weights(row["roles"], row["tokens"], model, user_weight, 0.1)
        for role, tok, weight in zip(row["roles"], row["tokens"], w, strict=True):
            if role == layout.USER_TAG:
                assert weight == 0.0
            elif role in (layout.USER, layout.ASSISTANT_TAG):
                assert weight == user_weight
            elif role == layout.SAY:
                assert weight == 1.0
            else:
                assert weight == (0.1 if tok in (model.markers.silence, model.markers.think_pad) else 1.0)
    data = StageData(format="chunks", window_chunks=8)
    (tokens, weights), = examples([row], data, model, 0.1, seed=0, epoch=0)
    assert tokens[0] == model.markers.user_tag and len(layout.split_chunks(tokens, model.clock, model.markers)) == 8


def test_bad_stage_options_are_named():
    from thinkspeak.train.recipe import StageConfig

    with pytest.raises(ValueError, match="format must be one of"):
        StageData.from_stage(StageConfig("s", 1, duplex={"format": "waves"}))
    with pytest.raises(ValueError, match="user_weight must be a number in"):
        StageData.from_stage(StageConfig("s", 1, duplex={"user_weight": 2}))


def test_three_stages_export_and_eval_cli(tmp_path, capsys):
    torch.manual_seed(0)
    thinker = tiny_thinker()
    thinker.save(tmp_path / "thinker")
    model = tiny_duplex()
    rows = corpus_rows(4) + corpus_rows(3, seed=5, barge_in_share=0.0, backchannel_share=0.0)
    corpus = write_seq_corpus(tmp_path / "seq", model, rows)
    common = {"max_batch": 2, "lr": 1e-3, "warmup_steps": 1, "steps": 2, "save_every": 1, "eval_every": 2,
              "log_every": 1, "eval_samples": 2}
    recipe = {"name": "duplex-tiny", "kind": "duplex", "corpus": str(corpus), "mixed_precision": "no",
              "duplex": {"init": str(tmp_path / "thinker"), "max_positions": 1024},
              "defaults": common,
              "stages": [{"name": "turns", "duplex": {"format": "turn"}},
                         {"name": "no-overlap", "duplex": {"select": "no_overlap", "window_chunks": 12}},
                         {"name": "full", "duplex": {"user_weight": 0.5, "window_chunks": 12}}]}
    (tmp_path / "r.yaml").write_text(yaml.safe_dump(recipe))
    out, dest = tmp_path / "run", tmp_path / "export"
    assert main(["train", "--recipe", str(tmp_path / "r.yaml"), "--out", str(out), "--no-progress",
                 "--export", str(dest)]) == 0
    trained = DuplexModel.load(dest)
    assert list(trained.config.trained_with) == ["turns", "no-overlap", "full"]
    assert (dest / "SHA256SUMS").is_file() and "synthetic pseudo-duplex corpus" in (dest / "README.md").read_text()
    assert load_recipe(str(tmp_path / "r.yaml")).kind == "duplex"
    capsys.readouterr()
    assert main(["eval", "duplex", "--model", str(dest), "--data", str(corpus), "--n", "7",
                 "--latency-ms", "0,240", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["corpus"] == "synthetic pseudo-duplex corpus"
    for latency in ("0", "240"):
        scores = report["latency_ms"][latency]
        for key in KEYS:
            assert key in scores
            value = scores[key]
            assert value is None or value >= 0
        for key in ("smooth_tor", "interruption_tor", "pause_tor", "backchannel_tor"):
            assert scores[key] is None or scores[key] <= 1
    reference = report["reference"]
    assert reference["smooth_tor"] == 1.0 and reference["smooth_latency_s"] < 0.05
    assert reference["backchannel_tor"] == 0.0 and reference["pause_tor"] == 0.0
    rule = report["baseline_silence_rule_500ms"]
    assert rule["smooth_latency_s"] is None or rule["smooth_latency_s"] >= 0.45  # it waits 500 ms of silence


def test_eval_cli_names_bad_values(tmp_path, capsys):
    cases = [(["--latency-ms", "fast"], "--latency-ms must be comma-separated integers"),
             (["--latency-ms", "0,-80"], "latency_ms must be an int number of milliseconds in [0, 2000], got -80"),
             (["--model", str(tmp_path), "--data", str(tmp_path)], "model must be a duplex model folder"),
             (["--n", "0"], "--n must be an int >= 1, got 0")]
    for extra, message in cases:
        assert main(["eval", "duplex", *extra]) == 2
        assert message in capsys.readouterr().err
