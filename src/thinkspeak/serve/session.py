"""One Realtime session: the state machine between client events, the user's speech and the responses.

Per connection there is one session with its own conversation, VAD, generation counter and tasks; nothing is
shared with other sessions but the engines. The flow of a spoken turn with server VAD:

1. ``start`` (speech began): ``input_audio_buffer.speech_started`` -- unless the assistant is talking, in
   which case its output is *paused* and the speech is a possible barge-in;
2. ``long`` (speech >= ``barge_in_min_ms``) during a possible barge-in: confirmed. The response is cancelled
   through the generation counter, ``speech_started`` tells the client to drop queued audio, and the
   assistant item is cut to what was played (``conversation.item.truncated``);
3. ``pause`` (tentative end of turn): hearing and decoding start *speculatively*, buffered;
4. ``resume``: the speculation is discarded (the client never saw it);
5. ``end`` (``silence_duration_ms`` confirmed): ``speech_stopped``, ``committed``, the user item, and the
   speculative response goes live (or a fresh one starts). An unconfirmed barge-in that ends here was a false
   interruption: the paused answer resumes and the noise is dropped.

Everything the client sends is validated; mistakes become ``error`` events, abuse a policy close (1008).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from thinkspeak.serve import protocol as P
from thinkspeak.serve.cancel import Generation, Turn
from thinkspeak.serve.config import ServerConfig, SessionConfig
from thinkspeak.serve.conversation import Conversation, Item
from thinkspeak.serve.engines import Engines
from thinkspeak.serve.items import decode_audio, item_from_client, item_wire
from thinkspeak.serve.listener import SAMPLE_RATE, Listener, TurnEvent, TurnParams
from thinkspeak.serve.metrics import ServerMetrics, TurnTimeline
from thinkspeak.serve.protocol import ClientEvent, ProtocolError
from thinkspeak.serve.ratelimit import ErrorWindow, TokenBucket
from thinkspeak.serve.response import ResponseRun, RunContext
from thinkspeak.speech.endpoint import EAGERNESS, utterance_state

log = logging.getLogger("thinkspeak.serve")

POLICY_VIOLATION = 1008
MIN_COMMIT_MS = 100


@dataclass
class Speech:
    """The user's speech segment in progress; ``announced`` once speech_started went out."""

    item_id: str
    start_ms: int
    announced: bool


@dataclass
class Speculation:
    """A response started at a tentative end of turn, valid only if the speech ends at ``end_ms``."""

    end_ms: int
    item: Item
    run: ResponseRun


@dataclass(frozen=True)
class Heard:
    """A turn event from the input thread with the wall time its end of speech arrived (pause/end)."""

    event: TurnEvent
    speech_end: float | None


