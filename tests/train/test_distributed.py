"""Data-parallel training proven: two processes (DDP over gloo on CPU) take the same steps as one process on
the same global batch, and a run resumes on a different number of processes.

``accelerate launch --num_processes 2 --cpu`` starts ONE process in accelerate 1.x (``--cpu`` selects its simple
launcher; multi-CPU there means mpirun with a hostfile). ``--multi_gpu`` starts the processes with torchrun, and
on a machine without visible GPUs (``CUDA_VISIBLE_DEVICES=""``) Accelerate runs them as MULTI_CPU over gloo;
the run's log records the process count so the test knows two really ran."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml
from test_trainer import losses, tiny_recipe
from tiny_corpus import write_tiny_corpus

from thinkspeak.model.thinker import Thinker
from thinkspeak.train.recipe import load_recipe
from thinkspeak.train.trainer import accumulation, train_recipe

SRC = Path(__file__).resolve().parents[2] / "src"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch(recipe: Path, out: Path, processes: int, *extra: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": f"{SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
           "OMP_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": ""}
    cmd = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", str(processes),
           "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no",
           "--main_process_port", str(_free_port()),
           "-m", "thinkspeak.cli", "train", "--recipe", str(recipe), "--out", str(out), "--no-progress", *extra]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)


def weights(run: Path) -> dict[str, torch.Tensor]:
    return Thinker.load(run / "text" / "final").state_dict()


@pytest.fixture(scope="module")
def recipe_file(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("dist")
    corpus = write_tiny_corpus(root / "corpus", n=80)
    data = tiny_recipe(corpus, steps=4, global_batch=2, lr=3e-3, save_every=2, eval_every=2)
    path = root / "recipe.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.fixture(scope="module")
def two_process_run(recipe_file, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("two") / "run"
    done = launch(recipe_file, out, 2)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "on 2 processes" in (out / "train.log").read_text()
    return out


def test_two_processes_match_one_on_the_same_global_batch(recipe_file, two_process_run, tmp_path):
    one = tmp_path / "one"
    train_recipe(load_recipe(str(recipe_file)), one, progress=False)
    a, b = losses(one), losses(two_process_run)
    assert sorted(a) == sorted(b) == [1, 2, 3, 4]
    for step in a:
        assert b[step] == pytest.approx(a[step], rel=1e-5, abs=1e-6)
    assert a[4] < a[1]
    wa, wb = weights(one), weights(two_process_run)
    for key in wa:
        torch.testing.assert_close(wb[key], wa[key], rtol=1e-5, atol=1e-6)
    first = json.loads((two_process_run / "metrics.jsonl").read_text().splitlines()[0])
    assert first["tokens"] == json.loads((one / "metrics.jsonl").read_text().splitlines()[0])["tokens"]


def test_resume_on_a_different_number_of_processes(recipe_file, two_process_run, tmp_path):
    """Checkpointed at step 2 by two processes, finished by one: the same steps 3-4 and final weights."""
    cut = tmp_path / "cut"
    shutil.copytree(two_process_run, cut)
    shutil.rmtree(cut / "text" / "final")
    shutil.rmtree(cut / "text" / "checkpoints" / "step-000004", ignore_errors=True)
    assert [p.name for p in (cut / "text" / "checkpoints").iterdir()] == ["step-000002"]
    (cut / "metrics.jsonl").write_text("")
    train_recipe(load_recipe(str(recipe_file)), cut, resume=True, progress=False)
    full, resumed = losses(two_process_run), losses(cut)
    assert sorted(resumed) == [3, 4]
    for step in (3, 4):
        assert resumed[step] == pytest.approx(full[step], rel=1e-5, abs=1e-6)
    wa, wb = weights(two_process_run), weights(cut)
    for key in wa:
        torch.testing.assert_close(wb[key], wa[key], rtol=1e-5, atol=1e-6)


def test_process_count_that_does_not_divide_the_global_batch_fails_before_training(recipe_file, tmp_path):
    data = yaml.safe_load(recipe_file.read_text())
    data["stages"][0]["global_batch"] = 3
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(data))
    done = launch(bad, tmp_path / "run", 2)
    assert done.returncode != 0
    assert "global_batch 3 must be divisible by the number of processes, got 2 processes" in done.stderr
    assert not (tmp_path / "run" / "metrics.jsonl").exists()
    stage = load_recipe(str(bad)).stages[0]
    assert accumulation(stage, 1) == 3 and accumulation(stage, 3) == 1
