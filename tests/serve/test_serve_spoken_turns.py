"""Spoken turns over the wire: real-time speech in, VAD, ASR, the Thinker's two streams, audio out, barge-in.

The server runs under uvicorn on 127.0.0.1 with the real Silero VAD, Whisper-base and espeak-ng; the Thinker
is the chat peer of serve_chat_peer.py (a reasoning-model-shaped OpenAI endpoint), so answers are known.
"""

from __future__ import annotations

import asyncio

import numpy as np
import pytest
from serve_chat_peer import answer_for
from serve_helpers import Client, pcm_of, silence, speech_end_ms, start_server

from thinkspeak.serve.engines import Engines
from thinkspeak.serve.thinkers.openai_chat import OpenAIChatThinker

QUESTION = "What is six times seven?"

# Bounds on waits for events are liveness checks only (a shared CI machine can be slow), never deadlines.
LIVENESS_S = 120


PLAYOUT_LEAD_MS = 400  # docs/server.md: the sender keeps at most 400 ms of audio queued at the client


def words(text: str) -> list[str]:
    return text.lower().replace(",", " ").replace(".", " ").split()


def spoken_spans(events: list[dict], response_id: str, cut_ms: float) -> tuple[str, str]:
    """From the wire alone (each transcript delta goes out just before its audio): the text of the chunks whose
    audio ended by ``cut_ms``, and of the chunks whose audio began before it."""
    chunks: list[list] = []  # [text, start_ms, end_ms]
    at_ms = 0.0
    for event in events:
        if event.get("response_id") != response_id:
            continue
        if event["type"] == "response.output_audio_transcript.delta":
            chunks.append([event["delta"], at_ms, at_ms])
        elif event["type"] == "response.output_audio.delta":
            at_ms += len(pcm_of([event])) / 24
            if chunks:
                chunks[-1][2] = at_ms
    played = "".join(text for text, _, end in chunks if end <= cut_ms)
    reached = "".join(text for text, start, _ in chunks if start < cut_ms)
    return played, reached


async def spoken_turn(server, say) -> tuple[Client, float, dict]:
    client = await Client.connect(server.url)
    speech = say(QUESTION)
    await client.stream(silence(0.3))
    end_of_speech = await client.stream(speech)
    await client.stream(silence(1.0))
    done = await client.wait_for("response.done", timeout=LIVENESS_S)
    return client, end_of_speech, done


def test_spoken_turn_gives_transcript_reasoning_and_audio(server, say, chat_peer):
    async def main():
        client, _, done = await spoken_turn(server, say)
        await client.wait_for("thinkspeak.turn.latency", timeout=LIVENESS_S)
        await client.close()
        return client, done

    client, done = asyncio.run(main())
    kinds = [e["type"] for e in client.events]
    started, stopped = client.of("input_audio_buffer.speech_started")[0], client.of("input_audio_buffer.speech_stopped")[0]
    assert started["item_id"] == stopped["item_id"]
    # The true end of speech is 0.3 s of lead-in + the utterance; the pre-roll pulls the start before the speech.
    assert abs(stopped["audio_end_ms"] - (300 + speech_end_ms(say(QUESTION)))) < 100
    assert started["audio_start_ms"] < 300
    assert kinds.index("input_audio_buffer.speech_stopped") < kinds.index("response.created")
    transcript = client.of("conversation.item.input_audio_transcription.completed")[0]
    assert transcript["item_id"] == stopped["item_id"]
    assert "seven" in transcript["transcript"].lower() or "7" in transcript["transcript"]

    created = client.of("response.created")[0]["response"]
    assert done["response"]["id"] == created["id"] and done["response"]["status"] == "completed"
    deltas = client.of("response.output_audio.delta")
    assert deltas and all(d["response_id"] == created["id"] for d in deltas)
    audio = pcm_of(deltas)
    assert len(audio) / 24000 > 1.0 and np.sqrt(np.mean(audio ** 2)) > 0.01

    reasoning, content = answer_for(chat_peer.requests[-1]["messages"])
    assert "".join(e["delta"] for e in client.of("thinkspeak.reasoning.delta")) == reasoning
    spoken = "".join(e["delta"] for e in client.of("response.output_audio_transcript.delta"))
    assert spoken.split() == content.split()
    assert client.of("response.output_audio_transcript.done")[0]["transcript"].split() == content.split()

    latency = client.of("thinkspeak.turn.latency")[0]["latency_ms"]
    assert set(latency) == {"speech_stopped", "transcript", "first_token", "first_audio"}
    assert latency["speech_stopped"] <= latency["first_audio"]
    assert server.metric("thinkspeak_turn_latency_seconds_count", stage="first_audio") >= 1


