"""What a hostile client tried against the server, each now a regression test (issue 10's hardening list).

Each test talks to a real server over the Realtime WebSocket; the engines are the real ones of conftest.py
unless the case needs an engine that fails (then that engine is the fixture, the server is under test)."""

from __future__ import annotations

import asyncio
import base64
import gc
import json
import time
import weakref
from dataclasses import replace

import httpx
import numpy as np
import pytest
import websockets
from serve_helpers import WIRE_RATE, Client, start_server

from thinkspeak.audio import float_to_pcm16
from thinkspeak.cli import main
from thinkspeak.serve.config import ServerConfig, ServerLimits
from thinkspeak.serve.engines import Engines
from thinkspeak.serve.thinkers.openai_chat import OpenAIChatThinker


def text_item(text: str, role: str = "user") -> dict:
    return {"type": "conversation.item.create", "item": {
        "type": "message", "role": role, "content": [{"type": "input_text", "text": text}]}}


async def text_turn(client: Client, text: str) -> dict:
    await client.send(text_item(text))
    await client.send({"type": "response.create", "response": {"output_modalities": ["text"]}})
    return await client.wait_for("response.done", timeout=30)


def serve_with(speech_engines, chat_peer, **config) -> object:
    make_vad, asr, tts = speech_engines
    engines = Engines(thinker=OpenAIChatThinker(chat_peer.base_url, "peer-model"), make_vad=make_vad, asr=asr,
                      tts=tts)
    return start_server(engines, ServerConfig(**config))


@pytest.fixture(scope="module")
def small_server(speech_engines, chat_peer):
    """A server with small conversation and prompt limits."""
    running = serve_with(speech_engines, chat_peer, limits=replace(
        ServerLimits(), max_items=5, max_prompt_tokens=120))
    yield running
    running.server.should_exit = True


def test_a_closed_session_frees_its_items_at_once(server):
    """Reference cycles kept closed sessions (and their items) until a full garbage collection."""
    async def main_():
        client = await Client.connect(server.url)
        for n in range(20):
            await client.send(text_item(f"{n} " + "x" * 2000, role="system"))
        await client.wait_for("conversation.item.done", timeout=10)
        while len(client.of("conversation.item.done")) < 20:
            await asyncio.sleep(0.02)
        (session,) = list(server.app.state.sessions)
        refs = [weakref.ref(item) for item in session.conversation.items]
        del session
        gc.disable()
        try:
            await client.close()
            deadline = time.monotonic() + 10
            while server.app.state.sessions and time.monotonic() < deadline:
                await asyncio.sleep(0.02)
            await asyncio.sleep(0.2)
            return [r for r in refs if r() is not None], len(refs)
        finally:
            gc.enable()

    alive, total = asyncio.run(main_())
    assert total == 20 and alive == []


def test_the_conversation_drops_its_oldest_items_past_the_limit(small_server):
    async def main_():
        client = await Client.connect(small_server.url)
        ids = []
        for n in range(8):
            await client.send(text_item(f"note {n}", role="system"))
            ids.append((await client.wait_for("conversation.item.done"))["item"]["id"])
        deleted = [e["item_id"] for e in client.of("conversation.item.deleted")]
        await client.send({"type": "conversation.item.delete", "item_id": ids[0]})
        error = await client.wait_for("error")
        await client.close()
        return ids, deleted, error

    ids, deleted, error = asyncio.run(main_())
    assert deleted == ids[:3]
    assert error["error"]["param"] == "item_id"


def test_oversize_text_is_an_error_and_history_is_trimmed_oldest_first(small_server, chat_peer):
    async def main_():
        client = await Client.connect(small_server.url)
        await client.send(text_item("word " * 400))
        error = await client.wait_for("error", timeout=10)
        for n in range(4):
            done = await text_turn(client, f"Question number {n}?")
            assert done["response"]["status"] == "completed"
        await client.close()
        return error

    error = asyncio.run(main_())
    assert error["error"]["code"] == "input_too_long" and error["error"]["param"] == "item.content"
    sent = chat_peer.requests[-1]["messages"]
    users = [m["content"] for m in sent if m["role"] == "user"]
    assert users[-1] == "Question number 3?"
    assert 1 <= len(users) < 4, "the oldest turns were dropped to fit 120 tokens"
    assert all(a in users for a in users[:-1]) and "Question number 0?" not in users
    assert sum(len(m["content"].encode()) for m in sent) // 3 + len(sent) <= 120


