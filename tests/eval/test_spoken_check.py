"""Spoken-answer check: speak, hear, score; and the text/speech gap in the run summary."""

from __future__ import annotations

from pathlib import Path

import pytest

from parts import needs_piper
from thinkspeak.eval.math_items import MathItem
from thinkspeak.eval.math_run import ItemResult, run_math, summarise
from thinkspeak.eval.responders import Response


def result(category: str, correct: bool, heard_correct: bool | None) -> ItemResult:
    return ItemResult(id="x", category=category, answer="1", prediction="1" if correct else "2", correct=correct,
                      say="The answer is 1.", think="", say_words=4, first_say_step=0, tokens=4,
                      heard="the answer is one" if heard_correct is not None else None,
                      heard_prediction=None, heard_correct=heard_correct)


def test_summary_reports_text_and_speech_accuracy_and_gap() -> None:
    results = [result("arith_short", True, True), result("arith_short", True, False),
               result("multi_step", True, False), result("multi_step", False, False),
               result("multi_step", True, None)]  # the last one was not spoken: left out of the gap
    speech = summarise(results)["speech"]
    assert (speech["count"], speech["correct"]) == (4, 1)
    assert speech["accuracy"] == pytest.approx(0.25)
    assert speech["text_accuracy"] == pytest.approx(0.75)   # text accuracy on the same 4 items
    assert speech["gap"] == pytest.approx(0.5)
    assert speech["groups"]["arithmetic"]["accuracy"] == pytest.approx(0.5)


@pytest.mark.parametrize("spec, expected", [
    ("piper", "piper:noise_scale=0:noise_w_scale=0"),
    ("piper:noise_scale=0.5", "piper:noise_scale=0.5:noise_w_scale=0"),   # what the user set is kept
    ("piper:noise_scale=0.5:noise_w_scale=0.2", "piper:noise_scale=0.5:noise_w_scale=0.2"),
    ("espeak:en-us", "espeak:en-us"),                                       # no sampling noise to turn off
])
def test_the_check_turns_off_sampling_noise_the_spec_leaves_unset(spec: str, expected: str) -> None:
    from thinkspeak.eval.spoken_check import repeatable_spec

    assert repeatable_spec(spec) == expected


class Says:
    def __init__(self, replies: dict[str, str]) -> None:
        self.replies = replies

    def __call__(self, item: MathItem) -> Response:
        return Response(self.replies[item.id], self.replies[item.id])


@pytest.mark.slow
@needs_piper
def test_spoken_responses_are_heard_and_scored(tmp_path: Path) -> None:
    from thinkspeak.eval.spoken_check import SpokenAnswerCheck

    check = SpokenAnswerCheck.load("piper")
    heard = check("Twelve plus thirty makes forty two. The answer is 42.", "42")
    assert heard.score.correct, heard
    assert "42" in heard.digits
    assert not check("The answer is 17.", "71").score.correct
    # "3/4" is read "three quarters" (spoken_form), heard as words, turned back into 3/4 and scored as 0.75.
    fraction = check("Three of the four slices are gone, so the answer is 3/4.", "3/4")
    assert fraction.score.correct, fraction

    items = [MathItem("a", "arith_short", "What is 5 minus 8?", "-3"),
             MathItem("b", "arith_short", "What is 70 plus 1?", "71")]
    replies = {"a": "We owe money, so the answer is -3.", "b": "The answer is 17."}
    summary = run_math(items, Says(replies), tmp_path / "run", check=check)
    assert summary["speech_tts"] == "piper:noise_scale=0:noise_w_scale=0"  # the check hears repeatably
    assert summary["speech"]["accuracy"] == pytest.approx(0.5)
    assert summary["speech"]["gap"] == pytest.approx(0.0)
    lines = (tmp_path / "run" / "items.jsonl").read_text().splitlines()
    assert "negative three" in lines[0].lower()  # what was heard is kept per item
