"""Turn-taking: every turn detector in one run, on speech made with a voice held out of all training (flite).

Starts one ``thinkspeak serve`` per detector -- server_vad 500 ms (the named baseline), semantic_vad with the
``rule`` (words), ``smart-turn`` (Pipecat's Smart Turn v3.2) and ``learned`` turn models, and ``duplex-floor``
(``thinkspeak serve --duplex``: the full-duplex Thinker holds the floor on its chunk clock) -- each with the same
Thinker: a local OpenAI-compatible peer that answers in a fixed number of words at a fixed rate, short for
questions and long for "explain" requests (so the detectors, not a model's speed, make the difference). Each
session plays one script in real time (20 ms chunks, the microphone always open):

* **questions**: single spoken questions;
* **word problems**: two sentences with a 300-700 ms pause between them (the turn ends after the second);
* **trail-offs**: a question cut before its last word, the rest after a 400-900 ms pause ("so what is six
  times ... eight");
* while the assistant explains (1.2 s after its first audio): **backchannels** ("mm-hm", "okay", "yeah",
  flite) and **coughs** (:func:`thinkspeak.speech.turn.train.synthetic_cough`: one or two bursts of
  band-passed noise with a short buzz; the learned head saw coughs from the same generator, other seeds);
  and **real interruptions** ("Wait, stop. What is eight times nine?", ...).

Per detector and number of concurrent sessions: end of speech (the chunk holding the last voiced sample) ->
first audio delta, p50/p90, over the turns not cut early; **early cuts**: turns that the server ended
(``speech_stopped``) before the user had finished; **false interruptions**: backchannels and coughs that got a
``speech_started`` or cancelled the answer; **missed interruptions**: real interruptions that did neither;
**interruption latency**: onset of the interruption -> ``speech_started`` (when a Realtime client stops
playback), p50. The 1-minute load average is printed with each row (other jobs share the CPU).

    .venv/bin/python benchmarks/bench_turns.py [--detectors server_vad,rule,smart-turn,learned(,duplex,duplex-floor)]
        [--sessions 1,4] [--voice flite:slt] [--tts piper] [--eagerness auto] [--seed 0]

A detector named ``NAME@MS`` runs with ``--barge-in-verdict-ms MS`` (``learned@0``: the learned head judges a
barge-in only at its first pause, as before the early verdict; ``learned`` alone uses the server's 800 ms).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field

import numpy as np
from bench_server import free_port, wait_healthy
from fastapi import Request  # resolved by name in the peer's route (annotations are strings here)

from thinkspeak.audio import float_to_pcm16, resample

RATE = 24000
CHUNK_MS = 20
QUESTIONS = ["What is six times seven?", "What is twelve plus thirty?", "How much is one hundred minus fifty eight?",
             "What is half of ninety?"]
WORD_PROBLEMS = [("Tom has three boxes with five apples each.", "How many apples does he have?"),
                 ("A farmer has nine cows and buys four more.", "How many cows does he have now?"),
                 ("Sara reads twelve pages a day for five days.", "How many pages does she read?"),
                 ("A bus carries forty people and twelve get off.", "How many are left on the bus?")]
TRAIL_OFFS = ["So what is six times eight?", "Can you tell me what nine plus fifteen is?",
              "What do you get when you divide eighty by four?"]
EXPLAIN = "Can you explain how to multiply six by seven?"
BACKCHANNELS = ["mm-hm", "okay", "yeah"]
COUGHS = 2
INTERRUPTIONS = ["Wait, stop. What is eight times nine?", "Hold on, can you say that again?",
                 "No, I asked about seven times eight."]
SHORT_ANSWER = "The answer is forty two."
LONG_ANSWER = "Sure. Six times seven means adding six seven times: six, twelve, eighteen, twenty four, and so on."
NAMES = {"server_vad": "server_vad 500ms", "rule": "semantic rule", "smart-turn": "smart-turn v3.2",
         "learned": "learned head", "duplex": "duplex Thinker", "duplex-floor": "serve --duplex"}


@dataclass
class Clip:
    """One thing the user says: ``audio`` at the wire rate; ``end_s`` where its speech really ends."""

    kind: str
    audio: np.ndarray
    end_s: float
    text: str = ""


@dataclass
class Outcome:
    kind: str
    latency_ms: float | None = None
    early_cut: bool = False
    interrupted: bool | None = None
    interrupt_ms: float | None = None
    text: str = ""


@dataclass
class Script:
    turns: list[Clip] = field(default_factory=list)
    barge: list[Clip] = field(default_factory=list)


def voiced_end_s(audio: np.ndarray, rate: int, floor: float = 0.01) -> float:
    block = rate // 100
    peaks = np.abs(audio[: len(audio) // block * block]).reshape(-1, block).max(axis=1)
    loud = np.flatnonzero(peaks > floor)
    return 0.0 if loud.size == 0 else (loud[-1] + 1) / 100.0


def make_script(voice: str, seed: int) -> Script:
    """The user's clips, made once with ``voice`` (16 kHz, trimmed, then at the wire rate)."""
    from thinkspeak.speech.tts import get_tts
    from thinkspeak.speech.turn.train import dips, synthetic_cough

    tts, rng = get_tts(voice), np.random.default_rng(seed)

    def say(text: str) -> np.ndarray:
        result = tts.synthesize(text)
        x = resample(result.pcm, result.sample_rate, 16000)
        loud = np.flatnonzero(np.abs(x) > 0.01)
        return x[loud[0]:loud[-1] + 1]

    def clip(kind: str, parts: list[np.ndarray], text: str) -> Clip:
        x = resample(np.concatenate(parts).astype(np.float32), 16000, RATE)
        return Clip(kind, x, voiced_end_s(x, RATE), text)

    def gap(lo: float, hi: float) -> np.ndarray:
        return np.zeros(int(rng.uniform(lo, hi) * 16000), np.float32)

    script = Script()
    script.turns += [clip("question", [say(q)], q) for q in QUESTIONS]
    script.turns += [clip("word problem", [say(a), gap(0.3, 0.7), say(b)], f"{a} {b}") for a, b in WORD_PROBLEMS]
    for text in TRAIL_OFFS:
        x = say(text)
        cut = dips(x, edge_s=0.2, floor=0.15)[-1]  # the last pause between its words
        script.turns.append(clip("trail-off", [x[:cut], gap(0.4, 0.9), x[cut:]], text))
    script.barge += [clip("backchannel", [say(b)], b) for b in BACKCHANNELS]
    script.barge += [clip("cough", [synthetic_cough(np.random.default_rng([seed, 1000 + k]))], "cough")
                     for k in range(COUGHS)]
    script.barge += [clip("interruption", [say(t)], t) for t in INTERRUPTIONS]
    script.barge.insert(0, clip("explain", [say(EXPLAIN)], EXPLAIN))  # the request every barge-in case opens with
    return script


