"""The server's hearing runs one ASR call at a time, first come first served, whatever the number of sessions.

Whisper's CTranslate2 model runs one call at a time and queues the rest inside, where concurrent
transcriptions take turns step by step and all finish late (benchmarks/bench_hearing.py, docs/results.md);
the hearing stage hands it one call at a time instead, in the fair queue's order."""

from __future__ import annotations

import asyncio
import threading
import time

import numpy as np

from thinkspeak.serve.engines import Engines
from thinkspeak.serve.thinkers.openai_chat import OpenAIChatThinker
from thinkspeak.speech.asr import Transcript
from thinkspeak.speech.vad import SileroVAD


class CountingASR:
    """A transcriber that takes a little time and records how many of its calls overlap."""

    def __init__(self) -> None:
        self.running = self.most = 0
        self.order: list[str] = []
        self._lock = threading.Lock()

    def transcribe(self, pcm: np.ndarray) -> Transcript:
        with self._lock:
            self.running += 1
            self.most = max(self.most, self.running)
        time.sleep(0.05)
        with self._lock:
            self.running -= 1
            self.order.append(f"s{int(pcm[0])}")
        return Transcript(f"s{int(pcm[0])}", [])


def test_four_sessions_are_heard_one_call_at_a_time_in_arrival_order():
    asr = CountingASR()
    engines = Engines(thinker=OpenAIChatThinker("http://127.0.0.1:9/v1", "none"), make_vad=SileroVAD, asr=asr)

    async def main() -> list[str]:
        tasks = []
        for n in range(4):
            tasks.append(engines.ears.transcript(f"sess-{n}", np.full(1600, n, np.float32)))
            await asyncio.sleep(0.005)
        return await asyncio.gather(*tasks)

    try:
        texts = asyncio.run(main())
    finally:
        engines.executor.shutdown()
    assert texts == ["s0", "s1", "s2", "s3"]
    assert asr.most == 1 and asr.order == texts
