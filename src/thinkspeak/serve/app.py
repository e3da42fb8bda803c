"""The FastAPI app: ``/v1/realtime`` (WebSocket, OpenAI Realtime subset), ``/`` (browser page), ``/metrics``,
``/healthz``.

A stock SDK client with ``base_url="http://HOST:PORT/v1"`` connects to ``ws://HOST:PORT/v1/realtime?model=...``
(it sends ``Authorization: Bearer ...``; without ``ServerConfig.api_key`` any key is accepted). Browsers cannot
set headers, so they may offer the ``realtime`` subprotocol (accepted) and the key as a subprotocol
(:mod:`thinkspeak.serve.security`). Cross-site browser connections are refused before the socket is accepted.
"""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from importlib import resources

from fastapi import FastAPI, WebSocket
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from thinkspeak.serve.config import ServerConfig
from thinkspeak.serve.engines import Engines
from thinkspeak.serve.metrics import ServerMetrics
from thinkspeak.serve.protocol import ProtocolError, error_event
from thinkspeak.serve.security import key_presented, origin_allowed
from thinkspeak.serve.session import RealtimeSession
from thinkspeak.serve.transport import POLICY_VIOLATION

TRY_AGAIN_LATER = 1013
STATIC_DIR = resources.files("thinkspeak.serve") / "static"


def create_app(engines: Engines, server: ServerConfig | None = None, *, warmup: bool = True) -> FastAPI:
    """An app serving ``engines`` to any number of independent sessions (``warmup``: run each speech engine
    once at startup so the first turn is not slower than the others)."""
    server = server or ServerConfig()
    metrics = ServerMetrics()
    sessions: set[RealtimeSession] = set()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if warmup:
            await asyncio.to_thread(engines.warmup)
        yield
        for session in list(sessions):
            await session.close()
        await engines.aclose()

    docs = {} if server.docs else {"docs_url": None, "redoc_url": None, "openapi_url": None}
    app = FastAPI(title="thinkspeak realtime server", lifespan=lifespan, **docs)
    app.state.engines = engines
    app.state.metrics = metrics
    app.state.sessions = sessions
    app.state.server = server
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")

    @app.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(str(STATIC_DIR / "index.html"), media_type="text/html")

    @app.get("/healthz")
    async def healthz() -> JSONResponse:
        return JSONResponse({"status": "ok", "sessions": len(sessions), "thinker": engines.thinker.name,
                             "talker": getattr(engines.talker, "name", None), "asr": engines.asr is not None})

    @app.get("/metrics")
    async def prometheus() -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @app.websocket("/v1/realtime")
    async def realtime(ws: WebSocket, model: str | None = None) -> None:
        offered = ws.scope.get("subprotocols") or []
        if not origin_allowed(ws.headers.get("origin"), ws.headers.get("host"), server.allowed_origins) or (
                server.api_key is not None and not key_presented(ws.headers, offered, server.api_key)):
            await ws.close(POLICY_VIOLATION)  # before accept: the handshake is refused (HTTP 403)
            return
        await ws.accept(subprotocol="realtime" if "realtime" in offered else None)
        if len(sessions) >= server.limits.max_sessions:
            busy = ProtocolError("server_busy", f"the server holds its maximum of {server.limits.max_sessions} "
                                 "sessions; try again later", type="server_error")
            await ws.send_json(error_event(busy))
            await ws.close(TRY_AGAIN_LATER)
            return
        handler = asyncio.current_task()
        session = RealtimeSession(engines, server, metrics, ws.send_text, model=model, on_stall=handler.cancel)
        sessions.add(session)
        try:
            await session.open()
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    break
                raw = message.get("text")
                code = await session.transport.receive(raw if raw is not None else message.get("bytes"))
                if code is not None:
                    await ws.close(code)
                    break
        except asyncio.CancelledError:  # a client that stopped reading: drop it (the socket cannot take a close)
            if not session.transport.stalled:
                raise
            handler.uncancel()
        finally:
            try:
                await session.close()
            finally:
                sessions.discard(session)

    return app
