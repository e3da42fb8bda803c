"""Speech recognition with faster-whisper over the packaged CTranslate2 Whisper-base (cascade hearing).

The cascade path of the server (VAD -> ASR -> Thinker) and the corpus' round-trip check (Mini-Omni-Reasoner
§3, "verify (ASR + judge), drop") both call :meth:`WhisperASR.transcribe`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from thinkspeak.audio.pcm import as_mono_float32
from thinkspeak.speech.models import load_whisper
from thinkspeak.speech.words import Word

SAMPLE_RATE = 16000


@dataclass(frozen=True)
class Transcript:
    """Recognised text and its words with start/end times in seconds."""

    text: str
    words: list[Word] = field(default_factory=list)


class WhisperASR:
    """Whisper transcription with word timestamps (cross-attention alignment), CPU int8 by default.

    The CTranslate2 model is loaded once per process by :func:`~thinkspeak.speech.models.load_whisper` and
    shared by every ``WhisperASR`` and ``WhisperEncoder`` built with the same folder and compute type.
    ``transcribe`` may be called from several threads (CTranslate2 queues the calls); run it off the event
    loop in servers. Decoding is deterministic: temperature 0 with no sampling fallback and no conditioning
    on earlier windows, which also avoids Whisper's repetition loops on synthetic speech.
    """

    sample_rate = SAMPLE_RATE

    def __init__(
        self,
        model_dir: Path | str | None = None,
        compute_type: str = "int8",
        *,
        language: str | None = "en",
        beam_size: int = 1,
        cpu_threads: int = 0,
    ) -> None:
        if isinstance(beam_size, bool) or not isinstance(beam_size, int) or beam_size < 1:
            raise ValueError(f"beam_size must be an int >= 1, got {beam_size!r}")
        self.language = language
        self.beam_size = beam_size
        self.model = load_whisper(model_dir, compute_type, cpu_threads)

    def transcribe(self, pcm: np.ndarray) -> Transcript:
        """Transcribe 16 kHz mono float32 speech; empty input gives an empty transcript."""
        audio = as_mono_float32(pcm, "pcm")
        if audio.size == 0:
            return Transcript("", [])
        segments, _info = self.model.transcribe(
            audio,
            language=self.language,
            beam_size=self.beam_size,
            temperature=0.0,
            condition_on_previous_text=False,
            word_timestamps=True,
        )
        texts: list[str] = []
        words: list[Word] = []
        for segment in segments:
            texts.append(segment.text.strip())
            words.extend(Word(w.word.strip(), float(w.start), float(w.end)) for w in segment.words or ())
        return Transcript(" ".join(t for t in texts if t), words)
