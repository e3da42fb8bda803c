"""The shipped token Talker: files match SHA256SUMS, it is small, its card has no machine paths, it loads."""

import hashlib
from pathlib import Path

import pytest

from thinkspeak.decode.talker import default_talker_path

FOLDER = default_talker_path()


def test_sha256sums_match_and_size_is_bounded():
    lines = (FOLDER / "SHA256SUMS").read_text().split("\n")
    listed = {}
    for line in filter(None, lines):
        digest, name = line.split("  ")
        listed[name] = digest
    files = {p.name for p in FOLDER.iterdir() if p.is_file() and p.name != "SHA256SUMS"}
    assert set(listed) == files
    for name, digest in listed.items():
        assert hashlib.sha256((FOLDER / name).read_bytes()).hexdigest() == digest, name
    assert sum((FOLDER / n).stat().st_size for n in files) < 30 * 2**20


def test_card_has_no_machine_paths():
    for name in ("README.md", "talker.json", "recipe.json"):
        text = (FOLDER / name).read_text()
        assert "/work/" not in text and "/tmp/" not in text and "/home/" not in text, name


def test_loads_and_speaks():
    pytest.importorskip("pycodec2")
    from thinkspeak.decode.talker import TalkerOptions, TokenTalker

    talker = TokenTalker.load(options=TalkerOptions(max_seconds=2.0))
    assert talker.talker.config.codec == "codec2"
    pcm = talker.speak("The answer is four.", out_rate=16000)
    assert pcm.size > 0 and Path(FOLDER).name == "talker-default"
