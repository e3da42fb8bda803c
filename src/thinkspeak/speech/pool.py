"""Batch speech synthesis in worker processes for the corpus (Mini-Omni-Reasoner §3: "TTS + interleave").

Each request names its voice by spec and carries its own seed, so the augmentation (reverberation, then
noise at an exact SNR) of a row is reproducible whichever worker runs it. Workers build each engine once
and keep it; requests travel in batches to keep the per-request overhead small. Subprocess engines
(espeak-ng, flite, festival) and ``piper:noise_scale=0:noise_w_scale=0`` give bit-identical audio for
identical requests; default piper samples VITS noise and differs slightly run to run.
"""

from __future__ import annotations

import math
import multiprocessing
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from thinkspeak.audio.augment import NOISE_KINDS, add_noise, add_reverb
from thinkspeak.audio.pcm import check_sample_rate
from thinkspeak.speech.tts.base import EngineTTS
from thinkspeak.speech.tts.registry import get_tts, parse_spec
from thinkspeak.speech.words import Word

_MAX_BATCH = 32
_TASKS_PER_WORKER = 4


@dataclass(frozen=True)
class SynthesisRequest:
    """One clip to synthesise: ``voice`` is a spec (``"flite:slt"``); ``noise_snr_db``/``reverb_rt60`` of
    None mean no augmentation; ``noise_kind`` is one of white, pink, babble."""

    text: str
    voice: str
    seed: int = 0
    noise_snr_db: float | None = None
    reverb_rt60: float | None = None
    sample_rate: int = 16000
    noise_kind: str = "pink"


@dataclass(frozen=True)
class SynthesisResult:
    """Synthesised (and augmented) audio with the canonical voice spec and engine that produced it."""

    pcm: np.ndarray = field(repr=False)
    sample_rate: int
    words: list[Word] | None
    voice: str
    engine: str

    @property
    def duration(self) -> float:
        return self.pcm.size / self.sample_rate


def _validate(request: SynthesisRequest, position: int) -> None:
    where = f"requests[{position}]"
    if not isinstance(request, SynthesisRequest):
        raise ValueError(f"{where} must be a SynthesisRequest, got {type(request).__name__}")
    if not request.text.strip():
        raise ValueError(f"{where}.text must contain words, got {request.text!r}")
    if isinstance(request.seed, bool) or not isinstance(request.seed, int) or request.seed < 0:
        raise ValueError(f"{where}.seed must be an int >= 0, got {request.seed!r}")
    if request.noise_kind not in NOISE_KINDS:
        raise ValueError(f"{where}.noise_kind must be one of {NOISE_KINDS}, got {request.noise_kind!r}")
    check_sample_rate(f"{where}.sample_rate", request.sample_rate)


_ENGINES: dict[tuple[str, int], EngineTTS] = {}


def _engine(voice: str, sample_rate: int) -> EngineTTS:
    key = (voice, sample_rate)
    if key not in _ENGINES:
        _ENGINES[key] = get_tts(voice, sample_rate)
    return _ENGINES[key]


def synthesize_request(request: SynthesisRequest) -> SynthesisResult:
    """Synthesise one request with this process's cached engine, then reverberate and add noise."""
    tts = _engine(request.voice, request.sample_rate)
    speech = tts.synthesize(request.text)
    pcm = speech.pcm
    rng = np.random.default_rng(request.seed)
    if request.reverb_rt60 is not None:
        pcm = add_reverb(pcm, speech.sample_rate, request.reverb_rt60, rng)
    if request.noise_snr_db is not None:
        pcm = add_noise(pcm, request.noise_snr_db, rng, kind=request.noise_kind, sr=speech.sample_rate)
    return SynthesisResult(pcm, speech.sample_rate, speech.words, tts.spec, tts.voice.engine)


def _synthesize_batch(batch: list[SynthesisRequest]) -> list[SynthesisResult]:
    return [synthesize_request(request) for request in batch]


def _init_worker() -> None:
    os.environ.setdefault("OMP_NUM_THREADS", "1")


class SynthesisPool:
    """Runs :class:`SynthesisRequest` lists on ``workers`` processes (``workers=1``: in this process).

    ``map`` returns results in request order. Worker processes start with ``forkserver`` (no inherited
    threads or model state), live until :meth:`close`, and keep their engines between ``map`` calls; each
    worker limits native thread pools to one thread unless OMP_NUM_THREADS is set. Use it as a context
    manager, from a script guarded by ``if __name__ == "__main__":``.
    """

    def __init__(self, workers: int = 1, *, batch_size: int | None = None, start_method: str = "forkserver"):
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise ValueError(f"workers must be an int >= 1, got {workers!r}")
        if batch_size is not None and (
            isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1
        ):
            raise ValueError(f"batch_size must be None or an int >= 1, got {batch_size!r}")
        if start_method not in multiprocessing.get_all_start_methods():
            raise ValueError(
                f"start_method must be one of {multiprocessing.get_all_start_methods()}, got {start_method!r}"
            )
        self.workers = workers
        self.batch_size = batch_size
        self.start_method = start_method
        self._executor: ProcessPoolExecutor | None = None

    def _batches(self, requests: list[SynthesisRequest]) -> list[list[SynthesisRequest]]:
        size = self.batch_size or max(
            1, min(_MAX_BATCH, math.ceil(len(requests) / (self.workers * _TASKS_PER_WORKER)))
        )
        return [requests[i : i + size] for i in range(0, len(requests), size)]

    def map(self, requests: Sequence[SynthesisRequest]) -> list[SynthesisResult]:
        """Synthesise every request; raises ValueError before any work if a request or voice spec is bad."""
        requests = list(requests)
        for position, request in enumerate(requests):
            _validate(request, position)
        for voice in sorted({request.voice for request in requests}):
            parse_spec(voice)
        if self.workers == 1:
            return _synthesize_batch(requests)
        if self._executor is None:
            self._executor = ProcessPoolExecutor(
                self.workers,
                mp_context=multiprocessing.get_context(self.start_method),
                initializer=_init_worker,
            )
        results: list[SynthesisResult] = []
        for batch_results in self._executor.map(_synthesize_batch, self._batches(requests)):
            results.extend(batch_results)
        return results

    def close(self) -> None:
        """Stop the worker processes (engines are rebuilt by the next ``map``)."""
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None

    def __enter__(self) -> SynthesisPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
