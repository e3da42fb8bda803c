"""Engine registry: ``get_tts(spec)`` and ``list_voices(engine)``; engine modules are imported on demand."""

from __future__ import annotations

import importlib

from thinkspeak.speech.tts.base import EngineTTS
from thinkspeak.speech.tts.spec import VoiceSpec, split_spec

_ENGINES = {
    "piper": ("thinkspeak.speech.tts.piper", "PiperTTS"),
    "espeak": ("thinkspeak.speech.tts.espeak", "EspeakTTS"),
    "flite": ("thinkspeak.speech.tts.flite", "FliteTTS"),
    "festival": ("thinkspeak.speech.tts.festival", "FestivalTTS"),
}
_ALIASES = {"espeak-ng": "espeak"}
ENGINES = tuple(_ENGINES)


def engine_class(engine: str) -> type[EngineTTS]:
    """The engine class for a name (``espeak-ng`` is accepted for ``espeak``); ValueError if unknown."""
    name = _ALIASES.get(engine, engine)
    if name not in _ENGINES:
        raise ValueError(f"engine must be one of {list(ENGINES)}, got {engine!r}")
    module, attribute = _ENGINES[name]
    return getattr(importlib.import_module(module), attribute)


def parse_spec(spec: str) -> VoiceSpec:
    """Validate a spec against its engine (voice installed, options known and in range) without loading it.

    Raises ValueError for an unknown engine, voice or option, and EngineUnavailable when the engine's
    program or package is missing.
    """
    engine, voice, raw = split_spec(spec)
    cls = engine_class(engine)
    cls.available()
    voice = voice if voice is not None else cls.default_voice()
    cls.check_voice(voice)
    unknown = sorted(set(raw) - set(cls.options))
    if unknown:
        raise ValueError(
            f"spec {spec!r}: {cls.engine} has no option {unknown[0]!r}; expected some of {sorted(cls.options)}"
        )
    options = {key: cls.options[key].parse(cls.engine, key, value) for key, value in raw.items()}
    return VoiceSpec(cls.engine, voice, options)


def get_tts(spec: str, sample_rate: int = 16000) -> EngineTTS:
    """Build the engine a spec names, e.g. ``"piper"``, ``"piper:length_scale=1.1"``,
    ``"espeak:en-us+f3:rate=160:pitch=60"``, ``"flite:slt"``, ``"festival:kal"``; output at ``sample_rate``."""
    voice = parse_spec(spec)
    return engine_class(voice.engine)(voice, sample_rate)


def list_voices(engine: str) -> list[str]:
    """Voices of an installed engine, usable as ``engine:VOICE`` in a spec."""
    cls = engine_class(engine)
    cls.available()
    return cls.list_voices()
