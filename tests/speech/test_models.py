"""Assembling the packaged Whisper-base: hash check, atomic publish, reuse."""

import os
import shutil

import pytest

from thinkspeak.speech import models
from thinkspeak.speech.models import (
    WHISPER_BASE_SHA256,
    ModelIntegrityError,
    WhisperParts,
    assemble_whisper,
    packaged_whisper_parts,
    sha256_file,
    whisper_base_dir,
)


def test_assembled_model_has_the_pinned_hash_and_files(tmp_path):
    folder = whisper_base_dir(tmp_path / "wb")
    assert sorted(p.name for p in folder.iterdir()) == [
        "ASSEMBLED.sha256",
        "config.json",
        "model.bin",
        "tokenizer.json",
        "vocabulary.txt",
    ]
    assert sha256_file(folder / "model.bin") == WHISPER_BASE_SHA256
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "temporary folder left behind"


def test_existing_folder_is_reused_and_verified(tmp_path):
    folder = whisper_base_dir(tmp_path / "wb")
    inode = (folder / "model.bin").stat().st_ino
    assert whisper_base_dir(tmp_path / "wb", verify=True) == folder
    assert (folder / "model.bin").stat().st_ino == inode
    with open(folder / "model.bin", "r+b") as handle:
        handle.seek(1000)
        handle.write(b"\xff\xfe")
    with pytest.raises(ModelIntegrityError, match="expected " + WHISPER_BASE_SHA256):
        whisper_base_dir(tmp_path / "wb", verify=True)


def test_corrupted_part_is_refused_and_nothing_is_published(tmp_path):
    parts = packaged_whisper_parts()
    bad_part = tmp_path / "model.bin.part2"
    shutil.copyfile(parts.model_parts[1], bad_part)
    with open(bad_part, "r+b") as handle:
        handle.seek(12345)
        byte = handle.read(1)
        handle.seek(12345)
        handle.write(bytes([byte[0] ^ 1]))
    corrupted = WhisperParts((parts.model_parts[0], bad_part), parts.side_files)
    with pytest.raises(ModelIntegrityError, match="corrupt"):
        assemble_whisper(corrupted, tmp_path / "wb")
    assert not (tmp_path / "wb").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.bin.part2"]


def test_parts_in_the_wrong_order_are_refused(tmp_path):
    parts = packaged_whisper_parts()
    swapped = WhisperParts(parts.model_parts[::-1], parts.side_files)
    with pytest.raises(ModelIntegrityError):
        assemble_whisper(swapped, tmp_path / "wb")


def test_a_foreign_folder_is_never_deleted(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match="cache_dir"):
        whisper_base_dir(tmp_path)
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_cache_root_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("THINKSPEAK_CACHE", str(tmp_path / "cache"))
    assert models.cache_root() == tmp_path / "cache"
    monkeypatch.delenv("THINKSPEAK_CACHE")
    assert models.cache_root() == models.Path.home() / ".cache" / "thinkspeak"


def test_load_whisper_rejects_a_folder_without_a_model(tmp_path):
    with pytest.raises(ValueError, match="model_dir"):
        models.load_whisper(tmp_path)


def test_load_whisper_is_shared(tmp_path):
    folder = whisper_base_dir()
    assert models.load_whisper(folder) is models.load_whisper(os.fspath(folder))