def test_audio_items_draw_on_the_same_budget_as_appended_audio(server):
    """30 items of 1 MB of input_audio were not rate-limited at all."""
    audio = base64.b64encode(float_to_pcm16(np.zeros(15 * WIRE_RATE, np.float32))).decode()  # 15 s per item
    item = {"type": "conversation.item.create", "item": {"type": "message", "role": "user", "content": [
        {"type": "input_audio", "audio": audio}]}}

    async def main_():
        client = await Client.connect(server.url)
        await client.send(item)
        added = await client.wait_for("conversation.item.added", timeout=10)
        await client.send(item)
        error = await client.wait_for("error", timeout=10)
        await client.close()
        return added, error

    added, error = asyncio.run(main_())
    assert added["item"]["content"][0]["type"] == "input_audio"
    assert error["error"]["code"] == "rate_limit_exceeded" and error["error"]["param"] == "item.content"


@pytest.mark.parametrize("raw", [
    '{"type": "session.update", "session": ' + "[" * 5000 + "]" * 5000 + "}",
    '{"type": "response.create", "response": {"n": ' + "9" * 5000 + "}}",
])
def test_deep_json_and_huge_integers_are_invalid_json_on_an_open_session(server, raw):
    async def main_():
        client = await Client.connect(server.url)
        await client.ws.send(raw)
        error = await client.wait_for("error", timeout=10)
        done = await text_turn(client, "Still there?")
        await client.close()
        return error, done

    error, done = asyncio.run(main_())
    assert error["error"]["code"] == "invalid_json"
    assert done["response"]["status"] == "completed"


@pytest.mark.parametrize("threshold", [0, 1.0])
def test_session_update_is_validated_before_it_is_reported(server, threshold):
    async def main_():
        client = await Client.connect(server.url)
        await client.send({"type": "session.update", "session": {"audio": {"input": {"turn_detection": {
            "type": "server_vad", "threshold": threshold}}}}})
        error = await client.wait_for("error", timeout=10)
        await client.send({"type": "session.update", "session": {"instructions": "Be brief."}})
        updated = await client.wait_for("session.updated", timeout=10)
        await client.close()
        return client, error, updated

    client, error, updated = asyncio.run(main_())
    assert error["error"]["param"] == "session.audio.input.turn_detection.threshold"
    assert len(client.of("session.updated")) == 1
    assert updated["session"]["audio"]["input"]["turn_detection"]["threshold"] == 0.5


def test_cancel_right_after_create_still_creates_and_ends_the_response(server):
    async def main_():
        client = await Client.connect(server.url)
        await client.send(text_item("Tell me a story"))
        await client.send({"type": "response.create"})
        await client.send({"type": "response.cancel"})
        done = await client.wait_for("response.done", timeout=30)
        await text_turn(client, "And now?")
        await client.close()
        return client, done

    client, done = asyncio.run(main_())
    first = done["response"]["id"]
    assert [e["response"]["id"] for e in client.of("response.created")].count(first) == 1
    assert [e["response"]["id"] for e in client.of("response.done")].count(first) == 1
    assert done["response"]["status"] == "cancelled"


def test_a_client_that_never_reads_is_disconnected(speech_engines, chat_peer):
    """A raw client that reads the handshake, then nothing (not even pings), while the server has a lot to say."""
    from websockets.client import ClientProtocol
    from websockets.uri import parse_uri

    running = serve_with(speech_engines, chat_peer, limits=replace(
        ServerLimits(), write_timeout_s=1.0, max_prompt_tokens=1 << 30))
    item = json.dumps(text_item("y" * (900 << 10), role="system")).encode()  # echoed twice by the server

    async def main_():
        proto = ClientProtocol(parse_uri(running.url), max_size=None)
        reader, writer = await asyncio.open_connection("127.0.0.1", running.port, limit=1 << 16)
        proto.send_request(proto.connect())
        writer.write(b"".join(proto.data_to_send()))
        proto.receive_data(await reader.readuntil(b"\r\n\r\n"))
        for _ in range(40):
            proto.send_text(item)
            writer.write(b"".join(proto.data_to_send()))
            try:
                await asyncio.wait_for(writer.drain(), 5)
            except (TimeoutError, ConnectionError):
                break
        deadline = time.monotonic() + 15  # well before uvicorn's keepalive (20 s ping + 20 s) would give up
        while running.app.state.sessions and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        writer.transport.abort()
        return len(running.app.state.sessions)

    try:
        assert asyncio.run(main_()) == 0
    finally:
        running.server.should_exit = True


