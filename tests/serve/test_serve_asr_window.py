"""``thinkspeak serve --asr-window``: the server's hearing uses a short Whisper window and no word timestamps."""

from __future__ import annotations

import pytest

from thinkspeak.cli import build_parser
from thinkspeak.serve.engines import load_engines
from thinkspeak.serve.thinkers.openai_chat import OpenAIChatThinker


@pytest.mark.parametrize(("argv", "window"), [([], "auto"), (["--asr-window", "auto"], "auto"),
                                              (["--asr-window", "full"], None), (["--asr-window", "10"], 10.0),
                                              (["--asr-window", "30"], 30.0)])
def test_asr_window_flag(argv, window):
    assert build_parser().parse_args(["serve", *argv]).asr_window == window


@pytest.mark.parametrize("value", ["0.5", "31", "short", "nan", ""])
def test_bad_asr_window_is_a_usage_error(value, capsys):
    with pytest.raises(SystemExit) as exit_:
        build_parser().parse_args(["serve", "--asr-window", value])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "--asr-window" in err and f"expected auto, full or seconds in [1, 30], got {value!r}" in err


@pytest.mark.parametrize("window", ["auto", 10.0, None])
def test_engines_hear_with_the_chosen_window_and_no_word_times(window):
    engines = load_engines(thinker=OpenAIChatThinker("http://127.0.0.1:9/v1", "m"), tts=None, asr_window=window)
    assert (engines.asr.window_s, engines.asr.word_timestamps) == (window, False)
    assert load_engines(thinker=OpenAIChatThinker("http://127.0.0.1:9/v1", "m"), tts=None).asr.window_s == "auto"
