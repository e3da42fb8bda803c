"""Options of the pseudo full-duplex generator, one dataclass whose fields are also the CLI options.

Light at import time (standard library only) so the CLI can build its parser without numpy or scipy.

Defaults follow OmniFlatten §4.1 (assistant turn right after the user's, normally distributed pause before
the next user turn, user-channel noise at 15-25 dB SNR) and Full-Duplex-Bench v1 §3 (backchannels are short
user sounds that do not take the floor; a barge-in must stop the assistant).
"""

from __future__ import annotations

import argparse
import math
from dataclasses import asdict, dataclass, field, fields
from typing import Any

DEFAULT_USER_VOICES = (
    "espeak:en-us+m3:rate=165:pitch=45",
    "espeak:en-us+f3:rate=160:pitch=60",
    "espeak:en-gb+m1:rate=175:pitch=40",
    "espeak:en-us+f4:rate=150:pitch=70",
    "flite:slt",
    "flite:rms",
    "flite:awb",
    "festival:kal",
)
# VITS noise off: piper's default samples noise inside the model, so the same text would differ run to run.
DEFAULT_ASSISTANT_VOICE = "piper:noise_scale=0:noise_w_scale=0"
ROWS_PER_FILE = 100  # dialogues per Parquet file (with audio ~1-2 MB each)


def _opt(default: Any, help: str, **kwargs: Any) -> Any:
    return field(default=default, metadata={"help": help, **kwargs})


@dataclass(frozen=True)
class DuplexConfig:
    """How dialogues are staged and voiced. Every field is a ``thinkspeak data duplex`` option."""

    turns: tuple[int, int] = _opt((2, 4), "user turns per dialogue, inclusive range MIN MAX", metavar=("MIN", "MAX"))
    gap: float = _opt(0.0, "seconds from the end of a user turn to the start of the assistant's reply")
    pause_mean: float = _opt(0.8, "mean of the normal pause (s) before the next user turn")
    pause_std: float = _opt(0.4, "standard deviation of that pause (s); draws are clipped at 0")
    snr: tuple[float, float] = _opt((15.0, 25.0), "user-channel SNR range in dB (uniform)", metavar=("LO", "HI"))
    noise_kinds: tuple[str, ...] = _opt(("white", "pink", "babble"), "noise kinds (thinkspeak.audio.NOISE_KINDS) "
                                        "drawn per dialogue")
    barge_in_share: float = _opt(0.2, "probability that a user turn interrupts the assistant's previous turn")
    backchannel_share: float = _opt(0.3, "probability of a user backchannel during an assistant explanation")
    reaction: float = _opt(0.3, "seconds from a barge-in's start until the assistant channel is cut")
    pause_share: float = _opt(0.0, "probability that a user turn holds an inner pause (between its sentences, "
                              "or a trail-off mid-sentence); Full-Duplex-Bench's pause handling")
    pause_range: tuple[float, float] = _opt((0.3, 0.7), "length range (s) of an inner pause (uniform)",
                                            metavar=("LO", "HI"))
    user_voices: tuple[str, ...] = _opt(DEFAULT_USER_VOICES, "TTS voice specs for the user, one drawn per dialogue")
    assistant_voice: str = _opt(DEFAULT_ASSISTANT_VOICE, "TTS voice spec of the assistant (fixed)")
    lead_in: float = _opt(0.5, "silence (s) before the first user turn")
    tail: float = _opt(0.5, "silence (s) after the last assistant turn")
    frame_rate: float = _opt(25.0, "rate (Hz) of the speech-activity frames (SyncLLM units: 25 Hz)")
    no_audio: bool = _opt(False, "write timelines only; durations estimated from the text (fast)")
    no_assistant_audio: bool = _opt(False, "voice only the user; the assistant's timing is estimated from its "
                                    "text and its channel left silent (a model that writes text needs no voice)")

    def __post_init__(self) -> None:
        lo, hi = _pair(self.turns, "turns", int)
        if not 1 <= lo <= hi:
            raise ValueError(f"turns must be MIN MAX with 1 <= MIN <= MAX, got {self.turns!r}")
        pause_lo, pause_hi = _pair(self.pause_range, "pause_range", float)
        if not 0 < pause_lo <= pause_hi:
            raise ValueError(f"pause_range must be LO HI seconds with 0 < LO <= HI, got {self.pause_range!r}")
        snr_lo, snr_hi = _pair(self.snr, "snr", float)
        if not snr_lo <= snr_hi:
            raise ValueError(f"snr must be LO HI dB with LO <= HI, got {self.snr!r}")
        for name in ("gap", "pause_mean", "pause_std", "reaction", "lead_in", "tail"):
            _number(getattr(self, name), name, minimum=0.0)
        _number(self.frame_rate, "frame_rate", minimum=0.0, strict=True)
        for name in ("barge_in_share", "backchannel_share", "pause_share"):
            value = _number(getattr(self, name), name, minimum=0.0)
            if value > 1.0:
                raise ValueError(f"{name} must be a probability in [0, 1], got {value!r}")
        from thinkspeak.audio import NOISE_KINDS

        if not self.noise_kinds or any(kind not in NOISE_KINDS for kind in self.noise_kinds):
            raise ValueError(f"noise_kinds must be a non-empty selection of {NOISE_KINDS}, got {self.noise_kinds!r}")
        if not self.user_voices or any(not isinstance(v, str) or not v for v in self.user_voices):
            raise ValueError(f"user_voices must be a non-empty list of TTS voice specs, got {self.user_voices!r}")
        if not isinstance(self.assistant_voice, str) or not self.assistant_voice:
            raise ValueError(f"assistant_voice must be a TTS voice spec, got {self.assistant_voice!r}")
        for name in ("no_audio", "no_assistant_audio"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be a bool, got {getattr(self, name)!r}")

    def to_dict(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_options(cls, options: dict[str, Any]) -> DuplexConfig:
        """Build from keyword options (lists become tuples); an unknown key is a ValueError."""
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(options) - names)
        if unknown:
            raise ValueError(f"options must be among {sorted(names)}, got unknown {unknown}")
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in options.items()})


