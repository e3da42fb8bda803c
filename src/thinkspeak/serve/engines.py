"""The engines a server process shares between its sessions: Thinker backend, VAD factory, ASR, TTS.

Loaded once per process (models are large; sessions are many). The VAD is recurrent, so each session gets
its own from ``make_vad``. Blocking engine calls go to a small thread pool, never the event loop.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from thinkspeak.serve.talker import StreamingTTS
from thinkspeak.serve.thinkers.base import ThinkerBackend
from thinkspeak.speech.vad import FrameVAD

if TYPE_CHECKING:
    from thinkspeak.speech.asr import Window

log = logging.getLogger("thinkspeak.serve")


class Transcriber(Protocol):
    """What hearing by ASR needs (``thinkspeak.speech.asr.WhisperASR`` is one)."""

    def transcribe(self, pcm: np.ndarray) -> Any: ...


@dataclass
class Engines:
    """Everything model-shaped a session uses. ``tts=None`` allows text responses only."""

    thinker: ThinkerBackend
    make_vad: Callable[[], FrameVAD]
    asr: Transcriber | None = None
    tts: StreamingTTS | None = None
    executor: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=4, thread_name_prefix="thinkspeak-engine"))

    def __post_init__(self) -> None:
        if self.asr is None and not self.thinker.hears_audio:
            raise ValueError("engines need an ASR (asr=) unless the Thinker hears audio end to end")

    async def run(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run a blocking engine call on the engine pool."""
        return await asyncio.get_running_loop().run_in_executor(self.executor, fn, *args)

    async def transcribe(self, audio: np.ndarray) -> str:
        """ASR transcript of 16 kHz ``audio`` ('' when there is no ASR or no audio)."""
        if self.asr is None or audio.size == 0:
            return ""
        start = time.monotonic()
        result = await self.run(self.asr.transcribe, audio)
        text = str(getattr(result, "text", result)).strip()
        log.debug("ASR %.2f s of audio in %.0f ms: %r", audio.size / 16000, (time.monotonic() - start) * 1000, text)
        return text

    def warmup(self) -> None:
        """Run each speech engine once (blocking), so the first turn does not pay for lazy loading."""
        self.make_vad().process(np.zeros(512, np.float32))
        if self.asr is not None:
            self.asr.transcribe(np.zeros(8000, np.float32))
        if self.tts is not None:
            for _ in self.tts.stream("Hello."):
                pass

    async def aclose(self) -> None:
        closer = getattr(self.thinker, "aclose", None)
        if closer is not None:
            await closer()
        self.executor.shutdown(wait=False, cancel_futures=True)


def load_engines(
    *,
    thinker: ThinkerBackend,
    hearing: str = "asr",
    tts: str | None = "piper",
    asr_model_dir: str | None = None,
    asr_window: Window = "auto",
) -> Engines:
    """The default offline engines around ``thinker``: Silero VAD, Whisper-base ASR (also used for transcripts
    on the end-to-end path), and the TTS named by ``tts`` (a ``thinkspeak.speech.tts.get_tts`` spec).

    The server needs the text only, so the ASR skips word timestamps; ``asr_window`` is its encoder window
    (``WhisperASR(window_s=...)``): ``"auto"`` sizes a short window to each utterance (the measured fast and
    safe setting, docs/server.md), None keeps faster-whisper's padded 30 s window."""
    if hearing not in ("asr", "e2e"):
        raise ValueError(f"hearing must be 'asr' or 'e2e', got {hearing!r}")
    if hearing == "e2e" and not thinker.hears_audio:
        raise ValueError(f"--e2e needs a local Thinker with an audio adapter; {thinker.name} hears text only")
    from thinkspeak.speech.asr import WhisperASR
    from thinkspeak.speech.tts import get_tts
    from thinkspeak.speech.vad import SileroVAD

    return Engines(
        thinker=thinker,
        make_vad=SileroVAD,
        asr=WhisperASR(asr_model_dir, word_timestamps=False, window_s=asr_window),
        tts=get_tts(tts) if tts else None,
    )
