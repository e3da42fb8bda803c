"""The transport stage: Realtime events in (parsed, rate-limited) and out (serialised, timed, dropped when stale).

Everything a session sends goes through :meth:`Transport.send`: events of a cancelled response are dropped at
the last moment, and a client that stops reading cannot hold its session forever -- a write that does not
complete within ``write_timeout_s`` closes the connection.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from thinkspeak.serve.cancel import CancelToken

log = logging.getLogger("thinkspeak.serve")

#: ``send(event, token, on_sent)``: queue a server event; dropped unsent if ``token`` is cancelled by then.
Send = Callable[[dict[str, Any], CancelToken | None, Callable[[float], None] | None], Awaitable[None]]


class Transport:
    """One connection's outgoing side; ``closed`` once the socket failed or the session closed."""

    def __init__(self, send_text: Callable[[str], Awaitable[None]], *, write_timeout_s: float,
                 on_stall: Callable[[], object] | None = None) -> None:
        self._send_text = send_text
        self._lock = asyncio.Lock()
        self.write_timeout_s = write_timeout_s
        self._on_stall = on_stall
        self.closed = self.stalled = False

    async def send(self, event: dict[str, Any], token: CancelToken | None = None,
                   on_sent: Callable[[float], None] | None = None) -> None:
        """Write one server event; events of a cancelled token are dropped."""
        async with self._lock:
            if self.closed or (token is not None and token.cancelled):
                return
            try:
                await asyncio.wait_for(self._send_text(json.dumps(event)), self.write_timeout_s)
            except TimeoutError:
                log.warning("client stopped reading for %.0f s; closing its session", self.write_timeout_s)
                self.closed = self.stalled = True
                if self._on_stall is not None:
                    self._on_stall()
                return
            except Exception:  # the socket is gone; the app's receive loop will close the session
                self.closed = True
                return
            if on_sent is not None:
                on_sent(time.monotonic())
