"""Where one decoding step's time goes, and whether bf16 weights pay: the decoder's lean one-token forward.

Runs :class:`thinkspeak.decode.qwen2_lean.LeanQwen2` one token at a time over a KV cache (the decoder's
inner loop without the schedule, masks and events) on the shipped default Thinker:

* ``fp32`` (the named baseline; what the decoder runs) vs ``bf16`` (the same weights cast to bfloat16),
  interleaved repeat by repeat, median tokens/s of ``--steps`` forwards after a 32-token prompt;
* a torch profiler split of the fp32 steps: the share of CPU time in matrix products (``aten::mm``,
  ``aten::addmm``, ``aten::matmul``) against everything else (norms, rotary, attention, cache writes).

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_forward.py [--steps 200] [--repeats 5]
"""

from __future__ import annotations

import argparse
import copy
import os
import statistics
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import torch  # noqa: E402

from thinkspeak.decode.qwen2_lean import KVCache, LeanQwen2  # noqa: E402
from thinkspeak.model import Thinker  # noqa: E402

PROMPT = 32
MATMUL_OPS = ("aten::mm", "aten::addmm", "aten::matmul")


def steps_per_s(engine: LeanQwen2, steps: int) -> float:
    cache = KVCache(engine, 1, PROMPT + steps)
    engine.forward(engine.embed(torch.arange(PROMPT)[None]), cache)
    token = torch.tensor([[1]])
    start = time.perf_counter()
    for _ in range(steps):
        engine.forward(engine.embed(token), cache)
    return steps / (time.perf_counter() - start)


def matmul_share(engine: LeanQwen2, steps: int) -> float:
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU]) as prof:
        steps_per_s(engine, steps)
    events = prof.key_averages()
    total = sum(e.self_cpu_time_total for e in events)
    return sum(e.self_cpu_time_total for e in events if e.key in MATMUL_OPS) / total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
    model = Thinker.load().model
    engines = {"fp32": LeanQwen2(model), "bf16": LeanQwen2(copy.deepcopy(model).to(torch.bfloat16))}
    print(f"load average at start: {os.getloadavg()[0]:.1f}, torch threads {torch.get_num_threads()}")
    rates: dict[str, list[float]] = {name: [] for name in engines}
    for _ in range(args.repeats):
        for name, engine in engines.items():
            rates[name].append(steps_per_s(engine, args.steps))
    base = statistics.median(rates["fp32"])
    for name, runs in rates.items():
        median = statistics.median(runs)
        label = f"{name} (baseline)" if name == "fp32" else name
        print(f"{label:16s} median {median:7.0f} tokens/s  x{median / base:.2f}  "
              f"(runs {', '.join(f'{r:.0f}' for r in runs)})")
    print(f"fp32 profile: {100 * matmul_share(engines['fp32'], args.steps):.0f}% of CPU time in matrix products "
          f"({', '.join(MATMUL_OPS)}), the rest in norms, rotary, attention and cache writes")
    print(f"load average at end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
