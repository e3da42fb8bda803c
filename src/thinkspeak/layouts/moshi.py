"""Moshi's inner monologue: text tokens aligned to audio frames from word timestamps (Moshi §3.4.4).

Moshi (Kyutai 2024, §3.4.4) predicts a text stream time-aligned with its 12.5 Hz audio frames. The text of
a word is placed at the frame where the word starts; frames without text hold ``PAD``, and the frame right
before a word's first token holds ``EPAD`` (end of padding) so the model knows a word comes next.

The exact rule implemented by :func:`align_text`: ``T = ceil(duration * frame_rate)`` frames; at frame
``t`` every word with ``start * frame_rate < t + 1`` is queued (in order); if the queue is non-empty its next
token is emitted at ``t``, and ``text[t - 1]`` becomes ``EPAD`` if it was ``PAD``. Example (12.5 Hz, PAD=3,
EPAD=0; 'hello' = [101, 102] at 0.0-0.4 s, 'world' = [201] at 0.5-0.9 s, 1.2 s)::

    frame  0   1   2  3  4  5  6   7 .. 14
    text   101 102 3  3  3  0  201 3 .. 3

:func:`split_words` recovers the word token groups: a word starts at the first token or after an ``EPAD``.
Words whose tokens touch (no free frame between them, so no ``EPAD``) come back merged; that is all the
layout keeps. :class:`WordDecoder` does the same on a stream, frame by frame.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

_ROUND = 9  # frame positions are rounded to 1e-9 frame so 1.2 s * 12.5 Hz is 15 frames, not 15.000000000000002


def _check_token(name: str, value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"{name} must be an int token id, got {value!r}")
    return value


def _check_markers(pad: object, epad: object) -> None:
    _check_token("pad", pad)
    _check_token("epad", epad)
    if pad == epad:
        raise ValueError(f"pad and epad must differ, got {pad!r} for both")


def _check_positive(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < math.inf:
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return float(value)


def align_text(
    words: Sequence[tuple[Sequence[int], float, float]],
    duration: float,
    frame_rate: float = 12.5,
    pad: int = 3,
    epad: int = 0,
) -> list[int]:
    """The frame-aligned text stream of ``words`` = ``[(tokens, start_s, end_s), ...]`` (rule above).

    Words must be in order of start time, each with at least one token (not ``pad``/``epad``) and
    ``0 <= start <= end``. Every token must fit before the end: a ``ValueError`` says how long ``duration``
    must be otherwise.
    """
    duration = _check_positive("duration", duration)
    frame_rate = _check_positive("frame_rate", frame_rate)
    _check_markers(pad, epad)
    n_frames = math.ceil(round(duration * frame_rate, _ROUND))
    starts: list[float] = []
    for k, word in enumerate(words):
        if len(word) != 3:
            raise ValueError(f"words[{k}] must be (tokens, start, end), got {word!r}")
        tokens, start, end = word
        if not tokens:
            raise ValueError(f"words[{k}] must have at least one token, got {tokens!r}")
        for j, tok in enumerate(tokens):
            if _check_token(f"words[{k}] token {j}", tok) in (pad, epad):
                raise ValueError(f"words[{k}] token {j} is {tok}, which is the pad or epad marker")
        for name, value in (("start", start), ("end", end)):
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < math.inf:
                raise ValueError(f"words[{k}] {name} must be a finite number of seconds >= 0, got {value!r}")
        if end < start:
            raise ValueError(f"words[{k}] must have start <= end, got {start} > {end}")
        if starts and start < starts[-1]:
            raise ValueError(f"words must be sorted by start time: words[{k}] starts at {start} s, "
                             f"before words[{k - 1}] at {starts[-1]} s")
        if round(start * frame_rate, _ROUND) >= n_frames:
            raise ValueError(f"words[{k}] starts at {start} s, not before the end of the {duration} s "
                             f"({n_frames} frames)")
        starts.append(start)

    text = [pad] * n_frames
    queue: deque[int] = deque()
    next_word = 0
    for t in range(n_frames):
        while next_word < len(words) and round(starts[next_word] * frame_rate, _ROUND) < t + 1:
            queue.extend(words[next_word][0])
            next_word += 1
        if queue:
            text[t] = queue.popleft()
            if t > 0 and text[t - 1] == pad:
                text[t - 1] = epad
    if queue:
        need = (n_frames + len(queue)) / frame_rate
        raise ValueError(f"duration {duration} s ({n_frames} frames) is too short: {len(queue)} text tokens "
                         f"are still queued at the end; it must be at least {need:g} s")
    return text


@dataclass(frozen=True)
class WordToken:
    """A text token of the aligned stream, with its frame and the index of the word it belongs to."""

    frame: int
    word: int
    token: int


class WordDecoder:
    """Streaming inverse of :func:`align_text`: labels each text token with its word as frames arrive.

    A word starts at the first token of the stream or at a token right after ``EPAD``. The stream must
    follow the layout: ``EPAD`` is always followed by a token and a token never follows ``PAD`` directly.
    """

    def __init__(self, pad: int = 3, epad: int = 0):
        _check_markers(pad, epad)
        self.pad, self.epad = pad, epad
        self.frame = 0
        self.word = -1
        self._previous: int | None = None

    def push(self, token: int) -> WordToken | None:
        _check_token(f"frame {self.frame} token", token)
        previous, self._previous = self._previous, token
        t = self.frame
        self.frame += 1
        if previous == self.epad and token in (self.pad, self.epad):
            raise ValueError(f"frame {t}: EPAD at frame {t - 1} must be followed by a text token, got {token}")
        if token in (self.pad, self.epad):
            return None
        if previous == self.pad:
            raise ValueError(f"frame {t}: text token {token} follows PAD; the frame before a word holds EPAD")
        if previous is None or previous == self.epad:
            self.word += 1
        return WordToken(t, self.word, token)

    def feed(self, tokens: Iterable[int]) -> list[WordToken]:
        return [w for w in (self.push(tok) for tok in tokens) if w is not None]

    def close(self) -> None:
        """Check that the stream does not end on ``EPAD`` (a word was announced but never came)."""
        if self._previous == self.epad:
            raise ValueError(f"text ends with EPAD at frame {self.frame - 1}; EPAD must be followed by a token")


def split_words(text: Sequence[int], pad: int = 3, epad: int = 0) -> list[list[int]]:
    """Inverse of :func:`align_text`: the token groups of the words (touching words come back merged)."""
    decoder = WordDecoder(pad, epad)
    groups: list[list[int]] = []
    for w in decoder.feed(text):
        if w.word == len(groups):
            groups.append([])
        groups[w.word].append(w.token)
    decoder.close()
    return groups
