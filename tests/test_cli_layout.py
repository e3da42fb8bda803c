"""``thinkspeak layout ...``: every sub-command renders its layout as a table and as JSON."""

import json

import pytest

from thinkspeak.cli import main
from thinkspeak.layouts import interleave, miniomni, moshi, omniflatten, syncllm


def run_json(capsys, *argv):
    assert main(["layout", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def tokens(grid):
    return [s["tokens"] for s in grid["streams"]]


def column_sequence(grid):
    return [next(t for t in col if t is not None) for col in zip(*tokens(grid), strict=True)]


def test_miniomni_prompt_json_is_the_golden_prompt(capsys):
    grid = run_json(capsys, "miniomni", "--task", "A1A2", "--audio-len", "3")
    assert tokens(grid) == miniomni.build_prompt("A1A2", 3)
    assert tokens(grid)[0] == [156098, 156097, 156097, 156097, 156096, 156099]
    grid = run_json(capsys, "miniomni", "--task", "T1T2", "--text-ids", "5,6 7")
    assert tokens(grid) == miniomni.build_prompt("T1T2", text_ids=[5, 6, 7])


def test_miniomni_output_and_from_json(capsys, tmp_path):
    grid = run_json(capsys, "miniomni", "--answer-text", "1 2", "--answer-frames", "2")
    frames = [tuple(range(7)), tuple(range(7, 14))]
    assert tokens(grid) == miniomni.encode_output([1, 2], frames)
    path = tmp_path / "streams.json"
    path.write_text(json.dumps(tokens(grid)))
    assert tokens(run_json(capsys, "miniomni", "--from-json", str(path))) == tokens(grid)


def test_tis_json_follows_the_interleave(capsys):
    grid = run_json(capsys, "tis", "--say", "a b c", "--think", "1 2 3 4", "--p", "2", "--q", "3",
                    "--licenses", "0 0 4")
    assert grid["streams"][0]["name"] == "say"
    assert column_sequence(grid) == interleave.interleave(
        ["a", "b", "c"], ["1", "2", "3", "4"], say_pad="<say_pad>", think_pad="<think_pad>", end="<end>",
        p=2, q=3, licenses=[0, 0, 4])
    grid = run_json(capsys, "tis", "--say", "a b", "--think", "x", "--mode", "think-first")
    assert [s["name"] for s in grid["streams"]] == ["think", "say"]
    assert column_sequence(grid) == ["x", "<think_end>", "a", "b", "<end>"]


def test_syncllm_omniflatten_moshi_json(capsys):
    grid = run_json(capsys, "syncllm", "--s0", "1 1 2 2", "--s1", "3 3 3 3")
    assert column_sequence(grid) == syncllm.encode([1, 1, 2, 2], [3, 3, 3, 3])
    v = omniflatten.VOCAB
    grid = run_json(capsys, "omniflatten", "--streams", "2", "--user-speech", "1 sil", "--assistant-speech",
                    "sil 2", "--speech-chunk", "1")
    assert column_sequence(grid) == [v.speech(1), v.speech_silence, v.speech_silence, v.speech(2)]
    grid = run_json(capsys, "omniflatten", "--streams", "3", "--speech-chunk", "2", "--text-chunk", "1",
                    "--user-speech", "1 2 sil sil", "--assistant-speech", "sil sil 3 4", "--assistant-text", "9")
    assert column_sequence(grid) == omniflatten.flatten_duplex(
        [v.speech(1), v.speech(2), v.speech_silence, v.speech_silence],
        [v.speech_silence, v.speech_silence, v.speech(3), v.speech(4)], [9], speech_chunk=2, text_chunk=1)
    grid = run_json(capsys, "omniflatten", "--streams", "4", "--user-text", "5")
    assert [s["name"] for s in grid["streams"]] == list(omniflatten.TURN_SEGMENTS)
    grid = run_json(capsys, "moshi")
    assert tokens(grid)[0] == [101, 102, 3, 3, 3, 0, 201, 3, 3, 3, 3, 3, 3, 3, 3]
    grid = run_json(capsys, "moshi", "--word", "hi:7:0.1:0.2", "--word", "8,9:0.3:0.5", "--duration", "0.8")
    assert tokens(grid)[0] == moshi.align_text([([7], 0.1, 0.2), ([8, 9], 0.3, 0.5)], 0.8)


def test_tables_and_demo(capsys):
    assert main(["layout", "miniomni", "--task", "ASR", "--audio-len", "2"]) == 0
    out = capsys.readouterr().out
    assert "INPUT_A" in out and "ASR" in out
    assert main(["layout", "demo"]) == 0
    out = capsys.readouterr().out
    for title in ("Mini-Omni prompt", "delayed output", "thinking-in-speaking", "SyncLLM", "OmniFlatten", "Moshi"):
        assert title in out
    demo = run_json(capsys, "demo")
    assert len(demo) == 6


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["miniomni", "--task", "T1A2"], "text_ids must hold at least one text token"),
        (["tis", "--p", "0"], "p must be an int >= 1, got 0"),
        (["syncllm", "--s0", "1 2 3"], "same length"),
        (["omniflatten", "--speech-chunk", "2", "--user-speech", "1 2 3", "--assistant-speech", "4 5 6"],
         "speech_chunk 2 does not fit"),
        (["moshi", "--word", "11,12,13:0:0.1", "--duration", "0.16"], "duration 0.16 s (2 frames) is too short"),
    ],
)
def test_bad_input_exits_2_with_the_reason(capsys, argv, message):
    assert main(["layout", *argv]) == 2
    assert message in capsys.readouterr().err


def test_unparsable_arguments_are_usage_errors(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["layout", "syncllm", "--s0", "1 x"])
    assert exc.value.code == 2
    assert "expected integers" in capsys.readouterr().err
