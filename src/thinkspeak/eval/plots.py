"""The report's figures (matplotlib, Agg backend, PNG).

* accuracy by category, one bar per run in each category;
* accuracy against the mean decoding step of the first spoken token, one point per run coloured by mode:
  Mini-Omni-Reasoner's thinking-in-speaking argument in one picture - thinking-in-speaking should sit near the
  no-think runs in time to first word and near the think-first runs in accuracy;
* the latency CDF of each stage from the end of the user's speech.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

MODE_COLOURS = {"tis": "tab:green", "think-first": "tab:blue", "no-think": "tab:orange"}


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _run_colours(runs: Sequence[tuple[str, Mapping[str, Any]]]) -> list[str]:
    """Mode colours when every run has its own known mode (the TiS / think-first / no-think comparison),
    else matplotlib's default cycle."""
    modes = [str(summary.get("mode")) for _, summary in runs]
    if len(set(modes)) == len(modes) and all(m in MODE_COLOURS for m in modes):
        return [MODE_COLOURS[m] for m in modes]
    return [f"C{i % 10}" for i in range(len(runs))]


def plot_accuracy_by_category(runs: Sequence[tuple[str, Mapping[str, Any]]], path: str | Path) -> Path:
    """Grouped bars: accuracy (%) per category, one bar per ``(label, summary)`` run, overall last."""
    plt = _pyplot()
    categories = sorted({c for _, s in runs for c in s["categories"]}) + ["overall"]
    width = 0.8 / max(len(runs), 1)
    fig, ax = plt.subplots(figsize=(max(7.0, 1.4 * len(categories) + 3), 4.0))
    for i, ((label, summary), colour) in enumerate(zip(runs, _run_colours(runs), strict=True)):
        values = [100 * summary["categories"][c]["accuracy"] if c in summary["categories"] else 0.0
                  for c in categories[:-1]] + [100 * summary["accuracy"]]
        xs = [k + (i - (len(runs) - 1) / 2) * width for k in range(len(categories))]
        bars = ax.bar(xs, values, width, label=label, color=colour)
        ax.bar_label(bars, fmt="%.0f", fontsize=7, padding=1)
    ax.set_xticks(range(len(categories)), [c.replace("_", " ") for c in categories], rotation=15)
    ax.set_ylabel("accuracy (%)")
    ax.set_ylim(0, 105)
    ax.set_title("Spoken-math accuracy by category")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), title="run")
    ax.grid(axis="y", alpha=0.3)
    return _save(fig, path)


def plot_accuracy_vs_first_step(runs: Sequence[tuple[str, Mapping[str, Any]]], path: str | Path) -> Path:
    """Scatter: overall accuracy (%) against mean first-spoken-token step, coloured by decoding mode."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.0, 4.2))
    steps = [s["mean_first_say_step"] for _, s in runs if s.get("mean_first_say_step") is not None]
    for (label, summary), colour in zip(runs, _run_colours(runs), strict=True):
        step = summary.get("mean_first_say_step")
        if step is None:
            continue
        accuracy = 100 * summary["accuracy"]
        ax.scatter(step, accuracy, s=70, color=colour, zorder=3)
        mode = str(summary.get("mode", "?"))
        text = f"{mode}, {summary.get('input', '?')} in"
        right_half, high = step > 0.5 * max(steps), accuracy > 85
        ax.annotate(text if label == mode else f"{label}\n{text}", (step, accuracy), textcoords="offset points",
                    xytext=(-8 if right_half else 8, -6 if high else 6), ha="right" if right_half else "left",
                    va="top" if high else "bottom", fontsize=8)
    ax.set_xlabel("mean decoding step of the first spoken token")
    ax.set_ylabel("accuracy (%)")
    ax.set_ylim(0, 105)
    ax.set_xlim(-0.05 * max(steps) - 0.5, 1.1 * max(steps) + 1)
    ax.set_title("Accuracy vs time to first spoken token")
    ax.grid(alpha=0.3)
    return _save(fig, path)


def plot_latency_cdf(latencies: Mapping[str, Sequence[float]], path: str | Path) -> Path:
    """Empirical CDF per stage of the latency (ms) from the end of the user's speech."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    for stage, values in latencies.items():
        if not values:
            continue
        xs = sorted(1000 * v for v in values)
        ys = [(i + 1) / len(xs) for i in range(len(xs))]
        ax.step(xs, ys, where="post", label=f"{stage.replace('_', ' ')} (n={len(xs)})")
    ax.axhline(0.5, color="gray", lw=0.6, ls=":")
    ax.axhline(0.9, color="gray", lw=0.6, ls=":")
    ax.set_xlabel("ms after the end of user speech")
    ax.set_ylabel("share of turns")
    ax.set_ylim(0, 1.02)
    ax.set_title("Turn latency CDF")
    ax.legend(fontsize=8, loc="lower right")
    ax.grid(alpha=0.3)
    return _save(fig, path)


def _save(fig: Any, path: str | Path) -> Path:
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    _pyplot().close(fig)
    return out
