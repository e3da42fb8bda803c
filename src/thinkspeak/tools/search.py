"""``search``: web search behind a provider interface, then RAG over the result pages (issue 12).

CleanS2S's WebSearchHelper queries a search API with the user's words, fetches the result pages, chunks and
embeds them (all-MiniLM-L6-v2) and puts the nearest chunks in the prompt. Here the same pipeline is a tool:
provider hits -> pages fetched (bounded size and time) -> text chunks (snippets too) -> embedded with the
query -> the ``k`` best chunks are the result. Providers: SearxNG (JSON API of your instance), Brave Search
and Serper; endpoints and keys come from the environment. Any provider or network failure, or a reply of
the wrong shape, is a :class:`~thinkspeak.tools.base.ToolError` (an error result, never a crash).
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from html.parser import HTMLParser

import numpy as np

from thinkspeak.tools.base import ToolError, ToolSpec
from thinkspeak.tools.chunking import chunk_text

MAX_BYTES = 400_000
USER_AGENT = "thinkspeak-search/0.1"


@dataclass(frozen=True)
class SearchHit:
    url: str
    title: str
    snippet: str


def _get(url: str, *, timeout: float, headers: dict | None = None, data: bytes | None = None) -> tuple[bytes, str]:
    request = urllib.request.Request(url, data=data, headers={"User-Agent": USER_AGENT, **(headers or {})})
    with urllib.request.urlopen(request, timeout=timeout) as reply:  # noqa: S310 (http(s) URLs from config)
        return reply.read(MAX_BYTES), reply.headers.get("Content-Type", "")


def _json(provider: str, url: str, timeout: float, **kwargs) -> dict:
    try:
        body, _ = _get(url, timeout=timeout, **kwargs)
        data = json.loads(body)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise ToolError(f"search provider {provider} failed: {exc}") from None
    if not isinstance(data, dict):
        raise ToolError(f"search provider {provider} returned {type(data).__name__}, expected a JSON object")
    return data


def _hits(provider: str, items, url_key: str, snippet_key: str, n: int) -> list[SearchHit]:
    if not isinstance(items, list):
        raise ToolError(f"search provider {provider} returned no result list")
    out = []
    for item in items[:n]:
        if not isinstance(item, dict) or not isinstance(item.get(url_key), str):
            raise ToolError(f"search provider {provider} returned a result without {url_key!r}")
        out.append(SearchHit(item[url_key], str(item.get("title", "")), str(item.get(snippet_key, ""))))
    return out


def _env(name: str, what: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise ValueError(f"{what} needs the environment variable {name}")
    return value


class SearxNG:
    """A SearxNG instance's JSON API (``SEARXNG_URL``, e.g. http://localhost:8888)."""

    name = "searxng"

    def __init__(self, base_url: str | None = None, timeout: float = 5.0):
        self.base_url = (base_url or _env("SEARXNG_URL", "the searxng provider")).rstrip("/")
        self.timeout = timeout

    def hits(self, query: str, n: int) -> list[SearchHit]:
        url = f"{self.base_url}/search?" + urllib.parse.urlencode({"q": query, "format": "json"})
        return _hits(self.name, _json(self.name, url, self.timeout).get("results"), "url", "content", n)


class Brave:
    """Brave Search API (``BRAVE_API_KEY``; ``BRAVE_SEARCH_URL`` overrides the endpoint)."""

    name = "brave"
    URL = "https://api.search.brave.com/res/v1/web/search"

    def __init__(self, api_key: str | None = None, url: str | None = None, timeout: float = 5.0):
        self.api_key = api_key or _env("BRAVE_API_KEY", "the brave provider")
        self.url = url or os.environ.get("BRAVE_SEARCH_URL") or self.URL
        self.timeout = timeout

    def hits(self, query: str, n: int) -> list[SearchHit]:
        url = f"{self.url}?" + urllib.parse.urlencode({"q": query, "count": n})
        data = _json(self.name, url, self.timeout, headers={"X-Subscription-Token": self.api_key,
                                                            "Accept": "application/json"})
        web = data.get("web")
        return _hits(self.name, web.get("results") if isinstance(web, dict) else None, "url", "description", n)


class Serper:
    """Serper's Google search API (``SERPER_API_KEY``; ``SERPER_URL`` overrides the endpoint)."""

    name = "serper"
    URL = "https://google.serper.dev/search"

    def __init__(self, api_key: str | None = None, url: str | None = None, timeout: float = 5.0):
        self.api_key = api_key or _env("SERPER_API_KEY", "the serper provider")
        self.url = url or os.environ.get("SERPER_URL") or self.URL
        self.timeout = timeout

    def hits(self, query: str, n: int) -> list[SearchHit]:
        data = _json(self.name, self.url, self.timeout, data=json.dumps({"q": query, "num": n}).encode(),
                     headers={"X-API-KEY": self.api_key, "Content-Type": "application/json"})
        return _hits(self.name, data.get("organic"), "link", "snippet", n)


PROVIDERS = {"searxng": SearxNG, "brave": Brave, "serper": Serper}


def provider_from_name(name: str):
    """A provider configured from the environment; ValueError for an unknown name or a missing variable."""
    if name not in PROVIDERS:
        raise ValueError(f"search provider must be one of {sorted(PROVIDERS)}, got {name!r}")
    return PROVIDERS[name]()


class _TextOfHTML(HTMLParser):
    SKIP = {"script", "style", "noscript", "head", "nav", "footer", "svg"}

    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIP:
            self.skipping += 1
        elif tag in ("p", "br", "div", "li", "h1", "h2", "h3", "h4", "tr"):
            self.parts.append("\n\n")

    def handle_endtag(self, tag):
        if tag in self.SKIP and self.skipping:
            self.skipping -= 1

    def handle_data(self, data):
        if not self.skipping:
            self.parts.append(data)


def page_text(body: bytes, content_type: str) -> str:
    """Readable text of an HTML or plain-text page ("" for anything else)."""
    text = body.decode("utf-8", errors="replace")
    if "html" in content_type or text.lstrip()[:1] == "<":
        parser = _TextOfHTML()
        parser.feed(text)
        return "".join(parser.parts)
    return text if "text" in content_type else ""


class WebSearch:
    """The ``search`` tool: provider hits, pages fetched and chunked, chunks ranked by the query's embedding."""

    spec = ToolSpec("search", "Search the web and return the most relevant passages of the result pages.",
                    {"type": "object", "properties": {"query": {"type": "string"}}, "required": ["query"]})

    def __init__(self, provider, embedder, *, k: int = 2, pages: int = 3, fetch_timeout: float = 3.0):
        self.provider, self.embedder = provider, embedder
        self.k, self.pages, self.fetch_timeout = k, pages, fetch_timeout

    def _chunks(self, hit: SearchHit) -> list[str]:
        chunks = [hit.snippet] if hit.snippet.strip() else []
        try:
            body, kind = _get(hit.url, timeout=self.fetch_timeout)
        except (urllib.error.URLError, OSError, ValueError):
            return chunks  # a page that does not load still has its snippet
        return chunks + chunk_text(page_text(body, kind), max_words=60, overlap=10)

    def __call__(self, arguments: str) -> str:
        query = " ".join(str(arguments).split())
        if not query:
            raise ToolError("empty query")
        hits = self.provider.hits(query, self.pages)
        texts = [c for hit in hits for c in self._chunks(hit)]
        if not texts:
            raise ToolError(f"no results for {query!r}")
        vectors = self.embedder.encode([query, *texts])
        order = np.argsort(-(vectors[1:] @ vectors[0]), kind="stable")[:self.k]
        return " / ".join(texts[i] for i in order)
