"""Speech segments of each channel of a two-channel (user, system) recording, found with a VAD.

Real full-duplex recordings carry no labels; like Full-Duplex-Bench (which runs Silero VAD over the output
channel) we find speech with a frame VAD: one probability per frame (``process(frame) -> float``,
``frame_samples`` long at 16 kHz, contract 3), frames at or above ``threshold`` are speech, runs of speech
frames become segments, silences shorter than ``min_silence_s`` are bridged and segments shorter than
``min_speech_s`` dropped. The default VAD is ``thinkspeak.speech.vad.SileroVAD``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from thinkspeak.eval.segments import Segment, merge_close

VAD_SAMPLE_RATE = 16000


def default_vad() -> Any:
    """The packaged Silero VAD at 16 kHz."""
    from thinkspeak.speech.vad import SileroVAD

    return SileroVAD(sample_rate=VAD_SAMPLE_RATE)


def speech_segments(pcm: np.ndarray, sample_rate: int, vad: Any, *, threshold: float = 0.5,
                    min_speech_s: float = 0.1, min_silence_s: float = 0.1) -> list[Segment]:
    """Speech segments (seconds) of one mono channel, scored frame by frame with ``vad``."""
    from thinkspeak.audio import resample

    if not 0 < threshold < 1:
        raise ValueError(f"threshold must be in (0, 1), got {threshold}")
    samples = np.asarray(pcm, dtype=np.float32)
    if samples.ndim != 1:
        raise ValueError(f"pcm must be one channel (1-D), got shape {samples.shape}")
    if sample_rate != VAD_SAMPLE_RATE:
        samples = resample(samples, sample_rate, VAD_SAMPLE_RATE)
    frame = int(vad.frame_samples)
    vad.reset()
    active = [vad.process(samples[i:i + frame]) >= threshold
              for i in range(0, len(samples) - frame + 1, frame)]
    runs: list[Segment] = []
    start: int | None = None
    for index, speech in enumerate([*active, False]):
        if speech and start is None:
            start = index
        elif not speech and start is not None:
            runs.append(Segment(start * frame / VAD_SAMPLE_RATE, index * frame / VAD_SAMPLE_RATE))
            start = None
    return [s for s in merge_close(runs, min_silence_s) if s.duration >= min_speech_s]


def stereo_segments(audio: str | Path | tuple[np.ndarray, int], *,
                    vad_factory: Callable[[], Any] = default_vad,
                    **options: float) -> tuple[list[Segment], list[Segment]]:
    """Speech segments of channel 0 (user) and channel 1 (system) of a stereo file or ``(array, rate)``
    pair (array shaped ``[samples, 2]``); ``options`` go to :func:`speech_segments`."""
    if isinstance(audio, tuple):
        samples, rate = np.asarray(audio[0], dtype=np.float32), int(audio[1])
    else:
        import soundfile

        samples, rate = soundfile.read(str(audio), dtype="float32", always_2d=True)
    if samples.ndim != 2 or samples.shape[1] != 2:
        raise ValueError(f"audio must have exactly 2 channels shaped [samples, 2], got shape {samples.shape}")
    vad = vad_factory()
    user = speech_segments(samples[:, 0], rate, vad, **options)
    system = speech_segments(samples[:, 1], rate, vad, **options)
    return user, system
