"""One Realtime session: the pipeline of stages a connection's events and speech flow through, in one place.

    transport (client events) ──> listener (VAD: speech frames) ──> turns (the turn state machine: actions)
        ──> hearing (transcript or audio) ──> response: thinker ──> talker ──> playout ──> transport

Per connection there is one session with its own conversation, listener, turn machine and cancel tokens;
nothing is shared with other sessions but the engines. Client events are validated (mistakes become
``error`` events, abuse a policy close, 1008); speech frames go through :class:`~thinkspeak.serve.turns.
TurnMachine`, whose actions this session carries out in :meth:`RealtimeSession._act`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

import numpy as np

from thinkspeak.serve import frames as F
from thinkspeak.serve import protocol as P
from thinkspeak.serve.audio import HEARING_RATE
from thinkspeak.serve.config import ServerConfig, SessionConfig
from thinkspeak.serve.conversation import Conversation, Item
from thinkspeak.serve.detectors import confirms_barge_in, judge
from thinkspeak.serve.engines import Engines
from thinkspeak.serve.items import decode_audio, item_from_client, item_wire
from thinkspeak.serve.listener import (
    AudioMessage,
    ClearMessage,
    ConfigureMessage,
    EndpointMessage,
    Listener,
    ListenerStage,
)
from thinkspeak.serve.metrics import ServerMetrics, TurnTimeline
from thinkspeak.serve.protocol import ClientEvent, ProtocolError
from thinkspeak.serve.ratelimit import ErrorWindow, TokenBucket
from thinkspeak.serve.response import ResponseRun, Responses
from thinkspeak.serve.thinkers.base import estimate_tokens
from thinkspeak.serve.transport import Transport
from thinkspeak.serve.turns import TurnMachine

log = logging.getLogger("thinkspeak.serve")

POLICY_VIOLATION = 1008
MIN_COMMIT_MS = 100


class RealtimeSession:
    """Serve one client; feed it raw messages with :meth:`handle`, :meth:`close` it when the socket goes."""

    def __init__(self, engines: Engines, server: ServerConfig, metrics: ServerMetrics,
                 send_text: Callable[[str], Awaitable[None]], *, model: str | None = None,
                 on_stall: Callable[[], object] | None = None) -> None:
        self.id, self.engines, self.server, self.metrics = P.new_id("sess"), engines, server, metrics
        self.config: SessionConfig = replace(server.session, model=model) if model else server.session
        limits = server.limits
        self.transport = Transport(send_text, write_timeout_s=limits.write_timeout_s, on_stall=on_stall)
        self.send = self.transport.send
        self.conversation = Conversation(limits.max_items, limits.max_conversation_bytes)
        self.responses = Responses(engines, server, metrics, self.send)
        self.turns = TurnMachine(self.config.turn_detection, playing=self.responses.playing)
        self.listener = ListenerStage(Listener(engines.make_vad, self.config.input_rate, self.config.turn_detection,
                                               max_buffer_s=limits.max_buffer_s, long_ms=server.barge_in_min_ms,
                                               speculate_after_ms=server.speculate_after_ms),
                                      self._push, self._on_listen_error, name=self.id)
        self._messages = TokenBucket(limits.messages_per_s, limits.message_burst)
        self._audio = TokenBucket(limits.max_audio_speed, limits.audio_burst_s)
        self._errors = ErrorWindow(limits.max_errors, limits.error_window_s)
        self._tasks: set[asyncio.Task] = set()
        self._stopped_at = 0.0
        self._open = self._shut = False

    async def emit(self, kind: str, **fields: Any) -> None:
        await self.send(P.server_event(kind, **fields))

    async def open(self) -> None:
        self._open = True
        self.metrics.sessions.inc()
        await self.emit("session.created", session=self.config.to_wire(self.id))

    async def close(self) -> None:
        """The client is gone: cancel every piece of work and drop every item at once, send nothing more."""
        if self._shut:
            return
        self._shut = self.transport.closed = True
        for task in [self.listener.task, *self._tasks]:
            task.cancel()
        await self._push(F.ForgetFrame())
        await self.responses.close()
        self.conversation.clear()
        if self._open:
            self._open = False
            self.metrics.sessions.dec()

    # ------------------------------------------------------------------ transport: client events in
    async def handle(self, raw: str | bytes | None) -> int | None:
        """Process one client message; return a close code when the client must be disconnected."""
        now = time.monotonic()
        try:
            if not self._messages.take(1, now):
                raise ProtocolError("rate_limit_exceeded", "too many messages; slow down", type="rate_limit_error")
            if not isinstance(raw, str):
                raise ProtocolError("invalid_json", "send events as JSON text frames, not binary frames")
            event = P.parse_client_event(raw, max_bytes=self.server.limits.max_message_bytes)
            await getattr(self, "_on_" + event.type.replace(".", "_"))(event)
        except ProtocolError as err:
            return await self.error(err, now)
        return None

    async def error(self, err: ProtocolError, now: float | None = None) -> int | None:
        self.metrics.errors.labels(err.code).inc()
        await self.send(P.error_event(err))
        if self._errors.add(time.monotonic() if now is None else now):
            log.warning("session %s closed for abuse (%s)", self.id, err.code)
            return POLICY_VIOLATION
        return None

    async def _on_session_update(self, event: ClientEvent) -> None:
        config = self.config.updated(event.field("session", dict), event.event_id)
        if (config.input_rate, config.turn_detection) != (self.config.input_rate, self.config.turn_detection):
            await self._push(F.ForgetFrame())
            self.turns.detection = config.turn_detection
            await self.listener.put(ConfigureMessage(config.input_rate, config.turn_detection))
        self.config = config
        await self.emit("session.updated", session=self.config.to_wire(self.id))

    async def _on_input_audio_buffer_append(self, event: ClientEvent) -> None:
        pcm = decode_audio(event.field("audio", str), "audio", event.event_id)
        if pcm:
            self._spend_audio(len(pcm) / 2 / self.config.input_rate, "audio", event.event_id)
            await self.listener.put(AudioMessage(pcm, time.monotonic()))

    async def _on_input_audio_buffer_commit(self, event: ClientEvent) -> None:
        audio = await self.listener.take()
        if audio.size < MIN_COMMIT_MS * HEARING_RATE // 1000:
            raise ProtocolError("input_audio_buffer_commit_empty", f"buffer too small: "
                                f"{audio.size * 1000 // HEARING_RATE} ms < {MIN_COMMIT_MS} ms", None, event.event_id)
        *actions, commit = self.turns.push(F.CommitFrame())
        for action in actions:
            await self._act(action)
        item = Item(commit.item_id, "user", audio=audio)
        item.transcript = self._hear(audio)
        await self._commit_user_audio(item)

    async def _on_input_audio_buffer_clear(self, event: ClientEvent) -> None:
        await self._push(F.ForgetFrame())
        await self.listener.put(ClearMessage())
        await self.emit("input_audio_buffer.cleared")

    async def _on_conversation_item_create(self, event: ClientEvent) -> None:
        item = item_from_client(event.field("item", dict), input_rate=self.config.input_rate,
                                taken={i.id for i in self.conversation.items}, event_id=event.event_id,
                                max_tokens=self.server.limits.max_prompt_tokens,
                                count=getattr(self.engines.thinker, "count_tokens", estimate_tokens))
        if item.audio is not None:
            self._spend_audio(item.audio_s, "item.content", event.event_id)
            item.transcript = self._hear(item.audio)
        elif item.role == "user":
            item.transcript = asyncio.get_running_loop().create_future()
            item.transcript.set_result(item.text)
        previous = await self._add(item)
        await self.emit("conversation.item.added", previous_item_id=previous, item=item_wire(item))
        if item.audio is not None:  # done once heard
            self._spawn(self.engines.ears.announce(item, self.emit))
        else:
            await self.emit("conversation.item.done", previous_item_id=previous, item=item_wire(item))

    async def _on_conversation_item_truncate(self, event: ClientEvent) -> None:
        item_id, end_ms = event.field("item_id", str), event.field("audio_end_ms", int)
        self.conversation.truncate(item_id, end_ms, event.field("content_index", int, required=False, default=0),
                                   event.event_id)
        await self.emit("conversation.item.truncated", item_id=item_id, content_index=0, audio_end_ms=end_ms)

    async def _on_conversation_item_delete(self, event: ClientEvent) -> None:
        item_id = event.field("item_id", str)
        if not self.conversation.delete(item_id):
            raise ProtocolError("invalid_value", f"no item '{item_id[:60]}'", "item_id", event.event_id)
        await self.emit("conversation.item.deleted", item_id=item_id)

    async def _on_response_create(self, event: ClientEvent) -> None:
        options = event.field("response", dict, required=False, default={})
        if self.responses.active:
            raise ProtocolError("conversation_already_has_active_response",
                                "a response is in progress; cancel it first", None, event.event_id)
        user = self.conversation.last_user()
        if user is None:
            raise ProtocolError("invalid_value", "the conversation has no user item to respond to", None,
                                event.event_id)
        config = self.config
        if options.get("output_modalities") is not None:
            wanted = config.updated({"output_modalities": options["output_modalities"]}, event.event_id)
            config = replace(config, output_modalities=wanted.output_modalities)
        instructions = options.get("instructions")
        run = self._new_run(user, TurnTimeline(P.new_id("resp")), live=True, config=config, requested=True,
                            instructions=instructions if isinstance(instructions, str) else None)
        await self._adopt(run)
        run.start(self._finished)

    async def _on_response_cancel(self, event: ClientEvent) -> None:
        if not self.responses.active:
            raise ProtocolError("response_cancel_not_active", "there is no response to cancel", None, event.event_id)
        await self.responses.live.stop("client_cancelled")

    # ------------------------------------------------------------------ listener -> turns -> actions
    async def _on_listen_error(self, exc: Exception) -> None:
        log.error("session %s: input processing failed", self.id, exc_info=exc)
        await self.error(P.internal_error("input_processing_failed"))

    async def _push(self, frame: object) -> None:
        for action in self.turns.push(frame):
            await self._act(action)

    async def _act(self, action: F.Action) -> None:  # noqa: C901 -- one case per action, in the order of a turn
        if isinstance(action, F.AnnounceAction):
            await self.emit("input_audio_buffer.speech_started", audio_start_ms=action.start_ms,
                            item_id=action.item_id)
        elif isinstance(action, F.HoldOutputAction):
            self.responses.output_gate.clear()
        elif isinstance(action, F.ReleaseOutputAction):
            if action.false_interruption:
                self.metrics.barge_ins.labels("false").inc()
            self.responses.output_gate.set()
        elif isinstance(action, F.InterruptAction):
            self.metrics.barge_ins.labels("confirmed").inc()
            if (cut := await self.responses.interrupt()) is not None:
                await self.emit("conversation.item.truncated", item_id=cut[0], content_index=0, audio_end_ms=cut[1])
        elif isinstance(action, F.SpeculateAction):
            spec = action.spec
            spec.run = self._new_run(Item(spec.item_id, "user", audio=spec.audio),
                                     TurnTimeline(P.new_id("resp"), speech_end=spec.arrived), live=False)
            spec.transcript = spec.run.user.transcript = self._hear(spec.audio, None if action.endpoint else spec.run)
            spec.run.start(self._finished)
            if action.endpoint:
                self._spawn(self._endpoint(spec.end_ms, spec.audio, spec.transcript))
        elif isinstance(action, F.HearPauseAction):
            action.pause.transcript = self._hear(action.pause.audio)
            self._spawn(self._endpoint(action.pause.end_ms, action.pause.audio, action.pause.transcript))
        elif isinstance(action, F.JudgeBargeInAction):
            self._spawn(self._judge_barge_in(action))
        elif isinstance(action, F.EndPauseAction):
            await self.listener.put(EndpointMessage(action.end_ms, action.silence_ms))
        elif isinstance(action, F.DropPauseAction):
            action.pause.transcript.cancel()
        elif isinstance(action, F.DiscardAction):
            self.metrics.speculation.labels("discarded").inc()
            await action.spec.run.stop("speculation_discarded")
            action.spec.transcript.cancel()
        elif isinstance(action, F.StoppedAction):
            await self.emit("input_audio_buffer.speech_stopped", audio_end_ms=action.end_ms, item_id=action.item_id)
            self._stopped_at = time.monotonic()
        elif isinstance(action, F.CommitSpeechAction):
            await self._commit_speech(action)

    async def _endpoint(self, end_ms: int, audio: np.ndarray, transcript: asyncio.Future) -> None:
        """A pause judged by the turn detector (its words or its audio): set the silence that ends it."""
        td = self.config.turn_detection
        if td is None or not td.detector.judges_pauses:
            return
        silence_ms = await judge(td.detector, audio, transcript)
        if silence_ms is not None and self.turns.speech is not None:
            await self.listener.put(EndpointMessage(end_ms, silence_ms))

    async def _judge_barge_in(self, action: F.JudgeBargeInAction) -> None:
        td = self.config.turn_detection
        if td is not None:
            await self._push(F.BargeInVerdictFrame(action.end_ms, await confirms_barge_in(td.detector, action.audio)))

    async def _commit_speech(self, action: F.CommitSpeechAction) -> None:
        if action.spec is not None:
            item, run = action.spec.run.user, action.spec.run
        else:
            item = Item(action.item_id, "user", audio=action.audio)
            run = self._new_run(item, TurnTimeline(P.new_id("resp"), speech_end=action.arrived),
                                live=True) if action.respond else None
            item.transcript = action.pause.transcript if action.pause else self._hear(action.audio, run)
        await self._commit_user_audio(item)
        if run is None:
            return
        run.timeline.mark("speech_stopped", self._stopped_at)
        await self._adopt(run)
        if action.spec is not None:
            self.metrics.speculation.labels("committed").inc()
            await run.go_live()
        else:
            run.start(self._finished)

    # ------------------------------------------------------------------ hearing, items and responses
    def _spend_audio(self, seconds: float, param: str, event_id: str | None) -> None:
        """Every audio path draws on one budget of ``max_audio_speed`` x real time."""
        if not self._audio.take(seconds, time.monotonic()):
            raise ProtocolError("rate_limit_exceeded", f"audio is arriving faster than "
                                f"{self.server.limits.max_audio_speed}x real time; dropped", param, event_id,
                                type="rate_limit_error")

    def _hear(self, audio: np.ndarray, after: ResponseRun | None = None) -> asyncio.Task:
        return self.engines.ears.transcript(self.id, audio, after.speaking if after is not None else None)

    async def _add(self, item: Item) -> str | None:
        """Add ``item`` to the conversation, dropping (and announcing) the oldest items over its limits."""
        previous = self.conversation.add(item)
        live = self.responses.live
        for dropped in self.conversation.trim(keep=(live.user, live.item) if live else ()):
            await self.emit("conversation.item.deleted", item_id=dropped)
        return previous

    async def _commit_user_audio(self, item: Item) -> None:
        previous = await self._add(item)
        await self.emit("input_audio_buffer.committed", item_id=item.id, previous_item_id=previous)
        await self.emit("conversation.item.added", previous_item_id=previous, item=item_wire(item))
        self._spawn(self.engines.ears.announce(item, self.emit))

    def _new_run(self, user: Item, timeline: TurnTimeline, *, live: bool, config: SessionConfig | None = None,
                 instructions: str | None = None, requested: bool = False) -> ResponseRun:
        base = self.config.instructions if instructions is None else instructions
        return self.responses.new(user, config or self.config, history=self.conversation.history(before=user),
                                  instructions=self.conversation.instructions(base), timeline=timeline, live=live,
                                  requested=requested)

    async def _adopt(self, run: ResponseRun) -> None:
        """Make ``run`` the session's response; its item joins the conversation."""
        self.responses.adopt(run)
        await self._add(run.item)
        if not run.finished:
            await self._push(F.ResponseStartFrame())

    def _finished(self, run: ResponseRun) -> None:
        if run is self.responses.live:
            self.turns.push(F.ResponseEndFrame())
        if run.status == "skipped":
            self.conversation.delete(run.item.id)

    def _spawn(self, coro: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
