"""Speech recognition with faster-whisper over the packaged CTranslate2 Whisper-base (cascade hearing).

The cascade path of the server (VAD -> ASR -> Thinker) and the corpus' round-trip check (Mini-Omni-Reasoner
§3, "verify (ASR + judge), drop") both call :meth:`WhisperASR.transcribe`.

Whisper reads log-mels of a 30 s window; faster-whisper pads every clip to it, so a 2 s question costs the
encoder as much as 30 s of speech (~1.5 s on 2 CPU cores). ``window_s`` selects a *short window* instead:
the mel of the clip plus a little silence, encoded at that length (CTranslate2's encoder accepts any even
number of frames up to 3000), then decoded once with timestamp tokens, as in training. Whisper was trained
on 30 s windows only, and on a short one the decoder now and then goes on in the silence after the speech
(says the question again, or makes up more): the segments it times after the end of the audio are dropped.
A decode that loops ("115 15 15 15 ...": a run of :data:`LOOP_BLOCK_TOKENS` or more tokens twice in a row,
or the token budget filled) is thrown away and the clip heard on the 30 s window (a speaker who really
repeated themselves costs time, never accuracy). ``benchmarks/bench_asr.py`` measures accuracy and speed;
docs/speech.md has the figures.
"""

from __future__ import annotations

import logging
import math
import string
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

import numpy as np

from thinkspeak.audio.pcm import as_mono_float32
from thinkspeak.speech.models import load_whisper
from thinkspeak.speech.vad import has_speech
from thinkspeak.speech.words import Word

SAMPLE_RATE = 16000
#: Whisper's training window and the longest a short window may be.
MAX_WINDOW_S = 30.0
#: silence kept after the speech in a short window, and the smallest "auto" window.
WINDOW_MARGIN_S = 1.0
AUTO_MIN_WINDOW_S = 5.0
_MEL_FRAMES_PER_S = 100
#: a short-window decode with this many tokens or more repeated back to back is taken for a loop.
LOOP_BLOCK_TOKENS = 4
#: faster-whisper's defaults for dropping a window as silence (no_speech_threshold, log_prob_threshold).
_NO_SPEECH_PROB = 0.6
_NO_SPEECH_LOGPROB = -1.0
#: above this no-speech probability a short window is also checked with Silero VAD; no speech -> no text.
_NO_SPEECH_SUSPECT = 0.3
#: decoding budget of a short window: Whisper's 448 tokens per 30 s, pro rata.
_TOKENS_PER_S = 448 / 30
#: the first timestamp token may say at most 1.0 s (faster-whisper's max_initial_timestamp; 20 ms steps).
_MAX_INITIAL_TIMESTAMP = 50

log = logging.getLogger(__name__)

Window = float | Literal["auto"] | None


@dataclass(frozen=True)
class Transcript:
    """Recognised text and its words with start/end times in seconds."""

    text: str
    words: list[Word] = field(default_factory=list)


class Transcriber(Protocol):
    """An ASR engine as the rest of thinkspeak sees it (:class:`WhisperASR` is one): 16 kHz mono float32 audio
    -> :class:`Transcript`."""

    def transcribe(self, pcm: np.ndarray) -> Transcript: ...


def window_seconds(duration_s: float, window_s: Window) -> float | None:
    """The encoder window for ``duration_s`` seconds of audio, or None for faster-whisper's padded 30 s.

    ``"auto"``: the audio plus :data:`WINDOW_MARGIN_S`, rounded up to whole seconds, at least
    :data:`AUTO_MIN_WINDOW_S`. A number W: W seconds, widened the same way when the audio needs more. Audio
    that does not fit in :data:`MAX_WINDOW_S` with the margin goes to the 30 s path (None).
    """
    if window_s is None:
        return None
    needed = float(math.ceil(duration_s + WINDOW_MARGIN_S))
    if needed > MAX_WINDOW_S:
        return None
    return max(AUTO_MIN_WINDOW_S if window_s == "auto" else float(window_s), needed)


