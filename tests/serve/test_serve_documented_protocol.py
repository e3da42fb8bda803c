"""Protocol behaviours docs/server.md documents, each seen over the WebSocket only.

``conversation.item.delete``, the 4x real-time audio rate limit, ``conversation_already_has_active_response``
and ``response.done`` with status ``failed`` (a Thinker endpoint that cannot be reached). The Thinker is the
chat peer of serve_chat_peer.py (so the history the server sends can be checked), or nothing at all.
"""

from __future__ import annotations

import asyncio
import base64

import pytest
from serve_chat_peer import free_port
from serve_helpers import Client, silence, start_server

from thinkspeak.audio import float_to_pcm16
from thinkspeak.serve.engines import Engines
from thinkspeak.serve.thinkers.openai_chat import OpenAIChatThinker

# docs/server.md: "rate_limit_exceeded (... or audio faster than 4x real time)"; the server lets a burst of
# audio through first (ServerLimits.audio_burst_s, 10 s), so 30 s sent at once must be refused in part.
FLOOD_SECONDS = 30
# Bounds on waits for events are liveness checks only (a shared CI machine can be slow), never deadlines.
LIVENESS_S = 120


def user_text(text: str) -> dict:
    return {"type": "conversation.item.create", "item": {
        "type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}}


async def text_turn(client: Client, text: str) -> dict:
    await client.send(user_text(text))
    await client.send({"type": "response.create", "response": {"output_modalities": ["text"]}})
    return await client.wait_for("response.done", timeout=LIVENESS_S)


def test_item_delete_removes_it_from_the_history_and_unknown_ids_are_errors(server, chat_peer):
    async def main():
        client = await Client.connect(server.url)
        await client.send(user_text("Alpha is a secret."))
        added = await client.wait_for("conversation.item.added", timeout=LIVENESS_S)
        await client.send({"type": "conversation.item.delete", "item_id": added["item"]["id"]})
        deleted = await client.wait_for("conversation.item.deleted", timeout=LIVENESS_S)
        await client.send({"type": "conversation.item.delete", "item_id": added["item"]["id"]})
        again = await client.wait_for("error", timeout=LIVENESS_S)
        done = await text_turn(client, "Bravo?")
        await client.close()
        return added, deleted, again, done

    added, deleted, again, done = asyncio.run(main())
    assert deleted["item_id"] == added["item"]["id"]
    assert again["error"]["code"] == "invalid_value" and again["error"]["param"] == "item_id"
    assert done["response"]["status"] == "completed"
    sent = " ".join(str(m["content"]) for m in chat_peer.requests[-1]["messages"])
    assert "Bravo" in sent and "Alpha" not in sent  # the deleted item never reaches the Thinker
    assert "I remember 0 earlier turns" in done["response"]["output"][0]["content"][0]["text"]


def test_audio_faster_than_4x_real_time_is_refused_and_the_session_goes_on(server):
    async def main():
        client = await Client.connect(server.url)
        second = silence(1.0)  # 1 s per message: few messages, so only the audio limit can trigger
        chunk = base64.b64encode(float_to_pcm16(second)).decode()
        for _ in range(FLOOD_SECONDS):
            await client.send({"type": "input_audio_buffer.append", "audio": chunk})
        error = await client.wait_for("error", timeout=LIVENESS_S)
        await client.send({"type": "input_audio_buffer.clear"})
        await client.wait_for("input_audio_buffer.cleared", timeout=LIVENESS_S)
        done = await text_turn(client, "Still there?")
        await client.close()
        return client, error, done

    client, error, done = asyncio.run(main())
    assert error["error"]["code"] == "rate_limit_exceeded" and error["error"]["param"] == "audio"
    assert "4.0x real time" in error["error"]["message"]
    refused = [e for e in client.of("error") if e["error"]["code"] == "rate_limit_exceeded"]
    # the burst allowance is ~10 s of audio: most of the 30 s flood is refused, not all of it
    assert 0 < len(refused) < FLOOD_SECONDS
    assert done["response"]["status"] == "completed"  # not closed: the session goes on


def test_a_second_response_create_while_one_runs_is_refused(server):
    async def main():
        client = await Client.connect(server.url)
        await client.send(user_text("Please talk for a while."))
        await client.send({"type": "response.create"})  # audio: runs for seconds
        created = await client.wait_for("response.created", timeout=LIVENESS_S)
        await client.send({"type": "response.create"})
        error = await client.wait_for("error", timeout=LIVENESS_S)
        done = await client.wait_for("response.done", timeout=LIVENESS_S)
        await client.close()
        return client, created, error, done

    client, created, error, done = asyncio.run(main())
    assert error["error"]["code"] == "conversation_already_has_active_response"
    assert len(client.of("response.created")) == 1
    assert done["response"]["id"] == created["response"]["id"] and done["response"]["status"] == "completed"


@pytest.fixture(scope="module")
def unreachable_thinker_server(speech_engines):
    """A server whose Thinker is an OpenAI-compatible endpoint nobody listens on."""
    make_vad, asr, tts = speech_engines
    dead = OpenAIChatThinker(f"http://127.0.0.1:{free_port()}/v1", "nobody")
    running = start_server(Engines(thinker=dead, make_vad=make_vad, asr=asr, tts=tts))
    yield running
    running.server.should_exit = True


def test_a_failing_thinker_ends_the_response_failed_and_the_session_stays(unreachable_thinker_server):
    url = unreachable_thinker_server.url

    async def main():
        client = await Client.connect(url)
        done = await text_turn(client, "Anyone home?")
        error = next(e for e in client.of("error"))
        await client.send({"type": "input_audio_buffer.append",
                           "audio": base64.b64encode(float_to_pcm16(silence(0.2))).decode()})
        await client.send({"type": "input_audio_buffer.clear"})
        cleared = await client.wait_for("input_audio_buffer.cleared", timeout=LIVENESS_S)
        other = await Client.connect(url)  # the server is up for everyone else
        await other.close()
        again = await text_turn(client, "Still nobody?")
        await client.close()
        return done, error, cleared, again

    done, error, cleared, again = asyncio.run(main())
    assert done["response"]["status"] == "failed"
    assert error["error"]["code"] == "response_failed" and error["error"]["type"] == "server_error"
    assert cleared["type"] == "input_audio_buffer.cleared"
    assert again["response"]["status"] == "failed"  # each response fails on its own; the session lives on

