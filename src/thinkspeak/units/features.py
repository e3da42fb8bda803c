"""Streaming frame features for speech units, one vector per 40 ms (SyncLLM §3.1: HuBERT units at 25 Hz).

Two kinds, both fed 16 kHz mono float32 audio through ``stream().push(pcm)`` and returning the features of
the units that became final (a unit is 640 samples; a trailing partial unit is dropped):

* ``logmel``: causal log-mel stacks. 80 mel bands of a 25 ms Hann window every 10 ms, the window *ending*
  at each 10 ms boundary (no look-ahead); a unit's vector is its own 4 frames plus the ``context_ms`` of
  frames before it, stacked (HuBERT's first-iteration targets cluster frame-level MFCC-like features).
  Exactly causal: streaming and whole-clip extraction give identical vectors.
* ``whisper``: the packaged Whisper-base encoder (Mini-Omni §3.1 hearing path), 50 Hz x 512, frame pairs
  averaged to 25 Hz. Whisper attends to its whole input, so it runs on a sliding window: every ``step_ms``
  the last ``window_ms`` of audio (plus ``lookahead_ms`` of right context) is encoded and the vectors of the
  window's newest ``step_ms`` become final. The whole-clip path runs the same windows, so it equals the
  stream; how far the windowed vectors' units are from whole-clip Whisper units is measured in
  ``benchmarks/bench_units.py``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Protocol

import numpy as np

SAMPLE_RATE = 16000
HOP_SAMPLES = 640  # one unit = 40 ms at 16 kHz
UNIT_MS = 40
FEATURES = ("logmel", "whisper")

_MEL_HOP = 160
_MEL_WIN = 400
_N_MELS = 80
_FLOOR = 1e-10


def _whole_units(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0 or value % UNIT_MS:
        raise ValueError(f"{name} must be a whole number of {UNIT_MS} ms units (an int >= 0), got {value!r}")
    return value // UNIT_MS


@dataclass(frozen=True)
class FeatureConfig:
    """Which features and how they stream. Times are whole multiples of 40 ms."""

    kind: str = "logmel"
    context_ms: int = 40  # logmel: frames before the unit stacked into its vector
    window_ms: int = 1600  # whisper: audio the encoder sees per step
    step_ms: int = 160  # whisper: units made final per encoder call
    lookahead_ms: int = 0  # whisper: right context after the newest final unit

    def __post_init__(self) -> None:
        if self.kind not in FEATURES:
            raise ValueError(f"feature must be one of {FEATURES}, got {self.kind!r}")
        for name in ("context_ms", "window_ms", "step_ms", "lookahead_ms"):
            _whole_units(name, getattr(self, name))
        if self.kind == "whisper" and not 0 < self.step_ms + self.lookahead_ms <= self.window_ms:
            raise ValueError(f"step_ms + lookahead_ms must be in (0, window_ms={self.window_ms}], got "
                             f"{self.step_ms} + {self.lookahead_ms}")

    @property
    def delay_ms(self) -> int:
        """Longest wait after a unit's 40 ms ends before it is final (algorithmic look-ahead)."""
        if self.kind == "logmel":
            return 0
        return self.step_ms - UNIT_MS + self.lookahead_ms

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FeatureConfig:
        return cls(**data)


class FeatureStream(Protocol):
    def push(self, pcm: np.ndarray) -> np.ndarray: ...

    def flush(self) -> np.ndarray: ...


class Extractor(Protocol):
    config: FeatureConfig
    dim: int

    def stream(self) -> FeatureStream: ...


def make_extractor(config: FeatureConfig, cpu_threads: int = 1) -> Extractor:
    """The extractor of ``config`` (the Whisper one loads the packaged Whisper-base once per process)."""
    if config.kind == "logmel":
        return LogMelExtractor(config)
    return WhisperExtractor(config, cpu_threads)


def features(extractor: Extractor, pcm: np.ndarray) -> np.ndarray:
    """Whole-clip features: the stream fed everything at once, then flushed (``[len(pcm) // 640, dim]``)."""
    stream = extractor.stream()
    return np.concatenate([stream.push(pcm), stream.flush()], axis=0)


def _mel_filters() -> np.ndarray:
    from faster_whisper.feature_extractor import FeatureExtractor

    return np.asarray(FeatureExtractor.get_mel_filters(SAMPLE_RATE, _MEL_WIN, _N_MELS), dtype=np.float32)


