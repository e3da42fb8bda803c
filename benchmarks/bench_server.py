"""Real-time voice server: end of user speech -> first audio delta, and how many sessions are held in real time.

Starts ``thinkspeak serve`` as a subprocess on 127.0.0.1, then plays the user: spoken math questions
(synthesised with espeak-ng) are streamed over the Realtime WebSocket in 20 ms chunks at real-time pace,
followed by silence, exactly as a microphone would. Latency is measured on the client, from the wall time
the chunk holding the last voiced sample was sent (the true end of speech) to the arrival of the first
``response.output_audio.delta`` -- endpointing included (REFERENCE.md latency convention). The server's own
per-stage figures (``thinkspeak.turn.latency``) are reported beside it.

Then N sessions talk at once. Their audio is *real time* when every turn is answered and no answer starves
a real-time player for more than 100 ms (median over a session's answers); the N sessions are *held* when
their audio is real time and the p90 latency stays within 1.5x that of one session (N = 1, the baseline,
measured in the same run).

With several ``--turn-detection`` settings (e.g. ``server_vad,semantic_vad``) one server per setting is run
in turn on the same questions; the first setting is the named baseline of the ``x base`` column (p50 ratio at
the same number of sessions).

With ``--compare SRC`` two servers run side by side, the baseline from another checkout's ``src`` folder
(e.g. a ``git worktree`` of an older commit) and the candidate from this one, with the same flags; each
concurrency level is played ``--rounds`` times on each, alternating which goes first, so both see the same
machine load. The p50/p90 ratios candidate / baseline are printed per level.

    .venv/bin/python benchmarks/bench_server.py [--sessions 1,2,4,8] [--questions 6] [--silence-ms 500]
        [--turn-detection server_vad,semantic_vad] [--eagerness auto] [--asr-window auto|full]
        [--model PATH | --tiny | --peer TOKENS_PER_S] [--e2e] [--tts piper] [--compare SRC --rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from thinkspeak.audio import float_to_pcm16, resample

RATE = 24000
CHUNK_MS = 20
QUESTIONS = [
    "What is six times seven?",
    "What is twelve plus thirty?",
    "A farmer has nine cows and buys four more. How many cows does he have?",
    "What is one hundred minus fifty eight?",
    "What is half of ninety?",
    "Tom has three boxes with five apples each. How many apples?",
    "What is eight times nine?",
    "What is two hundred divided by four?",
]


@dataclass
class Turn:
    """One measured turn, all times monotonic seconds on the client."""

    end_of_speech: float
    first_audio: float | None = None
    done: float | None = None
    status: str | None = None
    audio_s: float = 0.0
    starved_s: float = 0.0
    server_ms: dict = field(default_factory=dict)

    @property
    def latency_ms(self) -> float | None:
        return None if self.first_audio is None else (self.first_audio - self.end_of_speech) * 1000.0


def speech_end_s(audio: np.ndarray, floor: float = 0.01) -> float:
    """Seconds to the end of the last 10 ms block whose peak exceeds ``floor`` (TTS adds trailing silence)."""
    block = RATE // 100
    peaks = np.abs(audio[: len(audio) // block * block]).reshape(-1, block).max(axis=1)
    loud = np.flatnonzero(peaks > floor)
    return 0.0 if loud.size == 0 else (loud[-1] + 1) / 100.0


def synthesise(voice: str) -> list[np.ndarray]:
    from thinkspeak.speech.tts import get_tts

    tts = get_tts(voice)
    out = []
    for text in QUESTIONS:
        result = tts.synthesize(text)
        out.append(resample(result.pcm, result.sample_rate, RATE))
    return out


class Player:
    """A real-time player fed by deltas: records how long it starved between the first delta and the end."""

    def __init__(self) -> None:
        self.play_end: float | None = None
        self.starved = 0.0
        self.audio = 0.0

    def add(self, seconds: float, now: float) -> None:
        if self.play_end is not None and now > self.play_end:
            self.starved += now - self.play_end
        start = now if self.play_end is None else max(self.play_end, now)
        self.play_end = start + seconds
        self.audio += seconds


async def user(url: str, questions: list[np.ndarray], gap_s: float, stagger_s: float) -> list[Turn]:
    """One session asking every question in turn, streaming audio (and silence between) in real time."""
    import websockets

    await asyncio.sleep(stagger_s)
    turns: list[Turn] = []
    async with websockets.connect(url, max_size=None) as ws:
        inbox: asyncio.Queue = asyncio.Queue()

        async def read() -> None:
            async for message in ws:
                await inbox.put((time.monotonic(), json.loads(message)))

        reader = asyncio.create_task(read())
        clock = time.monotonic()
        sent = 0  # samples sent so far

        async def send(audio: np.ndarray) -> float:
            """Stream ``audio`` in real time; return the wall time of the chunk holding its last voiced sample."""
            nonlocal sent
            pcm, step = float_to_pcm16(audio), RATE * CHUNK_MS // 1000
            end_sample = int(speech_end_s(audio) * RATE)
            end_time = time.monotonic()
            for offset in range(0, len(audio), step):
                delay = clock + (sent + step) / RATE - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                await ws.send(json.dumps({"type": "input_audio_buffer.append",
                                          "audio": base64.b64encode(pcm[2 * offset:2 * (offset + step)]).decode()}))
                sent += min(step, len(audio) - offset)
                if offset <= end_sample < offset + step:
                    end_time = time.monotonic()
            return end_time

        silence = np.zeros(int(RATE * 0.2), np.float32)
        for question in questions:
            await send(np.zeros(int(RATE * gap_s), np.float32))
            turn = Turn(end_of_speech=await send(question))
            player = Player()
            while turn.done is None or (not turn.server_ms and time.monotonic() - turn.done < 1.0):
                # the microphone stays open (silence) until the answer and its latency report are in
                streaming = asyncio.create_task(send(silence))
                while not streaming.done():
                    try:
                        at, event = await asyncio.wait_for(inbox.get(), 0.05)
                    except TimeoutError:
                        continue
                    kind = event["type"]
                    if kind == "response.output_audio.delta":
                        turn.first_audio = turn.first_audio or at
                        player.add(len(base64.b64decode(event["delta"])) / 2 / RATE, at)
                    elif kind == "response.done":
                        turn.done, turn.status = at, event["response"]["status"]
                        details = event["response"].get("status_details") or {}
                        if turn.status != "completed":
                            turn.status += f" ({details.get('reason', '?')})"
                    elif kind == "thinkspeak.turn.latency":
                        turn.server_ms = event["latency_ms"]
                await streaming
            turn.audio_s, turn.starved_s = player.audio, player.starved
            turns.append(turn)
        reader.cancel()
    return turns


def start_peer(tokens_per_s: float) -> str:
    """A local OpenAI-compatible chat endpoint that streams a fixed reasoning trace and spoken answer at
    ``tokens_per_s`` (one word per token): it stands in for a model of known speed, so the table measures the
    server (VAD, hearing, streaming TTS, protocol) around it. Returns its base URL."""
    import uvicorn
    from fastapi import FastAPI
    from fastapi.responses import StreamingResponse

    reasoning = "Six times seven: six sevens are forty two. Check: seven times six is forty two."
    answer = "Let me think. Six times seven is forty two, because six sevens make forty two. The answer is 42."
    app = FastAPI()

    @app.post("/v1/chat/completions")
    async def chat() -> StreamingResponse:
        async def events():
            for key, text in (("reasoning_content", reasoning), ("content", answer)):
                for i, word in enumerate(text.split(" ")):
                    delta = {key: word if i == 0 else " " + word}
                    yield f"data: {json.dumps({'choices': [{'index': 0, 'delta': delta}]})}\n\n"
                    await asyncio.sleep(1.0 / tokens_per_s)
            yield "data: [DONE]\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}/v1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def turn_options(args: argparse.Namespace, turn: str) -> list[str]:
    """The server's command-line options for one ``--turn-detection`` setting."""
    if turn == "semantic_vad":
        return ["--turn-detection", "semantic_vad", "--eagerness", args.eagerness]
    if turn == "server_vad":
        return ["--turn-detection", "server_vad", "--silence-ms", str(args.silence_ms)]
    raise SystemExit(f"--turn-detection: each setting must be server_vad or semantic_vad, got {turn!r}")


