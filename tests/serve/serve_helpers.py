"""Helpers for the server tests: a uvicorn server in a thread and a small Realtime WebSocket client."""

from __future__ import annotations

import asyncio
import base64
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import uvicorn
import websockets
from serve_chat_peer import free_port

from thinkspeak.audio import float_to_pcm16
from thinkspeak.decode.events import SayToken, ThinkToken, ToolCall, ToolResult
from thinkspeak.serve.app import create_app
from thinkspeak.serve.config import ServerConfig
from thinkspeak.serve.engines import Engines

WIRE_RATE = 24000


@dataclass
class RunningServer:
    """A uvicorn server in a thread; tests see it through the WebSocket and its HTTP routes only."""

    app: Any
    port: int
    server: uvicorn.Server

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/v1/realtime?model=thinkspeak"

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def metric(self, name: str, **labels: str) -> float:
        """A sample of the server's public ``/metrics`` page (Prometheus text format); 0 when absent."""
        import httpx
        from prometheus_client.parser import text_string_to_metric_families

        text = httpx.get(self.http + "/metrics", timeout=60).text
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name == name and sample.labels == labels:
                    return sample.value
        return 0.0


def start_server(engines: Engines, config: ServerConfig | None = None, *,
                 in_thread: Callable[[], None] | None = None) -> RunningServer:
    """``in_thread``: called first in the server's thread (e.g. to install a profiler there)."""
    app = create_app(engines, config or ServerConfig(), warmup=False)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           ws_max_size=4 * (1 << 20)))

    def run() -> None:
        if in_thread is not None:
            in_thread()
        server.run()

    threading.Thread(target=run, daemon=True).start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("server did not start")
        time.sleep(0.02)
    return RunningServer(app, port, server)


@dataclass
class Client:
    """A minimal Realtime client: every received event is kept in ``events`` with its arrival time."""

    ws: Any
    events: list[dict] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    _cursor: int = 0
    _reader: asyncio.Task | None = None
    closed: asyncio.Event = field(default_factory=asyncio.Event)

    @classmethod
    async def connect(cls, url: str) -> Client:
        client = cls(await websockets.connect(url, max_size=None))
        client._reader = asyncio.create_task(client._read())
        await client.wait_for("session.created")
        return client

    async def _read(self) -> None:
        try:
            async for message in self.ws:
                self.events.append(json.loads(message))
                self.times.append(time.monotonic())
        except websockets.ConnectionClosed:
            pass
        finally:
            self.closed.set()

    async def send(self, event: dict) -> None:
        await self.ws.send(json.dumps(event))

    async def wait_for(self, kind: str, timeout: float = 30.0, **match: Any) -> dict:
        """The next event of type ``kind`` (after the previous wait_for's) whose fields equal ``match``."""
        deadline = time.monotonic() + timeout
        while True:
            for i in range(self._cursor, len(self.events)):
                event = self.events[i]
                if event["type"] == kind and all(event.get(k) == v for k, v in match.items()):
                    self._cursor = i + 1
                    return event
            if self.closed.is_set():
                raise AssertionError(f"connection closed before {kind}; got {[e['type'] for e in self.events]}")
            if time.monotonic() > deadline:
                raise AssertionError(f"no {kind} within {timeout}s; got {[e['type'] for e in self.events][-30:]}")
            await asyncio.sleep(0.01)

    def of(self, kind: str) -> list[dict]:
        return [e for e in self.events if e["type"] == kind]

    def index(self, event: dict) -> int:
        return next(i for i, e in enumerate(self.events) if e is event)

    async def stream(self, audio: np.ndarray, *, chunk_ms: int = 20, realtime: bool = True) -> float:
        """Send ``audio`` (24 kHz float) as append events, paced in real time; return the monotonic time the
        last chunk was sent."""
        pcm = float_to_pcm16(audio)
        step = WIRE_RATE * chunk_ms // 1000 * 2
        start = time.monotonic()
        for n, offset in enumerate(range(0, len(pcm), step)):
            if realtime:
                delay = start + n * chunk_ms / 1000 - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
            await self.send({"type": "input_audio_buffer.append",
                             "audio": base64.b64encode(pcm[offset:offset + step]).decode()})
        return time.monotonic()

    async def close(self) -> None:
        await self.ws.close()
        if self._reader is not None:
            await self._reader


def silence(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * WIRE_RATE), np.float32)


def pcm_of(events: list[dict]) -> np.ndarray:
    """The float samples carried by a list of response.output_audio.delta events."""
    raw = b"".join(base64.b64decode(e["delta"]) for e in events)
    return np.frombuffer(raw, "<i2").astype(np.float32) / 32768.0


def speech_end_ms(audio: np.ndarray, rate: int = WIRE_RATE, floor: float = 0.01) -> float:
    """Where the speech in ``audio`` really ends: the end of the last 10 ms block whose peak exceeds ``floor``
    (TTS output carries trailing silence)."""
    block = rate // 100
    peaks = np.abs(audio[: len(audio) // block * block]).reshape(-1, block).max(axis=1)
    loud = np.flatnonzero(peaks > floor)
    return 0.0 if loud.size == 0 else (loud[-1] + 1) * 10.0


class CalcCallingThinker:
    """Says a few words, calls calc from its think stream, gets the result, says the answer."""

    name = "calc-calling"
    hears_audio = False

    async def stream(self, request, token):
        t = time.monotonic()
        yield SayToken("Let me see. ", -1, 0, t)
        yield ThinkToken("23 plus 19", -1, 1, t)
        yield ToolCall("call_7", "calc", "23 + 19", 2, t)
        yield ToolResult("call_7", "calc", "42", False, 3, t, 0.01)
        yield SayToken("It is 42.", -1, 4, t)
