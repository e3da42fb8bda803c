"""Voice specs: ``engine[:voice][:key=value...]`` strings, e.g. ``espeak:en-us+f3:rate=160:pitch=60``.

A spec names a voice completely, so the corpus stores it next to each clip and any worker can rebuild the
same engine from it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Option:
    """A numeric ``key=value`` setting an engine accepts, with its inclusive range."""

    kind: type[int] | type[float]
    low: float
    high: float
    help: str

    def parse(self, engine: str, key: str, raw: str) -> int | float:
        try:
            value = self.kind(raw)
        except ValueError:
            value = None
        if value is None or not self.low <= value <= self.high:
            kind = "an integer" if self.kind is int else "a number"
            raise ValueError(
                f"{engine} option {key} must be {kind} in [{self.low:g}, {self.high:g}] ({self.help}), got {raw!r}"
            )
        return value


@dataclass(frozen=True)
class VoiceSpec:
    """A parsed spec: engine name, voice name and validated options."""

    engine: str
    voice: str
    options: Mapping[str, int | float] = field(default_factory=dict)

    def canonical(self) -> str:
        """``engine:voice`` followed by the options sorted by key."""
        parts = [self.engine, self.voice]
        parts += [f"{key}={value:g}" for key, value in sorted(self.options.items())]
        return ":".join(parts)


def split_spec(spec: str) -> tuple[str, str | None, dict[str, str]]:
    """Split a spec string into (engine, voice or None, raw options) without engine knowledge."""
    if not isinstance(spec, str) or not spec.strip():
        raise ValueError(f"spec must be a string like 'espeak:en-us+f3:rate=160', got {spec!r}")
    engine, *rest = [part.strip() for part in spec.strip().split(":")]
    voice: str | None = None
    raw: dict[str, str] = {}
    for part in rest:
        if "=" in part:
            key, _, value = part.partition("=")
            key, value = key.strip(), value.strip()
            if not key or not value or key in raw:
                raise ValueError(
                    f"spec {spec!r} has a malformed or repeated option {part!r}; expected key=value"
                )
            raw[key] = value
        elif voice is None and part:
            voice = part
        else:
            raise ValueError(f"spec {spec!r} has {part!r} where a single voice or key=value was expected")
    return engine.lower(), voice, raw
