"""Issue 10's size targets as tests: one spoken turn crosses at most 8 stage modules, the ones docs/server.md
lists, and reaches the turn machine without passing through the session; the session object stays small.

The path is measured, not declared: a profiler in the server's thread records which ``thinkspeak.serve``
modules run code (ordinary functions, not generated dunders) while a real spoken question is answered
(Silero VAD, Whisper-base, espeak-ng speech, the chat peer as Thinker)."""

from __future__ import annotations

import asyncio
import inspect
import re
import sys
import threading
from pathlib import Path

from serve_helpers import Client, silence, start_server

from thinkspeak.serve.engines import Engines
from thinkspeak.serve.session import RealtimeSession
from thinkspeak.serve.thinkers.openai_chat import OpenAIChatThinker

DOCS = Path(__file__).resolve().parents[2] / "docs" / "server.md"

#: modules every stage shares (typed messages, configuration, ids, the conversation's items, cancel tokens,
#: metrics, sample rates, rate limits, registries) and the backends behind a stage's interface (turn
#: detectors behind the turn machine, thinker backends behind the response, the thread bridge)
VOCABULARY = {"frames", "protocol", "config", "conversation", "items", "cancel", "metrics", "audio", "ratelimit",
              "registry", "engines", "detectors", "threads", "security"}
SOCKET_SIDE = {"app": "transport"}  # the app's receive loop is the transport's socket end


def documented_path() -> list[str]:
    """The modules of docs/server.md's sentence 'A spoken turn goes through ... modules in this order: ...'."""
    match = re.search(r"A spoken turn goes through \w+ modules in this order[^:]*:(.*?)\n\n", DOCS.read_text(), re.S)
    assert match, "docs/server.md must list the path of a spoken turn"
    names: list[str] = []
    for name in re.findall(r"`(\w+)\.py`", match.group(1)):
        if name not in names:
            names.append(name)
    return names


def test_the_session_object_is_at_most_250_lines():
    assert len(inspect.getsource(RealtimeSession).splitlines()) <= 250


def test_a_spoken_turn_crosses_the_documented_stages_in_order(speech_engines, chat_peer, say):
    entered: list[str] = []
    recording = threading.Event()

    def profile(frame, event, arg) -> None:
        if event != "call" or not recording.is_set() or frame.f_code.co_name.startswith("__"):
            return
        module = frame.f_globals.get("__name__", "")
        if module.startswith("thinkspeak.serve."):
            name = module.removeprefix("thinkspeak.serve.").split(".")[0]
            name = SOCKET_SIDE.get(name, name)
            # the turn starts where its first audio frame arrives: the listener may still be finishing the
            # pre-roll silence on the event loop when recording starts (CI saw 'listener' first that way)
            if not entered and name != "transport":
                return
            if name not in entered and name not in VOCABULARY and name != "thinkers":
                entered.append(name)

    make_vad, asr, tts = speech_engines
    engines = Engines(thinker=OpenAIChatThinker(chat_peer.base_url, "peer-model"), make_vad=make_vad, asr=asr,
                      tts=tts)
    running = start_server(engines, in_thread=lambda: sys.setprofile(profile))

    async def turn() -> dict:
        client = await Client.connect(running.url)
        await client.stream(silence(0.3))
        recording.set()
        await client.stream(say("What is six times seven?"))
        await client.stream(silence(1.0))
        done = await client.wait_for("response.done", timeout=120)
        recording.clear()
        await client.close()
        return done

    try:
        done = asyncio.run(turn())
    finally:
        running.server.should_exit = True
    path = documented_path()
    assert done["response"]["status"] == "completed"
    assert len(path) <= 8 and set(entered) == set(path), (entered, path)
    # in one direction: the client's audio reaches the listener, then the turn machine, and only then the
    # session, which starts hearing and the response (the machine reads whether the assistant is audible from
    # the responses' playback clock: a question, not a step)
    inbound = [name for name in entered if name in ("transport", "listener", "turns", "session")]
    assert inbound == ["transport", "listener", "turns", "session"] == path[:4], entered
    assert all(entered.index(name) > entered.index("session") for name in ("hearing", "talker", "playout")), entered