def _check_window(window_s: object) -> Window:
    if window_s is None or window_s == "auto":
        return window_s  # type: ignore[return-value]
    if isinstance(window_s, bool) or not isinstance(window_s, int | float) or not 1.0 <= window_s <= MAX_WINDOW_S:
        raise ValueError(f"window_s must be None (faster-whisper's padded 30 s window), 'auto' or a number of "
                         f"seconds in [1, {MAX_WINDOW_S:g}], got {window_s!r}")
    return float(window_s)


class WhisperASR:
    """Whisper transcription, CPU int8 by default, optionally with word timestamps (cross-attention alignment).

    ``window_s=None`` (default) runs faster-whisper's ``transcribe`` on 30 s windows, as Whisper was
    trained. ``window_s="auto"`` or a number of seconds encodes a short window sized to the clip (see
    :func:`window_seconds`) and decodes it once (the 30 s window only when that decode loops; module
    docstring); clips too long for a short window go to the 30 s path. ``word_timestamps=False`` skips the alignment pass when only the text
    is needed (the server).

    The CTranslate2 model is loaded once per process by :func:`~thinkspeak.speech.models.load_whisper` and
    shared by every ``WhisperASR`` and ``WhisperEncoder`` built with the same folder and compute type.
    ``transcribe`` may be called from several threads (CTranslate2 queues the calls); run it off the event
    loop in servers. Decoding is deterministic: temperature 0 with no sampling fallback and no conditioning
    on earlier windows, which also avoids Whisper's repetition loops on synthetic speech. Both paths drop a
    window as silence by faster-whisper's rule (no-speech probability > 0.6 and mean log-probability < -1).
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
        word_timestamps: bool = True,
        window_s: Window = None,
    ) -> None:
        if isinstance(beam_size, bool) or not isinstance(beam_size, int) or beam_size < 1:
            raise ValueError(f"beam_size must be an int >= 1, got {beam_size!r}")
        if not isinstance(word_timestamps, bool):
            raise ValueError(f"word_timestamps must be a bool, got {word_timestamps!r}")
        self.window_s = _check_window(window_s)
        self.word_timestamps = word_timestamps
        self.language = language
        self.beam_size = beam_size
        self.model = load_whisper(model_dir, compute_type, cpu_threads)

    def transcribe(self, pcm: np.ndarray) -> Transcript:
        """Transcribe 16 kHz mono float32 speech; empty input gives an empty transcript."""
        audio = as_mono_float32(pcm, "pcm")
        if audio.size == 0:
            return Transcript("", [])
        window = window_seconds(audio.size / SAMPLE_RATE, self.window_s)
        if window is None:
            return self._transcribe_padded(audio)
        return self._transcribe_window(audio, window)

    def _transcribe_padded(self, audio: np.ndarray) -> Transcript:
        """faster-whisper's own long-form transcription: 30 s windows, timestamp tokens, seeking."""
        segments, _info = self.model.transcribe(
            audio,
            language=self.language,
            beam_size=self.beam_size,
            temperature=0.0,
            condition_on_previous_text=False,
            word_timestamps=self.word_timestamps,
        )
        texts: list[str] = []
        words: list[Word] = []
        for segment in segments:
            texts.append(segment.text.strip())
            words.extend(Word(w.word.strip(), float(w.start), float(w.end)) for w in segment.words or ())
        return Transcript(" ".join(t for t in texts if t), words)

    def _transcribe_window(self, audio: np.ndarray, window: float) -> Transcript:
        """One short window: unpadded log-mel (normalised over the clip, as faster-whisper does) + silence up
        to ``window`` seconds -> encoder -> one decode with timestamp tokens (the first within 1 s, as
        faster-whisper's ``max_initial_timestamp``) -> the text of the segments timed inside the audio."""
        from faster_whisper.tokenizer import Tokenizer
        from faster_whisper.transcribe import get_suppressed_tokens

        mel = self.model.feature_extractor(audio)
        content = mel.shape[-1] - 1  # the extractor's last frame covers only its padding
        frames = 2 * math.ceil(window * _MEL_FRAMES_PER_S / 2)  # the encoder's stride-2 conv wants even
        encoded = self.model.encode(np.pad(mel[:, :content], ((0, 0), (0, frames - content))))
        language = self.language
        if language is None:
            multilingual = self.model.model.is_multilingual
            language = self.model.model.detect_language(encoded)[0][0][0][2:-2] if multilingual else "en"
        tokenizer = Tokenizer(self.model.hf_tokenizer, self.model.model.is_multilingual, task="transcribe",
                              language=language)
        prompt = list(tokenizer.sot_sequence)
        budget = math.ceil(_TOKENS_PER_S * window)
        result = self.model.model.generate(
            encoded,
            [prompt],
            beam_size=self.beam_size,
            max_length=len(prompt) + budget,
            return_scores=True,
            return_no_speech_prob=True,
            suppress_blank=True,
            suppress_tokens=get_suppressed_tokens(tokenizer, [-1]),
            max_initial_timestamp_index=_MAX_INITIAL_TIMESTAMP,
        )[0]
        sequence = result.sequences_ids[0]
        mean_logprob = result.scores[0] * len(sequence) / (len(sequence) + 1)  # as faster-whisper recovers it
        if result.no_speech_prob > _NO_SPEECH_PROB and mean_logprob <= _NO_SPEECH_LOGPROB:
            return Transcript("", [])
        if result.no_speech_prob > _NO_SPEECH_SUSPECT and not has_speech(audio):
            return Transcript("", [])
        if len(sequence) >= budget or repeats_back_to_back([t for t in sequence if t < tokenizer.eot],
                                                           LOOP_BLOCK_TOKENS):
            log.debug("%g s window looped; hearing the clip on the 30 s window", window)
            return self._transcribe_padded(audio)
        tokens = tokens_within(sequence, content / _MEL_FRAMES_PER_S, eot=tokenizer.eot,
                                  timestamp_begin=tokenizer.timestamp_begin, precision=self.model.time_precision)
        text = tokenizer.decode(tokens).strip()
        if not self.word_timestamps or not tokens:
            return Transcript(text, [])
        aligned = self.model.find_alignment(tokenizer, [tokens], encoded, content)[0]
        return Transcript(text, _merge_punctuation(aligned))


