"""A session's conversation: its items in order and the multi-turn history the Thinker sees.

Memory is per session and never shared (CleanS2S keeps one chat for all users, REFERENCE.md), and bounded:
past ``max_items`` items or ``max_bytes`` of text and audio the oldest items are dropped (the Realtime
API's truncation). Assistant items keep a :class:`~thinkspeak.serve.playout.PlayoutClock`, so after a
barge-in or a client ``conversation.item.truncate`` their text is cut to the words the user actually heard.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import numpy as np

from thinkspeak.serve.audio import HEARING_RATE
from thinkspeak.serve.playout import PlayoutClock
from thinkspeak.serve.protocol import ProtocolError


@dataclass
class Item:
    """One conversation item. User items hear through ``transcript`` (a future resolved by ASR or at once for
    typed text); a spoken user item keeps its 16 kHz ``audio`` only until it is heard (:meth:`forget_audio`),
    so a long session does not hoard audio. Assistant items hold what was said and, for audio, its playout
    clock."""

    id: str
    role: str
    audio: np.ndarray | None = None
    transcript: asyncio.Future[str] | None = None
    text: str = ""
    clock: PlayoutClock | None = None
    audio_end_ms: float | None = None
    audio_s: float = 0.0

    def __post_init__(self) -> None:
        if self.audio is not None:
            self.audio_s = self.audio.size / HEARING_RATE

    @property
    def spoken(self) -> bool:
        """A user item that came as audio."""
        return self.audio_s > 0

    def forget_audio(self) -> None:
        self.audio = None

    @property
    def nbytes(self) -> int:
        """What the item holds in memory: its text, transcript or spoken text, and audio not yet heard."""
        size = len(self.text.encode("utf-8")) + (self.audio.nbytes if self.audio is not None else 0)
        spoken = self.user_text() if self.role == "user" else (self.heard if self.clock is not None else "")
        return size + len((spoken or "").encode("utf-8"))

    @property
    def heard(self) -> str:
        """The text the user heard (assistant audio items) or the item's text."""
        if self.clock is None:
            return self.text
        if self.audio_end_ms is None:
            return " ".join(span.text for span in self.clock.spans)
        return self.clock.heard_text(self.audio_end_ms)

    def user_text(self) -> str | None:
        """A user item's text once heard, else None."""
        if self.transcript is None or not self.transcript.done() or self.transcript.cancelled():
            return None
        if self.transcript.exception() is not None:
            return None
        return self.transcript.result()


@dataclass
class Conversation:
    """The ordered items of one session, at most ``max_items`` of them holding at most ``max_bytes``."""

    max_items: int = 200
    max_bytes: int = 8 << 20
    items: list[Item] = field(default_factory=list)

    def add(self, item: Item) -> str | None:
        """Append ``item``; return the id of the item before it (``previous_item_id``)."""
        previous = self.items[-1].id if self.items else None
        self.items.append(item)
        return previous

    def trim(self, keep: tuple[Item | None, ...] = ()) -> list[str]:
        """Drop the oldest items (but not those in ``keep`` or the newest) while over the limits; their ids."""
        dropped: list[str] = []
        total = sum(item.nbytes for item in self.items)
        for item in list(self.items[:-1]):
            if len(self.items) <= self.max_items and total <= self.max_bytes:
                break
            if any(item is k for k in keep):
                continue
            total -= item.nbytes
            self.items.remove(item)
            dropped.append(item.id)
        return dropped

    def clear(self) -> None:
        self.items = []

    def get(self, item_id: str) -> Item | None:
        return next((item for item in self.items if item.id == item_id), None)

    def truncate(self, item_id: str, audio_end_ms: int, content_index: int, event_id: str | None) -> None:
        """``conversation.item.truncate``: the assistant audio item was heard up to ``audio_end_ms``."""
        item = self.get(item_id)
        if item is None or item.role != "assistant" or item.clock is None:
            raise ProtocolError("invalid_value", f"no assistant audio item '{item_id[:60]}' to truncate", "item_id",
                                event_id)
        if content_index != 0 or audio_end_ms < 0:
            raise ProtocolError("invalid_value", "content_index must be 0 and audio_end_ms >= 0", "audio_end_ms",
                                event_id)
        if audio_end_ms > item.clock.sent_ms:
            raise ProtocolError("invalid_value", f"audio_end_ms {audio_end_ms} is beyond the item's audio "
                                f"({item.clock.sent_ms:.0f} ms)", "audio_end_ms", event_id)
        item.audio_end_ms = float(audio_end_ms)

    def delete(self, item_id: str) -> bool:
        before = len(self.items)
        self.items = [item for item in self.items if item.id != item_id]
        return len(self.items) != before

    def last_user(self) -> Item | None:
        return next((item for item in reversed(self.items) if item.role == "user"), None)

    def history(self, before: Item | None = None) -> tuple[tuple[str, str], ...]:
        """(user text, assistant text as heard) pairs of the answered turns before ``before``."""
        pairs: list[tuple[str, str]] = []
        user: str | None = None
        for item in self.items:
            if item is before:
                break
            if item.role == "user":
                user = item.user_text()
            elif item.role == "assistant" and user:
                pairs.append((user, item.heard))
                user = None
        return tuple(pairs)

    def instructions(self, base: str) -> str:
        """Session instructions followed by the text of any system items."""
        extra = [item.text for item in self.items if item.role == "system" and item.text]
        return "\n".join([base, *extra]).strip()