def _number(value: object, name: str, *, minimum: float, strict: bool = False) -> float:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or value < minimum or (strict and value == minimum):
        relation = ">" if strict else ">="
        raise ValueError(f"{name} must be a finite number {relation} {minimum}, got {value!r}")
    return float(value)


def _pair(value: object, name: str, kind: type) -> tuple[Any, Any]:
    if not isinstance(value, tuple | list) or len(value) != 2 or not all(
        isinstance(v, kind | int) and not isinstance(v, bool) and math.isfinite(v) for v in value
    ):
        raise ValueError(f"{name} must be a pair of {kind.__name__}s, got {value!r}")
    return value[0], value[1]


def add_duplex_arguments(parser: argparse.ArgumentParser) -> None:
    """Add one ``--option`` per :class:`DuplexConfig` field, ``--rows-per-file`` and ``--progress/--no-progress``.

    ``options_from_args(args)`` turns the parsed namespace back into ``generate_duplex`` keyword options.
    """
    group = parser.add_argument_group("pseudo full-duplex dialogues")
    for f in fields(DuplexConfig):
        flag = "--" + f.name.replace("_", "-")
        help_text = f"{f.metadata['help']} (default: {_show(f.default)})"
        if f.type == "bool":
            group.add_argument(flag, dest=f.name, action="store_true", default=f.default, help=help_text)
        elif f.type.startswith("tuple"):
            item = int if "int" in f.type else float if "float" in f.type else str
            nargs = "+" if "..." in f.type else 2
            extra = {k: f.metadata[k] for k in ("metavar", "choices") if k in f.metadata}
            group.add_argument(flag, dest=f.name, type=item, nargs=nargs, default=f.default, help=help_text, **extra)
        else:
            item = {"float": float, "int": int, "str": str}[f.type]
            group.add_argument(flag, dest=f.name, type=item, default=f.default, help=help_text)
    group.add_argument("--rows-per-file", type=int, default=ROWS_PER_FILE,
                       help=f"dialogues per Parquet file, the unit of sharding and resuming (default: {ROWS_PER_FILE})")
    group.add_argument("--progress", action=argparse.BooleanOptionalAction, default=True,
                       help="show a progress bar (default: on)")


def options_from_args(args: argparse.Namespace) -> dict[str, Any]:
    """The ``generate_duplex`` keyword options in a namespace parsed with :func:`add_duplex_arguments`."""
    names = [f.name for f in fields(DuplexConfig)] + ["rows_per_file", "progress"]
    return {name: getattr(args, name) for name in names if hasattr(args, name)}


def _show(value: Any) -> str:
    return " ".join(map(str, value)) if isinstance(value, tuple) else str(value)

