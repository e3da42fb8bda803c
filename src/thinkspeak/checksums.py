"""SHA256SUMS of shipped asset folders (Thinker, Talker, speech units): write at export, verify at load.

The file lists ``<sha256>  <name>`` for every file of the folder but itself, sorted by name (the format of
``sha256sum``). Standard library only, so loading a light asset does not import torch.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

SUMS = "SHA256SUMS"


def write_sha256sums(folder: Path) -> Path:
    """Write ``folder/SHA256SUMS`` covering every other file of ``folder``; returns its path."""
    lines = []
    for path in sorted(p for p in folder.iterdir() if p.is_file() and p.name != SUMS):
        lines.append(f"{hashlib.sha256(path.read_bytes()).hexdigest()}  {path.name}")
    (folder / SUMS).write_text("\n".join(lines) + "\n")
    return folder / SUMS


def verify_sha256sums(folder: Path, required: tuple[str, ...] = ()) -> dict[str, str]:
    """Check every file listed in ``folder/SHA256SUMS`` (and that each of ``required`` is listed).

    Returns ``{name: sha256}``; raises ValueError naming the folder and the files that are missing, unlisted
    or altered.
    """
    sums_path = Path(folder) / SUMS
    if not sums_path.is_file():
        raise ValueError(f"folder must hold a {SUMS} file, got {str(folder)!r} without one")
    listed: dict[str, str] = {}
    for line in sums_path.read_text().splitlines():
        if line.strip():
            digest, _, name = line.partition("  ")
            listed[name.strip()] = digest.strip()
    unlisted = sorted(p.name for p in Path(folder).iterdir() if p.is_file() and p.name not in listed and p.name != SUMS)
    if unlisted:
        raise ValueError(f"every file of {str(folder)!r} must be listed in {SUMS}, got unlisted {unlisted}")
    for name in required:
        if name not in listed:
            raise ValueError(f"{SUMS} of {str(folder)!r} must list {name!r}, got {sorted(listed)}")
    for name, digest in listed.items():
        path = Path(folder) / name
        if not path.is_file():
            raise ValueError(f"{name!r} listed in {SUMS} of {str(folder)!r} is missing")
        actual = hashlib.sha256(path.read_bytes()).hexdigest()
        if actual != digest:
            raise ValueError(f"{name!r} in {str(folder)!r} has sha256 {actual}, expected {digest} from {SUMS}")
    return listed
