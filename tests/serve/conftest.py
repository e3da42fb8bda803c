"""Fixtures for the server tests: real engines (Silero VAD, Whisper-base ASR, espeak-ng TTS), a chat peer as
the Thinker, and a real uvicorn server on a free 127.0.0.1 port."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from serve_chat_peer import ChatPeer, free_port
from serve_helpers import WIRE_RATE, start_server

from parts import require_program
from thinkspeak.audio import resample
from thinkspeak.serve.engines import Engines
from thinkspeak.serve.thinkers.openai_chat import OpenAIChatThinker

ESPEAK = "espeak:en-us+m3:rate=165"


def _require_espeak() -> None:
    require_program("espeak-ng")  # synthesises the test speech


@pytest.fixture(scope="session")
def speech_engines():
    """(make_vad, asr, tts) from thinkspeak.speech, loaded once for the whole test session."""
    _require_espeak()
    from thinkspeak.speech.asr import WhisperASR
    from thinkspeak.speech.tts import get_tts
    from thinkspeak.speech.vad import SileroVAD

    return SileroVAD, WhisperASR(), get_tts(ESPEAK)


@pytest.fixture(scope="session")
def say(speech_engines) -> Callable[[str], np.ndarray]:
    """Synthesise ``text`` with espeak-ng and return it at the wire rate (24 kHz float)."""
    tts = speech_engines[2]
    cache: dict[str, np.ndarray] = {}

    def synth(text: str) -> np.ndarray:
        if text not in cache:
            result = tts.synthesize(text)
            cache[text] = resample(result.pcm, result.sample_rate, WIRE_RATE)
        return cache[text]

    return synth


@pytest.fixture(scope="session")
def chat_peer():
    peer = ChatPeer(free_port(), delay_s=0.005).start()
    yield peer
    peer.stop()


@pytest.fixture(scope="module")
def server(speech_engines, chat_peer):
    """The server under test: real speech engines, the chat peer as Thinker."""
    make_vad, asr, tts = speech_engines
    engines = Engines(thinker=OpenAIChatThinker(chat_peer.base_url, "peer-model"), make_vad=make_vad, asr=asr,
                      tts=tts)
    running = start_server(engines, None)
    yield running
    running.server.should_exit = True