def test_multi_turn_memory_is_per_session(server, chat_peer):
    async def text_turn(client: Client, text: str) -> dict:
        await client.send({"type": "conversation.item.create", "item": {
            "type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}})
        await client.send({"type": "response.create", "response": {"output_modalities": ["text"]}})
        return await client.wait_for("response.done", timeout=LIVENESS_S)

    async def main():
        a, b = await Client.connect(server.url), await Client.connect(server.url)
        await text_turn(a, "My name is Ada.")
        second = await text_turn(a, "What is my name?")
        first_of_b = await text_turn(b, "Hello?")
        await a.close()
        await b.close()
        return second, first_of_b

    second, first_of_b = asyncio.run(main())
    text_a = second["response"]["output"][0]["content"][0]["text"]
    text_b = first_of_b["response"]["output"][0]["content"][0]["text"]
    assert "I remember 1 earlier turns" in text_a
    assert "I remember 0 earlier turns" in text_b


def test_barge_in_cancels_and_truncates_to_what_was_played(server, say, chat_peer):
    async def main():
        client = await Client.connect(server.url)
        await client.stream(silence(0.3))
        await client.stream(say(QUESTION))
        await client.stream(silence(0.8))
        first_audio = await client.wait_for("response.output_audio.delta", timeout=LIVENESS_S)
        created = client.of("response.created")[0]["response"]
        await client.stream(silence(1.0))  # let ~1 s of the answer play
        await client.stream(say("Wait, stop. Tell me about the weather instead."))
        interrupted = await client.wait_for("input_audio_buffer.speech_started", timeout=LIVENESS_S)
        truncated = await client.wait_for("conversation.item.truncated", timeout=LIVENESS_S)
        await client.stream(silence(1.0))
        second = await client.wait_for("response.created", timeout=LIVENESS_S)
        await client.wait_for("response.done", timeout=LIVENESS_S)
        await client.close()
        return client, created, first_audio, interrupted, truncated, second

    client, created, first_audio, interrupted, truncated, second = asyncio.run(main())
    events = client.events
    first_done = next(e for e in events if e["type"] == "response.done" and e["response"]["id"] == created["id"])
    assert first_done["response"]["status"] == "cancelled"
    assert first_done["response"]["status_details"]["reason"] == "turn_detected"
    cut = client.index(interrupted)
    late = [e for e in events[cut:] if e["type"] == "response.output_audio.delta" and e["response_id"] == created["id"]]
    assert late == []  # nothing of the cancelled answer after the client was told to flush
    deltas = [e for e in events if e["type"] == "response.output_audio.delta" and e["response_id"] == created["id"]]
    sent_ms = len(pcm_of(deltas)) / 24
    longest_delta_ms = max(len(pcm_of([e])) / 24 for e in deltas)
    assert truncated["item_id"] == first_audio["item_id"]
    # No clock in the assertion: the cut lies in what was sent, and -- since the sender keeps at most the
    # playout lead (docs/server.md: 400 ms) plus one delta queued at the client -- not far behind it.
    end_ms = truncated["audio_end_ms"]
    assert 0 < end_ms <= sent_ms
    assert sent_ms - end_ms <= PLAYOUT_LEAD_MS + longest_delta_ms + 1
    heard = first_done["response"]["output"][0]["content"][0]["transcript"]
    _, full = answer_for(chat_peer.requests[-2]["messages"])
    assert heard and full.startswith(heard.rstrip(".,")) and len(heard) < len(full)
    # The transcript is the words under the cut: every chunk whose audio ended before it, none that began after.
    played, reached = spoken_spans(events, created["id"], end_ms)
    assert words(heard)[: len(words(played))] == words(played) and words(reached)[: len(words(heard))] == words(heard)
    # The next turn's history holds the truncated answer, not the whole one.
    history = chat_peer.requests[-1]["messages"]
    assert history[-2] == {"role": "assistant", "content": heard}
    assert second["response"]["id"] != created["id"]


@pytest.mark.parametrize("burst_ms", [120])
def test_a_short_noise_is_a_false_interruption_and_the_answer_resumes(server, say, burst_ms):
    async def main():
        client = await Client.connect(server.url)
        await client.stream(silence(0.3))
        await client.stream(say(QUESTION))
        await client.stream(silence(0.8))
        await client.wait_for("response.output_audio.delta", timeout=LIVENESS_S)
        before = server.metric("thinkspeak_barge_ins_total", outcome="false")
        blip = say("Ah")[: int(burst_ms * 24)]
        await client.stream(silence(0.5))
        await client.stream(blip)
        await client.stream(silence(1.2))
        done = await client.wait_for("response.done", timeout=LIVENESS_S)
        await client.close()
        return client, done, before

    client, done, before = asyncio.run(main())
    assert done["response"]["status"] == "completed"
    assert len(client.of("input_audio_buffer.speech_started")) == 1  # only the question
    assert server.metric("thinkspeak_barge_ins_total", outcome="false") == before + 1


def test_speculation_is_discarded_when_the_user_goes_on(server, say, chat_peer):
    """A 250 ms pause starts a speculative answer (tentative end) that must vanish when speech resumes."""
    async def main():
        client = await Client.connect(server.url)
        discarded = server.metric("thinkspeak_speculative_decodes_total", outcome="discarded")
        first, second = say("Tell me,"), say("what is six times seven?")
        first = first[: int((speech_end_ms(first) + 10) * 24)]
        await client.stream(np.concatenate([silence(0.3), first, silence(0.25), second, silence(1.0)]))
        done = await client.wait_for("response.done", timeout=LIVENESS_S)
        await client.close()
        return client, done, discarded

    client, done, discarded = asyncio.run(main())
    assert server.metric("thinkspeak_speculative_decodes_total", outcome="discarded") >= discarded + 1
    assert len(client.of("input_audio_buffer.speech_stopped")) == 1 and len(client.of("response.created")) == 1
    said = client.of("response.output_audio_transcript.done")[0]["transcript"].lower()
    assert "tell me" in said and ("seven" in said or "7" in said)  # the answer heard the whole turn


async def semantic_client(server, eagerness: str) -> Client:
    client = await Client.connect(server.url)
    await client.send({"type": "session.update", "session": {"type": "realtime", "audio": {"input": {
        "turn_detection": {"type": "semantic_vad", "eagerness": eagerness}}}}})
    updated = await client.wait_for("session.updated", timeout=LIVENESS_S)
    assert updated["session"]["audio"]["input"]["turn_detection"]["type"] == "semantic_vad"
    return client


def test_semantic_vad_answers_a_finished_question_before_the_silence_timeout(server, say):
    """eagerness high waits up to 2 s of silence; a finished question ends its turn well within 1.2 s."""
    async def main():
        client = await semantic_client(server, "high")
        await client.stream(np.concatenate([silence(0.3), say(QUESTION), silence(1.2)]))
        stopped = await client.wait_for("input_audio_buffer.speech_stopped", timeout=LIVENESS_S)
        done = await client.wait_for("response.done", timeout=LIVENESS_S)
        await client.close()
        return stopped, done

    stopped, done = asyncio.run(main())
    assert abs(stopped["audio_end_ms"] - (300 + speech_end_ms(say(QUESTION)))) < 100
    assert done["response"]["status"] == "completed"


def test_semantic_vad_waits_out_an_unfinished_question(server, say):
    """'What is six times' is not a question yet: 1.2 s of silence does not end it, the 2 s timeout does."""
    async def main():
        client = await semantic_client(server, "high")
        await client.stream(np.concatenate([silence(0.3), say("What is six times"), silence(1.2)]))
        await asyncio.sleep(0.5)
        early = list(client.of("input_audio_buffer.speech_stopped"))
        await client.stream(silence(1.2))
        stopped = await client.wait_for("input_audio_buffer.speech_stopped", timeout=LIVENESS_S)
        await client.close()
        return early, stopped

    early, stopped = asyncio.run(main())
    assert early == [] and stopped["type"] == "input_audio_buffer.speech_stopped"


class CountingASR:
    """The real Whisper ASR, counting its calls (the session under test decides when to hear)."""

    def __init__(self, asr):
        self.asr, self.calls = asr, 0

    def transcribe(self, pcm):
        self.calls += 1
        return self.asr.transcribe(pcm)


def test_semantic_vad_hears_a_turn_once_without_speculation(speech_engines, chat_peer, say):
    """With create_response false nothing is decoded speculatively; the transcript heard at the pause to
    decide the end of turn is the turn's transcript too (no second ASR pass)."""
    make_vad, asr, tts = speech_engines
    counting = CountingASR(asr)
    running = start_server(Engines(thinker=OpenAIChatThinker(chat_peer.base_url, "peer-model"), make_vad=make_vad,
                                   asr=counting, tts=tts), None)
    try:
        async def main():
            client = await Client.connect(running.url)
            await client.send({"type": "session.update", "session": {"type": "realtime", "audio": {"input": {
                "turn_detection": {"type": "semantic_vad", "eagerness": "high", "create_response": False}}}}})
            await client.wait_for("session.updated", timeout=LIVENESS_S)
            await client.stream(np.concatenate([silence(0.3), say(QUESTION), silence(1.2)]))
            done = await client.wait_for("conversation.item.input_audio_transcription.completed", timeout=LIVENESS_S)
            await client.close()
            return client, done

        client, done = asyncio.run(main())
    finally:
        running.server.should_exit = True
    assert "seven" in done["transcript"].lower() or "7" in done["transcript"]
    assert client.of("response.created") == [] and counting.calls == 1
