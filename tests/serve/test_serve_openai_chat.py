"""The OpenAI-compatible endpoint backend against a real HTTP peer on 127.0.0.1, and the <think> splitter."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given
from hypothesis import strategies as st
from serve_chat_peer import ChatPeer, answer_for, free_port

from thinkspeak.decode.events import Done, SayToken, ThinkToken
from thinkspeak.serve.cancel import Generation
from thinkspeak.serve.thinkers.base import ThinkRequest
from thinkspeak.serve.thinkers.openai_chat import OpenAIChatThinker, ThinkTagSplitter


@pytest.fixture(scope="module")
def peer():
    peer = ChatPeer(free_port(), delay_s=0.0).start()
    yield peer
    peer.stop()


async def collect(backend, request, turn, stop_after=None):
    events = []
    async for event in backend.stream(request, turn):
        events.append(event)
        if stop_after is not None and len(events) == stop_after:
            turn.generation.cancel()
    await backend.aclose()
    return events


def test_reasoning_and_content_become_think_and_say_tokens(peer):
    backend = OpenAIChatThinker(peer.base_url, "peer-model")
    request = ThinkRequest(text="What is six times seven?", history=(("Hi there", "Hello!"),), instructions="Be kind")
    events = asyncio.run(collect(backend, request, Generation().begin()))
    reasoning, content = answer_for(peer.requests[-1]["messages"])
    think = "".join(e.text for e in events if isinstance(e, ThinkToken))
    say = "".join(e.text for e in events if isinstance(e, SayToken))
    assert (think, say) == (reasoning, content)
    done = events[-1]
    assert isinstance(done, Done) and done.say == say and done.answer == "42"
    sent = peer.requests[-1]
    assert sent["stream"] is True and sent["model"] == "peer-model"
    assert [m["role"] for m in sent["messages"]] == ["system", "user", "assistant", "user"]
    assert "1 earlier turns" in say  # the peer saw the history


def test_cancelling_the_turn_stops_the_stream(peer):
    backend = OpenAIChatThinker(peer.base_url, "peer-model")
    events = asyncio.run(collect(backend, ThinkRequest(text="Count"), Generation().begin(), stop_after=3))
    assert len(events) == 3 and not any(isinstance(e, Done) for e in events)


def test_http_errors_surface(peer):
    backend = OpenAIChatThinker(peer.base_url.replace("/v1", "/nope"), "m")
    with pytest.raises(RuntimeError, match="HTTP 404"):
        asyncio.run(collect(backend, ThinkRequest(text="x"), Generation().begin()))


def test_bad_construction():
    with pytest.raises(ValueError, match="base_url"):
        OpenAIChatThinker("ftp://x", "m")


@given(st.lists(st.sampled_from(["<think>", "</think>", "<th", "ink>", "</", "a", "b c", "<", ">"]), max_size=25))
def test_think_tags_are_split_exactly_across_deltas(pieces):
    splitter = ThinkTagSplitter()
    routed = [r for p in pieces for r in splitter.push(p)] + splitter.flush()
    # Reference: parse the whole string at once.
    reference, thinking, rest = {"say": "", "think": ""}, False, "".join(pieces)
    while rest:
        tag = "</think>" if thinking else "<think>"
        at = rest.find(tag)
        if at < 0:
            reference["think" if thinking else "say"] += rest
            break
        reference["think" if thinking else "say"] += rest[:at]
        rest, thinking = rest[at + len(tag):], not thinking
    got = {"say": "", "think": ""}
    for channel, text in routed:
        got[channel] += text
    assert got == reference
