"""thinkspeak.tools: the tools a Thinker calls from its reasoning stream (issue 12; docs/tools.md).

``calc`` (exact rational arithmetic), ``retrieve`` (top passages of a local index: the shipped fact base or
``thinkspeak index build``), ``search`` (web search behind a provider interface), collected by name in a
:class:`~thinkspeak.tools.registry.ToolRegistry` that never raises: a failing tool gives an error result.
Heavy imports (sentence-transformers, faiss) happen when an index is built or loaded.
"""

from thinkspeak.tools.base import ToolError, ToolSpec
from thinkspeak.tools.calc import Calculator, evaluate
from thinkspeak.tools.registry import ToolRegistry

__all__ = ["Calculator", "ToolError", "ToolRegistry", "ToolSpec", "evaluate"]
