"""One response: the thinker, talker and playout stages of a session, joined by bounded queues.

* **think** (:mod:`thinkspeak.serve.thinkers`): the backend's SayToken/ThinkToken/Done events; spoken text
  goes to the talker as it arrives; reasoning goes out as ``thinkspeak.reasoning.delta`` in stream order with
  the speech before it (held until those words play; at once for text-only answers)
  (thinking-in-speaking, Mini-Omni-Reasoner §3: the user sees the reasoning that licenses what is said);
* **talk** (:mod:`thinkspeak.serve.talker`): spoken text -> :class:`~thinkspeak.serve.talker.Voiced` pcm16;
* **play** (:mod:`thinkspeak.serve.playout`): pcm16 deltas of <= 100 ms, paced so that at most
  ``playout_lead_ms`` is queued at the client, each chunk's transcript delta just before its audio.

The queues give back-pressure from the real-time sender up to the decoder thread. A run may start
*speculatively* (the user has paused but the end of turn is not confirmed): it then buffers every event and
sends no audio until :meth:`ResponseRun.go_live`; if the user goes on it is stopped silently and nothing of
it ever reached the client. Every response the client saw created ends with exactly one ``response.done``.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from typing import Any

from thinkspeak.decode.events import Done, SayToken, ThinkToken, ToolCall, ToolResult
from thinkspeak.serve import protocol as P
from thinkspeak.serve.cancel import CancelToken, Generation
from thinkspeak.serve.config import ServerConfig, SessionConfig
from thinkspeak.serve.conversation import Conversation, Item
from thinkspeak.serve.engines import Engines
from thinkspeak.serve.metrics import ServerMetrics, TurnTimeline
from thinkspeak.serve.playout import HeldReasoning, PlayoutClock, pace
from thinkspeak.serve.protocol import ClientEvent, ProtocolError
from thinkspeak.serve.talker import Voiced
from thinkspeak.serve.thinkers.base import PromptTooLong, ThinkRequest, estimate_tokens, fit_prompt
from thinkspeak.serve.transport import Send

log = logging.getLogger("thinkspeak.serve")

DELTA_MS = 100
_END = object()


@dataclass
class RunContext:
    """What a response needs from its session and server."""

    engines: Engines
    server: ServerConfig
    session: SessionConfig
    metrics: ServerMetrics
    send: Send
    output_gate: asyncio.Event


class Responses:
    """A session's responses: the live one, their cancel tokens, the output held during a possible barge-in, and
    the playback of the last spoken answer (what a barge-in cuts)."""

    def __init__(self, engines: Engines, server: ServerConfig, metrics: ServerMetrics, send: Send,
                 conversation: Conversation) -> None:
        self.engines, self.server, self.metrics, self.send = engines, server, metrics, send
        self.conversation = conversation
        self.generation = Generation()
        self.output_gate = asyncio.Event()
        self.output_gate.set()
        self.live: ResponseRun | None = None
        self.last_audio: Item | None = None

    def new(self, user: Item, config: SessionConfig, *, speech_end: float | None = None, live: bool = True,
            instructions: str | None = None, requested: bool = False) -> ResponseRun:
        """A response to ``user`` with the conversation before it as history, under a new cancel token
        (cancelling whatever ran); not yet started. ``instructions`` replace the session's for this response."""
        ctx = RunContext(self.engines, self.server, config, self.metrics, self.send, self.output_gate)
        base = config.instructions if instructions is None else instructions
        return ResponseRun(ctx, self.generation.begin(), user, history=self.conversation.history(before=user),
                           instructions=self.conversation.instructions(base),
                           timeline=TurnTimeline(P.new_id("resp"), speech_end=speech_end), live=live,
                           requested=requested)

    def requested(self, options: dict[str, Any], config: SessionConfig, event_id: str | None) -> ResponseRun:
        """``response.create``: a response to the last user item, with the ``output_modalities`` and
        ``instructions`` of ``options`` replacing the session's; not yet started."""
        if self.active:
            raise ProtocolError("conversation_already_has_active_response",
                                "a response is in progress; cancel it first", None, event_id)
        if (user := self.conversation.last_user()) is None:
            raise ProtocolError("invalid_value", "the conversation has no user item to respond to", None, event_id)
        if options.get("output_modalities") is not None:
            wanted = config.updated({"output_modalities": options["output_modalities"]}, event_id)
            config = replace(config, output_modalities=wanted.output_modalities)
        instructions = options.get("instructions")
        return self.new(user, config, requested=True, instructions=instructions if isinstance(instructions, str)
                        else None)

    async def cancel(self, event: ClientEvent) -> None:
        """``response.cancel``: stop the live response (ProtocolError when none runs)."""
        if not self.active:
            raise ProtocolError("response_cancel_not_active", "there is no response to cancel", None, event.event_id)
        await self.live.stop("client_cancelled")

    @property
    def active(self) -> bool:
        return self.live is not None and not self.live.finished

    def adopt(self, run: ResponseRun) -> None:
        self.live = run
        if run.audio:
            self.last_audio = run.item

    def playing(self) -> bool:
        """The last spoken answer is still playing at the client (by the playback model)."""
        item = self.last_audio
        return item is not None and item.clock is not None and item.clock.queued_s(time.monotonic()) > 0

    async def interrupt(self) -> tuple[str, int] | None:
        """Confirmed barge-in: cut the last spoken answer to what was played, cancel the live response, let
        output flow again; ``(item id, ms played)`` when an item was cut."""
        item, cut = self.last_audio, None
        if item is not None and item.clock is not None and item.audio_end_ms is None:
            item.audio_end_ms = min(item.clock.played_ms(time.monotonic()), item.clock.sent_ms)
            cut = (item.id, int(item.audio_end_ms))
        if self.active:
            await self.live.stop("turn_detected")
        self.output_gate.set()
        return cut

    async def close(self) -> None:
        self.generation.cancel()
        if self.live is not None:
            await self.live.stop("client_disconnected")
        self.live = self.last_audio = None


