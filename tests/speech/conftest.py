"""Shared fixtures for the speech tests: real engines, loaded once per session."""

import numpy as np
import pytest

from parts import require_program


@pytest.fixture(scope="session")
def asr():
    from thinkspeak.speech.asr import WhisperASR

    return WhisperASR()


@pytest.fixture(scope="session")
def one_two_three() -> np.ndarray:
    """espeak-ng saying "one two three" at 16 kHz."""
    require_program("espeak-ng")
    from thinkspeak.speech.tts import get_tts

    return get_tts("espeak:en-us").synthesize("one two three").pcm