def start_peer(tokens_per_s: float) -> str:
    """An OpenAI-compatible chat endpoint: a short answer to questions, a long one to "explain" requests."""
    import uvicorn
    from fastapi import FastAPI
    from fastapi.responses import StreamingResponse

    app = FastAPI()

    @app.post("/v1/chat/completions")
    async def chat(request: Request) -> StreamingResponse:
        body = await request.json()
        last = str(body["messages"][-1].get("content", "")).lower()
        answer = LONG_ANSWER if "explain" in last else SHORT_ANSWER

        async def events():
            for key, text in (("reasoning_content", "Let me work it out."), ("content", answer)):
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


def detector_options(name: str, eagerness: str) -> list[str]:
    """Server options of a detector; ``NAME@MS`` also sets ``--barge-in-verdict-ms MS`` (e.g. ``learned@0``: its
    barge-in verdict only at the speech's first pause, as before the early verdict)."""
    if "@" in name:
        name, ms = name.split("@", 1)
        return [*detector_options(name, eagerness), "--barge-in-verdict-ms", ms]
    if name == "server_vad":
        return ["--turn-detection", "server_vad", "--silence-ms", "500"]
    if name == "duplex-floor":  # serve --duplex: the full-duplex model holds the floor itself
        return ["--duplex", "--eagerness", eagerness]
    return ["--turn-detection", "semantic_vad", "--turn-model", name, "--eagerness", eagerness]


