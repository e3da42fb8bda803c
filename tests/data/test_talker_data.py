"""`thinkspeak data talker`: piper-voiced responses with codec tokens and word times, sharded."""

import json

import numpy as np
import pytest

pytest.importorskip("piper")
pytest.importorskip("onnx")
pytest.importorskip("pycodec2")

from thinkspeak.cli import main  # noqa: E402
from thinkspeak.data import shards  # noqa: E402
from thinkspeak.data.talker import response_words  # noqa: E402


def test_two_shards_make_the_dataset(tmp_path):
    out = tmp_path / "t"
    for i in (0, 1):
        assert main(["data", "talker", "--n", "2", "--out", str(out), "--rows-per-file", "1", "--shard", f"{i}/2",
                     "--no-progress"]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["complete"] and manifest["count"] == 2 and manifest["dropped"] == 0
    rows = list(shards.iter_rows(out))
    for index, row in enumerate(rows):
        _, split, words = response_words(0, index)
        assert row["words"] == words and row["split"] == split and row["text"] == " ".join(words)
        starts = row["word_start"]
        assert len(starts) == len(words) and starts == sorted(starts)
        assert all(s <= e for s, e in zip(starts, row["word_end"], strict=True))
        assert 0 <= starts[0] < 0.5 and starts[-1] < row["duration"]
        codes = np.asarray(row["codes"]).reshape(row["frames"], 14)
        assert abs(row["frames"] / 50 - row["duration"]) < 0.05 and codes[:, 2].max() < 128
