"""Staging a dialogue on two channels: who speaks when (pure timing, no audio).

The rule (OmniFlatten §4.1 "pseudo full-duplex data", with the events Full-Duplex-Bench v1 §3 measures):

* the dialogue opens with ``lead_in`` seconds of silence, then the first user turn;
* each assistant turn starts ``gap`` seconds after the end of the user turn it answers;
* after a complete assistant turn, the next user turn starts after a pause ~ Normal(``pause_mean``,
  ``pause_std``), clipped at 0;
* **barge-in**: the next user turn starts at a uniform point between 25 % and 75 % of the assistant turn;
  the assistant channel is cut ``reaction`` seconds later (or ends by itself if it finishes first); the
  turn is marked ``truncated`` and keeps only the words heard before the cut;
* **backchannel**: a short user sound starts at an assistant word boundary at least ``BACKCHANNEL_LEAD``
  seconds into the assistant turn and ends at least ``BACKCHANNEL_CLEARANCE`` seconds before it; the
  assistant goes on. If the turn is too short to hold it, the backchannel is dropped;
* ``tail`` seconds of silence follow the last turn (the duration is rounded up to a whole millisecond, so it
  is a whole number of 16 kHz samples).

Every random draw comes from the caller's generator in a fixed order (three per exchange), so a timeline is a
pure function of (dialogue, clip durations, config, generator state).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from thinkspeak.data.dialogues import Dialogue, Kind, Role, Utterance
from thinkspeak.data.duplex.config import DuplexConfig
from thinkspeak.speech.words import Word

BARGE_IN_WINDOW = (0.25, 0.75)
BACKCHANNEL_LEAD = 1.0
BACKCHANNEL_CLEARANCE = 0.3

# Estimated speech timing (no-audio mode, and word times for engines that give none): seconds per letter and
# per word, plus a pause per sentence break. Least-squares fit to 76 dialogue utterances voiced by espeak-ng
# (en-us, 175 wpm) and piper (joe), speech trimmed: mean absolute error 7 % and 11 % of the duration.
SECONDS_PER_CHAR = 0.05
SECONDS_PER_WORD = 0.1
SECONDS_PER_SENTENCE = 0.07


@dataclass(frozen=True)
class Clip:
    """One voiced utterance: speech duration (silence trimmed) and word times relative to the clip start."""

    duration: float
    words: tuple[Word, ...]
    words_source: Literal["engine", "estimated"]


def _word_weights(words: Sequence[str]) -> list[float]:
    return [SECONDS_PER_CHAR * sum(c.isalnum() for c in w) + SECONDS_PER_WORD for w in words]


def spread_words(spoken: str, duration: float) -> tuple[Word, ...]:
    """Word times for ``spoken`` filling ``duration``, in proportion to letters (+ a per-word share)."""
    words = spoken.split()
    weights = _word_weights(words)
    scale = duration / sum(weights) if weights else 0.0
    out, t = [], 0.0
    for word, weight in zip(words, weights, strict=True):
        out.append(Word(word, t, min(duration, t + weight * scale)))
        t += weight * scale
    return tuple(out)


def estimate_clip(spoken: str) -> Clip:
    """A clip whose duration is estimated from the text (letters, words and sentence ends)."""
    words = spoken.split()
    if not words:
        raise ValueError(f"spoken must contain words, got {spoken!r}")
    sentences = len(re.findall(r"[.!?](\s|$)", spoken))
    duration = sum(_word_weights(words)) + SECONDS_PER_SENTENCE * max(0, sentences - 1)
    return Clip(round(duration, 3), spread_words(spoken, round(duration, 3)), "estimated")


def pause_split(spoken: str, where: float) -> tuple[str, str] | None:
    """Where a user turn pauses inside (Full-Duplex-Bench v1 pause handling): at a sentence break if it has one
    (the one nearest ``where`` in [0, 1] of its sentence breaks), else a trail-off after a word in the middle
    third; None for turns of fewer than 4 words."""
    words = spoken.split()
    if len(words) < 4:
        return None
    breaks = [i + 1 for i, w in enumerate(words[:-1]) if w[-1] in ".!?"]
    if breaks:
        cut = breaks[min(len(breaks) - 1, int(where * len(breaks)))]
    else:
        lo, hi = max(1, len(words) // 3), max(1, (2 * len(words)) // 3)
        cut = lo + min(hi - lo, int(where * (hi - lo + 1)))
    return " ".join(words[:cut]), " ".join(words[cut:])


def join_clips(first: Clip, second: Clip, pause: float) -> Clip:
    """One clip: ``first``, ``pause`` seconds of silence, ``second`` (word times shifted)."""
    shift = first.duration + pause
    words = first.words + tuple(Word(w.word, w.start + shift, w.end + shift) for w in second.words)
    source = "engine" if first.words_source == second.words_source == "engine" else "estimated"
    return Clip(round(shift + second.duration, 6), words, source)


def inner_pauses(words: Sequence[Word], min_pause: float = 0.25) -> list[tuple[float, float]]:
    """Silences of at least ``min_pause`` seconds between consecutive words of one turn (its inner pauses)."""
    return [(a.end, b.start) for a, b in zip(words, words[1:], strict=False) if b.start - a.end >= min_pause]


@dataclass(frozen=True)
class PlacedTurn:
    """An utterance placed on its channel. ``start``/``end`` bound the speech actually on the channel.

    ``words`` are absolute times of the words that started before the end (the last one clipped when the
    turn was cut); ``heard`` is the spoken text of the words that finished before it.
    """

    role: Role
    kind: Kind
    text: str
    spoken: str
    answer: str | None
    start: float
    end: float
    truncated: bool
    heard: str
    words: tuple[Word, ...]
    words_source: str
    clip: int  # index of the utterance in dialogue_utterances(...)


@dataclass(frozen=True)
class Timeline:
    turns: tuple[PlacedTurn, ...]
    duration: float

    def segments(self, role: Role) -> list[tuple[float, float]]:
        """Speech segments ``[start, end]`` of one channel in time order (each turn is one segment)."""
        return sorted((t.start, t.end) for t in self.turns if t.role == role)

    def count(self, kind: Kind) -> int:
        return sum(t.kind == kind for t in self.turns)


def dialogue_utterances(dialogue: Dialogue) -> list[Utterance]:
    """The utterances to voice, in a fixed order: per exchange the user turn, the reply, the backchannel."""
    out = []
    for exchange in dialogue.exchanges:
        out += [exchange.user, exchange.assistant] + ([exchange.backchannel] if exchange.backchannel else [])
    return out


def _place(utt: Utterance, clip: Clip, index: int, start: float, cut: float | None = None) -> PlacedTurn:
    end = start + clip.duration if cut is None else min(cut, start + clip.duration)
    truncated = end < start + clip.duration
    words = tuple(Word(w.word, start + w.start, min(end, start + w.end)) for w in clip.words if start + w.start < end)
    heard = " ".join(w.word for w in clip.words if start + w.end <= end) if truncated else utt.spoken
    return PlacedTurn(utt.role, utt.kind, utt.text, utt.spoken, utt.answer, start, end, truncated, heard,
                      words, clip.words_source, index)


def _backchannel_start(reply: PlacedTurn, length: float, fraction: float) -> float | None:
    lo, hi = reply.start + BACKCHANNEL_LEAD, reply.end - BACKCHANNEL_CLEARANCE - length
    if hi < lo:
        return None
    target = lo + fraction * (hi - lo)
    boundaries = [w.end for w in reply.words if lo <= w.end <= hi]
    return min(boundaries, key=lambda b: abs(b - target)) if boundaries else target


def place_dialogue(
    dialogue: Dialogue, clips: Sequence[Clip], config: DuplexConfig, rng: np.random.Generator
) -> Timeline:
    """Stage ``dialogue`` (clips aligned with :func:`dialogue_utterances`) by the rule in the module docstring."""
    utterances = dialogue_utterances(dialogue)
    if len(clips) != len(utterances):
        raise ValueError(f"clips must hold one clip per utterance ({len(utterances)}), got {len(clips)}")
    placed: list[PlacedTurn] = []
    index, user_start = 0, config.lead_in
    for k, exchange in enumerate(dialogue.exchanges):
        pause, barge_fraction, backchannel_fraction = (
            max(0.0, float(rng.normal(config.pause_mean, config.pause_std))),
            float(rng.uniform(*BARGE_IN_WINDOW)),
            float(rng.uniform()),
        )
        user = _place(exchange.user, clips[index], index, user_start)
        reply_start = user.end + config.gap
        reply_clip = clips[index + 1]
        if dialogue.interrupted(k):
            user_start = reply_start + barge_fraction * reply_clip.duration
            reply = _place(exchange.assistant, reply_clip, index + 1, reply_start, user_start + config.reaction)
        else:
            reply = _place(exchange.assistant, reply_clip, index + 1, reply_start)
            user_start = reply.end + pause
        placed += [user, reply]
        index += 2
        if exchange.backchannel is not None:
            start = _backchannel_start(reply, clips[index].duration, backchannel_fraction)
            if start is not None:
                placed.append(_place(exchange.backchannel, clips[index], index, start))
            index += 1
    duration = math.ceil((max(t.end for t in placed) + config.tail) * 1000.0) / 1000.0  # whole ms: whole samples
    return Timeline(tuple(sorted(placed, key=lambda t: (t.start, t.clip))), duration)


def activity_frames(segments: Sequence[tuple[float, float]], duration: float, rate: float) -> list[int]:
    """Speech activity at ``rate`` Hz: frame ``t`` (covering ``[t/rate, (t+1)/rate)``) is 1 when its centre
    lies inside a segment. ``ceil(duration * rate)`` frames: the grid of SyncLLM's 25 Hz units (§3.1) and of
    the chunks OmniFlatten interleaves (§3.3)."""
    n = math.ceil(duration * rate - 1e-9)
    centres = (np.arange(n) + 0.5) / rate
    active = np.zeros(n, dtype=bool)
    for start, end in segments:
        active |= (centres >= start) & (centres < end)
    return active.astype(int).tolist()
