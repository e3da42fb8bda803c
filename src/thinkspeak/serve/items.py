"""Conversation items on the wire: client ``conversation.item.create`` payloads in, item objects out."""

from __future__ import annotations

import asyncio
import base64
import binascii
from collections.abc import Callable
from typing import Any

import numpy as np

from thinkspeak.audio import pcm16_to_float
from thinkspeak.serve import protocol as P
from thinkspeak.serve.audio import HEARING_RATE, resample_all
from thinkspeak.serve.conversation import Item
from thinkspeak.serve.protocol import ProtocolError
from thinkspeak.serve.thinkers.base import estimate_tokens


def item_wire(item: Item) -> dict[str, Any]:
    """The protocol's item object for ``item`` (audio itself is never echoed)."""
    if item.role == "assistant":
        return P.assistant_item(item.id, transcript=item.heard, status="completed", audio=item.clock is not None)
    if item.role == "system":
        return {"id": item.id, "object": "realtime.item", "type": "message", "role": "system",
                "status": "completed", "content": [{"type": "input_text", "text": item.text}]}
    return P.user_item(item.id, transcript=item.user_text(), audio=item.spoken)


def item_from_client(raw: dict[str, Any], *, input_rate: int, taken: set[str], event_id: str | None,
                     max_tokens: int, count: Callable[[str], int] = estimate_tokens) -> Item:
    """A message item from ``conversation.item.create``: text parts (at most ``max_tokens`` by ``count``: no
    turn could send more to the Thinker), or (user) pcm16 ``input_audio`` resampled to the hearing rate.
    Hearing audio is the caller's business (``item.transcript`` is left unset); a typed user item is heard."""
    role, content = raw.get("role"), raw.get("content")
    if raw.get("type", "message") != "message" or role not in ("user", "assistant", "system"):
        raise ProtocolError("invalid_value", "item must be a message with role user, assistant or system",
                            "item.role", event_id)
    if not isinstance(content, list) or not content or not all(isinstance(c, dict) for c in content):
        raise ProtocolError("invalid_value", "item.content must be a non-empty list of parts", "item.content",
                            event_id)
    item_id = raw["id"] if isinstance(raw.get("id"), str) and raw["id"] else P.new_id("item")
    if item_id in taken:
        raise ProtocolError("invalid_value", f"item id '{item_id[:60]}' already exists", "item.id", event_id)
    texts, audio = [], []
    for i, part in enumerate(content):
        text = part.get("text", part.get("transcript"))
        if part.get("type") == "input_audio" and role == "user":
            audio.append(pcm16_to_float(decode_audio(part.get("audio"), f"item.content[{i}].audio", event_id)))
        elif isinstance(text, str):
            texts.append(text)
        else:
            raise ProtocolError("invalid_value", f"unsupported content part {part.get('type')!r:.40}",
                                f"item.content[{i}]", event_id)
    pcm = resample_all(np.concatenate(audio), input_rate, HEARING_RATE) if audio else None
    text = " ".join(texts).strip()
    if (tokens := count(text)) > max_tokens:
        raise ProtocolError("input_too_long", f"the item's text takes {tokens} tokens; the limit is {max_tokens}",
                            "item.content", event_id)
    item = Item(item_id, role, audio=pcm, text=text)
    if role == "user" and pcm is None:  # typed text is heard at once
        item.transcript = asyncio.get_running_loop().create_future()
        item.transcript.set_result(text)
    return item


def decode_audio(value: Any, param: str, event_id: str | None) -> bytes:
    """Base64 pcm16 from a client field, or ProtocolError naming ``param``."""
    if not isinstance(value, str):
        raise ProtocolError("invalid_value", f"'{param}' must be a base64 string", param, event_id)
    try:
        pcm = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ProtocolError("invalid_audio", f"'{param}' is not valid base64", param, event_id) from None
    if len(pcm) % 2:
        raise ProtocolError("invalid_audio", f"'{param}' must hold whole 16-bit samples, got {len(pcm)} bytes",
                            param, event_id)
    return pcm
