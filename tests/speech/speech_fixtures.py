"""Helpers shared by the speech tests (imported by name: pytest puts this folder on sys.path)."""

import numpy as np

SR = 16000


def pad(pcm: np.ndarray, before_s: float, after_s: float) -> np.ndarray:
    return np.concatenate(
        [np.zeros(int(before_s * SR), np.float32), pcm, np.zeros(int(after_s * SR), np.float32)]
    )


def speech_span(pcm: np.ndarray, floor: float = 0.01) -> tuple[float, float]:
    """First and last sample above ``floor``, in seconds (the ground truth for VAD timing)."""
    loud = np.nonzero(np.abs(pcm) > floor)[0]
    return loud[0] / SR, (loud[-1] + 1) / SR
