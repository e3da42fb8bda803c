"""Web search providers against a local HTTP server started here (never the internet)."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest

from thinkspeak.layouts.toolcalls import Call
from thinkspeak.tools import ToolError, ToolRegistry
from thinkspeak.tools.search import Brave, SearxNG, Serper, WebSearch, page_text, provider_from_name

PAGE = """<html><head><title>Spiders</title><script>var legs = 99;</script></head><body>
<nav>Home | About</nav><p>Spiders are arachnids.</p><p>A spider has eight legs, not six like an insect.</p>
<p>Many spiders spin webs of silk.</p></body></html>"""


class Handler(BaseHTTPRequestHandler):
    seen: list = []

    def log_message(self, *args):
        pass

    def reply(self, body, kind="application/json", status=200):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def results(self):
        base = f"http://127.0.0.1:{self.server.server_port}"
        return [{"url": f"{base}/page/spiders", "title": "Spiders", "content": "All about spiders."},
                {"url": f"{base}/page/missing", "title": "Gone", "content": "A snippet of a missing page."}]

    def do_GET(self):
        url = urlparse(self.path)
        Handler.seen.append((self.command, url.path, dict(self.headers), parse_qs(url.query)))
        if url.path == "/search":
            self.reply(json.dumps({"results": self.results()}))
        elif url.path == "/brave":
            rows = [{"url": r["url"], "title": r["title"], "description": r["content"]} for r in self.results()]
            self.reply(json.dumps({"web": {"results": rows}}))
        elif url.path == "/garbage/search":
            self.reply("<html>not json</html>", "text/html")
        elif url.path == "/wrong/search":
            self.reply(json.dumps({"results": [{"title": "no url"}]}))
        elif url.path == "/page/spiders":
            self.reply(PAGE, "text/html; charset=utf-8")
        else:
            self.reply("not found", "text/plain", 404)

    def do_POST(self):
        length = int(self.headers.get("Content-Length", 0))
        Handler.seen.append((self.command, self.path, dict(self.headers), json.loads(self.rfile.read(length))))
        rows = [{"link": r["url"], "title": r["title"], "snippet": r["content"]} for r in self.results()]
        self.reply(json.dumps({"organic": rows}))


@pytest.fixture(scope="module")
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    httpd.server_close()


def test_page_text_drops_scripts_and_navigation():
    text = page_text(PAGE.encode(), "text/html")
    assert "eight legs" in text and "99" not in text and "Home" not in text


@pytest.mark.parametrize("make", [
    lambda base: SearxNG(base), lambda base: Brave("key-b", f"{base}/brave"), lambda base: Serper("key-s", f"{base}/serper")])
def test_providers_fetch_chunk_and_rank(server, make, words_embedder):
    provider = make(server)
    hits = provider.hits("spider legs", 3)
    assert [h.title for h in hits] == ["Spiders", "Gone"]
    tool = WebSearch(provider, words_embedder, k=1)
    assert "eight legs" in tool("spider legs")
    method, path, headers, query = Handler.seen[-3]
    if isinstance(provider, Brave):
        assert headers["X-Subscription-Token"] == "key-b" and query["q"] == ["spider legs"]
    if isinstance(provider, Serper):
        assert method == "POST" and headers["X-Api-Key"] == "key-s" and query["q"] == "spider legs"


@pytest.mark.parametrize("base", ["http://127.0.0.1:9", "{server}/garbage", "{server}/wrong"])
def test_down_or_garbage_provider_is_a_tool_error(server, base, words_embedder):
    registry = ToolRegistry([WebSearch(SearxNG(base.format(server=server), timeout=2), words_embedder)])
    result = registry.run(Call("search", "spider legs"))
    assert result.error and "searxng" in result.value
    with pytest.raises(ToolError):
        WebSearch(SearxNG(base.format(server=server), timeout=2), words_embedder)("spider legs")


def test_provider_configuration_errors_name_the_variable(monkeypatch):
    monkeypatch.delenv("SERPER_API_KEY", raising=False)
    with pytest.raises(ValueError, match="SERPER_API_KEY"):
        provider_from_name("serper")
    with pytest.raises(ValueError, match="one of"):
        provider_from_name("bing")
    monkeypatch.setenv("SEARXNG_URL", "http://localhost:8888/")
    assert provider_from_name("searxng").base_url == "http://localhost:8888"
