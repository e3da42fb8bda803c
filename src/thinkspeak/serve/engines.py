"""The engines a server process shares between its sessions: Thinker backend, VAD factory, hearing, talker.

Loaded once per process (models are large; sessions are many). The VAD is recurrent, so each session gets
its own from ``make_vad``. Blocking engine calls go to a small thread pool, never the event loop; ASR calls
wait their turn in one :class:`~thinkspeak.serve.hearing.FairQueue` shared by every session, which runs
``ASR_CALLS`` of them at once.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from thinkspeak.serve.hearing import HEARING, FairQueue, Hearing
from thinkspeak.serve.talker import Talker, TTSTalker
from thinkspeak.serve.thinkers.base import ThinkerBackend
from thinkspeak.speech.tts import TTS
from thinkspeak.speech.vad import FrameVAD

if TYPE_CHECKING:
    from thinkspeak.speech.asr import Transcriber, Window

ENGINE_WORKERS = 4
#: ASR calls run at once: Whisper's CTranslate2 model runs one call at a time (one worker) and queues the rest
#: inside, where concurrent transcriptions take turns step by step (encode, decode) and all finish late; one
#: at a time, in the fair queue's order, the first is heard without waiting for the others
#: (benchmarks/bench_hearing.py: docs/results.md)
ASR_CALLS = 1


@dataclass
class Engines:
    """Everything model-shaped a session uses. A ``tts`` engine becomes the stock talker; with neither
    ``tts`` nor ``talker`` responses are text only. ``hearing`` names a :data:`HEARING` entry (default:
    ``e2e`` when the Thinker hears audio, else ``asr``)."""

    thinker: ThinkerBackend
    make_vad: Callable[[], FrameVAD]
    asr: Transcriber | None = None
    tts: TTS | None = None
    talker: Talker | None = None
    hearing: str | None = None
    executor: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=ENGINE_WORKERS, thread_name_prefix="thinkspeak-engine"))
    ears: Hearing = field(init=False)

    def __post_init__(self) -> None:
        if self.talker is None and self.tts is not None:
            self.talker = TTSTalker(self.tts)
        name = self.hearing or ("e2e" if self.thinker.hears_audio else "asr")
        self.ears = HEARING.create(name, self.asr, FairQueue(self.executor, ASR_CALLS), self.thinker.hears_audio)

    def warmup(self) -> None:
        """Run each speech engine once (blocking), so the first turn does not pay for lazy loading."""
        self.make_vad().process(np.zeros(512, np.float32))
        if self.asr is not None:
            self.asr.transcribe(np.zeros(8000, np.float32))
        if self.talker is not None:
            self.talker.warmup()

    async def aclose(self) -> None:
        closer = getattr(self.thinker, "aclose", None)
        if closer is not None:
            await closer()
        self.executor.shutdown(wait=False, cancel_futures=True)


def load_engines(*, thinker: ThinkerBackend, hearing: str = "asr", tts: str | None = "piper", talker: str = "tts",
                 asr_model_dir: str | None = None, asr_window: Window = "auto", first_words: int = 3) -> Engines:
    """The default offline engines around ``thinker``: Silero VAD, Whisper-base ASR (also used for transcripts
    on the end-to-end path), and the talker ``talker`` (a :data:`~thinkspeak.serve.talker.TALKERS` name) with
    the TTS spec ``tts`` (None: text responses only).

    The server needs the text only, so the ASR skips word timestamps; ``asr_window`` is its encoder window
    (``WhisperASR(window_s=...)``): ``"auto"`` sizes a short window to each utterance (the measured fast and
    safe setting, docs/server.md), None keeps faster-whisper's padded 30 s window."""
    from thinkspeak.serve.talker import TALKERS
    from thinkspeak.speech.asr import WhisperASR
    from thinkspeak.speech.vad import SileroVAD

    HEARING.get(hearing)
    return Engines(thinker=thinker, make_vad=SileroVAD, hearing=hearing,
                   asr=WhisperASR(asr_model_dir, word_timestamps=False, window_s=asr_window),
                   talker=TALKERS.create(talker, tts, first_words=first_words) if tts else None)
