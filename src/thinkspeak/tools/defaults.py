"""The default tool set of a local Thinker: ``calc``, ``retrieve`` (the shipped fact base or your index) and,
when a provider is named, ``search``. The embedder and index load on the first retrieve/search call, so a
turn that only calculates never waits for them.
"""

from __future__ import annotations

import threading
from pathlib import Path

from thinkspeak.tools.base import ToolSpec
from thinkspeak.tools.calc import Calculator
from thinkspeak.tools.registry import ToolRegistry
from thinkspeak.tools.retrieve import Retriever
from thinkspeak.tools.search import WebSearch, provider_from_name


class Lazy:
    """A tool built on its first call (thread-safe), with the spec of the tool it will be."""

    def __init__(self, spec: ToolSpec, build):
        self.spec, self._build, self._tool, self._lock = spec, build, None, threading.Lock()

    def load(self):
        with self._lock:
            if self._tool is None:
                self._tool = self._build()
        return self._tool

    def __call__(self, arguments: str) -> str:
        return self.load()(arguments)


def default_tools(index: str | Path | None = None, search: str | None = None, k: int = 1, *,
                  preload: bool = False) -> ToolRegistry:
    """calc + retrieve over ``index`` (None: the fact base) + search through provider ``search`` (None: none).

    A bad ``index`` folder or ``search`` provider raises ValueError here, before any decode. ``preload`` loads
    the embedder and index now (seconds), so a first retrieve does not spend its timeout loading them."""
    from thinkspeak.tools.facts import FACTS_INDEX

    folder = Path(index) if index is not None else FACTS_INDEX
    if not (folder / "index.json").is_file():
        raise ValueError(f"index must be a folder made by `thinkspeak index build`, got {str(folder)!r}")

    def retriever() -> Retriever:
        from thinkspeak.tools.embed import default_embedder

        return Retriever.from_folder(folder, default_embedder(), k)

    tools = [Calculator(), Lazy(Retriever.spec, retriever)]
    if search is not None:
        provider = provider_from_name(search)

        def web() -> WebSearch:
            from thinkspeak.tools.embed import default_embedder

            return WebSearch(provider, default_embedder())

        tools.append(Lazy(WebSearch.spec, web))
    if preload:
        for tool in tools:
            if isinstance(tool, Lazy):
                tool.load()
    return ToolRegistry(tools)