def start_server(args: argparse.Namespace, thinker: list[str], turn: str, port: int,
                 src: str | None = None) -> subprocess.Popen:
    """``thinkspeak serve`` on ``port``; ``src``: import thinkspeak from that source folder instead."""
    cmd = [sys.executable, "-m", "thinkspeak.cli", "serve", "--port", str(port), "--tts", args.tts,
           *turn_options(args, turn), "--asr-window", args.asr_window, "--log-level", "warning",
           *(["--e2e"] if args.e2e else []), *thinker]
    env = dict(os.environ, PYTHONPATH=src) if src else None
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    seen = []
    while not any("open http" in line for line in seen[-1:]):
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError("server did not start:\n" + "".join(seen[-30:]))
        seen.append(line)
    threading.Thread(target=proc.stdout.read, daemon=True).start()  # keep draining the server's output
    return wait_healthy(proc, port)


def wait_healthy(proc: subprocess.Popen, port: int, limit_s: float = 120.0) -> subprocess.Popen:
    """``proc`` once its server on ``port`` answers /healthz (killed, and RuntimeError, if not within ``limit_s``)."""
    import httpx

    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("server did not answer /healthz")


def tiny_thinker_dir(root: Path) -> str:
    """A tiny randomly initialised Thinker (nonsense answers; decode cost of a small model) saved to ``root``."""
    from thinkspeak.model.thinker import BackboneShape, Thinker
    from thinkspeak.model.tokenizer import train_tokenizer

    texts = [f"what is {a} times {b}? {a} times {b} is {a * b}. the answer is {a * b}." for a in range(12)
             for b in range(12)]
    thinker = Thinker.build(train_tokenizer(texts, vocab_size=400), BackboneShape(), seed=0)
    return str(thinker.save(root / "tiny-thinker"))


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def run_level(url: str, n: int, questions: list[np.ndarray], count: int) -> list[list[Turn]]:
    async def main():
        tasks = [user(url, [questions[(i + k) % len(questions)] for k in range(count)], gap_s=0.6,
                      stagger_s=i * 0.37) for i in range(n)]
        return await asyncio.gather(*tasks)

    return asyncio.run(main())


