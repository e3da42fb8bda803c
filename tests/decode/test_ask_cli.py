"""``thinkspeak ask`` on a tiny random Thinker saved to a temporary folder."""

import json

import numpy as np
import pytest
import torch

from parts import require_module
from thinkspeak.cli import main
from thinkspeak.decode import TiSDecoder
from thinkspeak.model import Thinker
from thinkspeak.speech.models import WHISPER_BASE_PACKAGES

QUESTION = "What is 3 plus 4?"
JSON_KEYS = {"answer", "say", "think", "first_say_step", "tokens_per_s", "steps", "mode", "p", "q", "say_tokens",
             "think_tokens", "forwards", "prefill_s", "elapsed_s", "stop_reason", "tool_calls", "early_tool_mentions"}


@pytest.fixture(scope="module")
def model_dir(make_thinker, tmp_path_factory):
    return make_thinker(seed=11).save(tmp_path_factory.mktemp("thinker"))


def ask_json(capsys, *argv) -> dict:
    assert main(["ask", *argv, "--json"]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1  # exactly one JSON object on stdout
    return json.loads(out)


@pytest.mark.parametrize("mode", ["tis", "think-first", "no-think"])
def test_json_output_is_the_decoders_result(capsys, model_dir, mode):
    got = ask_json(capsys, "--text", QUESTION, "--model", str(model_dir), "--mode", mode, "--max-steps", "40")
    assert set(got) == JSON_KEYS
    done = TiSDecoder(Thinker.load(model_dir), mode=mode, max_steps=40).answer(text=QUESTION)
    assert (got["say"], got["think"], got["answer"]) == (done.say, done.think, done.answer)
    assert (got["first_say_step"], got["steps"], got["mode"]) == (done.stats.first_say_step, done.stats.steps, mode)
    assert got["tokens_per_s"] > 0 and (got["p"], got["q"]) == (2, 8)


def test_sampling_options_reach_the_decoder(capsys, model_dir):
    argv = ["--text", QUESTION, "--model", str(model_dir), "--max-steps", "30", "--temperature", "1.3", "--seed"]
    first, again = ask_json(capsys, *argv, "7"), ask_json(capsys, *argv, "7")
    greedy = ask_json(capsys, "--text", QUESTION, "--model", str(model_dir), "--max-steps", "30")
    assert (first["say"], first["think"]) == (again["say"], again["think"])
    others = [ask_json(capsys, *argv, str(seed)) for seed in (1, 2, 3)]
    assert any((o["say"], o["think"]) != (greedy["say"], greedy["think"]) for o in [first, *others])
    custom = ask_json(capsys, "--text", QUESTION, "--model", str(model_dir), "--max-steps", "30", "--p", "3", "--q", "4")
    assert (custom["p"], custom["q"]) == (3, 4)
    paired = ask_json(capsys, "--text", QUESTION, "--model", str(model_dir), "--max-steps", "30", "--batch-parallel")
    done = TiSDecoder(Thinker.load(model_dir), max_steps=30, batch_parallel=True).answer(text=QUESTION)
    assert (paired["say"], paired["think"]) == (done.say, done.think)


def test_live_view_shows_both_channels_and_the_figures(capsys, model_dir):
    assert main(["ask", "--text", QUESTION, "--model", str(model_dir), "--max-steps", "40"]) == 0
    out = capsys.readouterr().out
    for label in ("say", "think", "answer", "first spoken token", "tokens/s"):
        assert label in out


def test_audio_question_is_read_resampled_and_heard(capsys, model_dir, tmp_path):
    import soundfile

    for part in WHISPER_BASE_PACKAGES:
        require_module(part, "speech")  # the packaged Whisper-base; any other encoder failure fails the test
    t = np.arange(int(1.5 * 22050)) / 22050
    path = tmp_path / "question.wav"
    soundfile.write(path, np.stack([0.3 * np.sin(2 * np.pi * 220 * t)] * 2, axis=1), 22050)
    got = ask_json(capsys, "--audio", str(path), "--model", str(model_dir), "--max-steps", "20")
    assert got["steps"] == 20 and set(got) == JSON_KEYS


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--text", QUESTION, "--audio", "q.wav"], "give exactly one of --text or --audio, got both"),
        ([], "give exactly one of --text or --audio, got neither"),
        (["--text", QUESTION, "--mode", "loud"], "mode must be one of ('tis', 'think-first', 'no-think'), got 'loud'"),
        (["--text", QUESTION, "--p", "0"], "p must be an int >= 1, got 0"),
        (["--text", QUESTION, "--temperature", "-1"], "temperature must be a number >= 0"),
        (["--audio", "/nonexistent/q.wav"], "--audio must be a sound file, got '/nonexistent/q.wav'"),
        (["--text", QUESTION, "--threads", "0"], "--threads must be an int >= 1, got 0"),
    ],
)
def test_bad_arguments_exit_2_with_a_clear_message(capsys, model_dir, argv, message):
    threads = torch.get_num_threads()
    assert main(["ask", *argv, "--model", str(model_dir)]) == 2
    assert message in capsys.readouterr().err
    assert torch.get_num_threads() == threads