class FailingASR:
    def transcribe(self, pcm):
        raise RuntimeError("secret-asr-detail /etc/thinkspeak")


class FailingThinker:
    name, hears_audio = "failing", False

    async def stream(self, request, token):
        raise RuntimeError("secret-thinker-detail /etc/thinkspeak")
        yield


def test_internal_errors_reach_clients_without_their_text(speech_engines):
    make_vad, _, tts = speech_engines
    running = start_server(Engines(thinker=FailingThinker(), make_vad=make_vad, asr=FailingASR(), tts=tts))
    audio = base64.b64encode(float_to_pcm16(np.zeros(WIRE_RATE, np.float32))).decode()

    async def main_():
        client = await Client.connect(running.url)
        await client.send({"type": "conversation.item.create", "item": {"type": "message", "role": "user",
                                                                        "content": [{"type": "input_audio",
                                                                                     "audio": audio}]}})
        failed = await client.wait_for("conversation.item.input_audio_transcription.failed", timeout=10)
        done = await text_turn(client, "Hello?")
        await client.close()
        return client, failed, done

    try:
        client, failed, done = asyncio.run(main_())
    finally:
        running.server.should_exit = True
    assert failed["error"]["code"] == "transcription_failed"
    assert done["response"]["status"] == "failed"
    assert [e["error"]["code"] for e in client.of("error")] == ["response_failed"]
    assert "secret" not in json.dumps(client.events) and "/etc" not in json.dumps(client.events)


@pytest.fixture(scope="module")
def keyed_server(speech_engines, chat_peer):
    running = serve_with(speech_engines, chat_peer, api_key="k-123")
    yield running
    running.server.should_exit = True


def test_an_api_key_is_required_as_bearer_or_subprotocol(keyed_server):
    async def attempt(**kwargs) -> str:
        try:
            ws = await websockets.connect(keyed_server.url, **kwargs)
        except websockets.InvalidStatus as exc:
            return f"refused {exc.response.status_code}"
        first = json.loads(await ws.recv())["type"]
        await ws.close()
        return first

    async def main_():
        return [await attempt(), await attempt(additional_headers={"Authorization": "Bearer wrong"}),
                await attempt(additional_headers={"Authorization": "Bearer k-123"}),
                await attempt(subprotocols=["realtime", "openai-insecure-api-key.k-123"])]

    assert asyncio.run(main_()) == ["refused 403", "refused 403", "session.created", "session.created"]


def test_cross_site_pages_cannot_connect_and_api_docs_are_off(server):
    own = f"http://127.0.0.1:{server.port}"

    async def attempt(origin: str) -> str:
        try:
            ws = await websockets.connect(server.url, origin=origin)
        except websockets.InvalidStatus as exc:
            return f"refused {exc.response.status_code}"
        await ws.close()
        return "accepted"

    async def main_():
        return await attempt("http://evil.example"), await attempt(own)

    assert asyncio.run(main_()) == ("refused 403", "accepted")
    for path in ("/docs", "/redoc", "/openapi.json"):
        assert httpx.get(server.http + path).status_code == 404


def test_a_public_bind_needs_an_api_key(capsys, monkeypatch):
    monkeypatch.delenv("THINKSPEAK_API_KEY", raising=False)
    assert main(["serve", "--host", "0.0.0.0", "--openai-base-url", "http://127.0.0.1:9/v1",
                 "--openai-model", "m"]) == 2
    assert "--api-key" in capsys.readouterr().err
