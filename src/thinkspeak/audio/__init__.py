"""thinkspeak.audio: PCM conversions, resampling, in-memory FLAC, loudness and augmentation (noise, reverb).

All functions take and return mono float32 numpy arrays (contract §3).
"""

from thinkspeak.audio.augment import NOISE_KINDS, add_noise, add_reverb, make_noise, synthetic_rir
from thinkspeak.audio.flac import decode_audio, encode_flac
from thinkspeak.audio.loudness import loudness_dbfs, normalize_loudness
from thinkspeak.audio.pcm import as_mono_float32, float_to_pcm16, pcm16_to_float
from thinkspeak.audio.resample import resample

__all__ = [
    "NOISE_KINDS",
    "add_noise",
    "add_reverb",
    "as_mono_float32",
    "decode_audio",
    "encode_flac",
    "float_to_pcm16",
    "loudness_dbfs",
    "make_noise",
    "normalize_loudness",
    "pcm16_to_float",
    "resample",
    "synthetic_rir",
]
