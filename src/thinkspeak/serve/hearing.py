"""The hearing stage: a user item's audio -> what the Thinker takes (its transcript, or the audio itself).

Two ways of hearing are registered in :data:`HEARING`: ``asr`` (Whisper transcripts into the Thinker) and
``e2e`` (the 16 kHz audio straight into the Thinker's audio adapter, Mini-Omni §3.1; the transcript is still
made for the client and the history, but only once the answer speaks: Whisper's encoder -- the Thinker's
ears -- and its ASR share one model whose calls are queued, and the transcript must not delay the answer).

ASR work of every session goes through one :class:`FairQueue`: at most ``workers`` transcriptions run at
once (one for Whisper, which runs one call at a time anyway: :data:`~thinkspeak.serve.engines.ASR_CALLS`)
and the next one is taken from the sessions in turn, so a session that floods the server with audio waits
behind its own work, not in front of everyone else's.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import Executor
from typing import TYPE_CHECKING, Any

import numpy as np

from thinkspeak.serve.audio import HEARING_RATE
from thinkspeak.serve.conversation import Item
from thinkspeak.serve.items import item_wire
from thinkspeak.serve.protocol import internal_error
from thinkspeak.serve.registry import Registry

if TYPE_CHECKING:
    from thinkspeak.speech.asr import Transcriber

log = logging.getLogger("thinkspeak.serve")


class FairQueue:
    """Run blocking calls on ``executor``, at most ``workers`` at once, in start-time fair order: each owner's
    calls are tagged one after another from the current virtual time, the smallest tag runs next (ties: first
    come, first served). A flood of calls from one owner then waits behind everyone else's work."""

    def __init__(self, executor: Executor, workers: int) -> None:
        if workers < 1:
            raise ValueError(f"workers must be >= 1, got {workers}")
        self.executor = executor
        self.workers = workers
        self.running = 0
        self._seq = self._vtime = 0
        self._next_tag: dict[str, int] = {}
        self._heap: list[tuple[int, int, asyncio.Future, Callable[..., Any], tuple]] = []

    async def run(self, owner: str, fn: Callable[..., Any], *args: Any) -> Any:
        future = asyncio.get_running_loop().create_future()
        tag = max(self._vtime, self._next_tag.get(owner, 0))
        self._next_tag[owner] = tag + 1
        self._seq += 1
        heapq.heappush(self._heap, (tag, self._seq, future, fn, args))
        self._pump()
        return await future

    def _pump(self) -> None:
        loop = asyncio.get_running_loop()
        while self.running < self.workers and self._heap:
            tag, _, future, fn, args = heapq.heappop(self._heap)
            self._vtime = max(self._vtime, tag)
            self._next_tag = {o: t for o, t in self._next_tag.items() if t > self._vtime}
            if future.done():  # cancelled while waiting
                continue
            self.running += 1
            work = loop.run_in_executor(self.executor, fn, *args)
            work.add_done_callback(lambda w, f=future: self._finished(w, f))

    def _finished(self, work: asyncio.Future, future: asyncio.Future) -> None:
        self.running -= 1
        if not future.done():
            if work.exception() is not None:
                future.set_exception(work.exception())
            else:
                future.set_result(work.result())
        self._pump()


class Hearing:
    """How one server hears: transcripts from ``asr`` and, with ``audio_in``, audio into the Thinker."""

    def __init__(self, asr: Transcriber | None, queue: FairQueue, *, audio_in: bool) -> None:
        if asr is None and not audio_in:
            raise ValueError("ASR hearing needs an ASR engine (asr=)")
        self.asr = asr
        self.queue = queue
        self.audio_in = audio_in

    def transcript(self, owner: str, audio: np.ndarray, after: asyncio.Event | None = None) -> asyncio.Task:
        """The transcript of 16 kHz ``audio`` as a task; with ``audio_in`` it waits for ``after`` (the answer
        speaking) first, since the Thinker does not need it."""
        wait = after if self.audio_in else None

        async def hear() -> str:
            if wait is not None:
                await wait.wait()
            return await self._transcribe(owner, audio)

        return asyncio.create_task(hear(), name=f"hear-{owner}")

    async def announce(self, item: Item, emit: Callable[..., Awaitable[None]]) -> None:
        """Once ``item`` is heard: its ``transcription.completed`` and ``item.done`` (or ``.failed``, with the
        cause in the log only); the transcript stands for the audio from then on."""
        try:
            text = await item.transcript
        except asyncio.CancelledError:
            return
        except Exception:  # ASR failure: report it, keep the session
            log.exception("transcription of %s failed", item.id)
            await emit("conversation.item.input_audio_transcription.failed", item_id=item.id, content_index=0,
                       error=internal_error("transcription_failed").detail())
            return
        await emit("conversation.item.input_audio_transcription.completed", item_id=item.id, content_index=0,
                   transcript=text, usage={"type": "duration", "seconds": round(item.audio_s, 3)})
        item.forget_audio()
        await emit("conversation.item.done", item=item_wire(item))

    async def _transcribe(self, owner: str, audio: np.ndarray) -> str:
        if self.asr is None or audio.size == 0:
            return ""
        start = time.monotonic()
        result = await self.queue.run(owner, self.asr.transcribe, audio)
        text = str(getattr(result, "text", result)).strip()
        log.debug("ASR %.2f s of audio in %.0f ms: %r", audio.size / HEARING_RATE, (time.monotonic() - start) * 1000,
                  text)
        return text


#: hearing by name: ``factory(asr, queue, hears_audio) -> Hearing`` (``hears_audio``: the Thinker can hear)
HEARING: Registry = Registry("hearing")


@HEARING.register("asr")
def asr_hearing(asr: Transcriber | None, queue: FairQueue, hears_audio: bool) -> Hearing:
    return Hearing(asr, queue, audio_in=False)


@HEARING.register("e2e")
def e2e_hearing(asr: Transcriber | None, queue: FairQueue, hears_audio: bool) -> Hearing:
    if not hears_audio:
        raise ValueError("e2e hearing needs a local Thinker with an audio adapter; this Thinker hears text only")
    return Hearing(asr, queue, audio_in=True)
