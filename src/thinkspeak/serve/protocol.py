"""The OpenAI Realtime (GA) wire protocol subset that thinkspeak speaks: ids, client-event parsing, server events.

Client events are JSON text frames ``{"type": ..., "event_id"?: ..., ...}``; server events always carry a
fresh ``event_id``. Everything a client can get wrong surfaces as :class:`ProtocolError`, which the session
turns into an ``error`` server event (the connection stays open unless the client is abusive).

The one extension is the reasoning stream of the thinking-in-speaking Thinker (Mini-Omni-Reasoner §3):
``thinkspeak.reasoning.delta`` / ``thinkspeak.reasoning.done``, plus ``thinkspeak.turn.latency`` with the
per-turn timings; the ``thinkspeak.`` prefix cannot clash with OpenAI's event names and stock clients ignore
events they do not know.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from typing import Any

CLIENT_EVENTS = frozenset(
    {
        "session.update",
        "input_audio_buffer.append",
        "input_audio_buffer.commit",
        "input_audio_buffer.clear",
        "conversation.item.create",
        "conversation.item.truncate",
        "conversation.item.delete",
        "response.create",
        "response.cancel",
    }
)

REASONING_DELTA = "thinkspeak.reasoning.delta"
REASONING_DONE = "thinkspeak.reasoning.done"
TURN_LATENCY = "thinkspeak.turn.latency"


def new_id(prefix: str) -> str:
    """A fresh opaque id in OpenAI's style, e.g. ``item_9f2c...`` (prefix + 22 hex digits)."""
    return f"{prefix}_{secrets.token_hex(11)}"


@dataclass
class ProtocolError(Exception):
    """A client mistake reported as an ``error`` event: ``code`` is machine-readable, ``param`` the field."""

    code: str
    message: str
    param: str | None = None
    event_id: str | None = None
    type: str = "invalid_request_error"

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"

    def detail(self) -> dict[str, Any]:
        """The ``error`` object of the protocol (also inside ``...transcription.failed``)."""
        return {"type": self.type, "code": self.code, "message": self.message, "param": self.param,
                "event_id": self.event_id}


def internal_error(code: str) -> ProtocolError:
    """A server-side failure as the client sees it: a code and a generic message; the cause stays in the log."""
    return ProtocolError(code, "the server failed to complete this; the cause is in its log", type="server_error")


@dataclass(frozen=True)
class ClientEvent:
    """One parsed client event: its ``type``, optional client ``event_id`` and the whole JSON object."""

    type: str
    event_id: str | None
    body: dict[str, Any] = field(repr=False)

    def field(self, name: str, kind: type | tuple[type, ...], *, required: bool = True, default: Any = None) -> Any:
        """The value of top-level field ``name`` checked against ``kind``; ProtocolError names the field."""
        if name not in self.body or self.body[name] is None:
            if required:
                raise ProtocolError("missing_required_parameter", f"{self.type} needs '{name}'", name, self.event_id)
            return default
        value = self.body[name]
        if isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
            raise ProtocolError("invalid_value", f"'{name}' must not be a boolean", name, self.event_id)
        if not isinstance(value, kind):
            expected = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
            raise ProtocolError(
                "invalid_value", f"'{name}' must be {expected}, got {type(value).__name__}", name, self.event_id
            )
        return value


def parse_client_event(raw: str | bytes, *, max_bytes: int) -> ClientEvent:
    """Parse one WebSocket text frame into a :class:`ClientEvent`, or raise ProtocolError.

    Rejects frames over ``max_bytes``, non-JSON, non-object JSON, a missing/non-string ``type`` and event
    types outside :data:`CLIENT_EVENTS`.
    """
    size = len(raw)
    if size > max_bytes:
        raise ProtocolError("message_too_large", f"message of {size} bytes exceeds the limit of {max_bytes} bytes")
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ProtocolError("invalid_json", f"message is not valid JSON: {exc}") from None
    except (ValueError, RecursionError):  # integers over Python's digit limit, nesting beyond the stack
        raise ProtocolError("invalid_json", "message is nested too deeply or holds a number too large") from None
    if not isinstance(body, dict):
        raise ProtocolError("invalid_json", f"message must be a JSON object, got {type(body).__name__}")
    event_id = body.get("event_id") if isinstance(body.get("event_id"), str) else None
    kind = body.get("type")
    if not isinstance(kind, str):
        raise ProtocolError("missing_required_parameter", "every event needs a string 'type'", "type", event_id)
    if kind not in CLIENT_EVENTS:
        raise ProtocolError(
            "unknown_event_type", f"unsupported event type '{kind[:80]}'; see docs/server.md", "type", event_id
        )
    return ClientEvent(kind, event_id, body)


def server_event(kind: str, **fields: Any) -> dict[str, Any]:
    """A server event dict with a fresh ``event_id`` and ``type`` = ``kind``."""
    return {"event_id": new_id("event"), "type": kind, **fields}


def error_event(err: ProtocolError) -> dict[str, Any]:
    """The ``error`` server event for ``err``."""
    return server_event("error", error=err.detail())


def user_item(item_id: str, *, transcript: str | None, audio: bool) -> dict[str, Any]:
    """A completed user message item; audio-born items carry ``input_audio`` content with its transcript."""
    if audio:
        content = [{"type": "input_audio", "transcript": transcript}]
    else:
        content = [{"type": "input_text", "text": transcript or ""}]
    return {"id": item_id, "object": "realtime.item", "type": "message", "role": "user", "status": "completed",
            "content": content}


def assistant_item(item_id: str, *, transcript: str, status: str, audio: bool) -> dict[str, Any]:
    """An assistant message item (``output_audio`` with transcript, or ``output_text``)."""
    part = {"type": "output_audio", "transcript": transcript} if audio else {"type": "output_text", "text": transcript}
    return {"id": item_id, "object": "realtime.item", "type": "message", "role": "assistant", "status": status,
            "content": [part]}


def function_call_item(item_id: str, call_id: str, name: str, arguments: str, *, status: str) -> dict[str, Any]:
    """A ``function_call`` item: a tool the Thinker called from its think stream (issue 12)."""
    return {"id": item_id, "object": "realtime.item", "type": "function_call", "status": status, "call_id": call_id,
            "name": name, "arguments": arguments}


def function_call_output_item(item_id: str, call_id: str, output: str) -> dict[str, Any]:
    """A ``function_call_output`` item: the answer to a ``function_call`` (here: of a tool the server ran)."""
    return {"id": item_id, "object": "realtime.item", "type": "function_call_output", "status": "completed",
            "call_id": call_id, "output": output}


def response_object(
    response_id: str,
    *,
    status: str,
    output: list[dict[str, Any]],
    modalities: list[str],
    reason: str | None = None,
    usage: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The ``realtime.response`` resource of response.created / response.done."""
    details = None
    if status != "in_progress" and status != "completed":
        details = {"type": status, "reason": reason}
    return {
        "id": response_id,
        "object": "realtime.response",
        "status": status,
        "status_details": details,
        "output": output,
        "output_modalities": modalities,
        "conversation_id": None,
        "usage": usage,
    }
