"""Does a tool call add an audible gap? The longest silence inside spoken answers with tools vs without (issue 12).

    .venv/bin/python benchmarks/bench_tool_gaps.py --data data/corpus-tools [--model tools] [--limit 5]
        [--tts piper] [--split test]

Runs ``thinkspeak serve --model MODEL`` twice, one after the other, with the same typed held-out questions
(``--limit`` per category of the tool corpus's ``--split``; typed, so hearing plays no part): with its tools
(calc, retrieve: the candidate) and with ``--no-tools`` (the named baseline: the same Thinker, the same voice,
no tool ever runs). Each answer's audio deltas are played by a simulated real-time client from the moment they
arrive: the audible timeline is the deltas' own audio (10 ms frames under -45 dBFS count as silence) plus any
stall where the client ran out of audio. Printed per run: the longest silence between the answer's first and
last voiced frame, median and p90 over answers, for the answers that called a tool and for all; the ratio
and difference of the medians to the baseline. Issue 12's target: within 50 ms of turns without tools.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from bench_server import free_port, wait_healthy
from bench_tools import held_out

RATE = 24000
FRAME = RATE // 100  # 10 ms
SILENT_DBFS = -45.0


def start(model: str, tts: str, tools: bool, port: int):
    import subprocess
    import threading

    cmd = [sys.executable, "-m", "thinkspeak.cli", "serve", "--port", str(port), "--model", model, "--tts", tts,
           "--log-level", "warning", *([] if tools else ["--no-tools"])]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    threading.Thread(target=proc.stdout.read, daemon=True).start()
    return wait_healthy(proc, port, 180)


def longest_silence(deltas: list[tuple[float, np.ndarray]]) -> float:
    """Seconds: the longest silence between the first and the last voiced 10 ms frame of the audible timeline
    (deltas played from their arrival, back to back; a stall when the next one arrives late)."""
    frames: list[bool] = []  # voiced per 10 ms of played time
    play_end = None
    for arrived, pcm in deltas:
        if play_end is not None and arrived > play_end:
            frames += [False] * int(round((arrived - play_end) * 100))
        start = arrived if play_end is None else max(play_end, arrived)
        n = pcm.size // FRAME
        if n:
            rms = np.sqrt(np.mean(pcm[:n * FRAME].reshape(n, FRAME) ** 2, axis=1)) + 1e-9
            frames += list(20 * np.log10(rms) > SILENT_DBFS)
        play_end = start + pcm.size / RATE
    voiced = [i for i, v in enumerate(frames) if v]
    if not voiced:
        return 0.0
    longest = run = 0
    for v in frames[voiced[0]:voiced[-1] + 1]:
        run = 0 if v else run + 1
        longest = max(longest, run)
    return longest / 100


async def ask(url: str, question: str) -> tuple[float, bool]:
    import websockets

    async with websockets.connect(url, max_size=None) as ws:
        await ws.send(json.dumps({"type": "conversation.item.create", "item": {
            "type": "message", "role": "user", "content": [{"type": "input_text", "text": question}]}}))
        await ws.send(json.dumps({"type": "response.create"}))
        deltas, called = [], False
        async for raw in ws:
            event = json.loads(raw)
            kind = event["type"]
            if kind == "response.output_audio.delta":
                pcm = np.frombuffer(base64.b64decode(event["delta"]), "<i2").astype(np.float32) / 32768
                deltas.append((time.monotonic(), pcm))
            elif kind == "response.output_item.added" and event["item"].get("type") == "function_call":
                called = True
            elif kind == "response.done":
                break
            elif kind == "error":
                raise RuntimeError(event["error"])
    return longest_silence(deltas), called


def summary(name: str, results: list[tuple[float, bool]]) -> dict:
    def stats(values: list[float]) -> tuple[float, float, int]:
        if not values:
            return float("nan"), float("nan"), 0
        ordered = sorted(values)
        return statistics.median(values), ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))], len(values)

    with_calls = stats([s for s, c in results if c])
    every = stats([s for s, _ in results])
    print(f"  {name:34s} with tool calls: median {1000 * with_calls[0]:5.0f} ms p90 {1000 * with_calls[1]:5.0f} ms "
          f"(n={with_calls[2]}); all answers: median {1000 * every[0]:5.0f} ms p90 {1000 * every[1]:5.0f} ms (n={every[2]})",
          flush=True)
    return {"with_calls": with_calls, "all": every}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--model", default="tools")
    parser.add_argument("--limit", type=int, default=5, help="questions per category")
    parser.add_argument("--split", default="test")
    parser.add_argument("--tts", default="piper")
    args = parser.parse_args()
    rows = held_out(args.data, args.split, args.limit)
    print(f"{len(rows)} typed held-out questions; the longest silence inside each spoken answer")
    figures = {}
    for name, tools in (("baseline: --no-tools", False), (f"candidate: {args.model} with tools", True)):
        port = free_port()
        proc = start(args.model, args.tts, tools, port)
        url = f"ws://127.0.0.1:{port}/v1/realtime?model=bench"
        try:
            asyncio.run(ask(url, "What is two plus two?"))  # warm-up, not counted
            results = [asyncio.run(ask(url, row["question"])) for row in rows]
        finally:
            proc.terminate()
            proc.wait(10)
        figures[name] = summary(name, results)
    (base, cand) = figures.values()
    b, c = base["all"][0], cand["with_calls"][0]
    print(f"answers with tool calls vs all baseline answers: median {1000 * c:.0f} vs {1000 * b:.0f} ms "
          f"(x{c / b:.2f}, {1000 * (c - b):+.0f} ms; target within 50 ms)")


if __name__ == "__main__":
    main()
