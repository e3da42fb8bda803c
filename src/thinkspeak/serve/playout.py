"""The playout stage: a real-time playback model of sent audio, pacing, and the text under a cut point.

The server never hears the client's speaker, so it models it: audio sent at wall time ``t`` starts playing
when everything sent before it has played (``play_end = max(play_end, t) + duration``). That estimate is the
truncation point of a barge-in when the client sends no ``conversation.item.truncate`` of its own, and it
paces the sender (at most ``lead`` seconds of audio queued at the client, so a barge-in has little to
flush). Each sent chunk keeps its text, so the history can be cut to the words actually heard (what
CleanS2S does not do, REFERENCE.md).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field


@dataclass(frozen=True)
class SpokenSpan:
    """Text spoken by audio ``[start_ms, end_ms)`` of an assistant item."""

    start_ms: float
    end_ms: float
    text: str


@dataclass
class PlayoutClock:
    """Playback model of one assistant item's audio; times are ``time.monotonic()`` seconds."""

    sent_ms: float = 0.0
    play_end: float | None = None
    spans: list[SpokenSpan] = field(default_factory=list)

    def sent(self, duration_ms: float, now: float) -> None:
        """Record ``duration_ms`` of audio handed to the client at ``now``."""
        start = now if self.play_end is None else max(self.play_end, now)
        self.play_end = start + duration_ms / 1000.0
        self.sent_ms += duration_ms

    def add_text(self, start_ms: float, end_ms: float, text: str) -> None:
        """Attach ``text`` to the audio interval ``[start_ms, end_ms)``."""
        self.spans.append(SpokenSpan(start_ms, end_ms, text))

    def played_ms(self, now: float) -> float:
        """Milliseconds of this item's audio played by ``now`` (never more than was sent)."""
        if self.play_end is None:
            return 0.0
        return max(0.0, self.sent_ms - max(0.0, self.play_end - now) * 1000.0)

    def queued_s(self, now: float) -> float:
        """Seconds of sent audio not yet played at ``now``."""
        return 0.0 if self.play_end is None else max(0.0, self.play_end - now)

    def heard_text(self, audio_end_ms: float) -> str:
        """The text spoken by the first ``audio_end_ms`` of audio; see :func:`heard_text`."""
        return heard_text(self.spans, audio_end_ms)


def heard_text(spans: list[SpokenSpan], audio_end_ms: float) -> str:
    """Words heard when playback stopped at ``audio_end_ms``: whole spans before it, then the share of the
    cut span's words proportional to the share of its audio played (rounded down)."""
    words: list[str] = []
    for span in spans:
        span_words = span.text.split()
        if span.end_ms <= audio_end_ms:
            words.extend(span_words)
            continue
        if span.start_ms < audio_end_ms and span.end_ms > span.start_ms:
            share = (audio_end_ms - span.start_ms) / (span.end_ms - span.start_ms)
            words.extend(span_words[: int(len(span_words) * share)])
        break
    return " ".join(words)


async def pace(clock: PlayoutClock, lead_ms: float, gate: asyncio.Event) -> None:
    """Wait until the client's queue is under ``lead_ms`` and output is not held by a possible barge-in."""
    excess = clock.queued_s(time.monotonic()) - lead_ms / 1000.0
    if excess > 0:
        await asyncio.sleep(excess)
    await gate.wait()


@dataclass
class HeldReasoning:
    """Reasoning released in stream order with the speech before it (thinking-in-speaking as heard).

    The decoder runs faster than speech, so reasoning sent as soon as it is decoded would reach the client
    long before the words it follows are played (think-first to the listener). Each reasoning piece is held
    with the number of spoken words decoded before it and released once that many words have started to
    play (Mini-Omni-Reasoner §3: the reasoning that licenses a phrase sits next to it in the stream).
    """

    _held: list[tuple[float, str]] = field(default_factory=list)

    def hold(self, words_said: float, text: str) -> None:
        self._held.append((words_said, text))

    def release(self, words_played: float) -> list[str]:
        """The held pieces whose preceding speech has started to play, in stream order."""
        ready = 0
        while ready < len(self._held) and self._held[ready][0] <= words_played:
            ready += 1
        out = [text for _, text in self._held[:ready]]
        del self._held[:ready]
        return out

    def rest(self) -> list[str]:
        out = [text for _, text in self._held]
        self._held.clear()
        return out