def measure(args: argparse.Namespace, thinker: list[str], turn: str, levels: list[int],
            questions: list[np.ndarray]):
    """Start one server with ``turn`` detection and yield ``(sessions, figures)`` per concurrency level."""
    port = free_port()
    server = start_server(args, thinker, turn, port)
    url = f"ws://127.0.0.1:{port}/v1/realtime?model=bench"
    try:
        run_level(url, 1, questions, 1)  # warm-up turn, not counted
        base = base90 = None
        for n in levels:
            sessions = run_level(url, n, questions, args.questions)
            turns = [t for s in sessions for t in s]
            lat = [t.latency_ms for t in turns if t.latency_ms is not None]
            ok = [t for t in turns if t.status == "completed"]
            realtime = len(ok) == len(turns) and all(
                statistics.median([t.starved_s for t in s]) <= 0.1 for s in sessions)
            stage = {k: statistics.median([t.server_ms[k] for t in turns if k in t.server_ms] or [float("nan")])
                     for k in ("speech_stopped", "transcript", "first_token", "first_audio")}
            p50, p90 = pct(lat, 50), pct(lat, 90)
            base, base90 = base or p50, base90 or p90
            failed = Counter(t.status for t in turns if t.status != "completed")
            if failed:
                print(f"    {n} sessions, turns not completed: {dict(failed)}", flush=True)
            yield n, {"turns": f"{len(ok)}/{len(turns)}", "p50": p50, "p90": p90, "x1": p50 / base, "stage": stage,
                      "starve": pct([t.starved_s * 1000 for t in ok], 50), "realtime": "yes" if realtime else "no",
                      "held": "yes" if realtime and p90 <= 1.5 * base90 else "no", "load": os.getloadavg()[0]}
    finally:
        server.terminate()
        server.wait(10)


