"""Per-session generation counter: the one cancellation mechanism for barge-in, response.cancel and disconnects.

Every response runs under a :class:`Turn` taken from the session's :class:`Generation`. Cancelling bumps the
counter; every producer (decoder thread, TTS thread, audio sender) asks ``turn.cancelled`` between chunks,
so stale work stops at its next chunk boundary and never reaches the client. Reading an int is atomic under
the GIL, so threads need no lock and nothing sleeps waiting for a flag.
"""

from __future__ import annotations

from dataclasses import dataclass


class Generation:
    """A monotonically increasing counter; the live turn is the one whose number equals the counter."""

    def __init__(self) -> None:
        self._value = 0

    @property
    def value(self) -> int:
        return self._value

    def begin(self) -> Turn:
        """Start a new turn, cancelling whatever turn was live."""
        self._value += 1
        return Turn(self, self._value)

    def cancel(self) -> None:
        """Cancel the live turn without starting another."""
        self._value += 1


@dataclass(frozen=True)
class Turn:
    """A handle on one generation; ``cancelled`` becomes true once the session moves on."""

    generation: Generation
    number: int

    @property
    def cancelled(self) -> bool:
        return self.generation.value != self.number

    def __call__(self) -> bool:
        """Callable form of :attr:`cancelled`, for decoders that take a ``cancel`` predicate."""
        return self.cancelled
