"""Held-out accuracy before and after journey learning's DPO stage, on the same items in one run.

Both Thinkers answer the same held-out questions (corpus test split, at most ``--limit`` per category) with
the greedy thinking-in-speaking decoder (``thinkspeak eval math``'s responder), scored with the Spoken-MQA
rule. Printed per model: accuracy with correct/total and its binomial standard error, per category, the mean
and median step of the first spoken token; then the paired difference after - before with its standard
error over the same items (the baseline is the model DPO started from). Each model's items.jsonl and
summary.json go under ``--out/<label>``; ``--reuse`` reads a label's finished summary instead of decoding again.
``--run`` (the DPO run directory) also prints the sampling counts and, on the stage's own preference pairs,
the final model's DPO margin and how the chosen and rejected streams' log-probabilities moved from the
reference's (bf16 autocast, as the reference's were computed on this CPU).

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_dpo.py --data data/math-text \\
        --after runs/journey-dpo/export [--before DIR] [--limit 50] [--input text|audio] [--out runs/bench-dpo] \
        [--run runs/journey-dpo]
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
from pathlib import Path

import torch

from thinkspeak.eval.math_items import load_math_items
from thinkspeak.eval.math_run import ITEMS_FILE, SUMMARY_FILE, run_math
from thinkspeak.eval.responders import decoder_responder


def evaluate(label: str, model: str | None, args) -> list[dict]:
    out = Path(args.out) / f"{label}-{args.input}"
    if not (args.reuse and (out / SUMMARY_FILE).is_file()):
        items = load_math_items(args.data, split=args.split, with_audio=args.input == "audio", limit=args.limit)
        run_math(items, decoder_responder(model, "tis", args.input), out, model=model or "shipped default",
                 mode="tis", input=args.input, data=args.data)
    return [json.loads(line) for line in (out / ITEMS_FILE).read_text().splitlines()]


def report(label: str, rows: list[dict]) -> None:
    n = len(rows)
    k = sum(r["correct"] for r in rows)
    p = k / n
    steps = [r["first_say_step"] for r in rows if r["first_say_step"] is not None]
    cats = sorted({r["category"] for r in rows})
    per_cat = ", ".join(f"{c} {sum(r['correct'] for r in rows if r['category'] == c)}/"
                        f"{sum(r['category'] == c for r in rows)}" for c in cats)
    print(f"{label:>8}: accuracy {100 * p:.1f}% ({k}/{n}) +- {100 * math.sqrt(p * (1 - p) / n):.1f} (SE); {per_cat}")
    print(f"{'':>8}  first spoken token step: mean {statistics.mean(steps):.2f}, median "
          f"{statistics.median(steps):g}, max {max(steps)} ({n - len(steps)} said nothing)")


@torch.no_grad()
def pair_margins(run: Path) -> None:
    from thinkspeak.model.thinker import Thinker
    from thinkspeak.train.dpo import PAIRS_FILE, Pair, collate_pairs, sequence_logps

    saved = torch.load(run / "dpo" / PAIRS_FILE, weights_only=False)
    pairs, ref = [Pair(**d) for d in saved["pairs"]], saved["reference"]
    thinker = Thinker.load(run / "dpo" / "final")
    rows = []
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=not torch.cuda.is_available()):
        for i in range(0, len(pairs), 16):
            b = collate_pairs(pairs[i:i + 16], thinker.ids, 0.1)
            lp = sequence_logps(thinker, b.input_ids, b.attention_mask, b.weights)
            n = len(pairs[i:i + 16])
            rows.append(torch.stack([lp[:n], lp[n:]], 1))
    moved = torch.cat(rows) - ref
    margin = moved[:, 0] - moved[:, 1]
    print(f"{run}: sampling {saved['counts']}")
    print(f"{'':>8}  on its {len(pairs)} pairs: margin mean {margin.mean():.1f} nats (0 at the start), "
          f"{100 * (margin > 0).float().mean():.0f}% > 0; chosen log-prob {moved[:, 0].mean():+.2f}, "
          f"rejected {moved[:, 1].mean():+.2f} nats vs the reference")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", required=True, help="corpus folder (contract 2) with a test split")
    ap.add_argument("--split", default="test")
    ap.add_argument("--limit", type=int, default=50, help="items per category")
    ap.add_argument("--before", default=None, help="Thinker DPO started from (default: the shipped one)")
    ap.add_argument("--after", required=True, help="Thinker after the DPO stage")
    ap.add_argument("--input", choices=("text", "audio"), default="text")
    ap.add_argument("--out", default="runs/bench-dpo")
    ap.add_argument("--reuse", action="store_true", help="read finished summaries instead of decoding again")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--run", default=None, help="DPO run directory: also print its pairs' margins")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    before = evaluate("before", args.before, args)
    after = evaluate("after", args.after, args)
    if [r["id"] for r in before] != [r["id"] for r in after]:
        raise ValueError("the two runs answered different items; rerun without --reuse")
    print(f"held-out {args.split} split of {args.data}, {args.input} in, greedy TiS decoding, Spoken-MQA scoring")
    report("before", before)
    report("after", after)
    diffs = [int(a["correct"]) - int(b["correct"]) for a, b in zip(after, before, strict=True)]
    se = statistics.stdev(diffs) / math.sqrt(len(diffs))
    print(f"after - before: {100 * statistics.mean(diffs):+.1f} points +- {100 * se:.1f} (paired SE over "
          f"{len(diffs)} items; {diffs.count(1)} newly right, {diffs.count(-1)} newly wrong)")
    if args.run:
        pair_margins(Path(args.run))


if __name__ == "__main__":
    main()
