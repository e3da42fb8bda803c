"""Shared fixtures for the speech tests: real engines, loaded once per session."""

import shutil

import numpy as np
import pytest


@pytest.fixture(scope="session")
def asr():
    from thinkspeak.speech.asr import WhisperASR

    return WhisperASR()


@pytest.fixture(scope="session")
def one_two_three() -> np.ndarray:
    """espeak-ng saying "one two three" at 16 kHz."""
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed (apt-get install espeak-ng)")
    from thinkspeak.speech.tts import get_tts

    return get_tts("espeak:en-us").synthesize("one two three").pcm
