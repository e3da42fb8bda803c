"""Bad input, abuse and disconnects: errors go to the offender only; every other session keeps working."""

from __future__ import annotations

import asyncio
import base64
import json

import httpx
import pytest
from serve_helpers import Client, silence

from thinkspeak.serve.config import ServerConfig, ServerLimits
from thinkspeak.serve.engines import Engines
from thinkspeak.serve.thinkers.openai_chat import OpenAIChatThinker

# Bounds on waits for events are liveness checks only (a shared CI machine can be slow), never deadlines.
LIVENESS_S = 120


async def text_turn(client: Client, text: str, modality: str = "text") -> dict:
    await client.send({"type": "conversation.item.create", "item": {
        "type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}})
    await client.send({"type": "response.create", "response": {"output_modalities": [modality]}})
    return await client.wait_for("response.done", timeout=LIVENESS_S)


BAD_INPUTS = [
    ("this is not json", "invalid_json", None),
    (json.dumps({"type": "response.explode"}), "unknown_event_type", "type"),
    (json.dumps({"type": "input_audio_buffer.append", "audio": "%%%not base64%%%"}), "invalid_audio", "audio"),
    (json.dumps({"type": "input_audio_buffer.append", "audio": base64.b64encode(b"abc").decode()}), "invalid_audio",
     "audio"),
    (json.dumps({"type": "input_audio_buffer.append", "audio": 12}), "invalid_value", "audio"),
    (json.dumps({"type": "session.update", "session": {"audio": {"input": {"format": {"type": "audio/pcm",
                                                                                       "rate": 44100}}}}}),
     "unsupported_audio_format", "session.audio.input.format.rate"),
    (json.dumps({"type": "conversation.item.truncate", "item_id": "item_nope", "audio_end_ms": 10}), "invalid_value",
     "item_id"),
    (json.dumps({"type": "response.cancel"}), "response_cancel_not_active", None),
    (json.dumps({"type": "input_audio_buffer.commit"}), "input_audio_buffer_commit_empty", None),
    (json.dumps({"type": "response.create", "pad": "x" * (1 << 20)}), "message_too_large", None),
]


def test_bad_inputs_get_error_events_and_a_second_session_is_unaffected(server):
    async def main():
        bad, good = await Client.connect(server.url), await Client.connect(server.url)
        errors = []
        for raw, code, param in BAD_INPUTS:
            await bad.ws.send(raw)
            error = await bad.wait_for("error", timeout=LIVENESS_S)
            errors.append((error["error"]["code"], error["error"]["param"], code, param))
        await bad.ws.send(b"\x00\x01binary")
        binary = await bad.wait_for("error", timeout=LIVENESS_S)
        good_done = await text_turn(good, "Are you still there?")
        bad_done = await text_turn(bad, "And me?")  # the offender's session still works too
        await bad.close()
        await good.close()
        return errors, binary, good_done, bad_done, good

    errors, binary, good_done, bad_done, good = asyncio.run(main())
    for got_code, got_param, code, param in errors:
        assert got_code == code
        if param is not None:
            assert got_param == param
    assert binary["error"]["code"] == "invalid_json"
    assert good_done["response"]["status"] == "completed" and bad_done["response"]["status"] == "completed"
    assert good.of("error") == []
    assert server.metric("thinkspeak_client_errors_total", code="invalid_json") >= 2


def test_truncate_rejects_audio_end_beyond_the_audio(server, say):
    async def main():
        client = await Client.connect(server.url)
        done = await text_turn(client, "Say something", modality="audio")
        item = done["response"]["output"][0]["id"]
        sent_ms = sum(len(base64.b64decode(e["delta"])) / 48 for e in client.of("response.output_audio.delta"))
        await client.send({"type": "conversation.item.truncate", "item_id": item, "content_index": 0,
                           "audio_end_ms": int(sent_ms) + 1000})
        error = await client.wait_for("error", timeout=LIVENESS_S)
        await client.send({"type": "conversation.item.truncate", "item_id": item, "content_index": 0,
                           "audio_end_ms": 500})
        truncated = await client.wait_for("conversation.item.truncated", timeout=LIVENESS_S)
        await client.close()
        return error, truncated, sent_ms

    error, truncated, sent_ms = asyncio.run(main())
    assert sent_ms > 1000
    assert error["error"]["code"] == "invalid_value" and error["error"]["param"] == "audio_end_ms"
    assert truncated["audio_end_ms"] == 500


def test_manual_turns_with_vad_off(server, say):
    async def main():
        client = await Client.connect(server.url)
        await client.send({"type": "session.update", "session": {"audio": {"input": {"turn_detection": None}}}})
        updated = await client.wait_for("session.updated", timeout=LIVENESS_S)
        await client.stream(silence(0.2), realtime=False)
        await client.stream(say("What is six times seven?"), realtime=False)
        await client.send({"type": "input_audio_buffer.commit"})
        committed = await client.wait_for("input_audio_buffer.committed", timeout=LIVENESS_S)
        transcript = await client.wait_for("conversation.item.input_audio_transcription.completed", timeout=LIVENESS_S)
        await client.send({"type": "response.create"})
        done = await client.wait_for("response.done", timeout=LIVENESS_S)
        await client.close()
        return client, updated, committed, transcript, done

    client, updated, committed, transcript, done = asyncio.run(main())
    assert updated["session"]["audio"]["input"]["turn_detection"] is None
    assert client.of("input_audio_buffer.speech_started") == []  # no VAD
    heard = transcript["transcript"].lower()
    assert transcript["item_id"] == committed["item_id"] and ("seven" in heard or "7" in heard)
    assert done["response"]["status"] == "completed" and client.of("response.output_audio.delta")


async def poll(condition, what: str, bound_s: float = 120.0) -> None:
    """Liveness only: wait for ``condition()`` (events, not time, decide); fail after a generous bound."""
    for _ in range(int(bound_s / 0.05)):
        if await asyncio.to_thread(condition):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{what} never happened (liveness bound {bound_s} s)")


def test_disconnect_mid_answer_frees_the_work(server, say):
    """A client gone mid-answer: its response ends cancelled (it did not run to completion) and its session is
    freed. Observed on /metrics; no deadline -- the poll's bound is a liveness check only."""
    async def main():
        client = await Client.connect(server.url)
        await client.send({"type": "conversation.item.create", "item": {
            "type": "message", "role": "user", "content": [{"type": "input_text", "text": "Talk to me"}]}})
        await client.send({"type": "response.create"})
        await client.wait_for("response.output_audio.delta", timeout=LIVENESS_S)
        before = {s: server.metric("thinkspeak_responses_total", status=s) for s in ("cancelled", "completed")}
        await client.close()
        await poll(lambda: server.metric("thinkspeak_sessions_active") == 0, "the session being freed")
        await poll(lambda: server.metric("thinkspeak_responses_total", status="cancelled") > before["cancelled"],
                   "the response being cancelled")
        return before

    before = asyncio.run(main())
    assert server.metric("thinkspeak_responses_total", status="cancelled") == before["cancelled"] + 1
    assert server.metric("thinkspeak_responses_total", status="completed") == before["completed"]


@pytest.fixture(scope="module")
def strict_server(speech_engines, chat_peer):
    """A server with tight limits, to see flooding answered with errors and then a policy close."""
    from serve_helpers import start_server

    make_vad, asr, tts = speech_engines
    engines = Engines(thinker=OpenAIChatThinker(chat_peer.base_url, "peer-model"), make_vad=make_vad, asr=asr,
                      tts=tts)
    limits = ServerLimits(messages_per_s=50, message_burst=20, max_errors=10, max_sessions=3)
    running = start_server(engines, ServerConfig(limits=limits))
    yield running
    running.server.should_exit = True


def test_flooding_is_rate_limited_then_closed_while_others_continue(strict_server):
    async def main():
        flood, calm = await Client.connect(strict_server.url), await Client.connect(strict_server.url)
        for _ in range(400):
            try:
                await flood.send({"type": "input_audio_buffer.clear"})
            except Exception:  # the server closed the connection
                break
        await asyncio.wait_for(flood.closed.wait(), LIVENESS_S)
        calm_done = await text_turn(calm, "Still fine?")
        third = await Client.connect(strict_server.url)
        fourth = await Client.connect(strict_server.url)
        await third.close()
        await fourth.close()
        await calm.close()
        return flood, calm_done

    flood, calm_done = asyncio.run(main())
    codes = {e["error"]["code"] for e in flood.of("error")}
    assert "rate_limit_exceeded" in codes
    assert flood.ws.close_code == 1008
    assert calm_done["response"]["status"] == "completed"


def test_session_cap_answers_busy(strict_server):
    async def main():
        held = [await Client.connect(strict_server.url) for _ in range(3)]
        import websockets

        ws = await websockets.connect(strict_server.url)
        first = json.loads(await ws.recv())
        await asyncio.wait_for(ws.wait_closed(), LIVENESS_S)
        for client in held:
            await client.close()
        return first, ws.close_code

    first, code = asyncio.run(main())
    assert first["type"] == "error" and first["error"]["code"] == "server_busy" and code == 1013


def test_page_health_and_metrics(server):
    page = httpx.get(server.http + "/", timeout=LIVENESS_S)
    assert page.status_code == 200 and "thinkspeak" in page.text and "/static/app.js" in page.text
    assert httpx.get(server.http + "/static/mic-worklet.js", timeout=LIVENESS_S).status_code == 200
    health = httpx.get(server.http + "/healthz", timeout=LIVENESS_S).json()
    assert health["status"] == "ok" and health["thinker"] == "openai:peer-model"
    metrics = httpx.get(server.http + "/metrics", timeout=LIVENESS_S)
    assert "thinkspeak_turn_latency_seconds" in metrics.text and "thinkspeak_sessions_active" in metrics.text


def test_audio_item_created_by_the_client_is_heard(server, say):
    from thinkspeak.audio import float_to_pcm16

    async def main():
        client = await Client.connect(server.url)
        audio = base64.b64encode(float_to_pcm16(say("What is six times seven?"))).decode()
        await client.send({"type": "conversation.item.create", "item": {
            "type": "message", "role": "user", "content": [{"type": "input_audio", "audio": audio}]}})
        added = await client.wait_for("conversation.item.added", timeout=LIVENESS_S)
        transcript = await client.wait_for("conversation.item.input_audio_transcription.completed", timeout=LIVENESS_S)
        await client.send({"type": "response.create", "response": {"output_modalities": ["text"]}})
        done = await client.wait_for("response.done", timeout=LIVENESS_S)
        await client.close()
        return added, transcript, done

    added, transcript, done = asyncio.run(main())
    heard = transcript["transcript"].lower()
    assert added["item"]["content"][0]["type"] == "input_audio" and transcript["item_id"] == added["item"]["id"]
    assert "seven" in heard or "7" in heard
    assert "You asked" in done["response"]["output"][0]["content"][0]["text"]
