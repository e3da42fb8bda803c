"""Full-duplex Thinker on held-out dialogues: floor-taking per network latency vs a silence-rule baseline
(docs/duplex.md "The full-duplex Thinker"; synthetic pseudo-duplex corpus).

Runs ``thinkspeak eval duplex`` (the model against the recorded user channel of ``--n`` held-out dialogues:
seed 7, flite voices, which training never heard) at each ``--latency-ms`` and prints, per latency, the
Full-Duplex-Bench v1 figures, OmniFlatten Acc@K and the dGSLM turn-taking correlation next to the issue's
targets, then the same figures of two references measured in the same run: the named baseline, a 500 ms
silence-rule endpointer on the true user speech (the server VAD's default), with the model/baseline ratio of
the smooth turn-taking latency; and the corpus's own assistant channel. Decode time per 160 ms chunk is the
median over latencies, with its ratio to the 160 ms real-time budget.

    python benchmarks/bench_duplex_model.py [--model DIR] [--n 6] [--latency-ms 0,80,160,240] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics

os.environ.setdefault("OMP_NUM_THREADS", "1")

from thinkspeak.eval.duplex_model import run_duplex_eval  # noqa: E402

TARGETS = {"smooth_tor": ">= 0.95", "smooth_latency_s": "<= 0.3", "interruption_tor": ">= 0.95",
           "interruption_latency_s": "<= 0.3", "pause_tor": "<= 0.3", "backchannel_tor": "<= 0.2"}


def _row(name: str, s: dict) -> str:
    acc = s.get("assistant_acc") or {}
    user = s.get("user_acc") or {}
    r = s["turn_taking"]["mean_pearson_r"]
    cells = [s[k] for k in TARGETS] + [acc.get("@3"), user.get("@3"), r]
    return f"| {name} | " + " | ".join("n/a" if v is None else f"{v:.3f}" for v in cells) + " |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="duplex model folder (default: the shipped one)")
    parser.add_argument("--n", type=int, default=6, help="held-out dialogues (default 6)")
    parser.add_argument("--seed", type=int, default=7, help="held-out seed (default 7; training used 0)")
    parser.add_argument("--latency-ms", default="0,80,160,240", help="network latencies (default 0,80,160,240)")
    parser.add_argument("--json", default=None, help="also write the whole report here")
    args = parser.parse_args()
    latencies = [int(v) for v in args.latency_ms.split(",")]
    report = run_duplex_eval(args.model, None, latencies, n=args.n, seed=args.seed, progress=True)
    head = ("| run | smooth TOR | smooth latency s | interruption TOR | interruption latency s | pause TOR | "
            "backchannel TOR | assistant Acc@3 | user Acc@3 | turn-taking r |")
    print(f"\nheld-out dialogues: {report['data']} (synthetic pseudo-duplex corpus)\n")
    print(head)
    print("|---" * (head.count("|") - 1) + "|")
    print("| target | " + " | ".join(TARGETS.values()) + " | | | >= 0.8 |")
    for latency, s in report["latency_ms"].items():
        print(_row(f"model, {latency} ms", s))
    base, ref = report["baseline_silence_rule_500ms"], report["reference"]
    print(_row("baseline: silence rule 500 ms", base))
    print(_row("corpus channel (reference)", ref))
    first = report["latency_ms"][str(min(latencies))]
    if first["smooth_latency_s"] is not None and base["smooth_latency_s"]:
        print(f"\nsmooth latency, model at {min(latencies)} ms / baseline: "
              f"{first['smooth_latency_s'] / base['smooth_latency_s']:.2f}x")
    per_chunk = statistics.median(s["decode_s_per_chunk"] for s in report["latency_ms"].values())
    print(f"decode time per 160 ms chunk (median over latencies): {1000 * per_chunk:.0f} ms "
          f"({per_chunk / 0.16:.2f}x real time)")
    print(f"turn-taking correlation change {min(latencies)} -> {max(latencies)} ms: {report['turn_taking_r_change']}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=1)


if __name__ == "__main__":
    main()
