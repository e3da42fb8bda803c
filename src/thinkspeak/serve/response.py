"""One response: Thinker events -> spoken-text chunks -> streaming TTS -> paced pcm16 deltas, plus reasoning.

Three stages run as tasks joined by bounded queues (back-pressure from the real-time sender up to the
decoder thread):

* **think**: the backend's SayToken/ThinkToken/Done events; spoken text goes through the
  :class:`~thinkspeak.serve.chunker.SpeechChunker` (a short first chunk), reasoning goes out at once as
  ``thinkspeak.reasoning.delta`` (thinking-in-speaking, Mini-Omni-Reasoner §3: the user sees the reasoning
  that licenses what is being said);
* **talk**: each chunk through the :class:`~thinkspeak.serve.talker.Talker`;
* **send**: pcm16 deltas of <= 100 ms, paced so that at most ``playout_lead_ms`` is queued at the client,
  each chunk's transcript delta just before its audio.

A run may start *speculatively* (the user has paused but the end of turn is not confirmed): it then
buffers every event and sends no audio until :meth:`ResponseRun.go_live`; if the user goes on it is stopped
silently and nothing of it ever reached the client.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from thinkspeak.decode.events import Done, SayToken, ThinkToken
from thinkspeak.serve import protocol as P
from thinkspeak.serve.cancel import Turn
from thinkspeak.serve.chunker import SpeechChunker
from thinkspeak.serve.config import ServerConfig, SessionConfig
from thinkspeak.serve.conversation import Item
from thinkspeak.serve.engines import Engines
from thinkspeak.serve.metrics import ServerMetrics, TurnTimeline
from thinkspeak.serve.playout import PlayoutClock
from thinkspeak.serve.talker import Talker
from thinkspeak.serve.thinkers.base import ThinkRequest

log = logging.getLogger("thinkspeak.serve")

#: ``send(event, turn, on_sent)``: queue a server event; dropped unsent if ``turn`` is cancelled by then.
Send = Callable[[dict[str, Any], Turn | None, Callable[[float], None] | None], Awaitable[None]]

DELTA_MS = 100


@dataclass
class RunContext:
    """What a response needs from its session and server."""

    engines: Engines
    server: ServerConfig
    session: SessionConfig
    metrics: ServerMetrics
    send: Send
    output_gate: asyncio.Event


class ResponseRun:
    """The assistant's answer to ``user`` under ``turn``; :meth:`start` it, later :meth:`stop` or await it."""

    def __init__(self, ctx: RunContext, turn: Turn, user: Item | None, *, history: tuple[tuple[str, str], ...],
                 instructions: str, timeline: TurnTimeline | None = None, live: bool = True) -> None:
        self.ctx = ctx
        self.turn = turn
        self.user = user
        self.history = history
        self.instructions = instructions
        self.id = timeline.response_id if timeline else P.new_id("resp")
        self.timeline = timeline or TurnTimeline(self.id)
        self.audio = "audio" in ctx.session.output_modalities and ctx.engines.tts is not None
        self.modalities = ["audio"] if self.audio else ["text"]
        self.item = Item(P.new_id("item"), "assistant", clock=PlayoutClock() if self.audio else None)
        self.status = "in_progress"
        self.reason: str | None = None
        self.started = False
        self.reasoning: list[str] = []
        self.stats: Any = None
        self._live = live
        self._live_event = asyncio.Event()
        self.speaking = asyncio.Event()  # set at the first audio sent, or when the run ends
        if live:
            self._live_event.set()
        self._buffer: list[tuple[dict[str, Any], Turn | None, Callable[[float], None] | None]] = []
        self._task: asyncio.Task | None = None

    # ------------------------------------------------------------------ lifecycle
    def start(self, on_finish: Callable[[ResponseRun], None]) -> None:
        self._task = asyncio.create_task(self._run(), name=f"response-{self.id}")
        self._task.add_done_callback(lambda _: on_finish(self))

    @property
    def finished(self) -> bool:
        return self._task is not None and self._task.done()

    async def go_live(self) -> None:
        """Confirm a speculative run: flush what it buffered, in order, and let its audio flow."""
        while self._buffer:
            await self.ctx.send(*self._buffer.pop(0))
        self._live = True
        self._live_event.set()
        if self.finished and self.started:
            self._count()

    async def stop(self, reason: str) -> None:
        """Cancel at once (the turn first, so threads stop at their next chunk) and wait for the closing events;
        a run that never went live is dropped without a trace."""
        self.reason = reason
        if not self.turn.cancelled:
            self.turn.generation.cancel()
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if not self._live:
            self._buffer.clear()

    # ------------------------------------------------------------------ output
    async def _emit(self, kind: str, turn: Turn | None = None, on_sent: Callable[[float], None] | None = None,
                    **fields: Any) -> None:
        event = P.server_event(kind, **fields)
        if self._live:
            await self.ctx.send(event, turn, on_sent)
        else:
            self._buffer.append((event, turn, on_sent))

    def _ids(self) -> dict[str, Any]:
        return {"response_id": self.id, "item_id": self.item.id, "output_index": 0, "content_index": 0}

    def _item_wire(self, status: str) -> dict[str, Any]:
        return P.assistant_item(self.item.id, transcript=self.item.heard, status=status, audio=self.audio)

    # ------------------------------------------------------------------ the run
    async def _run(self) -> None:
        try:
            request = await self._request()
            if request is None:
                self.status = "skipped"
                return
            await self._open()
            text_q: asyncio.Queue = asyncio.Queue(maxsize=64)
            audio_q: asyncio.Queue = asyncio.Queue(maxsize=8)
            async with asyncio.TaskGroup() as group:
                group.create_task(self._think(request, text_q))
                if self.audio:
                    group.create_task(self._talk(text_q, audio_q))
                    group.create_task(self._send_audio(audio_q))
            self.status = "completed"
        except asyncio.CancelledError:
            self.status = "cancelled"
        except Exception as exc:  # a failing engine or endpoint fails this response, not the session
            log.exception("response %s failed", self.id)
            self.status = "failed"
            await self._emit("error", error={"type": "server_error", "code": "response_failed",
                                             "message": f"{type(exc).__name__}: {exc}"[:500], "param": None,
                                             "event_id": None})
        finally:
            self.speaking.set()
            if self.started:
                await self._close()

    async def _request(self) -> ThinkRequest | None:
        user = self.user
        if user is None:
            raise ValueError("a response needs a user item in the conversation")
        backend = self.ctx.engines.thinker
        common = {"history": self.history, "instructions": self.instructions}
        if backend.hears_audio and user.audio is not None and user.audio.size:
            return ThinkRequest(audio=user.audio, **common)
        text = await user.transcript if user.transcript is not None else user.text
        self.timeline.mark("transcript", time.monotonic())
        if not text or not text.strip():
            return None
        return ThinkRequest(text=text, **common)

    async def _open(self) -> None:
        self.started = True
        await self._emit("response.created", response=P.response_object(
            self.id, status="in_progress", output=[], modalities=self.modalities))
        await self._emit("response.output_item.added", response_id=self.id, output_index=0,
                         item=self._item_wire("in_progress"))
        await self._emit("conversation.item.added", previous_item_id=self.user.id if self.user else None,
                         item=self._item_wire("in_progress"))
        part = {"type": "audio", "transcript": ""} if self.audio else {"type": "text", "text": ""}
        await self._emit("response.content_part.added", part=part, **self._ids())

    async def _think(self, request: ThinkRequest, text_q: asyncio.Queue) -> None:
        chunker = SpeechChunker(first_words=self.ctx.server.first_chunk_words)
        async for event in self.ctx.engines.thinker.stream(request, self.turn):
            if self.turn.cancelled:
                return
            if isinstance(event, SayToken):
                self.timeline.mark("first_token", event.t)
                if self.audio:
                    for chunk in chunker.push(event.text):
                        await text_q.put(chunk)
                else:
                    self.item.text += event.text
                    await self._emit("response.output_text.delta", self.turn, delta=event.text, **self._ids())
            elif isinstance(event, ThinkToken):
                self.reasoning.append(event.text)
                await self._emit(P.REASONING_DELTA, self.turn, delta=event.text, **self._ids())
            elif isinstance(event, Done):
                self.stats = event.stats
        for chunk in chunker.flush():
            await text_q.put(chunk)
        await text_q.put(None)

    async def _talk(self, text_q: asyncio.Queue, audio_q: asyncio.Queue) -> None:
        talker = Talker(self.ctx.engines.tts, self.ctx.session.output_rate)
        while (chunk := await text_q.get()) is not None:
            first = True
            async for pcm in talker.speak(chunk, self.turn):
                await audio_q.put((chunk if first else None, pcm))
                first = False
            if first:
                await audio_q.put((chunk, b""))
        await audio_q.put(None)

    async def _send_audio(self, audio_q: asyncio.Queue) -> None:
        await self._live_event.wait()
        clock = self.item.clock
        rate = self.ctx.session.output_rate
        step = rate * DELTA_MS // 1000 * 2
        span: tuple[float, str] | None = None  # (audio start ms, text) of the chunk being sent
        try:
            while (piece := await audio_q.get()) is not None:
                text, pcm = piece
                if text is not None:
                    if span is not None:
                        clock.add_text(span[0], clock.sent_ms, span[1])
                    span = (clock.sent_ms, text)
                    await self._emit("response.output_audio_transcript.delta", self.turn,
                                     delta=text if not clock.spans else " " + text, **self._ids())
                for offset in range(0, len(pcm), step):
                    part = pcm[offset:offset + step]
                    await self._pace(clock)
                    if self.turn.cancelled:
                        return
                    ms = len(part) / 2 / rate * 1000.0
                    clock.sent(ms, time.monotonic())
                    self.ctx.metrics.audio_out.inc(ms / 1000.0)
                    await self._emit("response.output_audio.delta", self.turn, self._first_audio,
                                     delta=base64.b64encode(part).decode("ascii"), **self._ids())
        finally:  # the chunk under way when the run ends (or is cut) still counts for what was heard
            if span is not None:
                clock.add_text(span[0], clock.sent_ms, span[1])

    def _first_audio(self, t: float) -> None:
        self.timeline.mark("first_audio", t)
        self.speaking.set()

    async def _pace(self, clock: PlayoutClock) -> None:
        """Wait until the client's queue is under the lead and output is not paused by a possible barge-in."""
        excess = clock.queued_s(time.monotonic()) - self.ctx.server.playout_lead_ms / 1000.0
        if excess > 0:
            await asyncio.sleep(excess)
        await self.ctx.output_gate.wait()

    async def _close(self) -> None:
        """The closing events every started response sends, whatever its outcome (no cancelled audio)."""
        item_status = "completed" if self.status == "completed" else "incomplete"
        if self.audio and self.item.clock is not None:
            await self._emit("response.output_audio.done", **self._ids())
            await self._emit("response.output_audio_transcript.done", transcript=self.item.heard, **self._ids())
            part = {"type": "audio", "transcript": self.item.heard}
        else:
            await self._emit("response.output_text.done", text=self.item.text, **self._ids())
            part = {"type": "text", "text": self.item.text}
        await self._emit("response.content_part.done", part=part, **self._ids())
        await self._emit(P.REASONING_DONE, text="".join(self.reasoning), **self._ids())
        item = self._item_wire(item_status)
        await self._emit("response.output_item.done", response_id=self.id, output_index=0, item=item)
        await self._emit("conversation.item.done", item=item)
        status = self.status if self.status in ("completed", "cancelled", "failed") else "cancelled"
        await self._emit("response.done", response=P.response_object(
            self.id, status=status, output=[item], modalities=self.modalities,
            reason=self.reason if status == "cancelled" else None))
        latencies = self.timeline.latencies_ms()
        if latencies:
            await self._emit(P.TURN_LATENCY, response_id=self.id, item_id=self.user.id if self.user else None,
                             latency_ms=latencies)
        if self._live:
            self._count()

    def _count(self) -> None:
        """Export the final status and latencies of a response the client saw (once)."""
        status = self.status if self.status in ("completed", "cancelled", "failed") else "cancelled"
        self.ctx.metrics.turns.labels(status).inc()
        self.ctx.metrics.observe_turn(self.timeline)
