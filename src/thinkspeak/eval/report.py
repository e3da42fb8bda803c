"""``thinkspeak eval report``: one Markdown page with tables and PNG figures for every run found.

It gathers, below a directory, every math run (``summary.json`` written by :mod:`thinkspeak.eval.math_run`)
and every latency log (``latency.jsonl``, see :mod:`thinkspeak.eval.latency`), and writes ``report.md``
with: the Spoken-MQA-style accuracy table (per category, arithmetic/reasoning groups, overall; words per
spoken response; first spoken step), the spoken-answer check (text vs speech accuracy and their gap), the
latency table (p50/p90 per stage) and the figures of :mod:`thinkspeak.eval.plots`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from thinkspeak.eval.latency import latency_summary, load_turns, stage_latencies
from thinkspeak.eval.math_run import SUMMARY_FILE
from thinkspeak.eval.plots import plot_accuracy_by_category, plot_accuracy_vs_first_step, plot_latency_cdf

LATENCY_FILE = "latency.jsonl"
REPORT_FILE = "report.md"


def find_runs(root: Path) -> list[tuple[str, dict[str, Any]]]:
    """``(label, summary)`` for each ``summary.json`` below ``root``; the label is the run's relative path."""
    runs = []
    for path in sorted(root.rglob(SUMMARY_FILE)):
        label = path.parent.relative_to(root).as_posix()
        runs.append((root.name if label == "." else label, json.loads(path.read_text(encoding="utf-8"))))
    return runs


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}"


def _num(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _math_section(runs: list[tuple[str, dict[str, Any]]]) -> list[str]:
    categories = sorted({c for _, s in runs for c in s["categories"]})
    groups = [g for g in ("arithmetic", "reasoning") if any(g in s["groups"] for _, s in runs)]
    header = ["run", "mode", "input", "n", *categories, *(f"{g} avg" for g in groups), "overall",
              "words", "first say step"]
    lines = ["## Spoken math", "", "Accuracy (%) scored as AudioBench scores Spoken-MQA; group averages are "
             "count-weighted.", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for label, s in runs:
        row = [label, str(s.get("mode", "-")), str(s.get("input", "-")), str(s["count"]),
               *(_pct(s["categories"][c]["accuracy"]) if c in s["categories"] else "-" for c in categories),
               *(_pct(s["groups"][g]["accuracy"]) if g in s["groups"] else "-" for g in groups),
               _pct(s["accuracy"]), _num(s.get("mean_say_words")), _num(s.get("mean_first_say_step"))]
        lines.append("| " + " | ".join(row) + " |")
    spoken = [(label, s) for label, s in runs if s.get("speech")]
    if spoken:
        lines += ["", "### Spoken-answer check", "",
                  "Responses synthesised, transcribed back and scored again; gap = text - speech (points).", "",
                  "| run | TTS | n | text | speech | gap |", "|---|---|---|---|---|---|"]
        for label, s in spoken:
            sp = s["speech"]
            lines.append(f"| {label} | {s.get('speech_tts') or '-'} | {sp['count']} | {_pct(sp['text_accuracy'])} "
                         f"| {_pct(sp['accuracy'])} | {_pct(sp['gap'])} |")
    return lines


def _latency_section(files: list[Path], root: Path, out: Path) -> list[str]:
    turns = [turn for file in files for turn in load_turns(file)]
    lines = ["## Latency", "", f"{len(turns)} turns from " + ", ".join(f"`{f.relative_to(root)}`" for f in files)
             + "; milliseconds after the end of the user's speech.", "",
             "| stage | n | p50 | p90 | mean |", "|---|---|---|---|---|"]
    for row in latency_summary(turns):
        lines.append(f"| {row.stage} | {row.count} | {1000 * row.p50:.0f} | {1000 * row.p90:.0f} "
                     f"| {1000 * row.mean:.0f} |")
    plot_latency_cdf(stage_latencies(turns), out / "latency_cdf.png")
    return lines + ["", "![latency CDF](latency_cdf.png)"]


def build_report(run_dir: str | Path, out_dir: str | Path | None = None) -> Path:
    """Write ``report.md`` and its PNGs for everything found below ``run_dir``; returns the Markdown path."""
    root = Path(run_dir)
    if not root.is_dir():
        raise ValueError(f"run_dir must be a directory, got {str(root)!r}")
    out = Path(out_dir) if out_dir is not None else root
    out.mkdir(parents=True, exist_ok=True)
    runs = find_runs(root)
    latency_files = sorted(root.rglob(LATENCY_FILE))
    if not runs and not latency_files:
        raise ValueError(f"run_dir {str(root)!r} holds no {SUMMARY_FILE} and no {LATENCY_FILE}")
    lines = [f"# Evaluation report: {root.name}", ""]
    if runs:
        lines += _math_section(runs)
        plot_accuracy_by_category(runs, out / "accuracy_by_category.png")
        lines += ["", "![accuracy by category](accuracy_by_category.png)"]
        if any(s.get("mean_first_say_step") is not None for _, s in runs):
            plot_accuracy_vs_first_step(runs, out / "accuracy_vs_first_say_step.png")
            lines += ["", "![accuracy vs first spoken token](accuracy_vs_first_say_step.png)"]
        lines.append("")
    if latency_files:
        lines += _latency_section(latency_files, root, out) + [""]
    report = out / REPORT_FILE
    report.write_text("\n".join(lines), encoding="utf-8")
    return report
