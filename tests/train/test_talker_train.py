"""`thinkspeak train --recipe talker` end to end on a tiny synthetic Talker dataset: per-codebook loss,
checkpoints, resume, export with SHA256SUMS."""

import hashlib
import json

import numpy as np
import pytest
import yaml

pytest.importorskip("pycodec2")

from thinkspeak.cli import main  # noqa: E402
from thinkspeak.codecs import get_codec  # noqa: E402
from thinkspeak.data import shards  # noqa: E402
from thinkspeak.data.talker import schema  # noqa: E402
from thinkspeak.model.talker import Talker  # noqa: E402


def tiny_corpus(root):
    codec = get_codec()
    rows = []
    for i in range(6):
        t = np.arange(8000 + 800 * i) / 8000
        pcm = (0.3 * np.sin(2 * np.pi * (120 + 20 * i) * t)).astype(np.float32)
        codes = codec.encode(pcm, 8000)
        rows.append({"id": f"r{i}", "index": i, "split": "valid" if i == 5 else "train", "text": "the answer is two.",
                     "words": ["the", "answer", "is", "two."], "word_start": [0.05, 0.2, 0.5, 0.7],
                     "word_end": [0.15, 0.45, 0.6, 0.9], "duration": len(pcm) / 8000, "codec": "codec2",
                     "frames": len(codes), "codes": codes.reshape(-1).tolist(), "teacher_audio": b""})
    shards.write_rows(shards.file_path(root, 0, 1), rows, schema(), {"fingerprint": "x", "stats": {}})
    return root


def test_train_resume_export(tmp_path):
    corpus = tiny_corpus(tmp_path / "corpus")
    recipe = tmp_path / "r.yaml"
    recipe.write_text(yaml.safe_dump({
        "extends": "talker", "name": "tiny", "corpus": str(corpus),
        "talker": {"layers": 1, "d_model": 32, "heads": 2, "ffn": 64},
        "defaults": {"save_every": 2, "log_every": 1, "eval_every": 2, "eval_samples": 4, "warmup_steps": 1},
        "stages": [{"name": "talker", "steps": 3, "max_minutes": None}]}))
    out = tmp_path / "run"
    assert main(["train", "--recipe", str(recipe), "--out", str(out), "--no-progress"]) == 0
    records = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records] == [1, 2, 3] and len(records[-1]["codebooks"]) == 14
    assert "valid_loss" in records[1] and records[0]["text_loss"] > 0
    final = Talker.load(out / "talker" / "final")
    assert final.config.trained_with["talker"]["steps"] == 3
    # resuming a finished run without --resume is refused; with --resume it skips the finished stage
    assert main(["train", "--recipe", str(recipe), "--out", str(out), "--no-progress"]) == 2
    assert main(["train", "--recipe", str(recipe), "--out", str(out), "--resume", "--no-progress",
                 "--export", str(tmp_path / "asset")]) == 0
    sums = (tmp_path / "asset" / "SHA256SUMS").read_text().split("\n")
    for line in filter(None, sums):
        digest, name = line.split("  ")
        assert hashlib.sha256((tmp_path / "asset" / name).read_bytes()).hexdigest() == digest
    assert "| talker | 3 |" in (tmp_path / "asset" / "README.md").read_text()
    Talker.load(tmp_path / "asset")


def test_warm_start_from_a_talker_folder(tmp_path):
    """``talker: {init: PATH}`` starts from that Talker's weights (training-only keys from the recipe); a
    folder of another shape is refused naming the keys."""
    import torch

    from thinkspeak.model.talker import TalkerConfig

    corpus = tiny_corpus(tmp_path / "corpus")
    shape = {"layers": 1, "d_model": 32, "heads": 2, "ffn": 64, "audio_history": True}
    torch.manual_seed(1)
    start = Talker(TalkerConfig(**shape)).save(tmp_path / "start")

    def run(name, talker):
        recipe = tmp_path / f"{name}.yaml"
        recipe.write_text(yaml.safe_dump({
            "extends": "talker", "name": name, "corpus": str(corpus), "talker": talker,
            "defaults": {"eval_samples": 0, "warmup_steps": 1},
            "stages": [{"name": "talker", "steps": 1, "lr": 1e-9, "max_minutes": None}]}))
        return main(["train", "--recipe", str(recipe), "--out", str(tmp_path / name), "--no-progress"])

    assert run("warm", {**shape, "init": str(start), "input_noise": 0.3}) == 0
    warm = Talker.load(tmp_path / "warm" / "talker" / "final")
    assert warm.config.input_noise == 0.3
    before = Talker.load(start).state_dict()
    assert all(torch.allclose(v, before[k], atol=1e-5) for k, v in warm.state_dict().items())  # lr ~ 0
    assert run("other", {**shape, "d_model": 64, "init": str(start)}) == 2
