"""One interface for the audio codecs a Talker speaks through (issue 11; Mini-Omni §3.3, Moshi §3.3).

A codec turns mono PCM into ``frames x K`` integer codes (K parallel codebooks at ``frame_rate`` frames a
second) and back. Decoding is streamed: :meth:`Codec.stream_decoder` returns an object that takes codec
frames as they are generated and gives back PCM as soon as the codec allows (at once for causal codecs),
then the tail on :meth:`StreamDecoder.flush`. Output is resampled (soxr, streaming) to any wire rate.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np
import soxr

from thinkspeak.audio.pcm import as_mono_float32, check_sample_rate
from thinkspeak.audio.resample import resample


@dataclass(frozen=True)
class CodecInfo:
    """What a model needs to know about a codec's token streams."""

    name: str
    sample_rate: int
    frame_rate: float
    codebook_sizes: tuple[int, ...]

    @property
    def codebooks(self) -> int:
        return len(self.codebook_sizes)


def check_codes(codes: object, sizes: tuple[int, ...], name: str = "codes") -> np.ndarray:
    """``codes`` as an int64 array ``[frames, K]`` with every code inside its codebook, else ValueError."""
    arr = np.asarray(codes)
    if arr.size == 0:
        return np.zeros((0, len(sizes)), dtype=np.int64)
    if arr.ndim != 2 or arr.shape[1] != len(sizes) or not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"{name} must be an int array [frames, {len(sizes)}], got shape {arr.shape} {arr.dtype}")
    arr = arr.astype(np.int64)
    bad = (arr < 0) | (arr >= np.asarray(sizes))
    if bad.any():
        f, k = map(int, np.argwhere(bad)[0])
        raise ValueError(f"{name}[{f}, {k}] = {arr[f, k]} is outside codebook {k} of size {sizes[k]}")
    return arr


class StreamDecoder(ABC):
    """Codec frames in, PCM (float32 at ``out_rate``) out; one per stream, not thread-safe."""

    def __init__(self, codec_rate: int, out_rate: int) -> None:
        self.out_rate = check_sample_rate("out_rate", out_rate)
        self._resampler = None if out_rate == codec_rate else soxr.ResampleStream(codec_rate, out_rate, 1,
                                                                                 dtype="float32", quality="HQ")

    def _out(self, pcm: np.ndarray, last: bool = False) -> np.ndarray:
        pcm = np.ascontiguousarray(pcm, dtype=np.float32)
        if self._resampler is None:
            return pcm
        return self._resampler.resample_chunk(pcm, last=last).astype(np.float32, copy=False)

    @abstractmethod
    def push(self, frames: np.ndarray) -> np.ndarray:
        """Decode ``frames`` ([n, K] codes); return the PCM that is final now (maybe empty)."""

    @abstractmethod
    def flush(self) -> np.ndarray:
        """The remaining PCM at the end of the stream."""


class Codec(ABC):
    """A codec: ``encode(pcm, rate) -> [frames, K]`` codes, ``decode(codes) -> pcm``, streamed decoding."""

    info: CodecInfo

    @property
    def sample_rate(self) -> int:
        return self.info.sample_rate

    @property
    def frame_rate(self) -> float:
        return self.info.frame_rate

    @property
    def codebook_sizes(self) -> tuple[int, ...]:
        return self.info.codebook_sizes

    def encode(self, pcm: np.ndarray, sample_rate: int) -> np.ndarray:
        """Codes ``[frames, K]`` of mono ``pcm`` at ``sample_rate`` (resampled to the codec's rate)."""
        x = resample(as_mono_float32(pcm, "pcm"), check_sample_rate("sample_rate", sample_rate), self.sample_rate)
        return self._encode(x)

    def decode(self, codes: np.ndarray, out_rate: int | None = None) -> np.ndarray:
        """PCM of ``codes`` ([frames, K]) at ``out_rate`` (default: the codec's rate)."""
        dec = self.stream_decoder(out_rate)
        head = dec.push(check_codes(codes, self.codebook_sizes))
        return np.concatenate([head, dec.flush()])

    @abstractmethod
    def _encode(self, pcm: np.ndarray) -> np.ndarray: ...

    @abstractmethod
    def stream_decoder(self, out_rate: int | None = None) -> StreamDecoder: ...
