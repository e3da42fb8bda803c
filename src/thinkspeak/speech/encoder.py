"""Whisper encoder features: the end-to-end hearing path (Mini-Omni §3.1: Whisper encoder -> adapter -> LM).

Audio is turned into Whisper's 80-bin log-mel (10 ms hop) by faster-whisper's feature extractor and run
through the CTranslate2 encoder, whose stride-2 convolution yields one ``dim``-wide vector per 20 ms
(50 Hz; 512 dims for Whisper-base). Unlike Whisper's training-time input the mel is NOT padded to 30 s:
CTranslate2 encodes shorter inputs directly, which is 10-15x faster for the few-second questions here;
the adapter is trained on features made the same way. Audio longer than 30 s is encoded in consecutive
30 s windows (the encoder's positional table has 1500 positions) and the features are concatenated.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from thinkspeak.audio.pcm import as_mono_float32
from thinkspeak.speech.models import load_whisper

SAMPLE_RATE = 16000
HOP_SAMPLES = 160
FRAME_RATE_HZ = 50
_WINDOW_MEL_FRAMES = 3000


class WhisperEncoder:
    """``features(pcm) -> [len(pcm) // 320, dim]`` float32 at 50 Hz. Shares the model with WhisperASR."""

    sample_rate = SAMPLE_RATE
    frame_rate = FRAME_RATE_HZ

    def __init__(self, model_dir: Path | str | None = None, compute_type: str = "int8", cpu_threads: int = 0):
        whisper = load_whisper(model_dir, compute_type, cpu_threads)
        self._model = whisper.model
        self._mel = whisper.feature_extractor
        self.dim = int(self._encode(np.zeros((self._model.n_mels, 2), dtype=np.float32)).shape[1])

    def _encode(self, mel: np.ndarray) -> np.ndarray:
        import ctranslate2

        batch = ctranslate2.StorageView.from_array(np.ascontiguousarray(mel[None], dtype=np.float32))
        return np.asarray(self._model.encode(batch, to_cpu=True))[0]

    def log_mel(self, pcm: np.ndarray) -> np.ndarray:
        """Whisper log-mel ``[n_mels, len(pcm) // 160]`` (no padding; normalised over the whole clip)."""
        audio = as_mono_float32(pcm, "pcm")
        if audio.size < HOP_SAMPLES:
            return np.zeros((self._model.n_mels, 0), dtype=np.float32)
        return self._mel(audio, padding=0)[:, : audio.size // HOP_SAMPLES]

    def features(self, pcm: np.ndarray) -> np.ndarray:
        """Encoder output for 16 kHz mono float32 audio: ``T = len(pcm) // 320`` rows of ``dim`` floats."""
        mel = self.log_mel(pcm)
        usable = mel.shape[1] - mel.shape[1] % 2
        windows = [
            self._encode(mel[:, start : min(start + _WINDOW_MEL_FRAMES, usable)])
            for start in range(0, usable, _WINDOW_MEL_FRAMES)
        ]
        if not windows:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.concatenate(windows, axis=0).astype(np.float32, copy=False)
