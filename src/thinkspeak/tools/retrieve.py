"""``retrieve``: the top passages of a local index for the model's query (issue 12; CleanS2S's RAG, offline).

The shipped index is the project's fact base (:mod:`thinkspeak.tools.facts`); ``thinkspeak index build``
makes one from any text or Markdown files. The model reads the ``k`` best passages, joined by `` / ``.
"""

from __future__ import annotations

from pathlib import Path

from thinkspeak.tools.base import ToolError, ToolSpec
from thinkspeak.tools.index import PassageIndex

MIN_SCORE = 0.0


class Retriever:
    """The ``retrieve`` tool over a :class:`PassageIndex`: ``"legs of a spider" -> "A spider has 8 legs."``."""

    spec = ToolSpec("retrieve", "Look up facts: the passages of the local index nearest to the query.",
                    {"type": "object", "properties": {"query": {"type": "string"}}, "required": ["query"]})

    def __init__(self, index: PassageIndex, k: int = 1):
        if not isinstance(k, int) or k < 1:
            raise ValueError(f"k must be an int >= 1, got {k!r}")
        self.index, self.k = index, k

    @classmethod
    def from_folder(cls, folder: str | Path, embedder, k: int = 1) -> Retriever:
        return cls(PassageIndex.load(folder, embedder), k)

    def __call__(self, arguments: str) -> str:
        query = " ".join(str(arguments).split())
        if not query:
            raise ToolError("empty query")
        hits = [h for h in self.index.search(query, self.k) if h.score > MIN_SCORE]
        if not hits:
            raise ToolError(f"nothing found for {query!r}")
        return " / ".join(h.text for h in hits)