def start_server(args: argparse.Namespace, peer: str, detector: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    cmd = [sys.executable, "-m", "thinkspeak.cli", "serve", "--port", str(port), "--tts", args.tts,
           *detector_options(detector, args.eagerness), "--log-level", "warning",
           "--openai-base-url", peer, "--openai-model", "peer"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    seen: list[str] = []
    while not any("open http" in line for line in seen[-1:]):
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError(f"server for {detector} did not start:\n" + "".join(seen[-30:]))
        seen.append(line)
    threading.Thread(target=proc.stdout.read, daemon=True).start()
    return wait_healthy(proc, port), f"ws://127.0.0.1:{port}/v1/realtime?model=bench"


class User:
    """One Realtime session played in real time: every event is kept with its arrival time."""

    def __init__(self, ws) -> None:
        self.ws = ws
        self.events: list[tuple[float, dict]] = []
        self.clock = time.monotonic()
        self.sent = 0
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for message in self.ws:
            self.events.append((time.monotonic(), json.loads(message)))

    async def send(self, audio: np.ndarray, marks: tuple[float, ...] = ()) -> list[float]:
        """Stream ``audio`` in real time; the wall time at which each of ``marks`` (seconds into it) was sent."""
        pcm, step = float_to_pcm16(audio), RATE * CHUNK_MS // 1000
        times = [time.monotonic()] * len(marks)
        for offset in range(0, len(audio), step):
            delay = self.clock + (self.sent + step) / RATE - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            await self.ws.send(json.dumps({"type": "input_audio_buffer.append",
                                           "audio": base64.b64encode(pcm[2 * offset:2 * (offset + step)]).decode()}))
            self.sent += min(step, len(audio) - offset)
            for i, mark in enumerate(marks):
                if offset <= min(int(mark * RATE), len(audio) - 1) < offset + step:
                    times[i] = time.monotonic()
        return times

    def since(self, t: float, kind: str) -> list[tuple[float, dict]]:
        return [(at, e) for at, e in self.events if at >= t and e["type"] == kind]

    def busy(self) -> bool:
        created = sum(e["type"] == "response.created" for _, e in self.events)
        return created > sum(e["type"] == "response.done" for _, e in self.events)

    async def settle(self, since: float, quiet_s: float = 0.8, limit_s: float = 25.0) -> None:
        """Keep the microphone open (silence) until a response ended after ``since``, none runs and none ended
        in the last ``quiet_s`` (at most ``limit_s``: semantic_vad may wait 4 s, then the answer plays)."""
        while time.monotonic() - since < limit_s:
            done = [at for at, _ in self.since(since, "response.done")]
            if done and not self.busy() and time.monotonic() - done[-1] >= quiet_s:
                return
            await self.send(np.zeros(RATE // 10, np.float32))

    async def turn(self, clip: Clip) -> Outcome:
        start, end = await self.send(clip.audio, (0.0, clip.end_s))
        stopped = [at for at, _ in self.since(start, "input_audio_buffer.speech_stopped") if at < end]
        await self.settle(end)
        first = self.since(end, "response.output_audio.delta")
        latency = (first[0][0] - end) * 1000 if first and not stopped else None
        return Outcome(clip.kind, latency_ms=latency, early_cut=bool(stopped), text=clip.text)

    async def barge_in(self, explain: Clip, clip: Clip) -> tuple[Outcome, Outcome]:
        """Ask for an explanation, then say ``clip`` 1.2 s into its audio."""
        _, end = await self.send(explain.audio, (0.0, explain.end_s))
        while not self.since(end, "response.output_audio.delta") and time.monotonic() - end < 20:
            await self.send(np.zeros(RATE // 50, np.float32))
        first = self.since(end, "response.output_audio.delta")
        asked = Outcome("explain", latency_ms=(first[0][0] - end) * 1000 if first else None, text=explain.text)
        await self.send(np.zeros(int(1.2 * RATE), np.float32))
        (onset,) = await self.send(clip.audio, (0.0,))
        await self.settle(onset)
        started = self.since(onset, "input_audio_buffer.speech_started")
        cancelled = any(e["response"]["status"] == "cancelled" for _, e in self.since(onset, "response.done"))
        interrupted = bool(started) or cancelled
        return asked, Outcome(clip.kind, interrupted=interrupted, text=clip.text,
                              interrupt_ms=(started[0][0] - onset) * 1000 if started else None)


async def play(url: str, script: Script, stagger_s: float) -> list[Outcome]:
    import websockets

    await asyncio.sleep(stagger_s)
    out: list[Outcome] = []
    async with websockets.connect(url, max_size=None) as ws:
        user = User(ws)
        await user.send(np.zeros(int(0.5 * RATE), np.float32))
        for clip in script.turns:
            out.append(await user.turn(clip))
            await user.send(np.zeros(int(0.5 * RATE), np.float32))
        for clip in script.barge[1:]:
            out += await user.barge_in(script.barge[0], clip)
            await user.send(np.zeros(int(0.5 * RATE), np.float32))
        user.reader.cancel()
    return out


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def figures(outcomes: list[Outcome]) -> dict:
    turns = [o for o in outcomes if o.interrupted is None]
    latency = [o.latency_ms for o in turns if o.latency_ms is not None]
    turns = [o for o in turns if o.kind != "explain"]
    noise = [o for o in outcomes if o.kind in ("backchannel", "cough")]
    real = [o for o in outcomes if o.kind == "interruption"]
    return {"n": len(latency), "p50": pct(latency, 50), "p90": pct(latency, 90),
            "early": sum(o.early_cut for o in turns) / max(1, len(turns)), "turns": len(turns),
            "false": sum(bool(o.interrupted) for o in noise) / max(1, len(noise)), "noise": len(noise),
            "missed": sum(not o.interrupted for o in real) / max(1, len(real)), "real": len(real),
            "int_ms": pct([o.interrupt_ms for o in real if o.interrupt_ms is not None], 50),
            "early_kinds": sorted({o.kind for o in turns if o.early_cut})}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--detectors", default="server_vad,rule,smart-turn,learned",
                        help="server_vad (the baseline, listed first) and semantic_vad turn models, comma-separated")
    parser.add_argument("--sessions", default="1,4", help="concurrency levels")
    parser.add_argument("--voice", default="flite:slt", help="the user's voice (held out of training: flite)")
    parser.add_argument("--tts", default="piper", help="the server's TTS")
    parser.add_argument("--eagerness", default="auto", help="semantic_vad eagerness")
    parser.add_argument("--peer-rate", type=float, default=40.0, help="the peer's words per second")
    parser.add_argument("--seed", type=int, default=0, help="pauses and coughs")
    parser.add_argument("--details", action="store_true", help="also print every turn and barge-in of each run")
    args = parser.parse_args()
    detectors, levels = args.detectors.split(","), [int(n) for n in args.sessions.split(",")]
    script = make_script(args.voice, args.seed)
    peer = start_peer(args.peer_rate)
    print(f"bench_turns: user voice {args.voice}, server TTS {args.tts}, peer {args.peer_rate:.0f} words/s, "
          f"{len(script.turns)} turns + {len(script.barge) - 1} barge-ins per session; {os.cpu_count()} CPUs")
    print(f"{'detector':>17} {'sess':>4} {'p50 ms':>7} {'p90 ms':>7} {'x base':>6} {'early cut':>10} "
          f"{'false int':>10} {'missed int':>10} {'int ms':>7} {'load':>5}  early-cut kinds")
    base: dict[int, float] = {}
    for detector in detectors:
        proc, url = start_server(args, peer, detector)
        try:
            asyncio.run(play(url, Script(script.turns[:1], []), 0.0))  # warm-up, not counted
            for n in levels:
                load = os.getloadavg()[0]

                async def run_level(n: int = n, url: str = url):
                    return await asyncio.gather(*[play(url, script, i * 0.37) for i in range(n)])

                outcomes = [o for s in asyncio.run(run_level()) for o in s]
                f = figures(outcomes)
                base.setdefault(n, f["p50"])
                print(f"{NAMES.get(detector, detector):>17} {n:>4} {f['p50']:>7.0f} {f['p90']:>7.0f} "
                      f"{f['p50'] / base[n]:>6.2f} {f['early']:>9.0%} {f['false']:>9.0%} {f['missed']:>9.0%} "
                      f"{f['int_ms']:>7.0f} {max(load, os.getloadavg()[0]):>5.1f}  {','.join(f['early_kinds'])}",
                      flush=True)
                if args.details:
                    for o in outcomes:
                        what = ("early cut" if o.early_cut else "interrupted" if o.interrupted else
                                "not interrupted" if o.interrupted is not None else "")
                        ms = o.latency_ms if o.latency_ms is not None else o.interrupt_ms
                        print(f"    {o.kind:>12} {'-' if ms is None else f'{ms:.0f} ms':>8} {what:>15}  {o.text}")
        finally:
            proc.terminate()
            proc.wait(10)
    print("p50/p90: end of speech -> first audio over the turns not cut early (questions, word problems, trail-offs, "
          "explain requests); early cut: of the questions, word problems and trail-offs; false int: of backchannels "
          "and coughs; missed int: of real interruptions; int ms: onset -> speech_started, p50; load: 1-min load "
          "average (max of start and end).")


if __name__ == "__main__":
    main()
