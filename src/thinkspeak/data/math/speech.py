"""Speech for the spoken-math corpus (Mini-Omni-Reasoner §3.3 stage 3, "TTS"; OFFLINE.md engines).

Every question is read in its spoken form (numbers as words) by a voice drawn per sample from several
offline engines, voices, rates and pitches; by default one engine is held out of the train and valid splits
and reads only the test split, so evaluation hears a voice the model never trained on. Question audio may get
noise at 15-25 dB SNR and synthetic reverberation (the hearing side); responses are read clean by one
assistant voice (Talker targets). Audio is 16 kHz mono FLAC; word timestamps are kept where the engine
gives them. Synthesis runs in worker processes (:class:`thinkspeak.speech.pool.SynthesisPool`).

Every random choice comes from ``(seed, index)``, so the audio of a sample does not depend on sharding.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field

from thinkspeak.data.shards import sample_rng
from thinkspeak.text.numbers import spoken_form

SAMPLE_RATE = 16000

DEFAULT_VOICES = (
    "espeak:en-us+m3:rate=150:pitch=45",
    "espeak:en-us+f3:rate=165:pitch=60",
    "espeak:en-gb+m1:rate=140:pitch=40",
    "espeak:en-us+f4:rate=180:pitch=70",
    "espeak:en-gb-x-rp+f2:rate=155:pitch=55",
    "espeak:en-us+m7:rate=170:pitch=35",
    "espeak:en-029+f1:rate=160:pitch=50",
    "festival:kal",
    "festival:kal:duration_stretch=1.15",
    "piper:noise_scale=0:noise_w_scale=0",
    "piper:length_scale=0.9:noise_scale=0:noise_w_scale=0",
    "piper:length_scale=1.15:noise_scale=0:noise_w_scale=0",
    "flite:slt",
    "flite:slt:duration_stretch=1.15:f0_mean=190",
    "flite:awb:duration_stretch=0.9",
    "flite:rms",
    "flite:kal16:duration_stretch=1.1",
)
# piper samples VITS noise unless both noise scales are 0; zero keeps the corpus bit-for-bit deterministic.
DEFAULT_RESPONSE_VOICE = "piper:noise_scale=0:noise_w_scale=0"


def engine_of(spec: str) -> str:
    """``'espeak:en-us+f3:rate=160' -> 'espeak'``."""
    return spec.split(":", 1)[0]


def _parse_snr(text: str | tuple[float, float]) -> tuple[float, float]:
    if isinstance(text, tuple):
        lo, hi = text
    else:
        try:
            lo, hi = (float(x) for x in str(text).split("-"))
        except ValueError:
            raise ValueError(f"snr must be a range 'lo-hi' in dB such as '15-25', got {text!r}") from None
    if not lo <= hi:
        raise ValueError(f"snr must be a range 'lo-hi' with lo <= hi, got {text!r}")
    return float(lo), float(hi)


@dataclass(frozen=True)
class SpeechOptions:
    """What the speech stage does; recorded in the manifest (``audio``) and in every file's fingerprint."""

    voices: tuple[str, ...] = DEFAULT_VOICES
    held_out_engine: str | None = "flite"
    response_voice: str = DEFAULT_RESPONSE_VOICE
    response_audio: bool = True
    noise_share: float = 0.5
    snr_db: tuple[float, float] = (15.0, 25.0)
    noise_kinds: tuple[str, ...] = ("white", "pink", "babble")
    reverb_share: float = 0.3
    rt60_s: tuple[float, float] = (0.2, 0.7)
    sample_rate: int = SAMPLE_RATE
    engines: tuple[str, ...] = field(init=False, default=())

    def __post_init__(self) -> None:
        if not self.voices:
            raise ValueError("voices must name at least one TTS spec, got none")
        engines = tuple(sorted({engine_of(v) for v in self.voices}))
        object.__setattr__(self, "engines", engines)
        if self.held_out_engine is not None:
            if self.held_out_engine not in engines:
                raise ValueError(f"held_out_engine must be one of the voices' engines {engines} or None, "
                                 f"got {self.held_out_engine!r}")
            if len(engines) < 2:
                raise ValueError(f"held_out_engine {self.held_out_engine!r} would leave no voice for training; "
                                 "give voices of another engine or no held-out engine")
        for name in ("noise_share", "reverb_share"):
            value = getattr(self, name)
            if not 0 <= value <= 1:
                raise ValueError(f"{name} must be in [0, 1], got {value!r}")
        _parse_snr(self.snr_db)

    @classmethod
    def from_cli(cls, *, voices: str | None, held_out_engine: str | None, response_audio: bool, noise_share: float,
                 snr: str, reverb_share: float) -> SpeechOptions:
        held = None if held_out_engine in (None, "", "none") else held_out_engine
        specs = tuple(v.strip() for v in voices.split(",") if v.strip()) if voices else DEFAULT_VOICES
        return cls(voices=specs, held_out_engine=held, response_audio=response_audio, noise_share=noise_share,
                   snr_db=_parse_snr(snr), reverb_share=reverb_share)

    def to_dict(self) -> dict:
        out = asdict(self)
        return {k: list(v) if isinstance(v, tuple) else v for k, v in out.items()}

    def voices_for(self, split: str) -> tuple[str, ...]:
        """Held-out engine voices read the test split only; the others read train and valid."""
        if self.held_out_engine is None:
            return self.voices
        held = tuple(v for v in self.voices if engine_of(v) == self.held_out_engine)
        return held if split == "test" else tuple(v for v in self.voices if engine_of(v) != self.held_out_engine)

    def synthesizer(self, workers: int) -> Synthesizer:
        return Synthesizer(self, workers)


