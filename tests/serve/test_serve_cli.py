"""``thinkspeak serve`` argument handling (the server itself is exercised by the other test files)."""

from __future__ import annotations

import pytest

from thinkspeak.cli import build_parser, main
from thinkspeak.commands.serve import build_thinker
from thinkspeak.serve.thinkers.openai_chat import OpenAIChatThinker


def test_defaults_and_flags():
    args = build_parser().parse_args(["serve"])
    assert (args.host, args.port, args.hearing, args.tts, args.model) == ("127.0.0.1", 8765, "asr", "piper", None)
    args = build_parser().parse_args(["serve", "--e2e", "--port", "9000", "--tts", "espeak:en-us"])
    assert (args.hearing, args.port, args.tts) == ("e2e", 9000, "espeak:en-us")
    with pytest.raises(SystemExit):
        build_parser().parse_args(["serve", "--model", "a", "--qwen", "b"])


def test_endpoint_thinker_from_flags(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    args = build_parser().parse_args(["serve", "--openai-base-url", "http://127.0.0.1:9/v1", "--openai-model", "m"])
    thinker = build_thinker(args)
    assert isinstance(thinker, OpenAIChatThinker) and thinker.headers == {"Authorization": "Bearer sk-test"}


@pytest.mark.parametrize("argv", [["serve", "--openai-base-url", "http://x/v1"], ["serve", "--openai-model", "m"],
                                  ["serve", "--port", "70000"], ["serve", "--barge-in-verdict-ms", "-5"]])
def test_bad_flag_combinations_are_usage_errors(argv, capsys):
    assert main(argv) == 2
    assert "thinkspeak serve: error:" in capsys.readouterr().err


def test_duplex_flag_sets_the_duplex_turn_detection_and_refuses_other_turn_flags():
    from thinkspeak.commands.serve import turn_detection

    turn = turn_detection(build_parser().parse_args(["serve", "--duplex", "--eagerness", "high"]))
    assert (turn.type, turn.eagerness, turn.detector.owns_floor, turn.detector.speak_threshold) == \
        ("duplex", "high", True, 0.3)
    for extra in (["--turn-model", "learned"], ["--turn-detection", "server_vad"], ["--silence-ms", "300"]):
        with pytest.raises(ValueError, match="--duplex decides turns"):
            turn_detection(build_parser().parse_args(["serve", "--duplex", *extra]))
