"""Registries of stages by name: turn detectors, hearing, thinkers and talkers.

Each registry maps a name to a factory. thinkspeak registers its own stages on import; third-party code adds
its own either by calling :meth:`Registry.register` before the server starts, or by declaring an entry point
in the group ``thinkspeak.serve.<kind>`` (``kind`` = ``turn_detectors``, ``turn_models``, ``hearing``,
``thinkers``, ``talkers``) whose object is the factory. So the audio-token Talker, a duplex Thinker or a learned turn
detector plug in without editing the session.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Any, Generic, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


class Registry(Generic[F]):
    """Named factories of one kind of stage."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._factories: dict[str, F] = {}
        self._loaded = False

    def register(self, name: str, factory: F | None = None) -> Any:
        """Register ``factory`` under ``name`` (or use as a decorator: ``@REGISTRY.register("name")``)."""
        if not name or not isinstance(name, str):
            raise ValueError(f"a {self.kind} name must be a non-empty string, got {name!r}")

        def add(f: F) -> F:
            self._factories[name] = f
            return f

        return add if factory is None else add(factory)

    def names(self) -> tuple[str, ...]:
        self._load_entry_points()
        return tuple(self._factories)

    def get(self, name: str) -> F:
        """The factory registered as ``name``; ValueError lists the known names."""
        self._load_entry_points()
        if name not in self._factories:
            raise ValueError(f"unknown {self.kind} {name!r}; expected one of {sorted(self._factories)}")
        return self._factories[name]

    def create(self, name: str, *args: Any, **kwargs: Any) -> Any:
        return self.get(name)(*args, **kwargs)

    def _load_entry_points(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        for ep in entry_points(group=f"thinkspeak.serve.{self.kind}"):
            self._factories.setdefault(ep.name, ep.load())
