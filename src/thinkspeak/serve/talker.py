"""The Talker stage of the server today: a streaming TTS voicing each text chunk, resampled to the wire rate.

``TTS.stream(text)`` (contract §3: piper with the packaged voice, espeak-ng as fallback) runs in a worker
thread per chunk; its pieces are resampled (soxr) to the session's output rate and encoded as pcm16 there,
so the event loop only forwards bytes. An audio-token Talker (Mini-Omni-Reasoner §3) would slot in here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Protocol

import numpy as np
import soxr

from thinkspeak.audio import float_to_pcm16
from thinkspeak.serve.cancel import Turn
from thinkspeak.serve.threads import iterate_in_thread


class StreamingTTS(Protocol):
    sample_rate: int

    def stream(self, text: str) -> Iterator[np.ndarray]: ...


class Talker:
    """Voice text chunks with ``tts`` as pcm16 at ``output_rate`` Hz."""

    def __init__(self, tts: StreamingTTS, output_rate: int) -> None:
        self.tts = tts
        self.output_rate = output_rate

    def _pcm_pieces(self, text: str) -> Iterator[bytes]:
        rate = int(self.tts.sample_rate)
        resampler = None if rate == self.output_rate else soxr.ResampleStream(
            rate, self.output_rate, 1, dtype="float32", quality="HQ")
        pieces = self.tts.stream(text)
        for piece in pieces:
            x = np.asarray(piece, dtype=np.float32).reshape(-1)
            if resampler is not None:
                x = resampler.resample_chunk(x)
            if x.size:
                yield float_to_pcm16(x)
        if resampler is not None:
            tail = resampler.resample_chunk(np.zeros(0, np.float32), last=True)
            if tail.size:
                yield float_to_pcm16(tail)

    def speak(self, text: str, turn: Turn) -> AsyncIterator[bytes]:
        """pcm16 pieces of ``text`` as the TTS produces them; stops once ``turn`` is cancelled."""
        return iterate_in_thread(lambda: self._pcm_pieces(text), turn, maxsize=8, name="thinkspeak-tts")
