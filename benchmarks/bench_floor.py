"""Cost of duplex mode's floor model per 160 ms chunk, against the Silero VAD every mode runs (issue 14).

    .venv/bin/python benchmarks/bench_floor.py [--seconds 20] [--repeats 5] [--threads 1]

One session's :class:`thinkspeak.serve.floor.FloorStream` (the shipped full-duplex Thinker on its chunk clock,
with its unit stream) and, as the named baseline, the listener's Silero VAD, each fed the same audio (a spoken
question then silence, looped to ``--seconds``) in 20 ms pieces as the listener feeds them. Printed: the median
over ``--repeats`` of the compute per 160 ms of audio, the real-time share of one core, and the ratio to the VAD.
Sessions per core in real time ~ 1 / (floor + VAD share).
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    from thinkspeak.audio import resample
    from thinkspeak.serve.floor import FloorStream
    from thinkspeak.speech.segmenter import VADSegmenter
    from thinkspeak.speech.tts import get_tts
    from thinkspeak.speech.turn.duplex import load_duplex_turn
    from thinkspeak.speech.vad import SileroVAD

    said = get_tts("flite:slt").synthesize("Tom has three boxes with five apples each. How many apples?")
    clip = np.concatenate([resample(said.pcm, said.sample_rate, 16000), np.zeros(16000, np.float32)])
    audio = np.tile(clip, int(np.ceil(args.seconds * 16000 / clip.size)))[:int(args.seconds * 16000)]
    pieces = [audio[i:i + 320] for i in range(0, audio.size, 320)]
    shared = load_duplex_turn()
    chunks = audio.size / 2560

    def floor_run() -> float:
        stream, t0 = FloorStream(shared.model, shared.unit_model), time.perf_counter()
        for k, piece in enumerate(pieces):
            stream.push(piece, user="pausing" if k % 50 > 40 else "speaking", audible=k % 200 > 120)
        return time.perf_counter() - t0

    def vad_run() -> float:
        seg, t0 = VADSegmenter(vad=SileroVAD(16000)), time.perf_counter()
        for piece in pieces:
            seg.push(piece)
        return time.perf_counter() - t0

    floor_run(), vad_run()  # warm-up
    f = statistics.median(floor_run() for _ in range(args.repeats))
    v = statistics.median(vad_run() for _ in range(args.repeats))
    print(f"{args.seconds:.0f} s of audio, {args.threads} thread(s), median of {args.repeats}")
    print(f"  baseline Silero VAD      {1000 * v / chunks:6.2f} ms per 160 ms chunk  ({v / args.seconds:6.1%} of a core)")
    print(f"  floor model (FloorStream) {1000 * f / chunks:6.2f} ms per 160 ms chunk  ({f / args.seconds:6.1%} of a core)"
          f"  x{f / v:.2f} the VAD")


if __name__ == "__main__":
    main()
