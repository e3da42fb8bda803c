"""Mimi (Moshi's codec, CC-BY-4.0) through transformers' ``MimiModel``, from a local folder.

24 kHz, 12.5 frames/s, ``num_quantizers`` codebooks of ``codebook_size`` (Moshi uses 8). Mimi is causal, so
decoding a prefix of the frames gives a prefix of the audio: the streaming decoder re-decodes the frames it
holds and emits only the new samples (exact, quadratic in the utterance length; transformers' MimiModel has
no convolution state cache to do better).
"""

from __future__ import annotations

import numpy as np
import torch

from thinkspeak.codecs.base import Codec, CodecInfo, StreamDecoder, check_codes
from thinkspeak.codecs.local import read_config


class MimiCodec(Codec):
    def __init__(self, folder: str, num_quantizers: int | None = None) -> None:
        from transformers import MimiModel

        config = read_config(folder, {"sampling_rate": int, "codebook_size": int, "num_quantizers": int},
                             {"model_type": "mimi"})
        self.model = MimiModel.from_pretrained(folder).eval()
        self.k = num_quantizers or config["num_quantizers"]
        frame_rate = float(self.model.config.frame_rate)  # derived from the up/down-sampling ratios
        self.info = CodecInfo("mimi", config["sampling_rate"], frame_rate, (config["codebook_size"],) * self.k)

    @torch.no_grad()
    def _encode(self, pcm: np.ndarray) -> np.ndarray:
        x = torch.from_numpy(pcm)[None, None]
        codes = self.model.encode(x, num_quantizers=self.k).audio_codes  # [1, K, frames]
        return codes[0].T.numpy().astype(np.int64)

    @torch.no_grad()
    def decode_all(self, codes: np.ndarray) -> np.ndarray:
        if not len(codes):
            return np.zeros(0, dtype=np.float32)
        audio = self.model.decode(torch.from_numpy(codes.T.copy())[None]).audio_values
        return audio[0, 0].numpy().astype(np.float32)

    def stream_decoder(self, out_rate: int | None = None) -> StreamDecoder:
        return PrefixStreamDecoder(self, out_rate or self.sample_rate)


class PrefixStreamDecoder(StreamDecoder):
    """Causal codecs: decode all frames so far, emit the samples not emitted yet."""

    def __init__(self, codec, out_rate: int) -> None:
        super().__init__(codec.sample_rate, out_rate)
        self.codec = codec
        self.frames = np.zeros((0, len(codec.codebook_sizes)), dtype=np.int64)
        self.done = 0

    def push(self, frames: np.ndarray) -> np.ndarray:
        frames = check_codes(frames, self.codec.codebook_sizes, "frames")
        if not len(frames):
            return np.zeros(0, dtype=np.float32)
        self.frames = np.concatenate([self.frames, frames])
        audio = self.codec.decode_all(self.frames)
        new, self.done = audio[self.done:], len(audio)
        return self._out(new)

    def flush(self) -> np.ndarray:
        return self._out(np.zeros(0, dtype=np.float32), last=True)
