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
from thinkspeak.data.duplex.timeline import Timeline, dialogue_utterances, estimate_clip, place_dialogue

TEXT_STREAM, TIMELINE_STREAM, PLAN_STREAM, NOISE_STREAM = range(4)
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
    if config.no_audio:
        clips = [estimate_clip(u.spoken) for u in utterances]
        timeline = place_dialogue(dialogue, clips, config, _rng(seed, index, TIMELINE_STREAM))
        return DuplexSample(seed, index, dialogue, plan, timeline, None)
    voices = [voice(plan.user_voice if u.role == "user" else plan.assistant_voice, u.spoken) for u in utterances]
    timeline = place_dialogue(dialogue, [v.clip for v in voices], config, _rng(seed, index, TIMELINE_STREAM))
    audio = render(timeline, voices, snr_db=plan.snr_db, noise_kind=plan.noise_kind,
                   user_level_dbfs=plan.user_level_dbfs, rng=_rng(seed, index, NOISE_STREAM))
    return DuplexSample(seed, index, dialogue, plan, timeline, audio)
