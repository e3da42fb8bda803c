"""One Realtime session: the pipeline of stages a connection's events and speech flow through, in one place.

    transport (client events) ──> listener (VAD: speech frames) ──> turns (the turn state machine: actions)
        ──> session (carries the actions out) ──> hearing (transcript or audio) ──> response: thinker
        ──> talker ──> playout ──> transport

Per connection there is one session with its own conversation, listener, turn machine and cancel tokens;
nothing is shared with other sessions but the engines. :meth:`RealtimeSession.__init__` builds the stages and
the table that routes each client event type to its handler (audio goes straight to the listener); the
actions of the :class:`~thinkspeak.serve.turns.TurnMachine` are carried out in :meth:`RealtimeSession._act`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

import numpy as np

from thinkspeak.serve import frames as F
from thinkspeak.serve import protocol as P
from thinkspeak.serve.config import ServerConfig, SessionConfig
from thinkspeak.serve.conversation import Conversation, Item
from thinkspeak.serve.engines import Engines
from thinkspeak.serve.items import item_from_client, item_wire
from thinkspeak.serve.listener import ClearMessage, Listener, ListenerStage
from thinkspeak.serve.metrics import ServerMetrics
from thinkspeak.serve.protocol import ClientEvent, ProtocolError
from thinkspeak.serve.ratelimit import TokenBucket
from thinkspeak.serve.response import ResponseRun, Responses
from thinkspeak.serve.thinkers.base import estimate_tokens
from thinkspeak.serve.transport import Transport
from thinkspeak.serve.turns import TurnMachine

MIN_COMMIT_MS = 100


class RealtimeSession:
    """Serve one client: feed its raw messages to ``transport.receive``, :meth:`close` it when the socket goes."""

    def __init__(self, engines: Engines, server: ServerConfig, metrics: ServerMetrics,
                 send_text: Callable[[str], Awaitable[None]], *, model: str | None = None,
                 on_stall: Callable[[], object] | None = None) -> None:
        self.id, self.engines, self.server, self.metrics = P.new_id("sess"), engines, server, metrics
        self.config: SessionConfig = replace(server.session, model=model) if model else server.session
        limits, td = server.limits, self.config.turn_detection
        self.conversation = Conversation(limits.max_items, limits.max_conversation_bytes)
        # the stages, in the order a spoken turn meets them; hearing, thinker and talker are shared engines
        self.transport = Transport(send_text, limits, metrics, on_stall=on_stall, name=self.id)
        self.responses = Responses(engines, server, metrics, self.transport.send, self.conversation)
        self.turns = TurnMachine(td, playing=self.responses.playing)
        self.listener = ListenerStage(
            Listener(engines.make_vad, self.config.input_rate, td, max_buffer_s=limits.max_buffer_s,
                     long_ms=server.barge_in_min_ms, speculate_after_ms=server.speculate_after_ms,
                     verdict_ms=server.barge_in_verdict_ms,
                     audible=lambda: self.turns.responding or self.responses.playing()),
            self.turns, self._act, self.transport.error,
            budget=TokenBucket(limits.max_audio_speed, limits.audio_burst_s), name=self.id)
        self.transport.handlers = {
            "session.update": self._on_session_update,
            "input_audio_buffer.append": self.listener.append,
            "input_audio_buffer.commit": self._on_input_audio_buffer_commit,
            "input_audio_buffer.clear": self._on_input_audio_buffer_clear,
            "conversation.item.create": self._on_conversation_item_create,
            "conversation.item.truncate": self._on_conversation_item_truncate,
            "conversation.item.delete": self._on_conversation_item_delete,
            "response.create": self._on_response_create,
            "response.cancel": self.responses.cancel,
        }
        self._tasks: set[asyncio.Task] = set()
        self._stopped_at = 0.0
        self._open = self._shut = False

    async def emit(self, kind: str, **fields: Any) -> None:
        await self.transport.send(P.server_event(kind, **fields))

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

    # ------------------------------------------------------------------ client events (routed by the transport)
    async def _on_session_update(self, event: ClientEvent) -> None:
        config = self.config.updated(event.field("session", dict), event.event_id)
        if (config.input_rate, config.turn_detection) != (self.config.input_rate, self.config.turn_detection):
            await self._push(F.ForgetFrame())
            self.turns.detection = config.turn_detection
            await self.listener.configure(config.input_rate, config.turn_detection)
        self.config = config
        await self.emit("session.updated", session=self.config.to_wire(self.id))

    async def _on_input_audio_buffer_commit(self, event: ClientEvent) -> None:
        audio = await self.listener.take(MIN_COMMIT_MS, event.event_id)
        *actions, commit = self.turns.push(F.CommitFrame())
        for action in actions:
            await self._act(action)
        await self._commit_user_audio(Item(commit.item_id, "user", audio=audio))

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
            self.listener.spend(item.audio_s, "item.content", event.event_id)
            return await self._commit_user_audio(item, buffered=False)
        previous = await self._add(item)
        await self.emit("conversation.item.added", previous_item_id=previous, item=item_wire(item))
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
        run = self.responses.requested(options, self.config, event.event_id)
        await self._adopt(run)
        run.start(self._finished)

    # ------------------------------------------------------------------ turn machine actions -> hearing, responses
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
            spec.run = self.responses.new(Item(spec.item_id, "user", audio=spec.audio), self.config,
                                          speech_end=spec.arrived, live=False)
            spec.transcript = spec.run.user.transcript = self._hear(spec.audio, None if action.endpoint else spec.run)
            spec.run.start(self._finished)
            if action.endpoint:
                self._spawn(self.listener.end_turn_when_heard(spec.end_ms, spec.audio, spec.transcript))
        elif isinstance(action, F.HearPauseAction):
            action.pause.transcript = self._hear(action.pause.audio)
            self._spawn(self.listener.end_turn_when_heard(action.pause.end_ms, action.pause.audio,
                                                          action.pause.transcript))
        elif isinstance(action, F.JudgeBargeInAction):
            self._spawn(self.listener.judge_barge_in(action.end_ms, action.audio, action.item_id, action.early))
        elif isinstance(action, F.EndPauseAction):
            await self.listener.end_pause(action.end_ms, action.silence_ms)
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
        elif isinstance(action, F.FloorAction):
            await self.emit("thinkspeak.floor", holder="assistant" if action.assistant else "user",
                            audio_ms=action.at_ms, p_speak=round(action.p_speak, 3))

    async def _commit_speech(self, action: F.CommitSpeechAction) -> None:
        """The user's turn is over: its item joins the conversation; the speculation goes live or a response
        starts (when the turn detection creates responses)."""
        if action.spec is not None:
            item, run = action.spec.run.user, action.spec.run
        else:
            item = Item(action.item_id, "user", audio=action.audio)
            run = self.responses.new(item, self.config, speech_end=action.arrived) if action.respond else None
            item.transcript = action.pause.transcript if action.pause else None
        await self._commit_user_audio(item, after=run)
        if run is None:
            return
        run.timeline.mark("speech_stopped", self._stopped_at)
        await self._adopt(run)
        if action.spec is not None:
            self.metrics.speculation.labels("committed").inc()
            await run.go_live()
        else:
            run.start(self._finished)

    # ------------------------------------------------------------------ hearing and the conversation
    def _hear(self, audio: np.ndarray, after: ResponseRun | None = None) -> asyncio.Task:
        return self.engines.ears.transcript(self.id, audio, after.speaking if after is not None else None)

    async def _commit_user_audio(self, item: Item, *, after: ResponseRun | None = None, buffered: bool = True) -> None:
        """A spoken user item joins the conversation and is heard (unless it already is); ``conversation.item
        .done`` follows once its transcript is in."""
        if item.transcript is None:
            item.transcript = self._hear(item.audio, after)
        previous = await self._add(item)
        if buffered:
            await self.emit("input_audio_buffer.committed", item_id=item.id, previous_item_id=previous)
        await self.emit("conversation.item.added", previous_item_id=previous, item=item_wire(item))
        self._spawn(self.engines.ears.announce(item, self.emit))

    async def _add(self, item: Item) -> str | None:
        """Add ``item`` to the conversation, dropping (and announcing) the oldest items over its limits."""
        previous = self.conversation.add(item)
        live = self.responses.live
        for dropped in self.conversation.trim(keep=(live.user, live.item) if live else ()):
            await self.emit("conversation.item.deleted", item_id=dropped)
        return previous

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
