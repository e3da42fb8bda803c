"""The stock ``openai`` SDK realtime client against the server, and a local (tiny, random) Thinker backend."""

from __future__ import annotations

import asyncio
import base64

import numpy as np
import pytest
from serve_helpers import WIRE_RATE, Client, silence, start_server

from parts import require_module
from thinkspeak.audio import float_to_pcm16
from thinkspeak.serve.engines import Engines


def test_openai_sdk_completes_a_spoken_turn(server, say):
    require_module("openai", "dev")
    import openai

    async def main():
        client = openai.AsyncOpenAI(base_url=server.http + "/v1", api_key="sk-local-anything")
        kinds, audio, transcript, reasoning = [], bytearray(), "", ""
        async with client.realtime.connect(model="thinkspeak") as conn:
            await conn.session.update(session={"type": "realtime", "audio": {"input": {
                "format": {"type": "audio/pcm", "rate": WIRE_RATE},
                "turn_detection": {"type": "server_vad", "silence_duration_ms": 400}}}})
            pcm = float_to_pcm16(np.concatenate([silence(0.3), say("What is six times seven?"), silence(1.0)]))
            for offset in range(0, len(pcm), 960):
                await conn.input_audio_buffer.append(audio=base64.b64encode(pcm[offset:offset + 960]).decode())
                await asyncio.sleep(0.02)
            async for event in conn:
                kinds.append(event.type)
                if event.type == "response.output_audio.delta":
                    audio += base64.b64decode(event.delta)
                elif event.type == "conversation.item.input_audio_transcription.completed":
                    transcript = event.transcript
                elif event.type == "thinkspeak.reasoning.delta":
                    reasoning += event.delta  # unknown to the SDK's types, still delivered
                elif event.type == "response.done":
                    status = event.response.status
                    break
        await client.close()
        return kinds, bytes(audio), transcript, reasoning, status

    kinds, audio, transcript, reasoning, status = asyncio.run(main())
    assert kinds[0] == "session.created" and "session.updated" in kinds
    assert "input_audio_buffer.speech_stopped" in kinds and status == "completed"
    assert "7" in transcript or "seven" in transcript.lower()
    assert len(audio) / 2 / WIRE_RATE > 1.0 and reasoning.startswith("The user asked")


@pytest.fixture(scope="module")
def tiny_thinker():
    """A tiny randomly initialised Qwen2 Thinker (with an untrained audio adapter) built by the test: its
    answers are nonsense, but the protocol, the decoding thread and the speech paths around it are real."""
    from thinkspeak.model.thinker import BackboneShape, Thinker
    from thinkspeak.model.tokenizer import train_tokenizer

    texts = [f"what is {a} plus {b}? {a} plus {b} is {a + b}. the answer is {a + b}." for a in range(9) for b in range(9)]
    return Thinker.build(train_tokenizer(texts, vocab_size=300), BackboneShape(layers=2, d_model=32, heads=2,
                                                                                kv_heads=1, ffn=64), seed=3)


def local_server(thinker, speech_engines, *, end_to_end: bool, with_asr: bool = True):
    from thinkspeak.serve.thinkers.local import DecodeSettings, LocalThinker

    make_vad, asr, tts = speech_engines
    backend = LocalThinker(thinker, hears_audio=end_to_end, settings=DecodeSettings(max_steps=120))
    return start_server(Engines(thinker=backend, make_vad=make_vad, asr=asr if with_asr else None, tts=tts))


@pytest.fixture(scope="module")
def tiny_thinker_server(tiny_thinker, speech_engines):
    running = local_server(tiny_thinker, speech_engines, end_to_end=False)
    yield running
    running.server.should_exit = True


def test_end_to_end_hearing_needs_no_transcript(tiny_thinker, speech_engines, say):
    """--e2e: the question's audio goes straight into the Thinker (no ASR at all here, so a text-only path
    would have nothing to answer)."""
    running = local_server(tiny_thinker, speech_engines, end_to_end=True, with_asr=False)

    async def main():
        client = await Client.connect(running.url)
        await client.stream(silence(0.3), realtime=False)
        await client.stream(say("What is two plus three?"), realtime=False)
        await client.stream(silence(1.0), realtime=False)
        done = await client.wait_for("response.done", timeout=60)
        await client.close()
        return client, done

    try:
        client, done = asyncio.run(main())
    finally:
        running.server.should_exit = True
    assert done["response"]["status"] == "completed"
    assert client.of("conversation.item.input_audio_transcription.completed")[0]["transcript"] == ""
    assert client.of("thinkspeak.reasoning.delta")


def test_local_thinker_streams_both_channels_and_can_be_cancelled(tiny_thinker_server):
    async def main():
        client = await Client.connect(tiny_thinker_server.url)
        await client.send({"type": "conversation.item.create", "item": {
            "type": "message", "role": "user", "content": [{"type": "input_text", "text": "what is 2 plus 3?"}]}})
        await client.send({"type": "response.create", "response": {"output_modalities": ["text"]}})
        done = await client.wait_for("response.done", timeout=60)
        await client.send({"type": "response.create"})
        await client.wait_for("response.created", timeout=30)
        await client.send({"type": "response.cancel"})
        cancelled = await client.wait_for("response.done", timeout=30)
        await client.close()
        return client, done, cancelled

    client, done, cancelled = asyncio.run(main())
    assert done["response"]["status"] == "completed"
    text = done["response"]["output"][0]["content"][0]["text"]
    deltas = [e["delta"] for e in client.of("response.output_text.delta")]
    assert "".join(deltas) == text
    assert client.of("thinkspeak.reasoning.delta"), "the 2:8 schedule gives reasoning slots"
    assert cancelled["response"]["status"] == "cancelled"
    assert cancelled["response"]["status_details"]["reason"] == "client_cancelled"
    after = client.index(cancelled)
    second = cancelled["response"]["id"]
    assert not [e for e in client.events[after:] if e.get("response_id") == second and e["type"].endswith(".delta")]
