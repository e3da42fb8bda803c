"""Held-out spoken-math accuracy of Thinkers: thinking-in-speaking vs think-first vs no-think, text and audio in.

Mini-Omni-Reasoner's accuracy table (§4, Spoken-MQA layout) on our own corpus: the script builds its items
itself (:mod:`thinkspeak.eval.held_out`: the first N test-split problems per category of the seeded corpus
generator, never trained on; audio-in questions read by flite, the engine held out of training, with the
corpus's noise and reverberation), answers each with the greedy decoder in every mode, and prints accuracy per
category and overall with counts and one binomial standard error, the mean step of the first spoken token, and
the difference to the named baseline **no-think** (same model, same input, same items, same run).

    python benchmarks/bench_accuracy.py [--models default[,DIR...]] [--inputs text,audio]
        [--modes tis,think-first,no-think] [--per-category 50] [--categories ...] [--seed 0] [--out DIR]

Per-item answers and summaries go to ``--out`` (``thinkspeak eval report`` reads them); a run whose summary
is already there for the same items and settings is not repeated (resume after an interruption).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")  # one torch thread, as `thinkspeak ask` and each server session

from thinkspeak.data.math.problem import CATEGORIES  # noqa: E402
from thinkspeak.eval.math_run import SUMMARY_FILE  # noqa: E402
from thinkspeak.eval.responders import INPUTS, MODES  # noqa: E402

BASELINE = "no-think"
SHORT = {"arith_short": "arith short", "arith_long": "arith long", "single_step": "single-step",
         "multi_step": "multi-step"}


def stderr_points(correct: int, count: int) -> float:
    p = correct / count
    return 100 * math.sqrt(p * (1 - p) / count)


def cell(acc: dict) -> str:
    return f"{100 * acc['accuracy']:.1f} ({acc['correct']}/{acc['count']})"


def row(model: str, input_kind: str, mode: str, summary: dict, categories: tuple[str, ...],
        base: dict | None) -> str:
    cats = [cell(summary["categories"][c]) if c in summary["categories"] else "-" for c in categories]
    overall = f"**{cell(summary)}** ± {stderr_points(summary['correct'], summary['count']):.1f}"
    delta = "baseline" if base is None else f"{100 * (summary['accuracy'] - base['accuracy']):+.1f}"
    step = summary["mean_first_say_step"]
    return " | ".join([model, input_kind, mode, *cats, overall, delta, "-" if step is None else f"{step:.1f}"])


def finished(run_dir: Path, meta: dict) -> dict | None:
    """The summary of an earlier run of exactly these items and settings in ``run_dir`` (resume), else None."""
    path = run_dir / SUMMARY_FILE
    if not path.is_file():
        return None
    summary = json.loads(path.read_text())
    return summary if all(summary.get(k) == v for k, v in meta.items()) else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="default", help="comma-separated Thinker dirs; 'default' = shipped")
    parser.add_argument("--inputs", default=",".join(INPUTS))
    parser.add_argument("--modes", default=",".join(MODES))
    parser.add_argument("--per-category", type=int, default=50)
    parser.add_argument("--categories", default=",".join(CATEGORIES))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None, help="run directory (default: a temporary one)")
    args = parser.parse_args()

    from thinkspeak.data.math.speech import SpeechOptions
    from thinkspeak.eval.held_out import held_out_items
    from thinkspeak.eval.math_run import run_math
    from thinkspeak.eval.responders import decoder_responder

    models = [m.strip() for m in args.models.split(",") if m.strip()]
    inputs = [i.strip() for i in args.inputs.split(",") if i.strip()]
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    categories = tuple(c.strip() for c in args.categories.split(",") if c.strip())
    for name, values, allowed in (("inputs", inputs, INPUTS), ("modes", modes, MODES)):
        if not values or set(values) - set(allowed):
            raise SystemExit(f"--{name} must be a comma-separated subset of {allowed}, got {values}")
    # baseline first, so every other row can be compared with it
    modes = sorted(modes, key=lambda m: m != BASELINE)
    out = Path(args.out or tempfile.mkdtemp(prefix="bench-accuracy-"))

    lines = []
    for input_kind in inputs:
        speech = SpeechOptions(response_audio=False) if input_kind == "audio" else None
        start = time.perf_counter()
        items = held_out_items(args.per_category, seed=args.seed, categories=categories, speech=speech)
        print(f"{input_kind}: {len(items)} held-out items (seed {args.seed}) built in "
              f"{time.perf_counter() - start:.1f} s", flush=True)
        for model in models:
            base = None
            for mode in modes:
                run_dir = out / f"{Path(model).name}-{input_kind}-{mode}"
                meta = {"model": model, "mode": mode, "input": input_kind, "data": f"held-out seed {args.seed}",
                        "item_ids": [item.id for item in items]}
                start = time.perf_counter()
                summary = finished(run_dir, meta)
                if summary is None:
                    responder = decoder_responder(None if model == "default" else model, mode, input_kind)
                    summary = run_math(items, responder, run_dir, **meta)
                if mode == BASELINE:
                    base = summary
                lines.append(row(model, input_kind, mode, summary, categories, base if mode != BASELINE else None))
                print(f"  {model} {input_kind} {mode}: {cell(summary)} in {time.perf_counter() - start:.0f} s",
                      flush=True)

    header = ["model", "input", "mode", *(SHORT.get(c, c) for c in categories), "overall ± s.e.",
              f"vs {BASELINE} (points)", "first spoken token (step)"]
    print()
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * 3 + "---:|" * (len(header) - 3))
    for line in lines:
        print(f"| {line} |")
    print(f"\nruns in {out}")


if __name__ == "__main__":
    main()
