"""Neural codecs loaded from a local folder (no downloads): the folder's ``config.json`` is checked first,
so a wrong folder fails with a ValueError naming the file and the field."""

from __future__ import annotations

import json
from pathlib import Path


def read_config(folder: str | Path, required: dict[str, type], expect: dict[str, object] | None = None) -> dict:
    """``folder/config.json`` with the ``required`` fields of the given types and ``expect``ed values."""
    path = Path(folder) / "config.json"
    if not path.is_file():
        raise ValueError(f"codec folder must contain config.json, got {str(folder)!r} (no {path.name})")
    try:
        config = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path} is not valid JSON: {exc}") from exc
    for key, kind in required.items():
        if key not in config:
            raise ValueError(f"{path}: field {key!r} is missing")
        if not isinstance(config[key], kind) or isinstance(config[key], bool):
            raise ValueError(f"{path}: field {key!r} must be {kind.__name__ if isinstance(kind, type) else kind}, "
                             f"got {config[key]!r}")
    for key, value in (expect or {}).items():
        if config.get(key) != value:
            raise ValueError(f"{path}: field {key!r} must be {value!r}, got {config.get(key)!r}")
    return config
