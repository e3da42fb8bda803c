"""What every tool is: a name, a description, a JSON schema of its arguments, and ``__call__(text) -> text``.

The schema is the OpenAI Realtime ``session.tools`` entry (``{type: "function", name, description,
parameters}``), so the same registry can list the built-in tools to a client and take the client's own
functions later. A tool that cannot answer raises :class:`ToolError`; its message becomes the error result
the model reads (``<|result|>error: ...<|result_end|>``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


class ToolError(Exception):
    """A tool could not answer; ``str(error)`` is the message the model reads."""


@dataclass(frozen=True)
class ToolSpec:
    """A tool's name, what it does and the JSON schema of its one text argument."""

    name: str
    description: str
    parameters: dict = field(default_factory=lambda: {
        "type": "object", "properties": {"input": {"type": "string"}}, "required": ["input"]})

    def realtime(self) -> dict:
        """The OpenAI Realtime ``session.tools`` entry."""
        return {"type": "function", "name": self.name, "description": self.description, "parameters": self.parameters}


class Tool(Protocol):
    spec: ToolSpec

    def __call__(self, arguments: str) -> str: ...
