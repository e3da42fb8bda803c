"""Voicing utterances and mixing a staged dialogue into two 16 kHz channels (user, assistant).

OmniFlatten §4.1: each turn is synthesised separately, placed on its speaker's channel at the times the
timeline gives, and noise is added to the user channel at an SNR drawn from 15-25 dB. Here the SNR is an
*active-speech* SNR: the mean power of the clean user signal over its speech segments divided by the mean
power of the added noise (which runs through the whole channel, silences included, so a model also hears
noise with no speech). A barge-in cut ends the assistant's audio with a 10 ms fade so no click marks it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from thinkspeak.audio import add_noise, make_noise, normalize_loudness, resample
from thinkspeak.data.duplex.timeline import Clip, Timeline, spread_words
from thinkspeak.speech.words import Word

SAMPLE_RATE = 16000
ASSISTANT_LEVEL_DBFS = -23.0
TRIM_BELOW_PEAK_DB = 35.0
TRIM_FRAME_S = 0.01
FADE_S = 0.01


@dataclass(frozen=True)
class Voiced:
    """A synthesised utterance at 16 kHz with leading/trailing silence trimmed, and its timing."""

    pcm: np.ndarray
    clip: Clip


@dataclass(frozen=True)
class Rendered:
    """The mixed channels; ``user_clean`` is the user channel before noise (kept to measure the SNR)."""

    user: np.ndarray
    assistant: np.ndarray
    user_clean: np.ndarray


def _speech_bounds(pcm: np.ndarray, sr: int) -> tuple[int, int]:
    """First and last sample of the frames within ``TRIM_BELOW_PEAK_DB`` of the loudest 10 ms frame."""
    hop = max(1, round(TRIM_FRAME_S * sr))
    n = len(pcm) // hop
    if n == 0:
        return 0, len(pcm)
    rms = np.sqrt(np.mean(pcm[: n * hop].astype(np.float64).reshape(n, hop) ** 2, axis=1))
    loud = np.flatnonzero(rms >= rms.max() * 10.0 ** (-TRIM_BELOW_PEAK_DB / 20.0))
    if rms.max() == 0.0 or loud.size == 0:
        raise ValueError("the synthesised audio is silent")
    return int(loud[0] * hop), int(min(len(pcm), (loud[-1] + 1) * hop))


def voiced(pcm: np.ndarray, sample_rate: int, spoken: str, words: Sequence[object] | None) -> Voiced:
    """Resample engine output to 16 kHz, trim silence at both ends and time its words.

    Engine word times (objects with ``word``, ``start``, ``end`` seconds) are shifted by the trimmed lead;
    without them, words are spread over the speech in proportion to their letters (``estimated``).
    """
    audio = resample(np.asarray(pcm, dtype=np.float32), sample_rate, SAMPLE_RATE)
    first, last = _speech_bounds(audio, SAMPLE_RATE)
    audio = audio[first:last]
    duration = len(audio) / SAMPLE_RATE
    offset = first / SAMPLE_RATE
    if words:
        timed = tuple(
            Word(w.word, min(max(0.0, w.start - offset), duration), min(max(0.0, w.end - offset), duration))
            for w in words
        )
        return Voiced(audio, Clip(duration, timed, "engine"))
    return Voiced(audio, Clip(duration, spread_words(spoken, duration), "estimated"))


def _channel(
    timeline: Timeline, voices: Sequence[Voiced | None], role: str, level_dbfs: float, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """One channel's samples and the mask of samples inside its speech segments (a turn without a voice, None,
    leaves its channel silent)."""
    out = np.zeros(n, dtype=np.float64)
    active = np.zeros(n, dtype=bool)
    fade = round(FADE_S * SAMPLE_RATE)
    for turn in timeline.turns:
        if turn.role != role or voices[turn.clip] is None:
            continue
        start = round(turn.start * SAMPLE_RATE)
        length = min(round((turn.end - turn.start) * SAMPLE_RATE), n - start)
        pcm = normalize_loudness(voices[turn.clip].pcm, SAMPLE_RATE, level_dbfs)[:length].astype(np.float64)
        if turn.truncated:
            ramp = min(fade, len(pcm))
            pcm[len(pcm) - ramp :] *= np.linspace(1.0, 0.0, ramp)
        out[start : start + len(pcm)] += pcm
        active[start : start + len(pcm)] = True
    return out, active


def render(
    timeline: Timeline,
    voices: Sequence[Voiced | None],
    *,
    snr_db: float,
    noise_kind: str,
    user_level_dbfs: float,
    rng: np.random.Generator,
) -> Rendered:
    """Mix the timeline's turns into two channels and add ``noise_kind`` noise to the user channel at an
    active-speech SNR of ``snr_db`` (see module docstring). ``voices`` align with the turns' ``clip`` index."""
    n = round(timeline.duration * SAMPLE_RATE)
    user, active = _channel(timeline, voices, "user", user_level_dbfs, n)
    assistant, _ = _channel(timeline, voices, "assistant", ASSISTANT_LEVEL_DBFS, n)
    active_power = float(np.mean(user[active] ** 2))
    whole_power = float(np.mean(user**2))
    noise = make_noise(noise_kind, n, rng, SAMPLE_RATE)
    noisy = add_noise(user, snr_db + 10.0 * math.log10(whole_power / active_power), rng, noise).astype(np.float64)
    scale = min(1.0, 0.99 / float(np.max(np.abs(noisy))))
    return Rendered((noisy * scale).astype(np.float32), assistant.astype(np.float32),
                    (user * scale).astype(np.float32))


def measured_snr_db(clean: np.ndarray, noisy: np.ndarray, segments: Sequence[tuple[float, float]]) -> float:
    """Active-speech SNR: clean power inside ``segments`` over the power of ``noisy - clean`` everywhere."""
    mask = np.zeros(len(clean), dtype=bool)
    for start, end in segments:
        mask[round(start * SAMPLE_RATE) : round(end * SAMPLE_RATE)] = True
    clean64 = clean.astype(np.float64)
    noise_power = float(np.mean((noisy.astype(np.float64) - clean64) ** 2))
    return 10.0 * math.log10(float(np.mean(clean64[mask] ** 2)) / noise_power)
