"""Loss curves of a run: ``python -m thinkspeak.train.curves runs/default [--out loss.png]``.

Reads ``RUN/metrics.jsonl`` (written by the trainer) and plots the training and validation loss of every
stage against the number of training tokens.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def stage_records(records: list[dict]) -> dict[str, list[dict]]:
    """Per stage, the records of the surviving trajectory: a restarted or resumed stage logs steps again,
    and a record for step ``k`` replaces every earlier record from step ``k`` on."""
    stages: dict[str, list[dict]] = {}
    for r in records:
        kept = stages.setdefault(r["stage"], [])
        while kept and kept[-1]["step"] >= r["step"]:
            kept.pop()
        kept.append(r)
    return stages


def plot_run(run: Path, out: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines() if line.strip()]
    if not records:
        raise ValueError(f"run must have logged steps in {str(run / 'metrics.jsonl')!r}, found none")
    fig, ax = plt.subplots(figsize=(7, 4))
    offset = 0
    for stage, rows in stage_records(records).items():
        ax.plot([offset + r["tokens"] / 1e6 for r in rows], [r["loss"] for r in rows], label=f"{stage} train")
        val = [r for r in rows if "valid_loss" in r]
        if val:
            ax.plot([offset + r["tokens"] / 1e6 for r in val], [r["valid_loss"] for r in val], "o--",
                    label=f"{stage} valid")
        offset += rows[-1]["tokens"] / 1e6
    ax.set_xlabel("training tokens (millions)")
    ax.set_ylabel("weighted next-token loss")
    ax.set_yscale("log")
    ax.set_title(f"thinkspeak train: {run.name}")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    print(plot_run(args.run, args.out or args.run / "loss.png"))


if __name__ == "__main__":
    main()
