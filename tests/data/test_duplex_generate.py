"""generate_duplex: Parquet rows, manifest, determinism, shard union, resume, options and bad arguments."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from thinkspeak.data import shards
from thinkspeak.data.duplex import DuplexConfig, add_duplex_arguments, generate_duplex, options_from_args
from thinkspeak.layouts import syncllm

FAST = {"no_audio": True, "progress": False}


def read_dialogues(out: Path) -> list[dict]:
    return shards.read_table(out).to_pylist()


def test_rows_manifest_and_ground_truth(tmp_path: Path) -> None:
    manifest = generate_duplex(20, tmp_path, seed=4, barge_in_share=0.5, backchannel_share=0.5, **FAST)
    assert manifest["count"] == 20 and manifest["complete"] and manifest["seed"] == 4
    assert manifest == json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["options"] == DuplexConfig(no_audio=True, barge_in_share=0.5, backchannel_share=0.5).to_dict()
    assert manifest["voices"]["assistant"].startswith("piper") and len(manifest["voices"]["user"]) >= 2
    rows = read_dialogues(tmp_path)
    assert [r["index"] for r in rows] == list(range(20))
    assert manifest["counts"]["barge_ins"] == sum(r["n_barge_ins"] for r in rows) > 0
    assert manifest["counts"]["backchannels"] == sum(r["n_backchannels"] for r in rows) > 0
    for row in rows:
        assert row["id"] == f"4-{row['index']:08d}" and row["timing"] == "estimated"
        assert row["user_audio"] is None and row["sample_rate"] == 16000
        assert 15.0 <= row["snr_db"] <= 25.0
        for role in ("user", "assistant"):
            segments = row[f"{role}_segments"]
            assert segments == sorted([t["start"], t["end"]] for t in row["turns"] if t["role"] == role)
            frames = row[f"{role}_frames"]
            assert len(frames) == pytest.approx(row["duration"] * 25, abs=1)
            speech = sum(b - a for a, b in segments)
            assert abs(sum(frames) / 25 - speech) <= 0.04 * len(segments) + 1e-9
        for turn in row["turns"]:
            assert turn["kind"] in ("turn", "barge_in", "backchannel")
            assert turn["words"] and all(turn["start"] <= w["start"] <= w["end"] <= turn["end"] + 1e-6
                                         for w in turn["words"])


def test_frames_chunk_into_the_syncllm_layout(tmp_path: Path) -> None:
    """The 25 Hz activity frames are a valid SyncLLM unit stream (2 "units": silence, speech; padded with
    silence to whole 160 ms chunks): chunks that hold one value decode back exactly."""
    generate_duplex(3, tmp_path, **FAST)
    config = syncllm.SyncConfig(n_units=2)
    for row in read_dialogues(tmp_path):
        pad = [0] * (-len(row["user_frames"]) % config.chunk_units)
        user, assistant = row["user_frames"] + pad, row["assistant_frames"] + pad
        decoded_user, decoded_assistant = syncllm.decode(syncllm.encode(user, assistant, config), config)
        for frames, decoded in ((user, decoded_user), (assistant, decoded_assistant)):
            assert len(decoded) == len(frames)
            for k in range(0, len(frames), 4):
                if len(set(frames[k : k + 4])) == 1:
                    assert decoded[k : k + 4] == frames[k : k + 4]


def test_same_seed_same_bytes_other_seed_other_rows(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    generate_duplex(10, a, seed=9, **FAST)
    generate_duplex(10, b, seed=9, **FAST)
    generate_duplex(10, c, seed=10, **FAST)
    name = "data/shard-00000-of-00001.parquet"
    assert (a / name).read_bytes() == (b / name).read_bytes()
    assert (a / "manifest.json").read_bytes() == (b / "manifest.json").read_bytes()
    assert [r["turns"] for r in read_dialogues(a)] != [r["turns"] for r in read_dialogues(c)]


def test_shard_union_equals_the_unsharded_run(tmp_path: Path) -> None:
    whole, sharded = tmp_path / "whole", tmp_path / "sharded"
    generate_duplex(11, whole, seed=5, rows_per_file=2, **FAST)
    manifests = [generate_duplex(11, sharded, seed=5, shard=(i, 3), rows_per_file=2, **FAST) for i in (2, 0, 1)]
    assert [m["complete"] for m in manifests] == [False, False, True]
    files = sorted(p.name for p in (whole / "data").iterdir())
    assert len(files) == 6 and files == sorted(p.name for p in (sharded / "data").iterdir())
    for name in files:
        assert (whole / "data" / name).read_bytes() == (sharded / "data" / name).read_bytes()
    assert read_dialogues(sharded) == read_dialogues(whole)
    assert [r["index"] for r in read_dialogues(whole)] == list(range(11))
    assert (sharded / "manifest.json").read_bytes() == (whole / "manifest.json").read_bytes()


def test_workers_give_the_same_rows(tmp_path: Path) -> None:
    generate_duplex(6, tmp_path / "one", seed=2, rows_per_file=4, **FAST)
    generate_duplex(6, tmp_path / "two", seed=2, rows_per_file=4, workers=2, **FAST)
    assert read_dialogues(tmp_path / "one") == read_dialogues(tmp_path / "two")


def test_a_finished_file_is_resumed_and_a_different_run_refused(tmp_path: Path) -> None:
    first = generate_duplex(5, tmp_path, seed=1, rows_per_file=2, **FAST)
    data = tmp_path / "data/shard-00000-of-00003.parquet"
    stamp = data.stat().st_mtime_ns
    data.with_name("shard-00002-of-00003.parquet").unlink()  # an interrupted job: one file missing
    assert generate_duplex(5, tmp_path, seed=1, rows_per_file=2, **FAST) == first
    assert data.stat().st_mtime_ns == stamp
    with pytest.raises(ValueError, match="already holds"):
        generate_duplex(5, tmp_path, seed=2, rows_per_file=2, **FAST)
    with pytest.raises(ValueError, match="already holds"):
        generate_duplex(5, tmp_path, seed=1, rows_per_file=2, gap=0.1, **FAST)


def test_cli_options_round_trip(tmp_path: Path) -> None:
    parser = argparse.ArgumentParser()
    add_duplex_arguments(parser)
    defaults = options_from_args(parser.parse_args([]))
    assert defaults.pop("progress") is True and defaults.pop("rows_per_file") == 100
    assert DuplexConfig.from_options(defaults) == DuplexConfig()
    args = parser.parse_args(["--turns", "1", "2", "--pause-mean", "0.5", "--snr", "18", "20", "--no-audio",
                              "--rows-per-file", "3",
                              "--barge-in-share", "0", "--user-voices", "flite:slt", "--no-progress"])
    manifest = generate_duplex(4, tmp_path, **options_from_args(args))
    assert manifest["options"]["turns"] == [1, 2] and manifest["options"]["snr"] == [18.0, 20.0]
    assert manifest["voices"]["user"] == ["flite:slt"] and manifest["counts"]["barge_ins"] == 0
    assert all(1 <= len([t for t in r["turns"] if t["role"] == "user" and t["kind"] != "backchannel"]) <= 2
               for r in read_dialogues(tmp_path))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n": 0}, "n must be an int >= 1, got 0"),
        ({"seed": -1}, "seed must be an int >= 0, got -1"),
        ({"shard": (3, 3)}, "shard must be i/N with N >= 1 and 0 <= i < N, got 3/3"),
        ({"shard": 3}, r"shard must be \(i, N\) with 0 <= i < N, got 3"),
        ({"rows_per_file": 0}, "rows_per_file must be an int >= 1, got 0"),
        ({"workers": 0}, "workers must be an int >= 1, got 0"),
        ({"pause_std": -0.1}, "pause_std must be a finite number >= 0.0, got -0.1"),
        ({"turns": (3, 2)}, r"turns must be MIN MAX with 1 <= MIN <= MAX, got \(3, 2\)"),
        ({"snr": (25.0, 15.0)}, "snr must be LO HI dB with LO <= HI"),
        ({"barge_in_share": 1.5}, r"barge_in_share must be a probability in \[0, 1\], got 1.5"),
        ({"noise_kinds": ("brown",)}, "noise_kinds must be a non-empty selection of"),
        ({"user_voices": ()}, "user_voices must be a non-empty list"),
        ({"frame_rate": 0.0}, "frame_rate must be a finite number > 0.0, got 0.0"),
        ({"colour": "red"}, r"options must be among .*, got unknown \['colour'\]"),
    ],
)
def test_bad_arguments_are_rejected(tmp_path: Path, kwargs: dict, message: str) -> None:
    args = {"n": 3, "out": tmp_path / "out", **FAST, **kwargs}
    with pytest.raises(ValueError, match=message):
        generate_duplex(**args)
    assert not (tmp_path / "out").exists()


def test_out_must_be_a_directory(tmp_path: Path) -> None:
    path = tmp_path / "file"
    path.write_text("x")
    with pytest.raises(ValueError, match="out must be a directory"):
        generate_duplex(2, path, **FAST)
