"""Ground-truth floor events of a staged dialogue: what a full-duplex model is scored on.

From the turns of a corpus row (:mod:`.store`), the four situations Full-Duplex-Bench v1 (§3) measures:

* ``turn_end``: a user turn (not a barge-in) ends; the assistant should take the floor (smooth turn-taking);
* ``barge_in``: a user turn starts while the assistant speaks; it should stop, and answer after the
  interruption ends (user interruption);
* ``backchannel``: a short user sound during the assistant's turn; it should go on (not a turn);
* ``pause``: a silence inside a user turn (between sentences, or a trail-off); it should keep listening.

``until`` bounds the window in which the assistant's answer to the event is read: the next user turn's start
(or the dialogue's end), the end of the user turn for a pause, one second after a backchannel.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from thinkspeak.data.duplex.timeline import inner_pauses
from thinkspeak.speech.words import Word

KINDS = ("turn_end", "barge_in", "backchannel", "pause")
BACKCHANNEL_WINDOW_S = 1.0
PAUSE_MIN_S = 0.25


@dataclass(frozen=True)
class FloorEvent:
    kind: str
    start: float
    end: float
    until: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def floor_events(turns: Sequence[dict[str, Any]], duration: float) -> list[FloorEvent]:
    """The floor events of a row's ``turns`` (dicts with role, kind, start, end, words), in time order."""
    users = sorted((t for t in turns if t["role"] == "user"), key=lambda t: t["start"])
    floor_turns = [t for t in users if t["kind"] != "backchannel"]
    out: list[FloorEvent] = []
    for k, t in enumerate(floor_turns):
        until = floor_turns[k + 1]["start"] if k + 1 < len(floor_turns) else duration
        kind = "barge_in" if t["kind"] == "barge_in" else "turn_end"
        out.append(FloorEvent(kind, t["start"] if kind == "barge_in" else t["end"], t["end"], until))
        words = [Word(w["word"], w["start"], w["end"]) for w in t["words"]]
        out += [FloorEvent("pause", a, b, t["end"]) for a, b in inner_pauses(words, PAUSE_MIN_S)]
    for t in users:
        if t["kind"] == "backchannel":
            out.append(FloorEvent("backchannel", t["start"], t["end"], min(duration, t["end"] + BACKCHANNEL_WINDOW_S)))
    return sorted(out, key=lambda e: (e.start, e.kind))


def speech_segments(turns: Sequence[dict[str, Any]], role: str) -> list[tuple[float, float]]:
    """One channel's speech as segments, each turn split at its inner pauses (for turn-taking statistics)."""
    out = []
    for t in turns:
        if t["role"] != role:
            continue
        words = [Word(w["word"], w["start"], w["end"]) for w in t["words"]]
        start = t["start"]
        for a, b in inner_pauses(words, PAUSE_MIN_S):
            out.append((start, a))
            start = b
        out.append((start, t["end"]))
    return sorted(out)
