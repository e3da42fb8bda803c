"""Spoken-answer check: is the answer still right once it is spoken and heard?

A speaking model is judged by what the listener hears, not by its text. Following the "speech reasoning
gap" measured by Big Bench Audio and discussed for spoken math (Mini-Omni-Reasoner, Spoken-MQA),
each response is read the way our speech pipeline reads it (numbers as words,
``thinkspeak.text.numbers.spoken_form``, as the corpus' response audio is made), synthesised with a TTS
(contract 3), transcribed back with the Whisper ASR, its number words turned into digits
(``words_to_digits``, contract 5) and scored with the same AudioBench rule as the text
(:mod:`thinkspeak.eval.spoken_mqa`). The gap is text accuracy minus speech accuracy on the same items.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from thinkspeak.eval.spoken_mqa import Score, score

ASR_SAMPLE_RATE = 16000


@dataclass(frozen=True)
class SpokenScore:
    """What the ASR heard (``transcript``), the same with digits (``digits``) and its score."""

    transcript: str
    digits: str
    score: Score


SAMPLING_NOISE_OPTIONS = ("noise_scale", "noise_w_scale")


def repeatable_spec(tts_spec: str) -> str:
    """``tts_spec`` with every sampling-noise option its engine has and the spec leaves unset set to 0."""
    from thinkspeak.speech.tts.registry import engine_class
    from thinkspeak.speech.tts.spec import split_spec

    engine, _, raw = split_spec(tts_spec)
    options = engine_class(engine).options
    missing = [key for key in SAMPLING_NOISE_OPTIONS if key in options and key not in raw]
    return ":".join([tts_spec.strip(), *(f"{key}=0" for key in missing)])


class SpokenAnswerCheck:
    """Speak a response with ``tts`` (``synthesize(text) -> Synthesis``), hear it with ``asr``
    (``transcribe(pcm16k) -> Transcript``) and score the transcript."""

    def __init__(self, tts: Any, asr: Any, *, tts_spec: str = "") -> None:
        self.tts = tts
        self.asr = asr
        self.tts_spec = tts_spec

    @classmethod
    def load(cls, tts_spec: str = "piper", asr_model_dir: str | None = None, *,
             repeatable: bool = True) -> SpokenAnswerCheck:
        """Build the check from a TTS spec (``"piper"``, ``"espeak:en-us"``, ...) and the packaged Whisper.

        ``repeatable`` (default) turns off the engine's sampling noise where the spec leaves it unset (piper's
        VITS ``noise_scale``/``noise_w_scale``), so the same response is heard the same way on every run: a
        measurement must not change with the generator's random draw. Pass ``False`` to hear sampled prosody.
        """
        from thinkspeak.speech.asr import WhisperASR
        from thinkspeak.speech.tts import get_tts

        spec = repeatable_spec(tts_spec) if repeatable else tts_spec
        return cls(get_tts(spec), WhisperASR(model_dir=asr_model_dir), tts_spec=spec)

    def hear(self, text: str) -> str:
        """The ASR transcript of ``text`` (numbers said as words) spoken by the TTS ("" for empty text)."""
        if not text.strip():
            return ""
        from thinkspeak.audio import resample
        from thinkspeak.text.numbers import spoken_form

        synthesis = self.tts.synthesize(spoken_form(text))
        pcm = synthesis.pcm
        if synthesis.sample_rate != ASR_SAMPLE_RATE:
            pcm = resample(pcm, synthesis.sample_rate, ASR_SAMPLE_RATE)
        return self.asr.transcribe(pcm).text.strip()

    def __call__(self, text: str, reference: str, *, normalise_reference: bool = True) -> SpokenScore:
        from thinkspeak.text.reading import words_to_digits

        transcript = self.hear(text)
        digits = words_to_digits(transcript)
        return SpokenScore(transcript, digits, score(digits, reference, normalise_reference=normalise_reference))
