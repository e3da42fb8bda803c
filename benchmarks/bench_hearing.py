"""The server's hearing stage with several sessions at once: ASR calls through ``hearing.FairQueue``.

N sessions each hand the hearing stage one spoken question (espeak-ng, the questions of bench_server.py,
16 kHz) at random moments within ``--spread`` seconds, as sessions whose users stop speaking at about the
same time do; every trial draws new moments (seeded). Each call goes through :class:`Hearing` exactly as
in the server (``Hearing.transcript``: a task awaiting ``FairQueue.run`` on the engine pool, then the
text), and is timed from the hand-over to the awaiting coroutine getting the text. Reported per setting,
over all calls: the median and p90 latency, the median ratio to the baseline measured in the same run
(settings interleaved trial by trial, so machine load hits them alike), and the median split of a call into

* queue: hand-over -> the ASR call starts in its worker thread (the fair queue's wait and the thread hop),
* ASR: the call itself (Whisper-base, short window),
* back: the call returns -> the awaiting coroutine has the text (the hand-offs back to the event loop).

The baseline is ``workers=4``, the pool width (and before the fair queue, the only limit): four calls run
at once. Whisper's CTranslate2 model runs one call at a time (``inter_threads=1``) and queues the rest
inside, so four concurrent transcriptions take turns call by call (encode, decode) instead of finishing one
after another.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_hearing.py [--sessions 4] [--trials 12]
        [--spread 0.5] [--workers 4,2,1]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from thinkspeak.audio import resample
from thinkspeak.serve.hearing import FairQueue, Hearing

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_server import RATE, speech_end_s, synthesise  # noqa: E402


class TimedASR:
    """The ASR engine with the start and end of every call recorded (by the audio array it was given)."""

    def __init__(self, asr) -> None:
        self.asr = asr
        self.calls: dict[int, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def transcribe(self, pcm: np.ndarray):
        start = time.perf_counter()
        result = self.asr.transcribe(pcm)
        with self._lock:
            self.calls[id(pcm)] = (start, time.perf_counter())
        return result


def clips(voice: str) -> list[np.ndarray]:
    """The questions at 16 kHz, cut 100 ms after their speech ends (where a turn's audio ends)."""
    return [resample(q[: int((speech_end_s(q) + 0.1) * RATE)], RATE, 16000).astype(np.float32)
            for q in synthesise(voice)]


async def trial(asr: TimedASR, workers: int, audio: list[np.ndarray], offsets: list[float]) -> list[dict]:
    executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="thinkspeak-engine")
    hearing = Hearing(asr, FairQueue(executor, workers), audio_in=False)

    async def session(i: int) -> dict:
        await asyncio.sleep(offsets[i])
        pcm = audio[i].copy()
        handed = time.perf_counter()
        await hearing.transcript(f"sess-{i}", pcm)
        heard = time.perf_counter()
        start, end = asr.calls[id(pcm)]
        return {"latency": heard - handed, "queue": start - handed, "asr": end - start, "back": heard - end}

    try:
        return await asyncio.gather(*(session(i) for i in range(len(audio))))
    finally:
        executor.shutdown()


def main() -> None:
    from thinkspeak.speech.asr import WhisperASR

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=4)
    parser.add_argument("--trials", type=int, default=12, help="trials per setting (default 12)")
    parser.add_argument("--spread", type=float, default=0.5, help="seconds within which the sessions hand over")
    parser.add_argument("--workers", default="4,2,1", help="FairQueue widths; the first is the baseline")
    parser.add_argument("--voice", default="espeak:en-us+m3:rate=165")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    widths = [int(w) for w in args.workers.split(",")]
    pool = clips(args.voice)
    asr = TimedASR(WhisperASR(word_timestamps=False, window_s="auto"))  # the server's hearing settings
    for pcm in pool:  # first-call costs out of the timings
        asr.transcribe(pcm)
    rng = random.Random(args.seed)
    rows: dict[int, list[dict]] = {w: [] for w in widths}
    for t in range(args.trials):
        audio = [pool[rng.randrange(len(pool))] for _ in range(args.sessions)]
        offsets = [rng.uniform(0, args.spread) for _ in range(args.sessions)]
        for w in widths if t % 2 == 0 else widths[::-1]:
            rows[w] += asyncio.run(trial(asr, w, audio, offsets))
    print(f"{args.sessions} sessions handing over within {args.spread} s, {args.trials} trials per setting, "
          f"load {os.getloadavg()[0]:.1f}; ms, medians over {args.sessions * args.trials} calls")
    print(f"{'workers':>7} {'p50':>6} {'p90':>6} {'x base':>6} {'queue':>6} {'ASR':>6} {'back':>6}")
    base = statistics.median(r["latency"] for r in rows[widths[0]])
    for w in widths:
        lat = [r["latency"] for r in rows[w]]
        p50, p90 = statistics.median(lat), float(np.percentile(lat, 90))
        parts = [statistics.median(r[k] for r in rows[w]) * 1000 for k in ("queue", "asr", "back")]
        print(f"{w:>7} {p50 * 1000:>6.0f} {p90 * 1000:>6.0f} {p50 / base:>6.2f} " + " ".join(f"{p:>6.1f}" for p in parts),
              flush=True)


if __name__ == "__main__":
    main()
