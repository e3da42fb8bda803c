"""Spoken-math corpus throughput: samples/s text-only and with speech, 1 vs 2 workers (issue 3, item 7).

Baseline: 1 worker in the same run. Each configuration runs ``--repeats`` times into fresh directories; the
median is reported with the ratio to the 1-worker baseline of the same mode.

    .venv/bin/python benchmarks/bench_data.py [--text-n 3000] [--speech-n 40] [--repeats 3] [--no-speech]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from thinkspeak.data.math import generate_math


def run(n: int, workers: int, speech, repeats: int) -> list[float]:
    rates = []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            manifest = generate_math(n, Path(tmp), seed=1, workers=workers, speech=speech, progress=False,
                                     rows_per_file=max(1, n // 4))
            rates.append(manifest["generated"] / (time.perf_counter() - start))
    return rates


def report(mode: str, n: int, speech, repeats: int) -> None:
    base = None
    for workers in (1, 2):
        rates = run(n, workers, speech, repeats)
        median = statistics.median(rates)
        base = base or median
        print(f"{mode:12s} n={n:5d} workers={workers}  median {median:8.1f} samples/s  "
              f"(runs {', '.join(f'{r:.1f}' for r in rates)})  x{median / base:.2f} vs 1 worker")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--text-n", type=int, default=3000)
    parser.add_argument("--speech-n", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-speech", action="store_true")
    parser.add_argument("--voices", default=None, help="comma-separated TTS specs for the speech run")
    args = parser.parse_args()
    report("text-only", args.text_n, None, args.repeats)
    if not args.no_speech:
        from thinkspeak.data.math.speech import SpeechOptions

        speech = SpeechOptions.from_cli(voices=args.voices, held_out_engine="flite", response_audio=True,
                                        noise_share=0.5, snr="15-25", reverb_share=0.3)
        report("speech", args.speech_n, speech, args.repeats)


if __name__ == "__main__":
    main()
