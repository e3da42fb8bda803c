"""The corpus on disk: contract 2 schema, manifest, determinism to the byte, shard union == unsharded,
resume, refusal to mix options, parallel workers, and the CLI's argument checks."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from thinkspeak.cli import main
from thinkspeak.data.math import MathConfig, generate_math
from thinkspeak.data.shards import ShardSpec, dataset_files, read_table

N, PER_FILE = 90, 20  # 5 files


def make(out: Path, **kw) -> dict:
    return generate_math(N, out, seed=3, rows_per_file=PER_FILE, progress=False, **kw)


def file_bytes(out: Path) -> dict[str, bytes]:
    return {f.name: f.read_bytes() for f in dataset_files(out)}


@pytest.fixture(scope="module")
def whole(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("whole")
    make(out)
    return out


def test_schema_and_manifest(whole: Path) -> None:
    table = read_table(whole)
    assert table.column_names == ["id", "index", "split", "category", "kind", "question", "question_spoken", "answer",
                                  "reasoning", "response", "licenses", "journey", "tis", "think_first", "no_think"]
    manifest = json.loads((whole / "manifest.json").read_text())
    assert manifest["count"] == table.num_rows == N - manifest["dropped"]
    assert manifest["complete"] and manifest["seed"] == 3 and (manifest["p"], manifest["q"]) == (2, 8)
    assert manifest["anticipation_drift_rate"] == 0.0
    assert sum(manifest["splits"].values()) == sum(manifest["categories"].values()) == table.num_rows
    rows = table.to_pylist()
    assert [r["index"] for r in rows] == sorted(r["index"] for r in rows)
    assert all(r["id"] == f"3-{r['index']:08d}" for r in rows)
    assert {r["split"] for r in rows} <= {"train", "valid", "test"}
    assert all(r["tis"].split()[-1] == "<end>" and "<think_end>" in r["think_first"] for r in rows)


def test_same_seed_same_bytes_and_other_seed_differs(whole: Path, tmp_path: Path) -> None:
    make(tmp_path / "again")
    assert file_bytes(tmp_path / "again") == file_bytes(whole)
    generate_math(N, tmp_path / "other", seed=4, rows_per_file=PER_FILE, progress=False)
    assert read_table(tmp_path / "other").column("question") != read_table(whole).column("question")


def test_shard_jobs_merge_to_the_unsharded_result(whole: Path, tmp_path: Path) -> None:
    out = tmp_path / "sharded"
    first = make(out, shard=ShardSpec(0, 3))
    assert not first["complete"]
    make(out, shard=ShardSpec(2, 3))
    last = make(out, shard=ShardSpec.parse("1/3"))
    assert last["complete"]
    assert read_table(out).equals(read_table(whole))
    assert file_bytes(out) == file_bytes(whole)
    assert json.loads((out / "manifest.json").read_text()) == json.loads((whole / "manifest.json").read_text())


def test_two_workers_give_the_same_bytes(whole: Path, tmp_path: Path) -> None:
    make(tmp_path / "w2", workers=2)
    assert file_bytes(tmp_path / "w2") == file_bytes(whole)


def test_resume_remakes_only_missing_files(whole: Path, tmp_path: Path) -> None:
    out = tmp_path / "resume"
    make(out)
    files = dataset_files(out)
    os.utime(files[0], (1, 1))
    files[3].unlink()
    make(out)
    assert files[0].stat().st_mtime == 1  # untouched: finished files are skipped
    assert file_bytes(out) == file_bytes(whole)


def test_refuses_to_mix_options(whole: Path, tmp_path: Path) -> None:
    out = tmp_path / "mix"
    make(out)
    with pytest.raises(ValueError, match="made with other options"):
        make(out, config=MathConfig(q=6))


def test_file_metadata_records_the_job(whole: Path) -> None:
    meta = json.loads(pq.read_schema(dataset_files(whole)[0]).metadata[b"thinkspeak"])
    assert meta["options"]["seed"] == 3 and meta["stats"]["generated"] == PER_FILE


def test_cli_makes_and_shows_a_corpus(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["data", "math", "--n", "12", "--out", str(tmp_path / "c"), "--no-audio", "--no-progress",
                 "--p", "3", "--q", "6", "--journey-share", "0.5"]) == 0
    manifest = json.loads((tmp_path / "c" / "manifest.json").read_text())
    assert (manifest["p"], manifest["q"], manifest["config"]["journey_share"]) == (3, 6, 0.5)
    assert main(["data", "show", str(tmp_path / "c"), "--n", "2"]) == 0
    shown = capsys.readouterr().out
    assert "answer" in shown and "<end>" in shown


@pytest.mark.parametrize(("argv", "message"), [
    (["--n", "0"], "--n: must be an int >= 1"),
    (["--n", "5", "--shard", "3/2"], "shard must be i/N"),
    (["--n", "5", "--seed", "-1"], "--seed: must be an int >= 0"),
    (["--n", "5", "--journey-share", "2"], "--journey-share: must be a number in [0, 1]"),
    (["--n", "5", "--workers", "0"], "--workers: must be an int >= 1"),
])
def test_cli_rejects_bad_arguments(tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str],
                                   message: str) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["data", "math", "--out", str(tmp_path / "x"), "--no-audio", *argv])
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


def test_cli_rejects_bad_values_caught_by_the_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["data", "math", "--n", "5", "--out", str(tmp_path / "x"), "--no-audio", "--categories", "algebra"])
    assert code == 2
    assert "categories must map names" in capsys.readouterr().err


def test_show_rejects_a_non_corpus(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["data", "show", str(tmp_path)]) == 2
    assert "dir must be a corpus directory" in capsys.readouterr().err