class LogMelExtractor:
    """Causal log-mel stacks (see module docstring): ``dim = 80 * (4 + context_ms / 10)``."""

    def __init__(self, config: FeatureConfig):
        self.config = config
        self.context_frames = config.context_ms // 10
        self.dim = _N_MELS * (HOP_SAMPLES // _MEL_HOP + self.context_frames)
        self.filters = _mel_filters()
        self.window = np.hanning(_MEL_WIN + 1)[:-1].astype(np.float32)

    def log_mel(self, signal: np.ndarray) -> np.ndarray:
        """``[(len(signal) - 240) // 160, 80]``: frame ``f`` is the window ``signal[160 f : 160 f + 400]``."""
        n = (signal.size - (_MEL_WIN - _MEL_HOP)) // _MEL_HOP
        if n <= 0:
            return np.zeros((0, _N_MELS), dtype=np.float32)
        frames = np.lib.stride_tricks.sliding_window_view(signal, _MEL_WIN)[::_MEL_HOP][:n]
        power = np.abs(np.fft.rfft(frames * self.window, axis=1)) ** 2
        mel = power.astype(np.float32) @ self.filters.T
        return (np.log10(np.maximum(mel, _FLOOR)) + 4.0) / 4.0

    def stream(self) -> LogMelStream:
        return LogMelStream(self)


class LogMelStream:
    def __init__(self, extractor: LogMelExtractor):
        self._x = extractor
        self._tail = np.zeros(_MEL_WIN - _MEL_HOP, dtype=np.float32)  # audio before the next frame (zeros at start)
        self._pending = np.zeros(0, dtype=np.float32)
        floor = (np.log10(_FLOOR) + 4.0) / 4.0
        self._mel_tail = np.full((extractor.context_frames, _N_MELS), floor, dtype=np.float32)

    def push(self, pcm: np.ndarray) -> np.ndarray:
        self._pending = np.concatenate([self._pending, pcm])
        n = self._pending.size // HOP_SAMPLES
        if n == 0:
            return np.zeros((0, self._x.dim), dtype=np.float32)
        used = self._pending[: n * HOP_SAMPLES]
        signal = np.concatenate([self._tail, used])
        mel = np.concatenate([self._mel_tail, self._x.log_mel(signal)], axis=0)
        per_unit = HOP_SAMPLES // _MEL_HOP
        span = per_unit + self._x.context_frames
        stacks = np.lib.stride_tricks.sliding_window_view(mel, (span, _N_MELS))[::per_unit, 0][:n]
        out = np.ascontiguousarray(stacks.reshape(n, -1))
        self._tail = signal[-(_MEL_WIN - _MEL_HOP):].copy()
        self._mel_tail = mel[mel.shape[0] - self._x.context_frames:].copy()
        self._pending = self._pending[n * HOP_SAMPLES:].copy()
        return out

    def flush(self) -> np.ndarray:
        self._pending = np.zeros(0, dtype=np.float32)
        return np.zeros((0, self._x.dim), dtype=np.float32)


class WhisperExtractor:
    """Whisper-base encoder on a sliding window, 512 dims at 25 Hz (see module docstring)."""

    def __init__(self, config: FeatureConfig, cpu_threads: int = 1):
        from thinkspeak.speech.encoder import WhisperEncoder

        self.config = config
        self.encoder = WhisperEncoder(cpu_threads=cpu_threads)
        self.dim = self.encoder.dim
        self.window = config.window_ms // UNIT_MS
        self.step = config.step_ms // UNIT_MS
        self.lookahead = config.lookahead_ms // UNIT_MS

    def encode_units(self, pcm: np.ndarray) -> np.ndarray:
        """Whisper vectors of ``pcm`` (a whole number of units) averaged over frame pairs: ``[units, 512]``."""
        frames = self.encoder.features(pcm)
        return frames.reshape(-1, 2, frames.shape[1]).mean(axis=1)

    def stream(self) -> WhisperStream:
        return WhisperStream(self)


class WhisperStream:
    def __init__(self, extractor: WhisperExtractor):
        self._x = extractor
        self._audio = np.zeros(0, dtype=np.float32)
        self._offset = 0  # unit index of self._audio[0]
        self._next = 0  # first unit not yet final

    def _window(self, end: int, first: int) -> np.ndarray:
        """Encode units ``[end - window, end)`` and return the rows of units ``[first, ...)``."""
        start = max(0, end - self._x.window)
        lo = (start - self._offset) * HOP_SAMPLES
        feats = self._x.encode_units(self._audio[lo: lo + (end - start) * HOP_SAMPLES])
        return feats[first - start:]

    def push(self, pcm: np.ndarray) -> np.ndarray:
        self._audio = np.concatenate([self._audio, pcm])
        available = self._offset + self._audio.size // HOP_SAMPLES
        out = []
        step, ahead = self._x.step, self._x.lookahead
        while self._next + step + ahead <= available:
            out.append(self._window(self._next + step + ahead, self._next)[:step])
            self._next += step
        keep_from = max(self._offset, self._next - self._x.window)  # a flush may encode from here
        self._audio = self._audio[(keep_from - self._offset) * HOP_SAMPLES:].copy()
        self._offset = keep_from
        return np.concatenate(out, axis=0) if out else np.zeros((0, self._x.dim), dtype=np.float32)

    def flush(self) -> np.ndarray:
        available = self._offset + self._audio.size // HOP_SAMPLES
        out = np.zeros((0, self._x.dim), dtype=np.float32)
        if available > self._next:
            out = self._window(available, self._next)
        self._next = available
        self._audio = np.zeros(0, dtype=np.float32)
        self._offset = available
        return out