@dataclass(frozen=True)
class Augmentation:
    """Noise and reverberation drawn for one question clip (None: not applied)."""

    snr_db: float | None
    noise_kind: str | None
    rt60_s: float | None
    seed: int


def choose_voice(options: SpeechOptions, seed: int, index: int, split: str) -> str:
    return sample_rng(seed, index, "voice").choice(options.voices_for(split))


def choose_augmentation(options: SpeechOptions, seed: int, index: int) -> Augmentation:
    rng = sample_rng(seed, index, "augment")
    noisy = rng.random() < options.noise_share
    snr = rng.uniform(*options.snr_db)
    kind = rng.choice(options.noise_kinds)
    reverb = rng.random() < options.reverb_share
    rt60 = rng.uniform(*options.rt60_s)
    return Augmentation(round(snr, 2) if noisy else None, kind if noisy else None, round(rt60, 3) if reverb else None,
                        rng.getrandbits(63))


class Synthesizer:
    """Adds the audio columns to text rows; synthesis and augmentation run in the speech layer's worker
    pool (:class:`thinkspeak.speech.pool.SynthesisPool`), which applies reverberation then noise from each
    request's own seed."""

    def __init__(self, options: SpeechOptions, workers: int):
        from thinkspeak.speech.pool import SynthesisPool

        self.options = options
        self.pool = SynthesisPool(workers)

    def close(self) -> None:
        self.pool.close()

    def requests(self, rows: list[dict], seed: int) -> list[tuple[str, dict, object]]:
        """``(side, row, request)`` for every clip of ``rows``: the question, then (optionally) the response."""
        from thinkspeak.speech.pool import SynthesisRequest

        out = []
        for row in rows:
            aug = choose_augmentation(self.options, seed, row["index"])
            voice = choose_voice(self.options, seed, row["index"], row["split"])
            out.append(("question", row, SynthesisRequest(
                row["question_spoken"], voice, seed=aug.seed, noise_snr_db=aug.snr_db, reverb_rt60=aug.rt60_s,
                sample_rate=self.options.sample_rate, noise_kind=aug.noise_kind or "pink")))
            if self.options.response_audio:
                out.append(("response", row, SynthesisRequest(
                    spoken_form(" ".join(row["response"])), self.options.response_voice,
                    sample_rate=self.options.sample_rate)))
        return out

    def add_audio(self, rows: list[dict], seed: int) -> dict:
        """Synthesise each row's question (and response), add the contract 2 audio columns in place, and
        return the clips per voice (questions and responses) and the questions per engine."""
        import numpy as np

        from thinkspeak.audio import encode_flac
        from thinkspeak.speech.words import words_to_json

        plan = self.requests(rows, seed)
        results = self.pool.map([request for _, _, request in plan])
        for (side, row, request), result in zip(plan, results, strict=True):
            pcm = np.asarray(result.pcm, dtype=np.float32)
            peak = float(np.abs(pcm).max()) if pcm.size else 0.0
            if peak > 0.99:  # noise can push peaks over full scale; scale rather than clip
                pcm = pcm * np.float32(0.99 / peak)
            row[f"{side}_audio"] = encode_flac(pcm, result.sample_rate)
            row[f"{side}_voice"] = request.voice + _augmentation_suffix(request)
            row[f"{side}_engine"] = engine_of(request.voice)
            row[f"{side}_duration"] = pcm.size / result.sample_rate
            row[f"{side}_words"] = words_to_json(result.words)
        for row in rows:
            for column in ("audio", "voice", "engine", "duration", "words"):
                row.setdefault(f"response_{column}", None)
        voices = Counter(request.voice for _, _, request in plan)
        engines = Counter(engine_of(request.voice) for side, _, request in plan if side == "question")
        return {"voices": dict(voices), "engines": dict(engines)}


def _augmentation_suffix(request) -> str:
    """Augmentation recorded with the voice: ``flite:slt|noise=pink@18.2dB|reverb=0.41s``."""
    out = ""
    if request.noise_snr_db is not None:
        out += f"|noise={request.noise_kind}@{request.noise_snr_db}dB"
    if request.reverb_rt60 is not None:
        out += f"|reverb={request.reverb_rt60}s"
    return out