def compare(args: argparse.Namespace, thinker: list[str], levels: list[int], questions: list[np.ndarray]) -> None:
    """Baseline (``--compare`` source) and candidate (this checkout) servers, played alternately."""
    sources = {"baseline": str(Path(args.compare).resolve()), "candidate": str(Path(__file__).resolve().parents[1] / "src")}
    servers, urls = {}, {}
    try:
        for name, src in sources.items():
            port = free_port()
            servers[name] = start_server(args, thinker, args.turn_detection.split(",")[0], port, src)
            urls[name] = f"ws://127.0.0.1:{port}/v1/realtime?model=bench"
            run_level(urls[name], 1, questions, 1)  # warm-up turn, not counted
        stages = ("speech_stopped", "transcript", "first_token", "first_audio")
        print(f"{'sessions':>8} {'source':>10} {'turns':>6} {'p50 ms':>7} {'p90 ms':>7} {'stopped':>8} {'heard':>6} "
              f"{'token':>6} {'audio':>6} {'load':>5}")
        for n in levels:
            played: dict[str, list[Turn]] = {name: [] for name in sources}
            for r in range(args.rounds):
                for name in (list(sources) if r % 2 == 0 else list(sources)[::-1]):
                    played[name] += [t for s in run_level(urls[name], n, questions, args.questions) for t in s]
            latencies = {name: [t.latency_ms for t in turns if t.latency_ms is not None]
                         for name, turns in played.items()}
            for name, turns in played.items():
                lat, ok = latencies[name], sum(t.status == "completed" for t in turns)
                stage = [statistics.median([t.server_ms[k] for t in turns if k in t.server_ms] or [float("nan")])
                         for k in stages]
                print(f"{n:>8} {name:>10} {ok:>3}/{len(turns):<2} {pct(lat, 50):>7.0f} {pct(lat, 90):>7.0f} "
                      f"{stage[0]:>8.0f} {stage[1]:>6.0f} {stage[2]:>6.0f} {stage[3]:>6.0f} {os.getloadavg()[0]:>5.1f}",
                      flush=True)
            base, cand = latencies["baseline"], latencies["candidate"]
            print(f"{n:>8} {'ratio':>10} {'':>6} {pct(cand, 50) / pct(base, 50):>7.3f} "
                  f"{pct(cand, 90) / pct(base, 90):>7.3f}", flush=True)
    finally:
        for proc in servers.values():
            proc.terminate()
            proc.wait(10)
    print("p50/p90: client-measured end of speech -> first audio delta over all rounds; ratio: candidate / baseline.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", default="1,2,4,8", help="concurrency levels (comma-separated)")
    parser.add_argument("--questions", type=int, default=6, help="questions per session")
    parser.add_argument("--silence-ms", type=int, default=500, help="server VAD silence_duration_ms")
    thinker = parser.add_mutually_exclusive_group()
    thinker.add_argument("--model", default=None, help="Thinker folder (default: the shipped default)")
    thinker.add_argument("--tiny", action="store_true", help="a tiny random Thinker (when no trained one exists)")
    thinker.add_argument("--peer", type=float, default=None, metavar="TOKENS_PER_S",
                         help="a local endpoint streaming a fixed answer at this rate (isolates the server)")
    parser.add_argument("--turn-detection", default="server_vad",
                        help="server turn detection settings to compare, comma-separated (server_vad, semantic_vad); "
                             "the first is the baseline of the 'x base' column")
    parser.add_argument("--eagerness", default="auto", choices=["low", "medium", "high", "auto"],
                        help="semantic_vad eagerness")
    parser.add_argument("--asr-window", default="auto", choices=["auto", "full"], help="the server's ASR window")
    parser.add_argument("--e2e", action="store_true", help="end-to-end hearing (audio into the Thinker)")
    parser.add_argument("--tts", default="piper", help="the server's TTS spec")
    parser.add_argument("--voice", default="espeak:en-us+m3:rate=165", help="the simulated user's voice")
    parser.add_argument("--compare", metavar="SRC", default=None,
                        help="a baseline checkout's src folder, served beside this one (first --turn-detection only)")
    parser.add_argument("--rounds", type=int, default=3, help="with --compare: plays of each level per server")
    args = parser.parse_args()
    levels = [int(n) for n in args.sessions.split(",")]
    turns_settings = args.turn_detection.split(",")
    for turn in turns_settings:
        turn_options(args, turn)
    questions = synthesise(args.voice)
    with tempfile.TemporaryDirectory() as tmp:
        if args.peer:
            thinker, label = ["--openai-base-url", start_peer(args.peer), "--openai-model", "peer"], \
                f"endpoint peer at {args.peer:.0f} tokens/s"
        elif args.tiny:
            thinker, label = ["--model", tiny_thinker_dir(Path(tmp))], "tiny random Thinker"
        else:
            thinker, label = (["--model", args.model], args.model) if args.model else ([], "default Thinker")
        print(f"thinkspeak serve ({label}{', end-to-end hearing' if args.e2e else ''}, TTS {args.tts}, ASR window "
              f"{args.asr_window}); {os.cpu_count()} CPUs")
        if args.compare:
            compare(args, thinker, levels, questions)
            return
        print(f"{'turn detection':>22} {'sessions':>8} {'turns':>6} {'p50 ms':>7} {'p90 ms':>7} {'x p50@1':>7} "
              f"{'x base':>6} {'stopped':>8} {'heard':>6} {'token':>6} {'audio':>6} {'starve ms':>9} {'rt audio':>8} "
              f"{'held':>5} {'load':>5}")
        baseline: dict[int, float] = {}
        for turn in turns_settings:
            name = f"semantic_vad/{args.eagerness}" if turn == "semantic_vad" else f"server_vad/{args.silence_ms}ms"
            for n, row in measure(args, thinker, turn, levels, questions):
                baseline.setdefault(n, row["p50"])
                print(f"{name:>22} {n:>8} {row['turns']:>6} {row['p50']:>7.0f} {row['p90']:>7.0f} {row['x1']:>7.2f} "
                      f"{row['p50'] / baseline[n]:>6.2f} {row['stage']['speech_stopped']:>8.0f} "
                      f"{row['stage']['transcript']:>6.0f} {row['stage']['first_token']:>6.0f} "
                      f"{row['stage']['first_audio']:>6.0f} {row['starve']:>9.0f} {row['realtime']:>8} "
                      f"{row['held']:>5} {row['load']:>5.1f}", flush=True)
    print("p50/p90: client-measured end of speech -> first audio delta; stopped/heard/token/audio: server medians "
          "(ms from end of speech) of speech_stopped, transcript, first spoken token, first audio sent.")


if __name__ == "__main__":
    main()
