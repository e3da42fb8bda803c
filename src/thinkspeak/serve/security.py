"""Who may open a session: an API key and the browser's Origin, checked before the WebSocket is accepted.

A server on localhost is reachable by every web page its user visits, so browsers' cross-site connections
are refused unless their Origin is allowed (default: the server's own origin, where its page lives). With an
API key, a client presents it as ``Authorization: Bearer <key>`` (the SDKs) or, since browsers cannot set
headers on a WebSocket, as the ``openai-insecure-api-key.<key>`` subprotocol (OpenAI's convention).
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Mapping, Sequence

KEY_PROTOCOL = "openai-insecure-api-key."


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and ``localhost``."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def origin_allowed(origin: str | None, host: str | None, allowed: Sequence[str] | None) -> bool:
    """No Origin (not a browser) passes; a browser's must be listed, or with no list be the server's own."""
    if origin is None:
        return True
    if allowed is not None:
        return "*" in allowed or origin in allowed
    return host is not None and origin.split("://", 1)[-1] == host


def key_presented(headers: Mapping[str, str], subprotocols: Sequence[str], key: str) -> bool:
    """Whether the request carries ``key`` as a Bearer token or in the key subprotocol (constant-time)."""
    auth = headers.get("authorization", "")
    offered = [auth[7:].strip()] if auth.lower().startswith("bearer ") else []
    offered += [p[len(KEY_PROTOCOL):] for p in subprotocols if p.startswith(KEY_PROTOCOL)]
    return any(hmac.compare_digest(o.encode(), key.encode()) for o in offered)
