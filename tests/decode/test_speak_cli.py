"""`thinkspeak speak` contract: a mono WAV of the text; empty text -> empty audio; bad input named."""

import pytest

pytest.importorskip("pycodec2")
soundfile = pytest.importorskip("soundfile")

from thinkspeak.cli import main  # noqa: E402


def test_speak_writes_mono_wav(tmp_path):
    out = tmp_path / "o.wav"
    assert main(["speak", "--text", "Seven.", "--out", str(out), "--rate", "24000"]) == 0
    pcm, rate = soundfile.read(out, always_2d=True)
    assert rate == 24000 and pcm.shape[1] == 1 and pcm.shape[0] > 0


def test_empty_text_gives_empty_audio(tmp_path):
    out = tmp_path / "e.wav"
    assert main(["speak", "--text", " ", "--out", str(out)]) == 0
    assert soundfile.read(out)[0].size == 0


def test_bad_talker_and_rate_are_named(tmp_path, capsys):
    assert main(["speak", "--text", "hi", "--out", str(tmp_path / "x.wav"), "--talker", str(tmp_path)]) == 2
    assert "talker must be a folder with talker.json" in capsys.readouterr().err
    assert main(["speak", "--text", "hi", "--out", str(tmp_path / "x.wav"), "--codec", "opus"]) == 2
    assert "codec must be one of" in capsys.readouterr().err
