"""Any OpenAI-compatible chat endpoint as the Thinker (a cascade: hearing -> remote LLM -> streaming TTS).

``POST {base_url}/chat/completions`` with ``stream: true``; every server-sent ``data:`` chunk's
``choices[0].delta`` is mapped to the decoder's events: ``reasoning_content`` (DeepSeek, vLLM) or
``reasoning`` (OpenRouter, Ollama) become ThinkTokens, ``content`` SayTokens. Models that inline their
reasoning as ``<think>...</think>`` in the content are split by :class:`ThinkTagSplitter`. So a reasoning
model's thoughts show in the reasoning panel while its answer is spoken, as with the thinking-in-speaking
Thinker.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx

from thinkspeak.decode.answer import spoken_answer
from thinkspeak.decode.events import DecodeStats, Done, SayToken, ThinkToken
from thinkspeak.serve.cancel import CancelToken
from thinkspeak.serve.thinkers.base import ThinkRequest

_OPEN, _CLOSE = "<think>", "</think>"


@dataclass
class ThinkTagSplitter:
    """Route streamed content between ``<think>`` and ``</think>`` to the reasoning channel.

    :meth:`push` returns ``(channel, text)`` pieces with channel ``'say'`` or ``'think'``; a tag split across
    deltas is held back until it is complete, so the concatenation per channel is exact.
    """

    thinking: bool = False
    _held: str = field(default="", init=False)

    def push(self, text: str) -> list[tuple[str, str]]:
        data, self._held = self._held + text, ""
        out: list[tuple[str, str]] = []
        while data:
            tag = _CLOSE if self.thinking else _OPEN
            at = data.find(tag)
            if at >= 0:
                self._emit(out, data[:at])
                data = data[at + len(tag):]
                self.thinking = not self.thinking
                continue
            keep = _partial_suffix(data, tag)
            self._emit(out, data[: len(data) - keep])
            self._held = data[len(data) - keep:]
            break
        return out

    def flush(self) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        self._emit(out, self._held)
        self._held = ""
        return out

    def _emit(self, out: list[tuple[str, str]], text: str) -> None:
        if text:
            out.append(("think" if self.thinking else "say", text))


def _partial_suffix(text: str, tag: str) -> int:
    """Length of the longest suffix of ``text`` that is a proper prefix of ``tag``."""
    for n in range(min(len(tag) - 1, len(text)), 0, -1):
        if tag.startswith(text[-n:]):
            return n
    return 0


class OpenAIChatThinker:
    """Stream a chat completion from ``base_url`` (e.g. ``http://127.0.0.1:8000/v1``) with ``model``."""

    hears_audio = False

    def __init__(self, base_url: str, model: str, *, api_key: str | None = None, timeout_s: float = 60.0,
                 extra_body: dict | None = None) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(f"base_url must start with http:// or https://, got {base_url!r}")
        if not model:
            raise ValueError("model must name the endpoint's model, got an empty string")
        self.name = f"openai:{model}"
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.model = model
        self.headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.timeout = httpx.Timeout(timeout_s, connect=10.0)
        self.extra_body = extra_body or {}
        self._client: httpx.AsyncClient | None = None

    def _http(self) -> httpx.AsyncClient:
        """One pooled client for the server's event loop (connections are reused across turns)."""
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self.timeout)
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def messages(self, request: ThinkRequest) -> list[dict[str, str]]:
        """System instructions, then the session's earlier turns, then the new user text."""
        if request.text is None:
            raise ValueError("OpenAIChatThinker hears text only; run the server with ASR hearing (--asr)")
        out = [{"role": "system", "content": request.instructions}] if request.instructions else []
        for user, assistant in request.history:
            out += [{"role": "user", "content": user}, {"role": "assistant", "content": assistant}]
        return out + [{"role": "user", "content": request.text}]

    async def stream(self, request: ThinkRequest, token: CancelToken) -> AsyncIterator:
        body = {"model": self.model, "messages": self.messages(request), "stream": True, **self.extra_body}
        start = time.monotonic()
        first: float | None = None
        first_say: int | None = None
        say: list[str] = []
        think: list[str] = []
        splitter = ThinkTagSplitter()
        step = 0
        async with self._http().stream("POST", self.url, json=body, headers=self.headers) as response:
            if response.status_code != 200:
                detail = (await response.aread()).decode("utf-8", "replace")[:300]
                raise RuntimeError(f"chat endpoint {self.url} answered HTTP {response.status_code}: {detail}")
            async for line in response.aiter_lines():
                if token.cancelled:
                    return
                pieces = _pieces(line)
                if pieces is None:
                    break
                for channel, text in pieces:
                    routed = splitter.push(text) if channel == "content" else [("think", text)]
                    for kind, piece in routed:
                        now = time.monotonic()
                        first = first if first is not None else now
                        if kind == "say":
                            first_say = step if first_say is None else first_say
                            say.append(piece)
                            yield SayToken(piece, -1, step, now)
                        else:
                            think.append(piece)
                            yield ThinkToken(piece, -1, step, now)
                        step += 1
        for kind, piece in splitter.flush():
            (say if kind == "say" else think).append(piece)
            event = SayToken if kind == "say" else ThinkToken
            yield event(piece, -1, step, time.monotonic())
            step += 1
        end = time.monotonic()
        stats = DecodeStats(
            steps=step, first_say_step=first_say, say_tokens=len(say), think_tokens=len(think),
            tokens_per_s=step / max(end - start, 1e-9), prefill_s=(first or end) - start, elapsed_s=end - start,
            stop_reason="end",
        )
        spoken = "".join(say)
        yield Done(spoken_answer(spoken), spoken, "".join(think), stats, end)


def _pieces(line: str) -> list[tuple[str, str]] | None:
    """``(channel, text)`` pairs of one SSE line ('content' or 'reasoning'); None at ``data: [DONE]``."""
    if not line.startswith("data:"):
        return []
    data = line[5:].strip()
    if data == "[DONE]":
        return None
    try:
        chunk = json.loads(data)
    except json.JSONDecodeError:
        return []
    if "error" in chunk:
        raise RuntimeError(f"chat endpoint error: {str(chunk['error'])[:300]}")
    choices = chunk.get("choices") or []
    delta = (choices[0].get("delta") or {}) if choices else {}
    out = []
    reasoning = delta.get("reasoning_content") or delta.get("reasoning")
    if isinstance(reasoning, str) and reasoning:
        out.append(("reasoning", reasoning))
    if isinstance(delta.get("content"), str) and delta["content"]:
        out.append(("content", delta["content"]))
    return out
