"""Duplex mode (issue 14): the shipped full-duplex Thinker holds the floor (``turn_detection.type: duplex``).

The chunk-clock decoder's forced floor, the per-session :class:`FloorStream` and the listener in duplex mode run
the real shipped duplex model, unit model and Silero VAD; the server tests run a real uvicorn server with a
chat peer as Thinker (what it says is not under test here, when it speaks is)."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest
from serve_helpers import WIRE_RATE, Client, silence, speech_end_ms

from thinkspeak.audio import float_to_pcm16
from thinkspeak.serve import frames as F
from thinkspeak.serve.config import TurnDetection
from thinkspeak.serve.floor import FALLBACK_SILENCE_MS, FloorStream
from thinkspeak.serve.listener import Listener

QUESTION = "What is six times seven?"
LIVENESS_S = 120


@pytest.fixture(scope="module")
def shared():
    from thinkspeak.speech.turn.duplex import load_duplex_turn

    return load_duplex_turn()


def noise(seconds: float, seed: int = 0) -> np.ndarray:
    return (np.random.default_rng(seed).normal(0, 0.01, int(seconds * 16000))).astype(np.float32)


def test_forced_floor_holds_the_channel_and_reports_the_models_own_probability(shared):
    from thinkspeak.decode.duplex import ChunkClockDecoder

    units = shared.unit_model.stream().push(noise(1.0))
    n = shared.model.clock.chunk_units
    free, forced = ChunkClockDecoder(shared.model), ChunkClockDecoder(shared.model)
    for c in range(len(units) // n):
        a = free.tick()
        b = forced.tick(c % 2 == 0)
        assert b.speaking == (c % 2 == 0) and 0.0 <= b.p_speak <= 1.0
        if c == 0:
            assert b.p_speak == pytest.approx(a.p_speak, abs=1e-5)  # same context: the same probability
        for d in (free, forced):
            d.receive(c, [int(u) for u in units[c * n:(c + 1) * n]])


def test_floor_stream_decides_only_where_the_server_asks_it(shared):
    """take only in a pause while nothing is audible; yield only over speech while audible; keep only in a pause
    while audible; while the user speaks to a silent assistant, or nobody speaks, the model only listens."""
    allowed = {("pausing", False): {None, "take"}, ("speaking", True): {None, "yield"},
               ("pausing", True): {None, "keep"}, ("speaking", False): {None}, ("silent", False): {None},
               ("silent", True): {None}}
    for (user, audible), decisions in allowed.items():
        stream = FloorStream(shared.model, shared.unit_model)
        ticks = [t for k in range(4) for t in stream.push(noise(0.5, k), user=user, audible=audible)]
        assert len(ticks) == 12  # 2 s of audio = 12.5 chunks of 160 ms
        assert {t.decision for t in ticks} <= decisions, (user, audible)
        if audible and user != "speaking":
            assert all(t.speaking for t in ticks)


def feed(listener: Listener, audio: np.ndarray) -> list:
    pcm, step, frames = float_to_pcm16(audio), WIRE_RATE * 20 // 1000 * 2, []
    for offset in range(0, len(pcm), step):
        frames += listener.feed(pcm[offset:offset + step], 0.0)
    return frames


def test_the_model_takes_the_floor_after_a_question_before_the_fallback_silence(shared, say):
    from thinkspeak.speech.vad import SileroVAD

    listener = Listener(SileroVAD, WIRE_RATE, TurnDetection(type="duplex"), max_buffer_s=10)
    speech = say(QUESTION)
    frames = feed(listener, np.concatenate([silence(0.5), speech, silence(2.5)]))
    ends = [f for f in frames if isinstance(f, F.SpeechEndFrame)]
    assert len(ends) == 1
    assert abs(ends[0].end_ms - (500 + speech_end_ms(speech))) < 150
    assert ends[0].at_ms - ends[0].end_ms < FALLBACK_SILENCE_MS  # the model ended the turn, not the silence
    took = [f for f in frames if isinstance(f, F.FloorStateFrame) and f.speaking]
    assert took and took[0].at_ms <= ends[0].at_ms + 160


# ---------------------------------------------------------------------------------------------- over the wire
async def duplex_client(server, **extra) -> tuple[Client, dict]:
    client = await Client.connect(server.url)
    await client.send({"type": "session.update", "session": {"type": "realtime", "audio": {"input": {
        "turn_detection": {"type": "duplex", **extra}}}}})
    kind = "error" if extra else "session.updated"
    return client, await client.wait_for(kind, timeout=LIVENESS_S)


def test_duplex_is_a_session_update_extension_and_bad_fields_are_named(server, shared):
    async def main():
        client, updated = await duplex_client(server)
        bad_client, error = await duplex_client(server, turn_model="rule")
        _, eager = await duplex_client(server, eagerness="sometimes")
        for c in (client, bad_client):
            await c.close()
        return updated, error, eager

    updated, error, eager = asyncio.run(main())
    td = updated["session"]["audio"]["input"]["turn_detection"]
    assert td == {"type": "duplex", "eagerness": "auto", "create_response": True, "interrupt_response": True}
    assert error["error"]["param"].endswith("turn_detection.turn_model") and "duplex" in error["error"]["message"]
    assert eager["error"]["param"].endswith("turn_detection.eagerness")


def test_duplex_session_answers_when_the_model_takes_the_floor(server, say, shared):
    """The turn ends well before the 2 s fallback; the protocol's events come in their usual order, and the page's
    ``thinkspeak.floor`` says the assistant holds the floor before its answer starts."""
    async def main():
        client, _ = await duplex_client(server)
        speech = say(QUESTION)
        await client.stream(np.concatenate([silence(0.3), speech, silence(1.2)]))
        stopped = await client.wait_for("input_audio_buffer.speech_stopped", timeout=LIVENESS_S)
        done = await client.wait_for("response.done", timeout=LIVENESS_S)
        await client.close()
        return client, speech, stopped, done

    client, speech, stopped, done = asyncio.run(main())
    assert abs(stopped["audio_end_ms"] - (300 + speech_end_ms(speech))) < 150
    kinds = [e["type"] for e in client.events]
    order = ["input_audio_buffer.speech_started", "input_audio_buffer.speech_stopped", "input_audio_buffer.committed",
             "response.created", "response.output_audio.delta", "response.done"]
    assert [kinds.index(k) for k in order] == sorted(kinds.index(k) for k in order)
    assert done["response"]["status"] == "completed"
    floor = client.of("thinkspeak.floor")
    assert floor and floor[0]["holder"] == "assistant" and 0.0 <= floor[0]["p_speak"] <= 1.0
    assert client.index(floor[0]) < kinds.index("response.output_audio.delta")
    assert not client.of("error")


def test_duplex_interruption_cancels_and_truncates_like_any_barge_in(server, say, shared):
    """The model yields to "Wait, stop. ..." spoken over its answer: speech_started, the answer cancelled with
    reason turn_detected and truncated at the played point, the floor back with the user, then a new answer."""
    async def main():
        client, _ = await duplex_client(server)
        await client.stream(np.concatenate([silence(0.3), say(QUESTION), silence(0.8)]))
        first_audio = await client.wait_for("response.output_audio.delta", timeout=LIVENESS_S)
        created = client.of("response.created")[0]["response"]
        await client.stream(silence(0.6))
        await client.stream(say("Wait, stop. Tell me about the weather instead."))
        truncated = await client.wait_for("conversation.item.truncated", timeout=LIVENESS_S)
        await client.stream(silence(1.5))
        await client.wait_for("response.created", timeout=LIVENESS_S)
        await client.wait_for("response.done", timeout=LIVENESS_S)
        await client.close()
        return client, created, first_audio, truncated

    client, created, first_audio, truncated = asyncio.run(main())
    first_done = next(e for e in client.events if e["type"] == "response.done"
                      and e["response"]["id"] == created["id"])
    assert first_done["response"]["status"] == "cancelled"
    assert first_done["response"]["status_details"]["reason"] == "turn_detected"
    assert truncated["item_id"] == first_audio["item_id"] and truncated["audio_end_ms"] > 0
    assert len(client.of("input_audio_buffer.speech_started")) == 2
    holders = [e["holder"] for e in client.of("thinkspeak.floor")]
    assert holders[:3] == ["assistant", "user", "assistant"]
