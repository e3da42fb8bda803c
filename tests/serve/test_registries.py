"""Stages chosen by name: third-party turn detectors and talkers plug in without touching the session; ASR work
is shared fairly between sessions."""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from serve_helpers import Client, pcm_of, start_server

from thinkspeak.audio import float_to_pcm16
from thinkspeak.serve import frames as F
from thinkspeak.serve.config import SessionConfig
from thinkspeak.serve.detectors import TURN_DETECTORS
from thinkspeak.serve.engines import Engines
from thinkspeak.serve.hearing import HEARING, FairQueue
from thinkspeak.serve.registry import Registry
from thinkspeak.serve.talker import TALKERS, Voiced
from thinkspeak.serve.thinkers import THINKERS
from thinkspeak.serve.thinkers.openai_chat import OpenAIChatThinker
from thinkspeak.serve.turns import TurnMachine


def test_stock_stages_are_registered_and_unknown_names_are_clear_errors():
    assert {"server_vad", "semantic_vad"} <= set(TURN_DETECTORS.names())
    assert {"asr", "e2e"} <= set(HEARING.names())
    assert {"local", "openai"} <= set(THINKERS.names())
    assert {"tts", "tokens"} <= set(TALKERS.names())
    with pytest.raises(ValueError, match=r"unknown talkers 'nope'; expected one of \['tokens', 'tts'"):
        TALKERS.get("nope")
    with pytest.raises(ValueError, match="non-empty string"):
        Registry("things").register("")


class QuickWhenAsked:
    """A third-party turn detector: a question ends the turn after 50 ms of silence, anything else after 900."""

    judges_pauses = hears_words = True
    judges_barge_ins = False
    max_silence_ms = 900

    def silence_ms(self, pause) -> int:
        return 50 if pause.text.rstrip().endswith("?") else self.max_silence_ms

    def interrupts(self, audio, early=False) -> bool:
        return True


def test_a_third_party_turn_detector_is_chosen_by_its_protocol_type():
    TURN_DETECTORS.register("question_vad", lambda td: QuickWhenAsked())
    config = SessionConfig().updated({"audio": {"input": {"turn_detection": {"type": "question_vad",
                                                                             "create_response": False}}}})
    td = config.turn_detection
    assert td.type == "question_vad" and isinstance(td.detector, QuickWhenAsked) and td.max_silence_ms == 900
    assert config.to_wire("s")["audio"]["input"]["turn_detection"]["type"] == "question_vad"
    machine = TurnMachine(td)
    machine.push(F.SpeechStartFrame(10, 0))
    out = machine.push(F.SpeechPauseFrame(900, 800, np.zeros(160, np.float32)))
    assert [type(a) for a in out] == [F.HearPauseAction]  # it hears words, so the pause is heard


class BeepTalker:
    """A third-party talker: one 100 ms tone per word as the text arrives (as an audio-token Talker would take
    the text), stopping between words once cancelled."""

    name = "beeps"

    async def speak(self, text, rate, token):
        tone = float_to_pcm16(0.2 * np.sin(np.arange(rate // 10) * 2 * np.pi * 440 / rate).astype(np.float32))
        async for piece in text:
            for word in piece.split():
                if token.cancelled:
                    return
                yield Voiced(word, tone)

    def warmup(self) -> None:
        pass


def test_a_third_party_talker_speaks_without_changes_to_the_session(speech_engines, chat_peer):
    make_vad, asr, _ = speech_engines
    TALKERS.register("beeps", lambda spec=None, first_words=3: BeepTalker())
    engines = Engines(thinker=OpenAIChatThinker(chat_peer.base_url, "peer-model"), make_vad=make_vad, asr=asr,
                      talker=TALKERS.create("beeps"))
    running = start_server(engines)

    async def main():
        client = await Client.connect(running.url)
        await client.send({"type": "conversation.item.create", "item": {
            "type": "message", "role": "user", "content": [{"type": "input_text", "text": "Ping"}]}})
        await client.send({"type": "response.create"})
        done = await client.wait_for("response.done", timeout=30)
        await client.close()
        return client, done

    try:
        client, done = asyncio.run(main())
    finally:
        running.server.should_exit = True
    words = [e["delta"].strip() for e in client.of("response.output_audio_transcript.delta")]
    assert done["response"]["status"] == "completed"
    assert " ".join(words) == done["response"]["output"][0]["content"][0]["transcript"]
    assert abs(pcm_of(client.of("response.output_audio.delta")).size - len(words) * 2400) <= 1


def test_asr_work_takes_turns_between_sessions():
    """A session that queued ten transcriptions does not make another session's one wait behind all ten."""
    order: list[str] = []
    gate = threading.Event()

    def job(name: str) -> str:
        gate.wait(5)
        order.append(name)
        time.sleep(0.01)
        return name

    async def main():
        queue = FairQueue(ThreadPoolExecutor(max_workers=1), workers=1)
        flood = [asyncio.ensure_future(queue.run("flood", job, f"flood-{n}")) for n in range(10)]
        await asyncio.sleep(0.05)
        other = asyncio.ensure_future(queue.run("other", job, "other"))
        await asyncio.sleep(0.05)
        gate.set()
        await asyncio.gather(*flood, other)

    asyncio.run(main())
    assert order.index("other") == 1  # right after the flood's job that was already running
