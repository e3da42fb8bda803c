"""The server's sample rates and its one resampler.

Audio crosses two rates in a session: the *wire* rate the client chose (pcm16, 24 kHz by the protocol, or
16 kHz) and the *hearing* rate of the VAD, the ASR and the Thinker's audio encoder (16 kHz, Whisper's). The
talker's engine speaks at its own rate and is resampled once, from that rate straight to the wire rate.
"""

from __future__ import annotations

import numpy as np
import soxr

#: the rate of the VAD, Whisper and the Thinker's audio adapter
HEARING_RATE = 16000
#: pcm16 rates accepted on the wire: 24 kHz is the protocol's; 16 kHz is a thinkspeak extension (no resampling
#: for clients that already capture at the hearing rate)
WIRE_RATES = (24000, 16000)
WIRE_RATE = WIRE_RATES[0]


class Resampler:
    """Streaming mono float32 resampling from ``rate_in`` to ``rate_out`` (soxr HQ; identity when equal)."""

    def __init__(self, rate_in: int, rate_out: int) -> None:
        self.rate_in, self.rate_out = int(rate_in), int(rate_out)
        self._stream = None if self.rate_in == self.rate_out else soxr.ResampleStream(
            self.rate_in, self.rate_out, 1, dtype="float32", quality="HQ")

    def push(self, x: np.ndarray, last: bool = False) -> np.ndarray:
        """The resampled samples available after ``x`` (all of them when ``last``)."""
        x = np.asarray(x, dtype=np.float32).reshape(-1)
        return x if self._stream is None else self._stream.resample_chunk(x, last=last)

    def flush(self) -> np.ndarray:
        return self.push(np.zeros(0, np.float32), last=True)


def resample_all(x: np.ndarray, rate_in: int, rate_out: int) -> np.ndarray:
    """Resample a whole clip (a ``conversation.item.create`` audio part) the same way."""
    return Resampler(rate_in, rate_out).push(x, last=True)
