"""The transport stage: Realtime events in (parsed, rate-limited, routed by type) and out (serialised, timed,
dropped when stale).

In: :meth:`Transport.receive` takes one WebSocket frame, checks the message rate, parses it
(:func:`~thinkspeak.serve.protocol.parse_client_event`) and hands the event to the stage that handles its
type (the session's table, :attr:`Transport.handlers`: audio goes straight to the listener). A client mistake
becomes an ``error`` event; too many of them close the connection as abuse (1008).

Out: everything a session sends goes through :meth:`Transport.send`: events of a cancelled response are
dropped at the last moment, and a client that stops reading cannot hold its session forever -- a write that
does not complete within ``write_timeout_s`` closes the connection.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from thinkspeak.serve import protocol as P
from thinkspeak.serve.cancel import CancelToken
from thinkspeak.serve.config import ServerLimits
from thinkspeak.serve.metrics import ServerMetrics
from thinkspeak.serve.protocol import ClientEvent, ProtocolError
from thinkspeak.serve.ratelimit import ErrorWindow, TokenBucket

log = logging.getLogger("thinkspeak.serve")

POLICY_VIOLATION = 1008

#: ``send(event, token, on_sent)``: queue a server event; dropped unsent if ``token`` is cancelled by then.
Send = Callable[[dict[str, Any], CancelToken | None, Callable[[float], None] | None], Awaitable[None]]
Handler = Callable[[ClientEvent], Awaitable[None]]


class Transport:
    """One connection; ``closed`` once the socket failed or the session closed."""

    def __init__(self, send_text: Callable[[str], Awaitable[None]], limits: ServerLimits, metrics: ServerMetrics,
                 *, on_stall: Callable[[], object] | None = None, name: str = "") -> None:
        self._send_text = send_text
        self._lock = asyncio.Lock()
        self.limits, self.metrics, self.name = limits, metrics, name
        self._on_stall = on_stall
        self._messages = TokenBucket(limits.messages_per_s, limits.message_burst)
        self._errors = ErrorWindow(limits.max_errors, limits.error_window_s)
        self.handlers: dict[str, Handler] = {}
        self.closed = self.stalled = False

    # ------------------------------------------------------------------ in
    async def receive(self, raw: str | bytes | None) -> int | None:
        """Route one client message to its handler; return a close code when the client must be disconnected."""
        now = time.monotonic()
        try:
            if not self._messages.take(1, now):
                raise ProtocolError("rate_limit_exceeded", "too many messages; slow down", type="rate_limit_error")
            if not isinstance(raw, str):
                raise ProtocolError("invalid_json", "send events as JSON text frames, not binary frames")
            event = P.parse_client_event(raw, max_bytes=self.limits.max_message_bytes)
            await self.handlers[event.type](event)
        except ProtocolError as err:
            return await self.error(err, now)
        return None

    async def error(self, err: ProtocolError, now: float | None = None) -> int | None:
        """Send ``err`` as an ``error`` event; POLICY_VIOLATION once the client's errors count as abuse."""
        self.metrics.errors.labels(err.code).inc()
        await self.send(P.error_event(err))
        if self._errors.add(time.monotonic() if now is None else now):
            log.warning("session %s closed for abuse (%s)", self.name, err.code)
            return POLICY_VIOLATION
        return None

    # ------------------------------------------------------------------ out
    async def send(self, event: dict[str, Any], token: CancelToken | None = None,
                   on_sent: Callable[[float], None] | None = None) -> None:
        """Write one server event; events of a cancelled token are dropped."""
        async with self._lock:
            if self.closed or (token is not None and token.cancelled):
                return
            try:
                await asyncio.wait_for(self._send_text(json.dumps(event)), self.limits.write_timeout_s)
            except TimeoutError:
                log.warning("client stopped reading for %.0f s; closing its session", self.limits.write_timeout_s)
                self.closed = self.stalled = True
                if self._on_stall is not None:
                    self._on_stall()
                return
            except Exception:  # the socket is gone; the app's receive loop will close the session
                self.closed = True
                return
            if on_sent is not None:
                on_sent(time.monotonic())
