"""A tiny OpenAI-compatible chat endpoint run by the tests on 127.0.0.1 (a test peer, not a mock of the server).

It streams ``reasoning_content`` deltas, then ``content`` deltas, as a reasoning model behind vLLM does, and
records every request so tests can check what the server sent (history, instructions). Its answer is a
function of the request: it repeats the last user text and counts the earlier turns it was given.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from dataclasses import dataclass, field

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import StreamingResponse


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def answer_for(messages: list[dict]) -> tuple[str, str]:
    """(reasoning, content) the peer streams for ``messages``."""
    question = messages[-1]["content"]
    turns = sum(1 for m in messages[:-1] if m["role"] == "user")
    reasoning = f"The user asked: {question}. There were {turns} earlier turns."
    content = f"You asked {question.strip().rstrip('?.!')}. I remember {turns} earlier turns. The answer is 42."
    return reasoning, content


@dataclass
class ChatPeer:
    """A running peer: ``base_url`` ends in ``/v1``; ``requests`` holds every request body received."""

    port: int
    delay_s: float = 0.01
    requests: list[dict] = field(default_factory=list)
    server: uvicorn.Server | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/v1/chat/completions")
        async def chat(request: Request):
            body = await request.json()
            self.requests.append(body)
            reasoning, content = answer_for(body["messages"])

            async def events():
                for channel, text in (("reasoning_content", reasoning), ("content", content)):
                    words = text.split(" ")
                    for i, word in enumerate(words):
                        piece = word if i == 0 else " " + word
                        chunk = {"id": "c1", "object": "chat.completion.chunk", "created": int(time.time()),
                                 "model": body["model"], "choices": [{"index": 0, "delta": {channel: piece}}]}
                        yield f"data: {json.dumps(chunk)}\n\n"
                        await asyncio.sleep(self.delay_s)
                yield "data: [DONE]\n\n"

            return StreamingResponse(events(), media_type="text/event-stream")

        return app

    def start(self) -> ChatPeer:
        config = uvicorn.Config(self.app(), host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        threading.Thread(target=self.server.run, daemon=True).start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("chat peer did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.should_exit = True
