"""Tools by name: the decoder's one entry point, which never raises (issue 12).

``run(Call) -> Result``: an unknown tool, a :class:`~thinkspeak.tools.base.ToolError` or any other exception
inside a tool becomes an error result the model reads ("error: no tool 'x'"), so a bad call cannot crash a
session. Results are cut to :data:`MAX_RESULT_CHARS` (the think stream is short). The same registry will take
the functions an OpenAI Realtime client registers (``session.tools``).
"""

from __future__ import annotations

import logging

from thinkspeak.layouts.toolcalls import TOOL_TOKENS, Call, Result
from thinkspeak.tools.base import Tool, ToolError

log = logging.getLogger("thinkspeak.tools")
MAX_RESULT_CHARS = 300


def _tidy(text: str) -> str:
    for token in TOOL_TOKENS:
        text = text.replace(token, " ")
    text = " ".join(text.split())
    return text if len(text) <= MAX_RESULT_CHARS else text[:MAX_RESULT_CHARS - 3].rstrip() + "..."


class ToolRegistry:
    """A mapping name -> tool with a ``run`` that turns every failure into an error :class:`Result`."""

    def __init__(self, tools=()):
        self._tools: dict[str, Tool] = {}
        for tool in tools:
            self.register(tool)

    def register(self, tool: Tool, *, replace: bool = False) -> None:
        name = getattr(getattr(tool, "spec", None), "name", None)
        if not isinstance(name, str) or not callable(tool):
            raise ValueError(f"tool must be callable with a .spec.name, got {tool!r}")
        if name in self._tools and not replace:
            raise ValueError(f"a tool named {name!r} is already registered; pass replace=True to swap it")
        self._tools[name] = tool

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._tools)

    def get(self, name: str) -> Tool | None:
        return self._tools.get(name)

    def realtime_tools(self) -> list[dict]:
        """The tools as OpenAI Realtime ``session.tools`` entries."""
        return [tool.spec.realtime() for tool in self._tools.values()]

    def run(self, call: Call) -> Result:
        """The tool's answer to ``call``, or an error result; never raises."""
        tool = self._tools.get(call.name)
        if tool is None:
            return Result(f"no tool {call.name!r}; tools: {', '.join(self._tools) or 'none'}", error=True)
        try:
            value = _tidy(str(tool(call.arguments)))
        except ToolError as exc:
            return Result(_tidy(str(exc)) or "the tool failed", error=True)
        except Exception as exc:  # a tool's bug must not end the turn
            log.exception("tool %s failed on %r", call.name, call.arguments)
            return Result(_tidy(f"{call.name} failed: {type(exc).__name__}"), error=True)
        if not value:
            return Result("the tool returned nothing", error=True)
        if value.startswith("error:"):
            return Result(value[6:].strip() or "the tool failed", error=True)
        return Result(value)
