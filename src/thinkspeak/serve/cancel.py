"""Per-session generation counter: the one cancellation mechanism for barge-in, response.cancel and disconnects.

Every response runs under a :class:`CancelToken` taken from the session's :class:`Generation`. Cancelling bumps the
counter; every producer (decoder thread, TTS thread, audio sender) asks ``token.cancelled`` between chunks,
so stale work stops at its next chunk boundary and never reaches the client. Reading an int is atomic under
the GIL, so threads need no lock and nothing sleeps waiting for a flag.
"""

from __future__ import annotations

from dataclasses import dataclass


class Generation:
    """A monotonically increasing counter; the live token is the one whose number equals the counter."""

    def __init__(self) -> None:
        self._value = 0

    @property
    def value(self) -> int:
        return self._value

    def begin(self) -> CancelToken:
        """A token for new work, cancelling whatever work was live."""
        self._value += 1
        return CancelToken(self, self._value)

    def cancel(self) -> None:
        """Cancel the live work without starting other work."""
        self._value += 1


@dataclass(frozen=True)
class CancelToken:
    """A handle on one generation; ``cancelled`` becomes true once the session moves on (not a user turn:
    those are :mod:`thinkspeak.serve.turns`)."""

    generation: Generation
    number: int

    @property
    def cancelled(self) -> bool:
        return self.generation.value != self.number

    def __call__(self) -> bool:
        """Callable form of :attr:`cancelled`, for decoders that take a ``cancel`` predicate."""
        return self.cancelled
