"""Streaming token-Talker sessions on a small random Talker (behaviour, not quality)."""

import numpy as np
import pytest
import torch

pytest.importorskip("pycodec2")

from thinkspeak.codecs import get_codec  # noqa: E402
from thinkspeak.decode.talker import TalkerOptions, TalkerSession, TokenTalker, speak  # noqa: E402
from thinkspeak.model.talker import Talker, TalkerConfig  # noqa: E402

FRAME = 160  # codec2 samples per frame at 8 kHz


@pytest.fixture(scope="module")
def talker():
    torch.manual_seed(0)
    return Talker(TalkerConfig(layers=1, d_model=32, heads=2, ffn=64))


def test_empty_text_gives_empty_audio(talker):
    assert speak(talker, get_codec(), "").size == 0
    assert speak(talker, get_codec(), "  ... ").size == 0


def test_speech_is_whole_frames_and_bounded(talker):
    pcm = speak(talker, get_codec(), "The answer is 42.", options=TalkerOptions(max_seconds=1.0, seed=1))
    assert pcm.dtype == np.float32 and pcm.size > 0
    assert pcm.size % (2 * FRAME) == 0 and pcm.size <= 8000 * 1.0 + 4 * 2 * FRAME


def test_audio_starts_a_few_steps_after_the_first_word(talker):
    s = TalkerSession(talker, get_codec(), options=TalkerOptions(max_seconds=2.0))
    assert s.step() is None  # nothing to say yet
    s.push_text("Hello ")
    out, steps = [], 0
    while not out and steps < 10:
        pcm = s.step()
        steps += 1
        if pcm is not None and pcm.size:
            out.append(pcm)
    assert out and steps == max(talker.config.delays)  # the first frame after max(delays) forward passes


def test_waits_for_text_then_continues_and_cancel_stops(talker):
    s = TalkerSession(talker, get_codec(), out_rate=16000, options=TalkerOptions(max_seconds=5.0))
    s.push_text("one two")  # 'two' may continue ('twenty'): it waits for a space or end_text
    chunks = list(s.stream())
    assert not s.finished and s._partial == "two"
    waited = s.steps
    assert s.step() is None and s.steps == waited  # waiting does not advance
    s.push_text(" three")
    s.step()
    s.cancel()
    assert s.step() is None and s.cancelled
    assert all(c.dtype == np.float32 for c in chunks)


def test_codec_mismatch_and_bad_options_are_named(talker, tmp_path):
    small = Talker(TalkerConfig(codebook_sizes=(4, 4), delays=(1, 1), layers=1, d_model=32, heads=2, ffn=64))
    with pytest.raises(ValueError, match="the Talker was trained for"):
        TalkerSession(small, get_codec())
    with pytest.raises(ValueError, match="temperature must be in"):
        TalkerOptions(temperature=-1)
    talker.save(tmp_path / "t")
    tk = TokenTalker.load(str(tmp_path / "t"))
    with pytest.raises(ValueError, match="push_text after end_text"):
        s = tk.session()
        s.end_text()
        s.push_text("more")
