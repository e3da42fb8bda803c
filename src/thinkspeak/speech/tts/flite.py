"""CMU Flite 2.2 (Debian ``flite``, BSD-like, run as a subprocess): voices kal (8 kHz), kal16, awb, rms, slt.

Fast and intelligible (round-trip WER 1-3 %); flite prints words but not their times, so no word timings.
"""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path

import numpy as np

from thinkspeak.audio.flac import decode_audio
from thinkspeak.speech.tts.base import EngineTTS
from thinkspeak.speech.tts.programs import require_program, run_program
from thinkspeak.speech.tts.spec import Option
from thinkspeak.speech.words import Word


@functools.cache
def _voices() -> tuple[str, ...]:
    listing = run_program([require_program("flite"), "-lv"]).stdout.decode()
    names = listing.split(":", 1)[-1].split()
    return tuple(name for name in names if not name.endswith("_time"))


class FliteTTS(EngineTTS):
    engine = "flite"
    options = {
        "duration_stretch": Option(float, 0.25, 4.0, "speaking-time factor, > 1 is slower"),
        "f0_mean": Option(float, 50.0, 400.0, "target mean pitch in Hz"),
        "f0_stddev": Option(float, 0.0, 100.0, "target pitch deviation in Hz"),
    }
    _features = {
        "duration_stretch": "duration_stretch",
        "f0_mean": "int_f0_target_mean",
        "f0_stddev": "int_f0_target_stddev",
    }

    @classmethod
    def available(cls) -> None:
        require_program("flite")

    @classmethod
    def default_voice(cls) -> str:
        return "slt"

    @classmethod
    def list_voices(cls) -> list[str]:
        """Flite's built-in general-domain voices (the limited-domain ``*_time`` voices are left out)."""
        return list(_voices())

    def _render(self, text: str) -> tuple[np.ndarray, int, list[Word] | None]:
        args = [require_program("flite"), "-voice", self.voice.voice]
        for key, value in sorted(self.voice.options.items()):
            args += ["--setf", f"{self._features[key]}={value}"]
        with tempfile.TemporaryDirectory(prefix="thinkspeak-flite-") as folder:
            wav = Path(folder) / "out.wav"
            text_file = Path(folder) / "text.txt"
            text_file.write_text(text, encoding="utf-8")
            run_program([*args, "-f", str(text_file), "-o", str(wav)])
            pcm, rate = decode_audio(wav.read_bytes())
        return pcm, rate, None
