"""SNAC 24 kHz (MIT, package ``snac``) from a local folder, in Mini-Omni's 7-token frames.

SNAC's three codebooks run at 1x, 2x and 4x the coarse rate; a Mini-Omni frame is one coarse code, two mid
and four fine codes, ordered ``[L0..L6]`` as in :func:`thinkspeak.layouts.miniomni.snac_to_frames` (Mini-Omni
§3.3). SNAC is not causal (its decoder looks ahead), so streaming decodes chunks of ``chunk`` frames, each
with ``context`` frames of left context whose audio is dropped -- Mini-Omni decodes 4-frame chunks alone and
clicks (mini-omni2 issue 54); the context smooths the joins but the stream is not bit-equal to one decode.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from thinkspeak.codecs.base import Codec, CodecInfo, StreamDecoder, check_codes
from thinkspeak.codecs.local import read_config
from thinkspeak.layouts.miniomni import frames_to_snac, snac_to_frames


class SnacCodec(Codec):
    def __init__(self, folder: str) -> None:
        try:
            from snac import SNAC
        except ModuleNotFoundError as exc:
            raise ValueError("the snac codec needs the snac package: pip install 'thinkspeak[codecs]'") from exc
        config = read_config(folder, {"sampling_rate": int, "codebook_size": int, "vq_strides": list,
                                      "encoder_rates": list})
        if config["vq_strides"] != [4, 2, 1]:
            raise ValueError(f"{Path(folder) / 'config.json'}: field 'vq_strides' must be [4, 2, 1] (the 24 kHz "
                             f"model Mini-Omni's 7-token frames need), got {config['vq_strides']!r}")
        weights = Path(folder) / "pytorch_model.bin"
        if not weights.is_file():
            raise ValueError(f"codec folder must contain pytorch_model.bin, got {str(folder)!r}")
        self.model = SNAC(**{k: v for k, v in config.items() if not k.startswith("_")}).eval()
        self.model.load_state_dict(torch.load(weights, map_location="cpu", weights_only=True))
        hop = int(np.prod(config["encoder_rates"])) * 4
        self.samples_per_frame = hop
        self.info = CodecInfo("snac", config["sampling_rate"], config["sampling_rate"] / hop,
                              (config["codebook_size"],) * 7)

    @torch.no_grad()
    def _encode(self, pcm: np.ndarray) -> np.ndarray:
        codes = self.model.encode(torch.from_numpy(pcm)[None, None])
        frames = snac_to_frames(*(c[0].tolist() for c in codes))
        return np.array(frames, dtype=np.int64).reshape(-1, 7)

    @torch.no_grad()
    def decode_all(self, frames: np.ndarray) -> np.ndarray:
        if not len(frames):
            return np.zeros(0, dtype=np.float32)
        coarse, mid, fine = frames_to_snac(frames.tolist())
        codes = [torch.tensor(c)[None] for c in (coarse, mid, fine)]
        return self.model.decode(codes)[0, 0].numpy().astype(np.float32)

    def stream_decoder(self, out_rate: int | None = None, chunk: int = 4, context: int = 4) -> StreamDecoder:
        return ChunkStreamDecoder(self, out_rate or self.sample_rate, chunk, context)


class ChunkStreamDecoder(StreamDecoder):
    def __init__(self, codec: SnacCodec, out_rate: int, chunk: int, context: int) -> None:
        super().__init__(codec.sample_rate, out_rate)
        self.codec, self.chunk, self.context = codec, chunk, context
        self.frames = np.zeros((0, 7), dtype=np.int64)
        self.done = 0  # frames whose audio was emitted

    def _emit(self, upto: int) -> np.ndarray:
        start = max(0, self.done - self.context)
        audio = self.codec.decode_all(self.frames[start:upto])
        skip = (self.done - start) * self.codec.samples_per_frame
        self.done = upto
        return audio[skip:]

    def push(self, frames: np.ndarray) -> np.ndarray:
        self.frames = np.concatenate([self.frames, check_codes(frames, self.codec.codebook_sizes, "frames")])
        if len(self.frames) - self.done < self.chunk:
            return np.zeros(0, dtype=np.float32)
        return self._out(self._emit(len(self.frames)))

    def flush(self) -> np.ndarray:
        tail = self._emit(len(self.frames)) if len(self.frames) > self.done else np.zeros(0, dtype=np.float32)
        return self._out(tail, last=True)
