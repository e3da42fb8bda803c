"""Session and server configuration: the ``session`` object of the Realtime protocol and the server's limits.

:class:`SessionConfig` is what ``session.update`` edits (only the fields present change; ``turn_detection:
null`` switches to manual commits) and what ``session.created`` / ``session.updated`` report in full.
Server VAD defaults follow OpenAI's: threshold 0.5, prefix_padding_ms 300, silence_duration_ms 500.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import TYPE_CHECKING, Any

from thinkspeak.serve.audio import WIRE_RATE, WIRE_RATES
from thinkspeak.serve.detectors import TURN_DETECTORS, TURN_MODELS
from thinkspeak.serve.protocol import ProtocolError
from thinkspeak.speech.endpoint import EAGERNESS

if TYPE_CHECKING:
    from thinkspeak.serve.detectors import TurnDetector

log = logging.getLogger("thinkspeak.serve")

#: top-level ``session`` fields accepted and echoed but without effect here (tools, tracing, ...).
_INERT_FIELDS = {"type", "model", "tools", "tool_choice", "tracing", "include", "prompt", "truncation",
                 "max_output_tokens", "id", "object", "expires_at"}


@dataclass(frozen=True)
class TurnDetection:
    """``audio.input.turn_detection``, the one set of turn parameters from the protocol down to the segmenter:
    ``type`` names a :data:`~thinkspeak.serve.detectors.TURN_DETECTORS` entry -- ``server_vad`` (silence of
    ``silence_duration_ms`` ends the turn) or ``semantic_vad`` (the silence needed depends on whether the
    utterance so far sounds finished, tuned by ``eagerness``, judged by the
    :data:`~thinkspeak.serve.detectors.TURN_MODELS` entry ``turn_model``: ``rule``, ``smart-turn``,
    ``learned`` or ``duplex``; a thinkspeak extension of the protocol) or ``duplex`` (the full-duplex model holds
    the floor: :mod:`thinkspeak.serve.floor`; an extension too). All use the same Silero VAD for speech/silence."""

    threshold: float = 0.5
    prefix_padding_ms: int = 300
    silence_duration_ms: int = 500
    create_response: bool = True
    interrupt_response: bool = True
    type: str = "server_vad"
    eagerness: str = "auto"
    turn_model: str = "rule"

    @property
    def semantic(self) -> bool:
        """Tuned by ``eagerness`` rather than by VAD parameters (every type but ``server_vad``)."""
        return self.type != "server_vad"

    @cached_property
    def detector(self) -> TurnDetector:
        return TURN_DETECTORS.create(self.type, self)

    @property
    def max_silence_ms(self) -> int:
        """The silence that ends a turn when nothing else does."""
        return self.detector.max_silence_ms

    def to_wire(self) -> dict[str, Any]:
        common = {"create_response": self.create_response, "interrupt_response": self.interrupt_response}
        if self.type == "duplex":
            return {"type": "duplex", "eagerness": self.eagerness, **common}
        if self.semantic:
            return {"type": self.type, "eagerness": self.eagerness, "turn_model": self.turn_model, **common}
        return {"type": "server_vad", "threshold": self.threshold, "prefix_padding_ms": self.prefix_padding_ms,
                "silence_duration_ms": self.silence_duration_ms, **common, "idle_timeout_ms": None}


@dataclass(frozen=True)
class SessionConfig:
    """The effective configuration of one Realtime session."""

    model: str = "thinkspeak"
    instructions: str = ""
    output_modalities: tuple[str, ...] = ("audio",)
    input_rate: int = WIRE_RATE
    output_rate: int = WIRE_RATE
    voice: str = "default"
    transcription: bool = True
    turn_detection: TurnDetection | None = field(default_factory=TurnDetection)

    def to_wire(self, session_id: str) -> dict[str, Any]:
        """The ``session`` object of session.created / session.updated."""
        return {
            "type": "realtime",
            "object": "realtime.session",
            "id": session_id,
            "model": self.model,
            "instructions": self.instructions,
            "output_modalities": list(self.output_modalities),
            "audio": {
                "input": {
                    "format": {"type": "audio/pcm", "rate": self.input_rate},
                    "transcription": {"model": "whisper-base"} if self.transcription else None,
                    "turn_detection": self.turn_detection.to_wire() if self.turn_detection else None,
                    "noise_reduction": None,
                },
                "output": {"format": {"type": "audio/pcm", "rate": self.output_rate}, "voice": self.voice,
                           "speed": 1.0},
            },
            "tools": [],
            "tool_choice": "auto",
            "max_output_tokens": "inf",
        }

    def updated(self, session: Any, event_id: str | None = None) -> SessionConfig:
        """A copy with the fields of a ``session.update`` payload applied; ProtocolError names a bad field."""
        if not isinstance(session, dict):
            raise ProtocolError("invalid_value", "'session' must be an object", "session", event_id)
        changes: dict[str, Any] = {}
        for key, value in session.items():
            path = f"session.{key}"
            if key == "instructions":
                changes["instructions"] = "" if value is None else _typed(value, str, path, event_id)
            elif key == "output_modalities":
                changes["output_modalities"] = _modalities(value, path, event_id)
            elif key == "audio":
                changes.update(self._audio_changes(value, path, event_id))
            elif key not in _INERT_FIELDS:
                raise ProtocolError("unknown_parameter", f"unknown session parameter '{key}'", path, event_id)
        return replace(self, **changes)

    def _audio_changes(self, audio: Any, path: str, event_id: str | None) -> dict[str, Any]:
        audio = _typed(audio, dict, path, event_id)
        changes: dict[str, Any] = {}
        inp = _typed(audio.get("input") or {}, dict, f"{path}.input", event_id)
        out = _typed(audio.get("output") or {}, dict, f"{path}.output", event_id)
        if inp.get("format") is not None:
            changes["input_rate"] = _pcm_rate(inp["format"], f"{path}.input.format", event_id)
        if "transcription" in inp:
            changes["transcription"] = inp["transcription"] is not None
        if "turn_detection" in inp:
            changes["turn_detection"] = _turn_detection(
                inp["turn_detection"], self.turn_detection, f"{path}.input.turn_detection", event_id
            )
        if out.get("format") is not None:
            changes["output_rate"] = _pcm_rate(out["format"], f"{path}.output.format", event_id)
        if out.get("voice") is not None:
            voice = out["voice"]
            changes["voice"] = voice["id"] if isinstance(voice, dict) and "id" in voice else str(voice)
        return changes


@dataclass(frozen=True)
class ServerLimits:
    """Per-connection guards against broken or abusive clients (each violation is an ``error`` event).

    Audio from ``input_audio_buffer.append`` and from ``input_audio`` items shares one budget of
    ``max_audio_speed`` x real time (burst ``audio_burst_s``); the conversation keeps at most ``max_items``
    items and ``max_conversation_bytes`` of text and audio, dropping the oldest; a turn sends the Thinker at
    most ``max_prompt_tokens`` (history trimmed oldest-first); a client that does not read an event for
    ``write_timeout_s`` is disconnected."""

    max_message_bytes: int = 1 << 20
    messages_per_s: float = 200.0
    message_burst: int = 400
    max_audio_speed: float = 4.0
    audio_burst_s: float = 10.0
    max_errors: int = 50
    error_window_s: float = 10.0
    max_buffer_s: float = 120.0
    max_sessions: int = 64
    max_items: int = 200
    max_conversation_bytes: int = 8 << 20
    max_prompt_tokens: int = 2048
    write_timeout_s: float = 10.0


@dataclass(frozen=True)
class ServerConfig:
    """Everything a server process needs besides its engines. ``api_key``: clients must present it (Bearer, or
    the ``openai-insecure-api-key.<key>`` WebSocket subprotocol browsers use); ``allowed_origins``: browser
    Origins allowed to connect (None: the server's own origin only); ``docs``: serve /docs, /redoc and
    /openapi.json."""

    session: SessionConfig = field(default_factory=SessionConfig)
    limits: ServerLimits = field(default_factory=ServerLimits)
    barge_in_min_ms: int = 250
    barge_in_verdict_ms: int = 800  # early barge-in verdict of a detector that tells backchannels (0: at the pause)
    speculate_after_ms: int = 96
    playout_lead_ms: int = 400
    api_key: str | None = None
    allowed_origins: tuple[str, ...] | None = None
    docs: bool = False


def _typed(value: Any, kind: type, path: str, event_id: str | None) -> Any:
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise ProtocolError("invalid_value", f"'{path}' must be {kind.__name__}, got {value!r:.60}", path, event_id)
    return value


def _modalities(value: Any, path: str, event_id: str | None) -> tuple[str, ...]:
    if value not in (["audio"], ["text"]):
        raise ProtocolError("invalid_value", f"'{path}' must be [\"audio\"] or [\"text\"], got {value!r:.60}",
                            path, event_id)
    return tuple(value)


def _pcm_rate(fmt: Any, path: str, event_id: str | None) -> int:
    fmt = _typed(fmt, dict, path, event_id)
    kind = fmt.get("type", "audio/pcm")
    if kind != "audio/pcm":
        raise ProtocolError("unsupported_audio_format",
                            f"'{path}.type' must be 'audio/pcm' (pcm16 little-endian), got {kind!r:.40}",
                            f"{path}.type", event_id)
    rate = fmt.get("rate", WIRE_RATE)
    if rate not in WIRE_RATES or isinstance(rate, bool):
        raise ProtocolError("unsupported_audio_format", f"'{path}.rate' must be one of {WIRE_RATES}, got {rate!r:.20}",
                            f"{path}.rate", event_id)
    return int(rate)


def _turn_detection(value: Any, current: TurnDetection | None, path: str, event_id: str | None) -> TurnDetection | None:
    if value is None:
        return None
    value = _typed(value, dict, path, event_id)
    kind = value.get("type", "server_vad")
    types = TURN_DETECTORS.names()
    if kind not in types:
        raise ProtocolError("invalid_value", f"'{path}.type' must be one of {types} or the field null, got "
                            f"{kind!r:.40}", f"{path}.type", event_id)
    base = current if current is not None and current.type == kind else TurnDetection(type=kind)
    changes = _vad_changes(value, path, event_id) if kind == "server_vad" else _eagerness(kind, value, path, event_id)
    for key in ("create_response", "interrupt_response"):
        if value.get(key) is not None:
            changes[key] = _typed(value[key], bool, f"{path}.{key}", event_id)
    detection = replace(base, **changes)
    try:
        detection.detector  # noqa: B018 -- built now: a config is reported (session.updated) only when it can be used
    except ValueError as exc:  # bad values, or a turn model that is not installed (the message says how)
        raise ProtocolError("invalid_value", f"'{path}': {exc}", path, event_id) from None
    except Exception:  # noqa: BLE001 -- a model that fails to load: the cause goes to the log, not the client
        log.exception("turn detection %s could not be built", detection)
        raise ProtocolError("invalid_value", f"'{path}': the {detection.type} turn detector could not be loaded "
                            "on this server (see its log)", path, event_id) from None
    return detection


def _vad_changes(value: dict, path: str, event_id: str | None) -> dict[str, Any]:
    if value.get("turn_model") is not None:
        raise ProtocolError("invalid_value", f"'{path}.turn_model' applies to semantic_vad only; server_vad ends "
                            "a turn after a fixed silence", f"{path}.turn_model", event_id)
    changes: dict[str, Any] = {}
    checks = {  # the segmenter's own bounds: a threshold of 0 or 1 would never change state
        "threshold": (float, 0.01, 0.99),
        "prefix_padding_ms": (int, 0, 2000),
        "silence_duration_ms": (int, 32, 5000),
    }
    for key, (kind, low, high) in checks.items():
        if value.get(key) is None:
            continue
        got = value[key]
        if isinstance(got, bool) or not isinstance(got, int | float) or not low <= got <= high:
            raise ProtocolError("invalid_value", f"'{path}.{key}' must be a number in [{low}, {high}], got {got!r:.20}",
                                f"{path}.{key}", event_id)
        changes[key] = kind(got)
    return changes


def _eagerness(kind: str, value: dict, path: str, event_id: str | None) -> dict[str, Any]:
    for key in ("threshold", "prefix_padding_ms", "silence_duration_ms"):
        if value.get(key) is not None:
            raise ProtocolError("invalid_value", f"'{path}.{key}' applies to server_vad only; {kind} is tuned "
                                "by 'eagerness'", f"{path}.{key}", event_id)
    changes: dict[str, Any] = {}
    eagerness = value.get("eagerness")
    if eagerness is not None:
        if eagerness not in EAGERNESS:
            raise ProtocolError("invalid_value", f"'{path}.eagerness' must be one of {sorted(EAGERNESS)}, got "
                                f"{eagerness!r:.20}", f"{path}.eagerness", event_id)
        changes["eagerness"] = eagerness
    model = value.get("turn_model")
    if model is not None and kind == "duplex":
        raise ProtocolError("invalid_value", f"'{path}.turn_model' applies to semantic_vad only; in duplex mode the "
                            "full-duplex model decides the floor", f"{path}.turn_model", event_id)
    if model is not None:
        if model not in (models := TURN_MODELS.names()):
            raise ProtocolError("invalid_value", f"'{path}.turn_model' must be one of {sorted(models)}, got "
                                f"{model!r:.40}", f"{path}.turn_model", event_id)
        changes["turn_model"] = model
    return changes