def tokens_within(sequence: list[int], duration_s: float, *, eot: int, timestamp_begin: int,
                  precision: float) -> list[int]:
    """The text tokens of ``sequence`` whose segment starts before ``duration_s``: text the decoder times
    after the end of the audio is made up. Timestamp tokens (ids from ``timestamp_begin``, ``precision``
    seconds apart) open and close segments; the other ids from ``eot`` on are skipped."""
    kept: list[int] = []
    start = 0.0
    for token in sequence:
        if token >= timestamp_begin:
            start = (token - timestamp_begin) * precision
        elif token < eot and start < duration_s:
            kept.append(token)
    return kept


def repeats_back_to_back(tokens: list[int], min_block: int) -> bool:
    """True when some run of ``min_block`` or more tokens is immediately followed by the same run."""
    n = len(tokens)
    return any(tokens[i:i + size] == tokens[i + size:i + 2 * size]
               for size in range(min_block, n // 2 + 1) for i in range(n - 2 * size + 1))


def _merge_punctuation(aligned: list[dict]) -> list[Word]:
    """Words from faster-whisper's alignment, with punctuation-only pieces ("?", ",") joined to the word
    before them (after it, at the start), as faster-whisper's own ``transcribe`` shows them."""
    words: list[Word] = []
    pending = ""
    for item in aligned:
        piece = item["word"].strip()
        if piece and all(c in string.punctuation for c in piece):
            if words:
                last = words[-1]
                words[-1] = Word(last.word + piece, last.start, last.end)
            else:
                pending += piece
        elif piece:
            words.append(Word(pending + piece, float(item["start"]), float(item["end"])))
            pending = ""
    return words
