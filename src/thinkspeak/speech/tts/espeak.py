"""eSpeak NG formant synthesis (Debian ``espeak-ng`` 1.51, GPL-3.0, run as a subprocess).

Voices are ``language[+variant]``: any non-MBROLA language eSpeak NG knows (``en-us``, ``en-gb``, ``en``...)
and any installed variant (``m1``-``m8``, ``f1``-``f5``, ``klatt``, ...). Very fast (RTF ~0.01) and robotic;
good for voice diversity in a corpus, no word timings.
"""

from __future__ import annotations

import functools

import numpy as np

from thinkspeak.audio.flac import decode_audio
from thinkspeak.speech.tts.base import EngineTTS
from thinkspeak.speech.tts.programs import require_program, run_program
from thinkspeak.speech.tts.spec import Option
from thinkspeak.speech.words import Word

STANDARD_VARIANTS = ("m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8", "f1", "f2", "f3", "f4", "f5")


@functools.cache
def _catalogue() -> tuple[frozenset[str], frozenset[str], tuple[str, ...]]:
    """(accepted language names, variant names, English languages) from ``espeak-ng --voices``."""
    program = require_program("espeak-ng")
    languages: set[str] = set()
    english: list[str] = []
    for line in run_program([program, "--voices"]).stdout.decode().splitlines()[1:]:
        fields = line.split()
        if len(fields) < 5 or fields[4].startswith("mb/"):
            continue
        languages.update({fields[1], fields[4].rsplit("/", 1)[-1]})
        if fields[1].startswith("en") and fields[1] not in english:
            english.append(fields[1])
    variants = {
        line.split()[4].removeprefix("!v/")
        for line in run_program([program, "--voices=variant"]).stdout.decode().splitlines()[1:]
        if len(line.split()) >= 5
    }
    return frozenset(languages), frozenset(variants), tuple(english)


class EspeakTTS(EngineTTS):
    engine = "espeak"
    options = {
        "rate": Option(int, 80, 450, "words per minute, espeak-ng -s"),
        "pitch": Option(int, 0, 99, "base pitch, espeak-ng -p"),
        "amplitude": Option(int, 0, 200, "volume, espeak-ng -a"),
        "gap": Option(int, 0, 100, "pause between words in 10 ms units, espeak-ng -g"),
    }
    _flags = {"rate": "-s", "pitch": "-p", "amplitude": "-a", "gap": "-g"}

    @classmethod
    def available(cls) -> None:
        require_program("espeak-ng")

    @classmethod
    def default_voice(cls) -> str:
        return "en-us"

    @classmethod
    def list_voices(cls) -> list[str]:
        """English languages, alone and with each standard variant (any installed language/variant is
        accepted in a spec)."""
        _, variants, english = _catalogue()
        standard = [v for v in STANDARD_VARIANTS if v in variants]
        return [name for lang in english for name in (lang, *(f"{lang}+{v}" for v in standard))]

    @classmethod
    def check_voice(cls, voice: str) -> None:
        languages, variants, _ = _catalogue()
        language, _, variant = voice.partition("+")
        if language not in languages:
            raise ValueError(
                f"espeak voice language {language!r} is not installed; expected one of {sorted(languages)}"
            )
        if variant and variant not in variants:
            raise ValueError(
                f"espeak voice variant {variant!r} is not installed; expected one of {sorted(variants)}"
            )

    def _render(self, text: str) -> tuple[np.ndarray, int, list[Word] | None]:
        args = [require_program("espeak-ng"), "-v", self.voice.voice, "--stdout"]
        for key, value in sorted(self.voice.options.items()):
            args += [self._flags[key], str(value)]
        pcm, rate = decode_audio(run_program(args, stdin=text).stdout)
        return pcm, rate, None