class RealtimeSession:
    """Serve one client; feed it raw messages with :meth:`handle`, :meth:`close` it when the socket goes."""

    def __init__(self, engines: Engines, server: ServerConfig, metrics: ServerMetrics,
                 send_text: Callable[[str], Awaitable[None]], *, model: str | None = None) -> None:
        self.id = P.new_id("sess")
        self.engines = engines
        self.server = server
        self.metrics = metrics
        self.config: SessionConfig = server.session
        if model:
            self.config = replace(self.config, model=model)
        self.generation = Generation()
        self.conversation = Conversation()
        self.output_gate = asyncio.Event()
        self.output_gate.set()
        self.run: ResponseRun | None = None
        self.last_audio_item: Item | None = None
        self.speech: Speech | None = None
        self.spec: Speculation | None = None
        self.pause_hearing: tuple[int, asyncio.Task] | None = None  # semantic_vad without a speculation
        self.closed = False
        self._open = self._shut = False
        self._send_text = send_text
        self._send_lock = asyncio.Lock()
        limits = server.limits
        self.listener = Listener(engines.make_vad, self.config.input_rate, self._turn_params(),
                                 max_buffer_s=limits.max_buffer_s)
        self._messages = TokenBucket(limits.messages_per_s, limits.message_burst)
        self._audio = TokenBucket(limits.max_audio_speed, limits.audio_burst_s)
        self._errors = ErrorWindow(limits.max_errors, limits.error_window_s)
        self._input: asyncio.Queue = asyncio.Queue(maxsize=64)
        self._tasks: set[asyncio.Task] = set()
        self._input_task = asyncio.create_task(self._input_worker(), name=f"input-{self.id}")

    # ------------------------------------------------------------------ output
    async def send(self, event: dict[str, Any], turn: Turn | None = None,
                   on_sent: Callable[[float], None] | None = None) -> None:
        """Write one server event; events of a cancelled turn are dropped here, at the last moment."""
        async with self._send_lock:
            if self.closed or (turn is not None and turn.cancelled):
                return
            try:
                await self._send_text(json.dumps(event))
            except Exception:  # the socket is gone; the app's receive loop will close the session
                self.closed = True
                return
            if on_sent is not None:
                on_sent(time.monotonic())

    async def emit(self, kind: str, **fields: Any) -> None:
        await self.send(P.server_event(kind, **fields))

    async def open(self) -> None:
        self._open = True
        self.metrics.sessions.inc()
        await self.emit("session.created", session=self.config.to_wire(self.id))

    async def close(self) -> None:
        """The client is gone: cancel every piece of work at once, send nothing more."""
        if self._shut:
            return
        self._shut = self.closed = True
        self.generation.cancel()
        for task in [self._input_task, *self._tasks]:
            task.cancel()
        if self.run is not None:
            await self.run.stop("client_disconnected")
        if self.spec is not None:
            await self.spec.run.stop("client_disconnected")
        if self._open:
            self._open = False
            self.metrics.sessions.dec()

    # ------------------------------------------------------------------ input
    async def handle(self, raw: str | bytes | None) -> int | None:
        """Process one client message; return a close code when the client must be disconnected."""
        now = time.monotonic()
        try:
            if not self._messages.take(1, now):
                raise ProtocolError("rate_limit_exceeded", "too many messages; slow down", type="rate_limit_error")
            if not isinstance(raw, str):
                raise ProtocolError("invalid_json", "send events as JSON text frames, not binary frames")
            await self.dispatch(P.parse_client_event(raw, max_bytes=self.server.limits.max_message_bytes))
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

    async def dispatch(self, event: ClientEvent) -> None:
        handler = getattr(self, "_on_" + event.type.replace(".", "_"))
        await handler(event)

    async def _on_session_update(self, event: ClientEvent) -> None:
        before = self.config
        self.config = self.config.updated(event.field("session", dict), event.event_id)
        if (before.input_rate, before.turn_detection) != (self.config.input_rate, self.config.turn_detection):
            await self._forget_speech()
            await self._input.put(("configure", self.config.input_rate, self._turn_params()))
        await self.emit("session.updated", session=self.config.to_wire(self.id))

    async def _on_input_audio_buffer_append(self, event: ClientEvent) -> None:
        pcm = decode_audio(event.field("audio", str), "audio", event.event_id)
        if not pcm:
            return
        seconds = len(pcm) / 2 / self.config.input_rate
        if not self._audio.take(seconds, time.monotonic()):
            raise ProtocolError("rate_limit_exceeded", f"audio is arriving faster than "
                                f"{self.server.limits.max_audio_speed}x real time; dropped", "audio",
                                event.event_id, type="rate_limit_error")
        await self._input.put(("audio", pcm, time.monotonic()))

    async def _on_input_audio_buffer_commit(self, event: ClientEvent) -> None:
        done: asyncio.Future = asyncio.get_running_loop().create_future()
        await self._input.put(("commit", done))
        audio = await done
        if audio.size < MIN_COMMIT_MS * SAMPLE_RATE // 1000:
            raise ProtocolError("input_audio_buffer_commit_empty",
                                f"buffer too small: {audio.size * 1000 // SAMPLE_RATE} ms < {MIN_COMMIT_MS} ms",
                                None, event.event_id)
        item_id = self.speech.item_id if self.speech else P.new_id("item")
        self.speech = None
        self._drop_pause_hearing()
        await self._discard_speculation()
        item = Item(item_id, "user", audio=audio)
        item.transcript = self._hear(audio)
        await self._commit_user_audio(item)

    async def _on_input_audio_buffer_clear(self, event: ClientEvent) -> None:
        await self._forget_speech()
        await self._input.put(("clear",))
        await self.emit("input_audio_buffer.cleared")

    async def _on_conversation_item_create(self, event: ClientEvent) -> None:
        item = item_from_client(event.field("item", dict), input_rate=self.config.input_rate,
                                taken={i.id for i in self.conversation.items}, event_id=event.event_id)
        if item.audio is not None:
            item.transcript = self._hear(item.audio)
        elif item.role == "user":
            item.transcript = asyncio.get_running_loop().create_future()
            item.transcript.set_result(item.text)
        previous = self.conversation.add(item)
        wire = item_wire(item)
        await self.emit("conversation.item.added", previous_item_id=previous, item=wire)
        if item.audio is not None:  # done once heard
            self._spawn(self._announce_transcript(item))
        else:
            await self.emit("conversation.item.done", previous_item_id=previous, item=wire)

    async def _on_conversation_item_truncate(self, event: ClientEvent) -> None:
        item_id = event.field("item_id", str)
        audio_end_ms = event.field("audio_end_ms", int)
        content_index = event.field("content_index", int, required=False, default=0)
        item = self.conversation.get(item_id)
        if item is None or item.role != "assistant" or item.clock is None:
            raise ProtocolError("invalid_value", f"no assistant audio item '{item_id[:60]}' to truncate", "item_id",
                                event.event_id)
        if content_index != 0 or audio_end_ms < 0:
            raise ProtocolError("invalid_value", "content_index must be 0 and audio_end_ms >= 0", "audio_end_ms",
                                event.event_id)
        if audio_end_ms > item.clock.sent_ms:
            raise ProtocolError("invalid_value", f"audio_end_ms {audio_end_ms} is beyond the item's audio "
                                f"({item.clock.sent_ms:.0f} ms)", "audio_end_ms", event.event_id)
        item.audio_end_ms = float(audio_end_ms)
        await self.emit("conversation.item.truncated", item_id=item.id, content_index=0, audio_end_ms=audio_end_ms)

    async def _on_conversation_item_delete(self, event: ClientEvent) -> None:
        item_id = event.field("item_id", str)
        if not self.conversation.delete(item_id):
            raise ProtocolError("invalid_value", f"no item '{item_id[:60]}'", "item_id", event.event_id)
        await self.emit("conversation.item.deleted", item_id=item_id)

    async def _on_response_create(self, event: ClientEvent) -> None:
        options = event.field("response", dict, required=False, default={})
        if self._responding():
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
        await self._discard_speculation()
        await self._start_response(user, TurnTimeline(P.new_id("resp")), config=config,
                                   instructions=instructions if isinstance(instructions, str) else None)

    async def _on_response_cancel(self, event: ClientEvent) -> None:
        if not self._responding():
            raise ProtocolError("response_cancel_not_active", "there is no response to cancel", None, event.event_id)
        await self.run.stop("client_cancelled")

    # ------------------------------------------------------------------ the input thread
    async def _input_worker(self) -> None:
        """Apply queued audio/commands in a worker thread (batched), then act on the turn events on the loop."""
        while True:
            batch = [await self._input.get()]
            while not self._input.empty() and len(batch) < 32:
                batch.append(self._input.get_nowait())
            try:
                results = await asyncio.to_thread(self._apply, batch)
                for command, result in zip(batch, results, strict=True):
                    if command[0] == "commit":
                        command[1].set_result(result)
                    for heard in result if command[0] in ("audio", "endpoint") else ():
                        await self._on_turn(heard)
            except Exception as exc:  # a bug must not silence the session: report it and go on listening
                log.exception("session %s: input processing failed", self.id)
                for command in batch:
                    if command[0] == "commit" and not command[1].done():
                        command[1].set_exception(exc)
                await self.error(ProtocolError("input_processing_failed", f"{type(exc).__name__}: {exc}"[:300],
                                               type="server_error"))

    def _apply(self, batch: list[tuple]) -> list[Any]:
        out: list[Any] = []
        for command in batch:
            kind = command[0]
            if kind == "audio":
                events = self.listener.feed(command[1], command[2])
                out.append([self._heard(e) for e in events])
            elif kind == "commit":
                out.append(self.listener.take())
            elif kind == "clear":
                out.append(self.listener.clear())
            elif kind == "endpoint":
                out.append([self._heard(e) for e in self.listener.end_pause_after(command[1], command[2])])
            else:
                out.append(self.listener.configure(command[1], command[2]))
        return out

    def _heard(self, event: TurnEvent) -> Heard:
        if event.end_ms is None:
            return Heard(event, None)
        return Heard(event, self.listener.arrival(event.end_ms - 1))

    def _turn_params(self) -> TurnParams | None:
        td = self.config.turn_detection
        if td is None:
            return None
        return TurnParams(threshold=td.threshold, prefix_padding_ms=td.prefix_padding_ms,
                          silence_duration_ms=td.max_silence_ms, long_ms=self.server.barge_in_min_ms,
                          speculate_after_ms=min(self.server.speculate_after_ms, td.max_silence_ms))

    # ------------------------------------------------------------------ turn taking
    async def _on_turn(self, heard: Heard) -> None:
        event, td = heard.event, self.config.turn_detection
        if td is None:
            return
        if event.kind == "start":
            barge = td.interrupt_response and self._assistant_audible()
            self.speech = Speech(P.new_id("item"), event.start_ms, announced=not barge)
            if barge:
                self.output_gate.clear()
            else:
                await self.emit("input_audio_buffer.speech_started", audio_start_ms=event.start_ms,
                                item_id=self.speech.item_id)
        elif self.speech is None:
            return
        elif event.kind == "long" and not self.speech.announced:
            await self._barge_in()
        elif event.kind == "pause" and self.speech.announced:
            self._drop_pause_hearing()
            speculating = td.create_response and not self._responding()
            if speculating:
                transcript = await self._speculate(heard)
            if td.semantic:
                if not speculating:  # hear the pause for endpointing; the turn's end reuses it
                    transcript = self._hear(event.audio)
                    self.pause_hearing = (event.end_ms, transcript)
                self._spawn(self._semantic_end(event, transcript))
        elif event.kind == "resume":
            self._drop_pause_hearing()
            await self._discard_speculation()
        elif event.kind == "end":
            await self._end_of_speech(heard)

    def _assistant_audible(self) -> bool:
        """True while a response runs or its audio is still playing at the client (estimated)."""
        if self._responding():
            return True
        item = self.last_audio_item
        return item is not None and item.clock is not None and item.clock.queued_s(time.monotonic()) > 0

    def _responding(self) -> bool:
        return self.run is not None and not self.run.finished

    async def _barge_in(self) -> None:
        """Confirmed interruption: flush the client, cancel the answer, cut its item to what was played."""
        self.metrics.barge_ins.labels("confirmed").inc()
        speech = self.speech
        speech.announced = True
        await self.emit("input_audio_buffer.speech_started", audio_start_ms=speech.start_ms, item_id=speech.item_id)
        item = self.last_audio_item
        played = None
        if item is not None and item.clock is not None and item.audio_end_ms is None:
            played = min(item.clock.played_ms(time.monotonic()), item.clock.sent_ms)
            item.audio_end_ms = played
        if self._responding():
            await self.run.stop("turn_detected")
        self.output_gate.set()
        if played is not None:
            await self.emit("conversation.item.truncated", item_id=item.id, content_index=0,
                            audio_end_ms=int(played))

    async def _speculate(self, heard: Heard) -> asyncio.Task:
        """Start the response to the speech so far, buffered; returns the transcript task."""
        await self._discard_speculation()
        item = Item(self.speech.item_id, "user", audio=heard.event.audio)
        timeline = TurnTimeline(P.new_id("resp"), speech_end=heard.speech_end)
        run = self._new_run(item, timeline, live=False)
        semantic = self.config.turn_detection is not None and self.config.turn_detection.semantic
        item.transcript = self._hear(item.audio, after=None if semantic else run)  # semantic VAD reads it now
        self.spec = Speculation(heard.event.end_ms, item, run)
        log.debug("session %s: speculating on speech ending at %d ms", self.id, heard.event.end_ms)
        run.start(self._finished)
        return item.transcript

    async def _semantic_end(self, pause: TurnEvent, transcript: asyncio.Future) -> None:
        """semantic_vad: once the words before a pause are heard, set the silence that ends this turn."""
        try:
            text = await asyncio.shield(transcript)
        except (asyncio.CancelledError, Exception):  # discarded speculation or ASR failure: the long wait stands
            return
        td = self.config.turn_detection
        if td is None or not td.semantic or self.speech is None:
            return
        state = utterance_state(text)
        silence_ms = EAGERNESS[td.eagerness].silence_ms(state)
        log.debug("session %s: %r is %s; the turn ends after %d ms of silence", self.id, text[-60:], state, silence_ms)
        await self._input.put(("endpoint", pause.end_ms, silence_ms))

    async def _discard_speculation(self) -> None:
        spec, self.spec = self.spec, None
        if spec is None:
            return
        self.metrics.speculation.labels("discarded").inc()
        log.debug("session %s: speculation on speech ending at %d ms discarded", self.id, spec.end_ms)
        await spec.run.stop("speculation_discarded")
        if spec.item.transcript is not None:
            spec.item.transcript.cancel()

    async def _end_of_speech(self, heard: Heard) -> None:
        speech, self.speech = self.speech, None
        if not speech.announced:
            self.metrics.barge_ins.labels("false").inc()
            self.output_gate.set()
            return
        event = heard.event
        await self.emit("input_audio_buffer.speech_stopped", audio_end_ms=event.end_ms, item_id=speech.item_id)
        stopped = time.monotonic()
        spec, self.spec = self.spec, None
        if spec is not None and spec.end_ms != event.end_ms:
            self.spec = spec
            await self._discard_speculation()
            spec = None
        respond = self.config.turn_detection.create_response and not self._responding()
        if spec is not None:
            item, run = spec.item, spec.run
        else:
            item = Item(speech.item_id, "user", audio=event.audio)
            run = self._new_run(item, TurnTimeline(P.new_id("resp"), speech_end=heard.speech_end),
                                live=True) if respond else None
            hearing, self.pause_hearing = self.pause_hearing, None
            item.transcript = (hearing[1] if hearing is not None and hearing[0] == event.end_ms
                               else self._hear(event.audio, after=run))
        await self._commit_user_audio(item)
        if run is None:
            return
        run.timeline.mark("speech_stopped", stopped)
        self._adopt(run)
        if spec is not None:
            self.metrics.speculation.labels("committed").inc()
            await run.go_live()
        else:
            run.start(self._finished)

    def _drop_pause_hearing(self) -> None:
        if self.pause_hearing is not None:
            self.pause_hearing[1].cancel()
            self.pause_hearing = None

    async def _forget_speech(self) -> None:
        self._drop_pause_hearing()
        self.speech = None
        self.output_gate.set()
        await self._discard_speculation()

    # ------------------------------------------------------------------ items and responses
    def _hear(self, audio: np.ndarray, after: ResponseRun | None = None) -> asyncio.Task:
        """The ASR transcript of ``audio``, as a task. With end-to-end hearing the Thinker does not need it, so
        it waits until ``after`` speaks: Whisper's encoder (the Thinker's ears) and its ASR share one model
        whose calls are queued, and the transcript must not delay the answer."""
        wait = after is not None and self.engines.thinker.hears_audio

        async def hear() -> str:
            if wait:
                await after.speaking.wait()
            return await self.engines.transcribe(audio)

        return asyncio.create_task(hear(), name=f"hear-{self.id}")

    async def _commit_user_audio(self, item: Item) -> None:
        previous = self.conversation.add(item)
        await self.emit("input_audio_buffer.committed", item_id=item.id, previous_item_id=previous)
        await self.emit("conversation.item.added", previous_item_id=previous, item=item_wire(item))
        self._spawn(self._announce_transcript(item))

    async def _announce_transcript(self, item: Item) -> None:
        try:
            text = await item.transcript
        except asyncio.CancelledError:
            return
        except Exception as exc:  # ASR failure: report it, keep the session
            log.exception("transcription failed")
            await self.emit("conversation.item.input_audio_transcription.failed", item_id=item.id, content_index=0,
                            error={"type": "server_error", "code": "transcription_failed", "message": str(exc)[:300]})
            return
        await self.emit("conversation.item.input_audio_transcription.completed", item_id=item.id, content_index=0,
                        transcript=text, usage={"type": "duration", "seconds": round(item.audio_s, 3)})
        item.forget_audio()  # heard: the transcript stands for it from now on
        await self.emit("conversation.item.done", item=item_wire(item))

    def _new_run(self, user: Item, timeline: TurnTimeline, *, live: bool, config: SessionConfig | None = None,
                 instructions: str | None = None) -> ResponseRun:
        ctx = RunContext(self.engines, self.server, config or self.config, self.metrics, self.send, self.output_gate)
        base = self.config.instructions if instructions is None else instructions
        return ResponseRun(ctx, self.generation.begin(), user, history=self.conversation.history(before=user),
                           instructions=self.conversation.instructions(base), timeline=timeline, live=live)

    async def _start_response(self, user: Item, timeline: TurnTimeline, *, config: SessionConfig | None = None,
                              instructions: str | None = None) -> None:
        run = self._new_run(user, timeline, live=True, config=config, instructions=instructions)
        self._adopt(run)
        run.start(self._finished)

    def _adopt(self, run: ResponseRun) -> None:
        """Make ``run`` the session's response; its item joins the conversation."""
        self.run = run
        self.conversation.add(run.item)
        if run.audio:
            self.last_audio_item = run.item

    def _finished(self, run: ResponseRun) -> None:
        if run.status == "skipped":
            self.conversation.delete(run.item.id)

    def _spawn(self, coro: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
