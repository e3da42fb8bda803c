"""The TTS interface and the engine base class shared by piper, espeak-ng, flite and festival."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import ClassVar, Protocol, runtime_checkable

import numpy as np

from thinkspeak.audio.pcm import as_mono_float32, check_sample_rate
from thinkspeak.audio.resample import resample
from thinkspeak.speech.tts.chunking import split_for_streaming
from thinkspeak.speech.tts.spec import Option, VoiceSpec
from thinkspeak.speech.words import Word


class EngineUnavailable(RuntimeError):
    """The engine's program or package is not installed."""


@dataclass(frozen=True)
class Synthesis:
    """Synthesised speech: mono float32 ``pcm`` at ``sample_rate``; ``words`` only when the engine itself
    reports word timings (never estimated)."""

    pcm: np.ndarray = field(repr=False)
    sample_rate: int
    words: list[Word] | None = None

    @property
    def duration(self) -> float:
        return self.pcm.size / self.sample_rate


@runtime_checkable
class TTS(Protocol):
    """Text-to-speech as the rest of thinkspeak sees it (contract §3)."""

    sample_rate: int

    @property
    def spec(self) -> str: ...

    def synthesize(self, text: str) -> Synthesis: ...

    def render(self, text: str) -> Synthesis: ...

    def stream(self, text: str) -> Iterator[np.ndarray]: ...


class EngineTTS(ABC):
    """An engine renders text at its native rate; this base resamples, validates and streams.

    Subclasses set ``engine``, ``options`` (accepted ``key=value`` settings) and implement
    ``list_voices``, ``default_voice`` and ``_render``. ``stream`` synthesises
    :func:`split_for_streaming` chunks one by one, so the first chunk is ready after a short clause.
    """

    engine: ClassVar[str]
    options: ClassVar[Mapping[str, Option]]

    def __init__(self, voice: VoiceSpec, sample_rate: int = 16000) -> None:
        self.voice = voice
        self.sample_rate = check_sample_rate("sample_rate", sample_rate)

    @classmethod
    @abstractmethod
    def available(cls) -> None:
        """Raise :class:`EngineUnavailable` (with the install command) if the engine cannot run here."""

    @classmethod
    @abstractmethod
    def list_voices(cls) -> list[str]:
        """Voice names this engine offers here (what may follow ``engine:`` in a spec)."""

    @classmethod
    @abstractmethod
    def default_voice(cls) -> str: ...

    @classmethod
    def check_voice(cls, voice: str) -> None:
        """Raise ValueError unless ``voice`` can be used; engines with open voice grammars override this."""
        voices = cls.list_voices()
        if voice not in voices:
            raise ValueError(f"voice {voice!r} is not a {cls.engine} voice here; expected one of {voices}")

    @abstractmethod
    def _render(self, text: str) -> tuple[np.ndarray, int, list[Word] | None]:
        """Synthesise ``text`` (non-empty) -> (float32 samples, native rate, engine word timings or None)."""

    @property
    def spec(self) -> str:
        """Canonical spec string, e.g. ``espeak:en-us+f3:pitch=60:rate=160`` (stored with corpus audio)."""
        return self.voice.canonical()

    def _native(self, text: str) -> tuple[np.ndarray, int, list[Word] | None]:
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"text must be a non-empty string with words, got {text!r}")
        pcm, rate, words = self._render(" ".join(text.split()))
        return as_mono_float32(pcm, "engine output"), rate, words

    def render(self, text: str) -> Synthesis:
        """Speech for the whole text at the engine's native rate (for callers that resample only once)."""
        pcm, rate, words = self._native(text)
        return Synthesis(pcm, rate, words)

    def synthesize(self, text: str) -> Synthesis:
        """Speech for the whole text at ``self.sample_rate``."""
        pcm, rate, words = self._native(text)
        return Synthesis(resample(pcm, rate, self.sample_rate), self.sample_rate, words)

    def stream(self, text: str) -> Iterator[np.ndarray]:
        """Yield float32 chunks at ``self.sample_rate``: a short first clause, then one chunk per sentence."""
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"text must be a non-empty string with words, got {text!r}")
        for chunk in split_for_streaming(text):
            pcm, rate, _ = self._native(chunk)
            yield resample(pcm, rate, self.sample_rate)
