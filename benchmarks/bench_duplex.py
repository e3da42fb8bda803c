"""Pseudo full-duplex dialogue corpus throughput: timelines only vs two-channel audio (docs/duplex.md).

Generates ``--timeline-n`` dialogues without audio (the named baseline: text, turn plan and timeline only) and
``--audio-n`` dialogues with two-channel audio (the default voices: espeak-ng/flite/festival/piper users,
piper assistant, noise at the configured SNR), each ``--repeats`` times into fresh directories with one
worker, and prints the median dialogues/s, the audio mode's compute seconds per second of dialogue audio,
and its time per dialogue as a multiple of the baseline's (same run).

    python benchmarks/bench_duplex.py [--timeline-n 500] [--audio-n 6] [--repeats 3] [--seed 1]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

from thinkspeak.data.duplex import generate_duplex  # noqa: E402


def run(n: int, repeats: int, seed: int, no_audio: bool) -> tuple[list[float], list[float]]:
    """Dialogues/s and compute seconds per second of audio, one value per repeat."""
    rates, per_audio_s = [], []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            manifest = generate_duplex(n, Path(tmp), seed=seed, workers=1, progress=False, no_audio=no_audio)
            elapsed = time.perf_counter() - start
        rates.append(manifest["count"] / elapsed)
        per_audio_s.append(elapsed / (manifest["hours"] * 3600.0) if manifest["hours"] else float("nan"))
    return rates, per_audio_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeline-n", type=int, default=500)
    parser.add_argument("--audio-n", type=int, default=6)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    print(f"load average at start: {os.getloadavg()[0]:.1f}")
    base, _ = run(args.timeline_n, args.repeats, args.seed, no_audio=True)
    base_median = statistics.median(base)
    print(f"timelines only (baseline)  n={args.timeline_n:4d}  median {base_median:8.1f} dialogues/s  "
          f"(runs {', '.join(f'{r:.1f}' for r in base)})")
    rates, per_audio_s = run(args.audio_n, args.repeats, args.seed, no_audio=False)
    median = statistics.median(rates)
    print(f"two-channel audio          n={args.audio_n:4d}  median {median:8.3f} dialogues/s  "
          f"(runs {', '.join(f'{r:.3f}' for r in rates)}), {statistics.median(per_audio_s):.3f} s compute per "
          f"s of audio, x{base_median / median:.0f} the baseline's time per dialogue")
    print(f"load average at end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
