"""`thinkspeak eval report` on a tiny run directory written here: tables and PNG figures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from thinkspeak.cli import main
from thinkspeak.eval.math_items import MathItem
from thinkspeak.eval.math_run import run_math
from thinkspeak.eval.report import build_report
from thinkspeak.eval.responders import Response

ITEMS = [MathItem(f"q{k}", category, f"question {k}", str(10 + k), normalise_reference=False)
         for k, category in enumerate(["short_digit", "short_digit", "long_digit", "single_step_reasoning"])]
PNG = b"\x89PNG\r\n\x1a\n"


class Fixed:
    """Right on the first ``right`` items; first spoken token at ``step``."""

    def __init__(self, right: int, step: int) -> None:
        self.right, self.step, self.k = right, step, 0

    def __call__(self, item: MathItem) -> Response:
        self.k += 1
        answer = item.answer if self.k <= self.right else "0"
        say = f"The answer is {answer}."
        return Response(say, say, "", self.step, self.step + 4)


@pytest.fixture()
def run_dir(tmp_path: Path) -> Path:
    root = tmp_path / "runs"
    run_math(ITEMS, Fixed(4, 40), root / "think-first", mode="think-first", input="text")
    run_math(ITEMS, Fixed(3, 2), root / "tis", mode="tis", input="text")
    run_math(ITEMS, Fixed(1, 0), root / "no-think", mode="no-think", input="audio")
    turns = [{"end_of_speech": t, "speech_stopped": t + 0.5, "first_audio_byte": t + 0.9 + 0.1 * (t % 3)}
             for t in range(10)]
    (root / "latency.jsonl").write_text("\n".join(json.dumps(x) for x in turns) + "\n")
    return root


def test_report_tables_and_figures(run_dir: Path, tmp_path: Path) -> None:
    report = build_report(run_dir, tmp_path / "report")
    text = report.read_text()
    # tis: 3 of 4 right = 75%; arithmetic (3 items) all right; reasoning (1 item) wrong.
    assert "| tis | tis | text | 4 | 100.0 | 100.0 | 0.0 | 100.0 | 0.0 | 75.0 | 4.0 | 2.0 |" in text
    assert "| no-think | no-think | audio | 4 | 0.0 | 50.0 | 0.0 | 33.3 | 0.0 | 25.0 | 4.0 | 0.0 |" in text
    # speech_stopped is always 0.5 s; first audio byte 0.9/1.0/1.1 s -> p50 over 10 turns = 1000 ms.
    assert "| speech_stopped | 10 | 500 | 500 | 500 |" in text
    assert "| first_audio_byte | 10 | 1000 |" in text
    for name in ("accuracy_by_category.png", "accuracy_vs_first_say_step.png", "latency_cdf.png"):
        assert f"]({name})" in text
        data = (tmp_path / "report" / name).read_bytes()
        assert data.startswith(PNG) and len(data) > 10_000


def test_report_command_writes_next_to_the_runs(run_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", "report", str(run_dir)]) == 0
    assert capsys.readouterr().out.strip() == str(run_dir / "report.md")
    assert (run_dir / "accuracy_by_category.png").read_bytes().startswith(PNG)


def test_report_of_an_empty_directory_is_an_error(tmp_path: Path) -> None:
    assert main(["eval", "report", str(tmp_path)]) == 2
    with pytest.raises(ValueError, match="no summary.json"):
        build_report(tmp_path)
