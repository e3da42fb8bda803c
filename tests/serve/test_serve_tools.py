"""Tools on the server (issue 12): the Thinker's tool calls surface as OpenAI Realtime function calling, and a
local Thinker with the tool-call tokens gets the default tools (calc, retrieve, search), run by the server.

The first test's Thinker backend streams a fixed tool call (the server's handling of the decoder's events is
under test, not a model); every server event of the turn (but the ``thinkspeak.`` extensions) is read with the
stock ``openai`` SDK's Realtime event types."""

from __future__ import annotations

import asyncio

import pytest
from serve_helpers import CalcCallingThinker, Client, start_server

from parts import require_module
from thinkspeak.cli import main
from thinkspeak.serve.engines import Engines
from thinkspeak.serve.thinkers import THINKERS


def test_a_tool_call_is_a_function_call_item_and_its_result_a_function_call_output(speech_engines):
    require_module("openai", "dev")
    from openai.types.realtime import RealtimeServerEvent
    from pydantic import TypeAdapter

    make_vad, asr, _ = speech_engines
    running = start_server(Engines(thinker=CalcCallingThinker(), make_vad=make_vad, asr=asr))

    async def turn() -> Client:
        client = await Client.connect(running.url)
        await client.send({"type": "conversation.item.create", "item": {
            "type": "message", "role": "user", "content": [{"type": "input_text", "text": "What is 23 plus 19?"}]}})
        await client.send({"type": "response.create"})
        await client.wait_for("response.done", timeout=60)
        await client.close()
        return client

    try:
        client = asyncio.run(turn())
    finally:
        running.server.should_exit = True
    standard = [e for e in client.events if not e["type"].startswith("thinkspeak.")]  # extensions: docs/server.md
    assert len(TypeAdapter(list[RealtimeServerEvent]).validate_python(standard)) == len(standard)
    added = [e for e in client.of("response.output_item.added") if e["item"]["type"] == "function_call"]
    assert len(added) == 1 and added[0]["output_index"] == 1 and added[0]["item"]["arguments"] == ""
    item_id = added[0]["item"]["id"]
    (delta,) = client.of("response.function_call_arguments.delta")
    (args,) = client.of("response.function_call_arguments.done")
    assert (delta["item_id"], delta["call_id"], delta["delta"]) == (item_id, "call_7", "23 + 19")
    assert (args["item_id"], args["name"], args["arguments"]) == (item_id, "calc", "23 + 19")
    outputs = [e["item"] for e in client.of("conversation.item.done") if e["item"]["type"] == "function_call_output"]
    assert [(o["call_id"], o["output"]) for o in outputs] == [("call_7", "42")]
    done = client.of("response.done")[-1]["response"]
    assert [o["type"] for o in done["output"]] == ["message", "function_call"]
    assert done["output"][1]["arguments"] == "23 + 19" and done["status"] == "completed"
    assert done["output"][0]["content"][0]["text"] == "Let me see. It is 42."


@pytest.fixture(scope="module")
def tool_thinker_dir(tmp_path_factory):
    """A tiny random Thinker with the tool-call tokens, saved as a folder the server loads."""
    from thinkspeak.model.thinker import BackboneShape, Thinker
    from thinkspeak.model.tokenizer import train_tokenizer

    texts = [f"what is {a} plus {b}? the answer is {a + b}." for a in range(9) for b in range(9)]
    thinker = Thinker.build(train_tokenizer(texts, vocab_size=300), BackboneShape(layers=2, d_model=32, heads=2,
                                                                                 kv_heads=1, ffn=64), seed=3)
    thinker.add_tool_tokens()
    return str(thinker.save(tmp_path_factory.mktemp("tools") / "thinker"))


def test_a_local_thinker_with_tool_tokens_calls_the_default_tools(tool_thinker_dir, monkeypatch):
    monkeypatch.setenv("SEARXNG_URL", "http://127.0.0.1:9")  # not contacted: the tools run only when called
    backend = THINKERS.create("local", path=tool_thinker_dir, search="searxng")
    assert backend.decoder.runner.registry.names == ("calc", "retrieve", "search")
    assert THINKERS.create("local", path=tool_thinker_dir, tools=False).decoder.runner is None
    with pytest.raises(ValueError, match="index must be a folder"):
        THINKERS.create("local", path=tool_thinker_dir, index="/nonexistent/index")


def test_tool_flags_are_for_a_local_thinker(capsys):
    assert main(["serve", "--openai-base-url", "http://127.0.0.1:9/v1", "--openai-model", "m", "--index", "x"]) == 2
    assert "--index and --search give tools to a local Thinker" in capsys.readouterr().err


@pytest.mark.parametrize(("heard", "operands", "answer"), [
    ("So, 924,929-756,361.", "924929-756361", "168568"),  # Whisper's way
    ("What is twenty three plus nineteen?", "23+19", "42"),  # typed in words: verbatim, it called calc 20 + 19
])
def test_a_local_thinker_reads_numbers_in_the_corpus_form(heard, operands, answer):
    """Whisper writes "So, 924,929-756,361."; the shipped tools Thinker, fed that as typed, called calc with
    924.92 + 361. Served, it reads "924929 minus 756361" and hands calc the question's operands."""
    from thinkspeak.decode.events import Done, ToolCall
    from thinkspeak.serve.cancel import Generation
    from thinkspeak.serve.thinkers.base import ThinkRequest

    backend = THINKERS.create("local", path="tools")

    async def main():
        return [e async for e in backend.stream(ThinkRequest(text=heard), Generation().begin())]

    events = asyncio.run(main())
    calls = [e for e in events if isinstance(e, ToolCall)]
    assert calls and calls[0].name == "calc" and calls[0].arguments.replace(" ", "") == operands
    assert isinstance(events[-1], Done) and events[-1].answer == answer
