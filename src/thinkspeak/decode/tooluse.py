"""Tool calls in the think stream at decode time (issue 12; syntax: :mod:`thinkspeak.layouts.toolcalls`).

:class:`ToolSlots` follows one stream's think tokens. When the model closes a call (``<|call_end|>``) the call
is parsed (a malformed one gets an error result at once) and handed to a :class:`ToolRunner`, which runs it
on a worker thread, never on the decode thread. Until the answer is back every think slot is forced to
``<|tool_wait|>`` while say slots keep flowing (thinking-in-speaking: the tool's latency is not heard); then
``<|result|> value <|result_end|>`` fills the next think slots, forced. A call that runs past the timeout is
answered with ``error: timed out``. A call left open for ``max_call_tokens`` is closed by force.

The registry is duck-typed (``run(Call) -> Result``, e.g. :class:`thinkspeak.tools.ToolRegistry`), so this
layer does not import the tools.
"""

from __future__ import annotations

import itertools
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from thinkspeak.decode.events import ToolCall, ToolResult
from thinkspeak.layouts.toolcalls import Call, Malformed, Result, parse_call

_ids = itertools.count(1)


@dataclass
class Pending:
    """A call in flight: its future and its deadline (``time.monotonic()``)."""

    call: Call
    future: Future | None
    started: float
    deadline: float
    ready: Result | None = None
    ready_at: float | None = None  # when the answer was known (time.monotonic())

    def poll(self, now: float) -> Result | None:
        """The result if it is known (done, failed or past the deadline), else None."""
        if self.ready is not None:
            return self.ready
        self.ready_at = now
        if self.future is not None and self.future.done():
            try:
                self.ready = self.future.result()
            except Exception as exc:  # the registry should not raise; never let it end the decode
                self.ready = Result(f"{self.call.name} failed: {type(exc).__name__}", error=True)
        elif now >= self.deadline:
            if self.future is not None:
                self.future.cancel()
            self.ready = Result(f"timed out after {self.deadline - self.started:g} s", error=True)
        else:
            self.ready_at = None
        return self.ready


class ToolRunner:
    """Runs calls on a small thread pool with a per-call timeout; ``registry.run(Call) -> Result``."""

    def __init__(self, registry, timeout_s: float = 5.0, workers: int = 2):
        if not callable(getattr(registry, "run", None)):
            raise ValueError(f"tools must have a run(Call) -> Result method (a ToolRegistry), got {registry!r}")
        if isinstance(timeout_s, bool) or not isinstance(timeout_s, int | float) or timeout_s <= 0:
            raise ValueError(f"tool_timeout_s must be a number > 0, got {timeout_s!r}")
        self.registry, self.timeout_s, self.workers = registry, float(timeout_s), workers
        self._pool: ThreadPoolExecutor | None = None

    def start(self, call: Call | Malformed) -> Pending:
        now = time.monotonic()
        if isinstance(call, Malformed):
            bad = Call("malformed", call.text or "?")
            return Pending(bad, None, now, now, Result(f"malformed call: {call.reason}", error=True), now)
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="thinkspeak-tool")
        return Pending(call, self._pool.submit(self.registry.run, call), now, now + self.timeout_s)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None


class ToolSlots:
    """One stream's tool state: collects a call's tokens, waits for the tool, then injects its result."""

    def __init__(self, ids, tokenizer, runner: ToolRunner, *, max_call_tokens: int = 64,
                 max_result_tokens: int = 64):
        self.ids, self.tokenizer, self.runner = ids, tokenizer, runner
        self.max_call_tokens, self.max_result_tokens = max_call_tokens, max_result_tokens
        self.body: list[int] | None = None  # tokens of the call being written
        self.pending: Pending | None = None
        self.call_id = ""
        self.queue: deque[int] = deque()  # result tokens still to inject

    @property
    def outstanding(self) -> bool:
        """A call is being written, running or having its result injected."""
        return self.body is not None or self.pending is not None

    def forced(self) -> int | None:
        """The token the next think slot must be, if the tool state forces one."""
        if self.body is not None:
            return self.ids.call_end if len(self.body) >= self.max_call_tokens else None
        if self.pending is None:
            return None
        if not self.queue:
            result = self.pending.poll(time.monotonic())
            if result is None:
                return self.ids.tool_wait
            value = self.tokenizer(result.text, add_special_tokens=False)["input_ids"][:self.max_result_tokens]
            self.queue.extend([self.ids.result, *value, self.ids.result_end])
        return self.queue[0]

    def forced_run(self) -> int:
        """Think slots from the next one on that are surely forced (a result being injected; else 1 or 0)."""
        if self.forced() is None:
            return 0
        return len(self.queue) if self.queue else 1

    def push(self, token: int, step: int, t: float) -> list[ToolCall | ToolResult]:
        """Take one think-channel token; returns the tool events it completes."""
        if self.queue and token == self.queue[0]:
            self.queue.popleft()
            if token != self.ids.result_end:
                return []
            pending, self.pending = self.pending, None
            result = pending.ready
            return [ToolResult(self.call_id, pending.call.name, result.value, result.error, step, t,
                               pending.ready_at - pending.started)]
        if self.body is None:
            if token == self.ids.call and self.pending is None:
                self.body = []
            return []
        if token != self.ids.call_end:
            self.body.append(token)
            return []
        text = self.tokenizer.decode(self.body, skip_special_tokens=False)
        self.body = None
        parsed = parse_call(text)
        self.pending = self.runner.start(parsed)
        self.call_id = f"call_{next(_ids)}"
        call = self.pending.call
        return [ToolCall(self.call_id, call.name, call.arguments, step, t,
                         parsed.reason if isinstance(parsed, Malformed) else None)]


def injected_positions(stream, ids, p: int, q: int) -> frozenset[int]:
    """Positions of a generated ``stream`` (a decode's ``Done.tokens``) that the decoder wrote, not the model:
    think-slot ``<|tool_wait|>`` tokens and every think-slot token of ``<|result|> ... <|result_end|>``.
    The channel of a position is fixed by the p:q rhythm (:func:`~thinkspeak.layouts.interleave.slot_channel`),
    so say tokens flowing while a result is injected are not counted. ``ids``: the Thinker's ``ToolIds``.
    """
    from thinkspeak.layouts.interleave import slot_channel

    out, inside = set(), False
    for i, token in enumerate(stream):
        if slot_channel(i, p, q) != "think":
            continue
        if token == ids.result:
            inside = True
        if inside or token == ids.tool_wait:
            out.add(i)
        if token == ids.result_end:
            inside = False
    return frozenset(out)
