"""The anticipation-drift detector: clean samples pass, planted drift is caught, at word and token level,
and the pipeline drops what it catches."""

from __future__ import annotations

import re
from fractions import Fraction

import pytest

from thinkspeak.data.math import pipeline
from thinkspeak.data.math.drift import check_stream, check_words
from thinkspeak.data.math.sample import MathConfig, build_sample, layouts, word_licenses
from thinkspeak.layouts.interleave import interleave

CONFIG = MathConfig(journey_share=0.3)


@pytest.fixture(scope="module")
def samples() -> list[dict]:
    return [build_sample(5, i, CONFIG)[0] for i in range(300)]


def replant(row: dict, response: list[str], licenses: list[int], p: int = 2, q: int = 8) -> str:
    return layouts(row["reasoning"], response, licenses, p, q)["tis"]


def test_clean_samples_pass(samples: list[dict]) -> None:
    for row in samples:
        verdict = check_words(row["tis"])
        assert verdict.ok, (row["tis"], verdict.violations)
        assert verdict.mentions >= 1


@pytest.mark.parametrize(("p", "q"), [(1, 1), (2, 8), (3, 5), (4, 2)])
def test_clean_at_any_rhythm(samples: list[dict], p: int, q: int) -> None:
    for row in samples[:60]:
        assert check_words(replant(row, row["response"], row["licenses"], p, q), p=p, q=q).ok


def test_a_number_absent_from_the_reasoning_is_always_drift(samples: list[dict]) -> None:
    for row in samples:
        response = [row["response"][0], "I bet it is 987654321.", *row["response"][1:]]
        verdict = check_words(replant(row, response, [-1, *row["licenses"]]))
        assert not verdict.ok
        assert [v.number for v in verdict.violations] == ["987654321"]


def reasoned_before_answer(tis: str, answer: str) -> bool:
    """Oracle at 2:8: whether ``answer`` is among the reasoning words emitted before the first say word
    that states it (positions i % 10 < 2 are say slots)."""
    words = tis.split()
    said = next(i for i, w in enumerate(words) if i % 10 < 2 and w.rstrip(".") == answer)
    before = [w.rstrip(".,:;") for i, w in enumerate(words[:said]) if i % 10 >= 2]
    return Fraction(answer) in {Fraction(w) for w in before if re.fullmatch(r"-?\d+(\.\d+)?(/\d+)?", w)}


def test_answer_inserted_early_is_caught_unless_already_reasoned(samples: list[dict]) -> None:
    caught = 0
    for row in samples:
        response = [f"The answer is {row['answer']}.", *row["response"]]
        tis = replant(row, response, [-1, *row["licenses"]])
        verdict = check_words(tis)
        assert verdict.ok is reasoned_before_answer(tis, row["answer"])
        caught += not verdict.ok
    assert caught > 0.7 * len(samples)


def test_licence_moved_earlier_is_caught(samples: list[dict]) -> None:
    caught = 0
    for row in samples:
        # the final chunk no longer waits for the reasoning: licence -1, spoken first
        tis = replant(row, [row["response"][-1], *row["response"][:-1]], [-1, *row["licenses"][:-1]])
        verdict = check_words(tis)
        assert verdict.ok is reasoned_before_answer(tis, row["answer"])
        if not verdict.ok:
            caught += 1
            assert verdict.violations[0].number.rstrip(".") == row["answer"]
    assert caught > 0.7 * len(samples)


def test_character_tokens_and_numbers_split_over_tokens(samples: list[dict]) -> None:
    """Any tokenizer: here one token per character, decoded by concatenation."""
    end, say_pad, think_pad = object(), object(), object()
    for row in samples[:40]:
        think = list(" ".join(row["reasoning"]))
        say = list(" ".join(row["response"]))
        ends = [0]
        for step in row["reasoning"]:
            ends.append(ends[-1] + len(step) + 1)
        need = [min(ends[lic + 1], len(think)) if lic >= 0 else 0
                for chunk, lic in zip(row["response"], row["licenses"], strict=True) for _ in chunk + " "][:len(say)]
        stream = interleave(say, think, say_pad=say_pad, think_pad=think_pad, end=end, licenses=need)
        assert check_stream(stream, decode="".join, say_pad=say_pad, think_pad=think_pad, end=end).ok
        prefix = list("It is 987654321. ")
        planted = interleave(prefix + say, think, say_pad=say_pad, think_pad=think_pad, end=end,
                             licenses=[0] * len(prefix) + need)
        verdict = check_stream(planted, decode="".join, say_pad=say_pad, think_pad=think_pad, end=end)
        assert [v.number for v in verdict.violations] == ["987654321"]


def test_a_number_is_credited_only_once_complete() -> None:
    kw = {"say_pad": "S", "think_pad": "T", "end": "E", "p": 1, "q": 1}
    half = interleave(["1", "2"], ["1", "2"], licenses=[1, 1], **kw)
    full = interleave(["1", "2"], ["1", "2"], licenses=[2, 2], **kw)
    assert not check_stream(half, decode="".join, **kw).ok
    assert check_stream(full, decode="".join, **kw).ok


def test_spoken_numbers_match_written_reasoning() -> None:
    kw = {"say_pad": "S", "think_pad": "T", "end": "E", "p": 2, "q": 2}
    think = "12 plus 30 is 42 .".split()
    for said, ok in (("forty-two it is", True), ("thirty-five it is", False)):
        say = said.split()
        stream = interleave(say, think, licenses=[len(think)] * len(say), **kw)
        assert check_stream(stream, decode=" ".join, **kw).ok is ok


def test_word_licenses_follow_steps() -> None:
    assert word_licenses(["a b", "c d e"], ["x", "y z"], [-1, 1]) == [0, 5, 5]
    assert word_licenses(["a b", "c d e"], ["x y"], [0]) == [2, 2]


def test_pipeline_drops_what_the_detector_catches(monkeypatch: pytest.MonkeyPatch) -> None:
    def planted(seed: int, index: int, config: MathConfig):
        row, _ = build_sample(seed, index, config)
        if index % 3 == 0:
            response = ["The answer is 987654321.", *row["response"]]
            row["tis"] = replant(row, response, [-1, *row["licenses"]], config.p, config.q)
        return row, check_words(row["tis"], p=config.p, q=config.q)

    monkeypatch.setattr(pipeline, "build_sample", planted)
    result = pipeline.build_file(range(30), 0, MathConfig())
    assert [r["index"] for r in result.rows] == [i for i in range(30) if i % 3]
    assert result.stats["drift_failures"] == 10 and result.stats["generated"] == 30
