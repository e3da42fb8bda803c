"""Festival 2.5 (Debian ``festival`` + voice packages such as festvox-kallpc16k), run as a subprocess.

Each engine keeps one ``festival --pipe`` process (starting festival and loading a voice costs ~0.3 s, a
short sentence ~0.02 s) and sends it Scheme that synthesises the utterance, saves the wave and prints each
word's start and end from festival's own segment timings -- so this engine returns real word timestamps
(for the words festival actually spoke: "42" is spoken and reported as "forty" "two").
"""

from __future__ import annotations

import functools
import os
import re
import select
import subprocess
import tempfile
import threading
import uuid
import weakref
from pathlib import Path

import numpy as np

from thinkspeak.audio.flac import decode_audio
from thinkspeak.speech.tts.base import EngineTTS
from thinkspeak.speech.tts.programs import require_program, run_program
from thinkspeak.speech.tts.spec import Option, VoiceSpec
from thinkspeak.speech.words import Word

_PREFIXES = ("cmu_us_", "cstr_us_", "us_", "en_")
_WORD_LINE = re.compile(r"^W\t(.*)\t([0-9.eE+-]+)\t([0-9.eE+-]+)$")
_REPLY_TIMEOUT_S = 120.0


def _alias(name: str) -> str:
    for prefix in _PREFIXES:
        name = name.removeprefix(prefix)
    return name.split("_", 1)[0]


@functools.cache
def _voices() -> tuple[dict[str, str], tuple[str, ...]]:
    """(accepted name -> festival voice name, names to list). A voice is listed by its short alias
    (``kal`` for ``kal_diphone``) unless two voices share it; full names are always accepted."""
    out = run_program([require_program("festival"), "--pipe"], stdin="(print (voice.list))\n").stdout.decode()
    names = re.findall(r"[A-Za-z0-9_]+", out)
    owners: dict[str, list[str]] = {}
    for name in names:
        owners.setdefault(_alias(name), []).append(name)
    listed = tuple(_alias(n) if len(owners[_alias(n)]) == 1 else n for n in names)
    table = {name: name for name in names} | {a: full[0] for a, full in owners.items() if len(full) == 1}
    return table, listed


def _scheme_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


class _FestivalProcess:
    """One long-lived ``festival --pipe`` with a voice loaded; requests are serialised by a lock."""

    def __init__(self, voice: str, setup: list[str]) -> None:
        self._folder = tempfile.TemporaryDirectory(prefix="thinkspeak-festival-")
        self._wav = Path(self._folder.name) / "out.wav"
        self._lock = threading.Lock()
        self._process = subprocess.Popen(
            [require_program("festival"), "--pipe"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            bufsize=0,
        )
        self._closer = weakref.finalize(self, _close, self._process, self._folder)
        self._ask([f"(voice_{voice})", *setup])

    def _ask(self, forms: list[str]) -> str:
        """Send Scheme forms, then read everything festival prints up to a fresh end marker."""
        marker = f"@@{uuid.uuid4().hex}@@"
        script = "\n".join([*forms, f'(format t "{marker}\\n")', "(fflush nil)"]) + "\n"
        assert self._process.stdin is not None and self._process.stdout is not None
        try:
            self._process.stdin.write(script.encode("utf-8"))
        except BrokenPipeError as error:
            raise RuntimeError("festival exited unexpectedly") from error
        reply = b""
        fd = self._process.stdout.fileno()
        while marker.encode() not in reply:
            ready, _, _ = select.select([fd], [], [], _REPLY_TIMEOUT_S)
            block = os.read(fd, 65536) if ready else b""
            if not block:
                self._closer()
                raise RuntimeError(
                    f"festival stopped answering; its last output: {reply.decode('utf-8', 'replace')[-500:]}"
                )
            reply += block
        return reply.decode("utf-8", "replace").split(marker)[0]

    @property
    def alive(self) -> bool:
        return self._process.poll() is None

    def synthesize(self, text: str) -> tuple[np.ndarray, int, list[Word]]:
        with self._lock:
            self._wav.unlink(missing_ok=True)
            printed = self._ask(
                [
                    f"(set! utt (utt.synth (Utterance Text {_scheme_string(text)})))",
                    f"(utt.save.wave utt {_scheme_string(str(self._wav))} 'riff)",
                    '(mapcar (lambda (w) (format t "W\\t%s\\t%f\\t%f\\n" (item.name w) (item.feat w "word_start")'
                    ' (item.feat w "word_end"))) (utt.relation.items utt \'Word))',
                ]
            )
            if not self._wav.is_file():
                raise RuntimeError(f"festival wrote no audio for {text[:60]!r}: {printed.strip()[-500:]}")
            pcm, rate = decode_audio(self._wav.read_bytes())
        words = [
            Word(m.group(1), float(m.group(2)), float(m.group(3)))
            for m in map(_WORD_LINE.match, printed.splitlines())
            if m
        ]
        return pcm, rate, words


def _close(process: subprocess.Popen[bytes], folder: tempfile.TemporaryDirectory[str]) -> None:
    if process.stdin is not None:
        process.stdin.close()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    if process.stdout is not None:
        process.stdout.close()
    folder.cleanup()


class FestivalTTS(EngineTTS):
    engine = "festival"
    options = {"duration_stretch": Option(float, 0.25, 4.0, "speaking-time factor, > 1 is slower")}

    def __init__(self, voice: VoiceSpec, sample_rate: int = 16000) -> None:
        super().__init__(voice, sample_rate)
        self._festival: _FestivalProcess | None = None
        self._start_lock = threading.Lock()

    @classmethod
    def available(cls) -> None:
        require_program("festival")

    @classmethod
    def default_voice(cls) -> str:
        return "kal"

    @classmethod
    def list_voices(cls) -> list[str]:
        """Short names of the installed festival voices (full names like ``kal_diphone`` work too)."""
        return sorted(_voices()[1])

    @classmethod
    def check_voice(cls, voice: str) -> None:
        if voice not in _voices()[0]:
            raise ValueError(
                f"voice {voice!r} is not an installed festival voice; expected one of {cls.list_voices()}"
            )

    def _render(self, text: str) -> tuple[np.ndarray, int, list[Word] | None]:
        with self._start_lock:
            if self._festival is None or not self._festival.alive:
                setup = [
                    f"(Parameter.set 'Duration_Stretch {value})"
                    for key, value in self.voice.options.items()
                    if key == "duration_stretch"
                ]
                self._festival = _FestivalProcess(_voices()[0][self.voice.voice], setup)
            festival = self._festival
        return festival.synthesize(text)