class ResponseRun:
    """The assistant's answer to ``user`` under ``token``; :meth:`start` it, later :meth:`stop` or await it.
    ``requested``: the client asked for it (``response.create``), so it is announced at once."""

    def __init__(self, ctx: RunContext, token: CancelToken, user: Item, *, history: tuple[tuple[str, str], ...],
                 instructions: str, timeline: TurnTimeline | None = None, live: bool = True,
                 requested: bool = False) -> None:
        self.ctx = ctx
        self.token = token
        self.user = user
        self.history = history
        self.instructions = instructions
        self.id = timeline.response_id if timeline else P.new_id("resp")
        self.timeline = timeline or TurnTimeline(self.id)
        self.audio = "audio" in ctx.session.output_modalities and ctx.engines.talker is not None
        self.modalities = ["audio"] if self.audio else ["text"]
        self.item = Item(P.new_id("item"), "assistant", clock=PlayoutClock() if self.audio else None)
        self.status = "in_progress"
        self.reason: str | None = None
        self.requested = requested
        self.started = False
        self.reasoning: list[str] = []
        self.calls: list[dict[str, Any]] = []  # function_call items of the tools the Thinker called
        self._said = ""  # spoken text decoded so far (its word count places each reasoning piece)
        self._held = HeldReasoning()
        self.stats: Any = None
        self._live = live
        self._live_event = asyncio.Event()
        self.speaking = asyncio.Event()  # set at the first audio sent, or when the run ends
        if live:
            self._live_event.set()
        self._buffer: list[tuple[dict[str, Any], CancelToken | None, Callable[[float], None] | None]] = []
        self._task: asyncio.Task | None = None

    # ------------------------------------------------------------------ lifecycle
    def start(self, on_finish: Callable[[ResponseRun], None]) -> None:
        self._task = asyncio.create_task(self._run(), name=f"response-{self.id}")
        self._task.add_done_callback(lambda _: on_finish(self))

    @property
    def finished(self) -> bool:
        return self._task is not None and self._task.done()

    @property
    def final_status(self) -> str:
        """The protocol's status of a response that ended: completed, cancelled or failed."""
        return self.status if self.status in ("completed", "cancelled", "failed") else "cancelled"

    async def go_live(self) -> None:
        """Confirm a speculative run: flush what it buffered, in order, and let its audio flow."""
        while self._buffer:
            await self.ctx.send(*self._buffer.pop(0))
        self._live = True
        self._live_event.set()
        if self.finished and self.started:
            self._count()

    async def stop(self, reason: str) -> None:
        """Cancel at once (the token first, so threads stop at their next chunk) and wait for the closing events;
        a run that never went live is dropped without a trace."""
        self.reason = reason
        if not self.token.cancelled:
            self.token.generation.cancel()
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self.requested and not self.started:  # cancelled before its task ran: still created, then done
            self.status = "cancelled"
            await self._open()
            await self._close()
        if not self._live:
            self._buffer.clear()

    # ------------------------------------------------------------------ output
    async def _emit(self, kind: str, token: CancelToken | None = None,
                    on_sent: Callable[[float], None] | None = None, **fields: Any) -> None:
        event = P.server_event(kind, **fields)
        if self._live:
            await self.ctx.send(event, token, on_sent)
        else:
            self._buffer.append((event, token, on_sent))

    def _ids(self) -> dict[str, Any]:
        return {"response_id": self.id, "item_id": self.item.id, "output_index": 0, "content_index": 0}

    def _item_wire(self, status: str) -> dict[str, Any]:
        return P.assistant_item(self.item.id, transcript=self.item.heard, status=status, audio=self.audio)

    # ------------------------------------------------------------------ the run
    async def _run(self) -> None:
        try:
            if self.requested:
                await self._open()
            request = await self._request()
            if request is None:
                self.status = "completed" if self.started else "skipped"
                return
            if not self.started:
                await self._open()
            text_q: asyncio.Queue = asyncio.Queue(maxsize=256)
            audio_q: asyncio.Queue = asyncio.Queue(maxsize=8)
            async with asyncio.TaskGroup() as group:
                group.create_task(self._think(request, text_q))
                if self.audio:
                    group.create_task(self._talk(text_q, audio_q))
                    group.create_task(self._play(audio_q))
            # stop() cancels the token before the task: stages that see the token end early but normally, and
            # the task's own cancellation can then land after the group has finished (it never reaches an await)
            self.status = "cancelled" if self.token.cancelled else "completed"
        except asyncio.CancelledError:
            self.status = "cancelled"
        except Exception as exc:  # a failing engine or endpoint fails this response, not the session
            self.status = "failed"
            if isinstance(exc, ProtocolError):
                err = exc
            else:
                log.exception("response %s failed", self.id)
                err = P.internal_error("response_failed")
            await self._emit("error", error=err.detail())
        finally:
            self.speaking.set()
            if self.started:
                await self._close()

    async def _request(self) -> ThinkRequest | None:
        user, ears = self.user, self.ctx.engines.ears
        common = {"history": self.history, "instructions": self.instructions}
        if ears.audio_in and user.audio is not None and user.audio.size:
            request = ThinkRequest(audio=user.audio, **common)
        else:
            text = await user.transcript if user.transcript is not None else user.text
            self.timeline.mark("transcript", time.monotonic())
            if not text or not text.strip():
                return None
            request = ThinkRequest(text=text, **common)
        count = getattr(self.ctx.engines.thinker, "count_tokens", estimate_tokens)
        try:
            return fit_prompt(request, self.ctx.server.limits.max_prompt_tokens, count)
        except PromptTooLong as exc:
            raise ProtocolError("input_too_long", str(exc)) from None

    async def _open(self) -> None:
        self.started = True
        await self._emit("response.created", response=P.response_object(
            self.id, status="in_progress", output=[], modalities=self.modalities))
        await self._emit("response.output_item.added", response_id=self.id, output_index=0,
                         item=self._item_wire("in_progress"))
        await self._emit("conversation.item.added", previous_item_id=self.user.id, item=self._item_wire("in_progress"))
        part = {"type": "audio", "transcript": ""} if self.audio else {"type": "text", "text": ""}
        await self._emit("response.content_part.added", part=part, **self._ids())

    async def _think(self, request: ThinkRequest, text_q: asyncio.Queue) -> None:
        async for event in self.ctx.engines.thinker.stream(request, self.token):
            if self.token.cancelled:
                return
            if isinstance(event, SayToken):
                self.timeline.mark("first_token", event.t)
                if self.audio:
                    self._said += event.text
                    await text_q.put(event.text)
                else:
                    self.item.text += event.text
                    await self._emit("response.output_text.delta", self.token, delta=event.text, **self._ids())
            elif isinstance(event, ThinkToken):
                self.reasoning.append(event.text)
                if self.audio:
                    self._held.hold(len(self._said.split()), event.text)
                else:
                    await self._emit(P.REASONING_DELTA, self.token, delta=event.text, **self._ids())
            elif isinstance(event, ToolCall | ToolResult):
                await self._tool(event)
            elif isinstance(event, Done):
                self.stats = event.stats
        await text_q.put(_END)

    async def _tool(self, event: ToolCall | ToolResult) -> None:
        """A tool the Thinker called from its think stream, as Realtime function calling shows one: the call is
        a ``function_call`` output item of this response (its arguments in one delta); the server runs the tool
        and its answer joins the conversation as the ``function_call_output`` a client would have sent."""
        if isinstance(event, ToolResult):
            output = P.function_call_output_item(P.new_id("item"), event.call_id, event.value)
            await self._emit("conversation.item.added", self.token, previous_item_id=None, item=output)
            await self._emit("conversation.item.done", self.token, item=output)
            return
        item_id, index = P.new_id("item"), len(self.calls) + 1
        call = P.function_call_item(item_id, event.call_id, event.name, event.arguments, status="completed")
        self.calls.append(call)
        ids = {"response_id": self.id, "item_id": item_id, "output_index": index, "call_id": event.call_id}
        await self._emit("response.output_item.added", self.token, response_id=self.id, output_index=index,
                         item={**call, "status": "in_progress", "arguments": ""})
        await self._emit("response.function_call_arguments.delta", self.token, delta=event.arguments, **ids)
        await self._emit("response.function_call_arguments.done", self.token, name=event.name,
                         arguments=event.arguments, **ids)
        await self._emit("response.output_item.done", self.token, response_id=self.id, output_index=index, item=call)

    async def _talk(self, text_q: asyncio.Queue, audio_q: asyncio.Queue) -> None:
        async def spoken() -> AsyncIterator[str]:
            while (piece := await text_q.get()) is not _END:
                yield piece

        async for voiced in self.ctx.engines.talker.speak(spoken(), self.ctx.session.output_rate, self.token):
            await audio_q.put(voiced)
        await audio_q.put(_END)

    async def _play(self, audio_q: asyncio.Queue) -> None:
        await self._live_event.wait()
        clock = self.item.clock
        rate = self.ctx.session.output_rate
        step = rate * DELTA_MS // 1000 * 2
        span: tuple[float, str] | None = None  # (audio start ms, text) of the chunk being sent
        words_before = 0  # spoken words in the chunks before the one being sent
        try:
            while (voiced := await audio_q.get()) is not _END:
                voiced: Voiced
                if voiced.text is not None:
                    if span is not None:
                        clock.add_text(span[0], clock.sent_ms, span[1])
                        words_before += len(span[1].split())
                    span = (clock.sent_ms, voiced.text)
                    await self._emit("response.output_audio_transcript.delta", self.token,
                                     delta=voiced.text if not clock.spans else " " + voiced.text, **self._ids())
                words = len(span[1].split()) if span is not None else 0
                for offset in range(0, len(voiced.pcm16), step):
                    part = voiced.pcm16[offset:offset + step]
                    await pace(clock, self.ctx.server.playout_lead_ms, self.ctx.output_gate)
                    if self.token.cancelled:
                        return
                    ms = len(part) / 2 / rate * 1000.0
                    clock.sent(ms, time.monotonic())
                    self.ctx.metrics.audio_out.inc(ms / 1000.0)
                    await self._emit("response.output_audio.delta", self.token, self._first_audio,
                                     delta=base64.b64encode(part).decode("ascii"), **self._ids())
                    started = (offset + len(part)) / max(len(voiced.pcm16), 1)
                    await self._reason(self._held.release(words_before + words * started))
            await self._reason(self._held.rest())
        finally:  # the chunk under way when the run ends (or is cut) still counts for what was heard
            if span is not None:
                clock.add_text(span[0], clock.sent_ms, span[1])

    async def _reason(self, pieces: list[str]) -> None:
        for text in pieces:
            await self._emit(P.REASONING_DELTA, self.token, delta=text, **self._ids())

    def _first_audio(self, t: float) -> None:
        self.timeline.mark("first_audio", t)
        self.speaking.set()

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
        status = self.final_status
        await self._emit("response.done", response=P.response_object(
            self.id, status=status, output=[item, *self.calls], modalities=self.modalities,
            reason=self.reason if status == "cancelled" else None))
        latencies = self.timeline.latencies_ms()
        if latencies:
            await self._emit(P.TURN_LATENCY, response_id=self.id, item_id=self.user.id, latency_ms=latencies)
        if self._live:
            self._count()

    def _count(self) -> None:
        """Export the final status and latencies of a response the client saw (once)."""
        self.ctx.metrics.turns.labels(self.final_status).inc()
        self.ctx.metrics.observe_turn(self.timeline)
