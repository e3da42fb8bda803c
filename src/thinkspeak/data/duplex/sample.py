"""One pseudo full-duplex sample, a pure function of (seed, index, config).

Independent random streams per sample keep every part reproducible on its own: the dialogue text, the
timeline draws, the acoustic plan (voice, SNR, noise kind, user level) and the noise samples each come from
``numpy.random.default_rng([seed, index, stream])``. The acoustic plan is drawn in ``no_audio`` mode too, so a
timeline-only corpus and a voiced one share texts, voices, SNRs and event structure.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from thinkspeak.data.dialogues import Dialogue, make_dialogue, pick
from thinkspeak.data.duplex.config import DuplexConfig
from thinkspeak.data.duplex.render import SAMPLE_RATE, Rendered, Voiced, render, voiced
from thinkspeak.data.duplex.timeline import (
    Clip,
    Timeline,
    dialogue_utterances,
    estimate_clip,
    join_clips,
    pause_split,
    place_dialogue,
)

TEXT_STREAM, TIMELINE_STREAM, PLAN_STREAM, NOISE_STREAM, PAUSE_STREAM = range(5)
USER_LEVEL_DBFS = (-29.0, -19.0)


@dataclass(frozen=True)
class AcousticPlan:
    user_voice: str
    assistant_voice: str
    snr_db: float
    noise_kind: str
    user_level_dbfs: float


@dataclass(frozen=True)
class DuplexSample:
    seed: int
    index: int
    dialogue: Dialogue
    plan: AcousticPlan
    timeline: Timeline
    audio: Rendered | None

    @property
    def id(self) -> str:
        return f"{self.seed}-{self.index:08d}"


def _rng(seed: int, index: int, stream: int) -> np.random.Generator:
    return np.random.default_rng([seed, index, stream])


def voice(spec: str, spoken: str) -> Voiced:
    """Synthesise ``spoken`` with the voice ``spec`` (this process's cached engine, as the synthesis pool's
    workers do) and trim/time it (:func:`render.voiced`)."""
    from thinkspeak.speech.pool import SynthesisRequest, synthesize_request

    result = synthesize_request(SynthesisRequest(spoken, spec, sample_rate=SAMPLE_RATE))
    return voiced(result.pcm, result.sample_rate, spoken, result.words)


def make_sample(seed: int, index: int, config: DuplexConfig) -> DuplexSample:
    """Write, voice (unless ``config.no_audio``), stage and mix dialogue ``index`` of the corpus ``seed``."""
    lo, hi = config.turns
    text_rng = _rng(seed, index, TEXT_STREAM)
    dialogue = make_dialogue(text_rng, exchanges=int(text_rng.integers(lo, hi + 1)),
                             barge_in_share=config.barge_in_share, backchannel_share=config.backchannel_share)
    plan_rng = _rng(seed, index, PLAN_STREAM)
    plan = AcousticPlan(
        user_voice=pick(plan_rng, config.user_voices),
        assistant_voice=config.assistant_voice,
        snr_db=round(float(plan_rng.uniform(*config.snr)), 2),
        noise_kind=pick(plan_rng, config.noise_kinds),
        user_level_dbfs=round(float(plan_rng.uniform(*USER_LEVEL_DBFS)), 2),
    )
    utterances = dialogue_utterances(dialogue)
    pauses = _inner_pauses(dialogue, config, _rng(seed, index, PAUSE_STREAM))
    if config.no_audio:
        clips = [_clip(u.spoken, pauses[k], estimate_clip) for k, u in enumerate(utterances)]
        timeline = place_dialogue(dialogue, clips, config, _rng(seed, index, TIMELINE_STREAM))
        return DuplexSample(seed, index, dialogue, plan, timeline, None)
    voices: list[Voiced | None] = []
    clips = []
    for k, u in enumerate(utterances):
        if u.role == "assistant" and config.no_assistant_audio:
            voices.append(None)
            clips.append(estimate_clip(u.spoken))
            continue
        spec = plan.user_voice if u.role == "user" else plan.assistant_voice
        voices.append(_voiced(spec, u.spoken, pauses[k]))
        clips.append(voices[-1].clip)
    timeline = place_dialogue(dialogue, clips, config, _rng(seed, index, TIMELINE_STREAM))
    audio = render(timeline, voices, snr_db=plan.snr_db, noise_kind=plan.noise_kind,
                   user_level_dbfs=plan.user_level_dbfs, rng=_rng(seed, index, NOISE_STREAM))
    return DuplexSample(seed, index, dialogue, plan, timeline, audio)


def _inner_pauses(dialogue: Dialogue, config: DuplexConfig,
                  rng: np.random.Generator) -> list[tuple[str, str, float] | None]:
    """Per utterance (order of :func:`dialogue_utterances`): ``(before, after, pause_s)`` for the user turns that
    get an inner pause (Full-Duplex-Bench v1 pause handling), else None. Three draws per utterance, always."""
    out: list[tuple[str, str, float] | None] = []
    for u in dialogue_utterances(dialogue):
        chosen, length, where = float(rng.uniform()), float(rng.uniform(*config.pause_range)), float(rng.uniform())
        split = pause_split(u.spoken, where) if u.role == "user" and u.kind != "backchannel" else None
        out.append((*split, round(length, 3)) if split is not None and chosen < config.pause_share else None)
    return out


def _clip(spoken: str, pause: tuple[str, str, float] | None, make) -> Clip:
    if pause is None:
        return make(spoken)
    before, after, length = pause
    return join_clips(make(before), make(after), length)


def _voiced(spec: str, spoken: str, pause: tuple[str, str, float] | None) -> Voiced:
    """The utterance voiced whole, or its two parts voiced apart and joined by ``pause`` seconds of silence."""
    if pause is None:
        return voice(spec, spoken)
    before, after, length = pause
    a, b = voice(spec, before), voice(spec, after)
    silence = np.zeros(round(length * SAMPLE_RATE), dtype=np.float32)
    return Voiced(np.concatenate([a.pcm, silence, b.pcm]), join_clips(a.clip, b.clip, len(silence) / SAMPLE_RATE))
