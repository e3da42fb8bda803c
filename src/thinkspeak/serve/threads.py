"""Run a blocking iterator (decoder, TTS) in its own thread and consume it as an async iterator.

Model and engine work never runs on the event loop. The producer thread hands items over through a bounded
window (a semaphore of ``maxsize`` slots): when the consumer falls behind, the thread blocks, which is the
back-pressure from the audio sender up to the decoder. The thread checks ``token.cancelled`` after every
item, so a barge-in stops it at the next token or audio chunk; closing the async side (the consumer was
cancelled) releases the thread the same way.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from typing import TypeVar

from thinkspeak.serve.cancel import CancelToken

T = TypeVar("T")
_END = object()


async def iterate_in_thread(
    make_iter: Callable[[], Iterator[T]], token: CancelToken, *, maxsize: int = 32, name: str = "thinkspeak-worker"
) -> AsyncIterator[T]:
    """Yield the items of ``make_iter()`` (called in a new thread) until it ends or ``token`` is cancelled.

    An exception raised by the iterator is re-raised here, in the consumer.
    """
    if maxsize < 1:
        raise ValueError(f"maxsize must be >= 1, got {maxsize}")
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue = asyncio.Queue()
    slots = threading.Semaphore(maxsize)
    closed = threading.Event()

    def produce() -> None:
        outcome: object = _END
        try:
            for item in make_iter():
                slots.acquire()
                if closed.is_set() or token.cancelled:
                    break
                loop.call_soon_threadsafe(queue.put_nowait, item)
        except BaseException as exc:  # handed to the consumer, which re-raises it
            outcome = exc
        if not closed.is_set():
            try:
                loop.call_soon_threadsafe(queue.put_nowait, outcome)
            except RuntimeError:  # the loop is gone (server shutting down)
                pass

    threading.Thread(target=produce, name=name, daemon=True).start()
    try:
        while True:
            item = await queue.get()
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            slots.release()
            if token.cancelled:
                return
            yield item
    finally:
        closed.set()
        slots.release()
