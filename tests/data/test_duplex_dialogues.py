"""Tutoring dialogue texts (thinkspeak.data.dialogues): exact arithmetic, structure, variety, determinism."""

from __future__ import annotations

import re
from fractions import Fraction

import numpy as np
import pytest

from thinkspeak.data.dialogues import (
    BACKCHANNELS,
    FAMILIES,
    Dialogue,
    make_dialogue,
    new_problem,
    what_if,
)

OPS = {"plus": lambda a, b: a + b, "minus": lambda a, b: a - b, "times": lambda a, b: a * b,
       "divided by": lambda a, b: a / b}
NUMBER = r"-?\d+(?:\.\d+)?"
CLAIM = re.compile(rf"(?<![\d.])({NUMBER}) (plus|minus|times|divided by) ({NUMBER}) (?:is|gives|makes) ({NUMBER})")


def dialogue(i: int, exchanges: int = 4, barge: float = 0.3, backchannel: float = 0.4) -> Dialogue:
    return make_dialogue(np.random.default_rng([7, i]), exchanges=exchanges, barge_in_share=barge,
                         backchannel_share=backchannel)


# Independent formulas, one per family, over the family's drawn numbers.
ANSWERS = {
    "add": lambda n: n[0] + n[1],
    "subtract": lambda n: n[0] - n[1],
    "multiply": lambda n: n[0] * n[1],
    "divide": lambda n: n[1],
    "percent": lambda n: Fraction(n[0] * n[1], 100),
    "shopping": lambda n: n[2] - n[0] * n[1] if n[2] else n[0] * n[1],
    "sharing": lambda n: n[1],
    "speed": lambda n: n[0] * n[1],
    "rectangle": lambda n: n[0] * n[1] if n[2] else 2 * (n[0] + n[1]),
    "compare": lambda n: n[0] * (n[1] + 1),
}


def test_every_family_answer_matches_an_independent_formula() -> None:
    rng = np.random.default_rng(1)
    seen = set()
    for _ in range(2000):
        problem = new_problem(rng)
        seen.add(problem.family)
        assert problem.answer == ANSWERS[problem.family](problem.numbers), problem
        assert problem.answer >= 0
    assert seen == {f.name for f in FAMILIES}


def test_what_if_changes_the_shown_number_and_recomputes() -> None:
    rng = np.random.default_rng(2)
    for _ in range(500):
        old = new_problem(rng)
        new = what_if(old, rng)
        assert new.family == old.family and new.shown != old.shown
        assert str(new.shown) in new.question
        # same wording, only the changed number differs (a shopping problem may lose its change question)
        same_words = [w for w in re.split(r"\W+", old.question) if not w.isdigit()]
        assert [w for w in re.split(r"\W+", new.question) if not w.isdigit()] == same_words or new.family == "shopping"
        assert new.answer == ANSWERS[new.family](new.numbers)


def test_every_arithmetic_claim_in_every_reply_is_true() -> None:
    claims = 0
    for i in range(300):
        for exchange in dialogue(i).exchanges:
            for a, op, b, c in CLAIM.findall(exchange.assistant.text):
                claims += 1
                assert OPS[op](Fraction(a), Fraction(b)) == Fraction(c), exchange.assistant.text
    assert claims > 500


def test_replies_end_with_the_answer_sentence_and_its_value() -> None:
    answered = 0
    for i in range(300):
        for exchange in dialogue(i).exchanges:
            reply = exchange.assistant
            if reply.answer is None:
                assert "The answer is" not in reply.text
                continue
            answered += 1
            assert reply.text.endswith(f"The answer is {reply.answer}.")
            explanation = reply.text.rsplit("The answer is", 1)[0]
            assert Fraction(re.findall(NUMBER, explanation)[-1]) == Fraction(reply.answer), reply.text
    assert answered > 600


def test_structure_of_barge_ins_backchannels_and_closings() -> None:
    for i in range(300):
        d = dialogue(i)
        assert d.exchanges[0].user.kind == "turn"
        for k, exchange in enumerate(d.exchanges):
            assert exchange.user.role == "user" and exchange.assistant.role == "assistant"
            assert exchange.user.kind in ("turn", "barge_in")
            if exchange.backchannel is not None:
                assert exchange.backchannel.kind == "backchannel" and exchange.backchannel.text in BACKCHANNELS
                assert not d.interrupted(k), "a backchannel never shares a turn with a barge-in"
                assert exchange.assistant.answer is not None, "backchannels go with explanations"
        assert not d.interrupted(len(d.exchanges) - 1)


def test_shares_are_respected_at_the_extremes() -> None:
    for i in range(50):
        never = dialogue(i, barge=0.0, backchannel=0.0)
        assert all(e.user.kind == "turn" and e.backchannel is None for e in never.exchanges)
        always = dialogue(i, barge=1.0)
        assert [e.user.kind for e in always.exchanges] == ["turn"] + ["barge_in"] * 3


def test_spoken_form_has_no_digits() -> None:
    for i in range(100):
        for exchange in dialogue(i).exchanges:
            for utt in (exchange.user, exchange.assistant):
                assert not re.search(r"\d", utt.spoken), utt.spoken


def test_language_varies() -> None:
    first_questions = {dialogue(i).exchanges[0].user.text for i in range(300)}
    openers = {dialogue(i).exchanges[0].assistant.text.split(".")[0] for i in range(300)}
    assert len(first_questions) >= 295
    assert len(openers) >= 20


def test_deterministic_per_generator_seed() -> None:
    assert dialogue(5) == dialogue(5)
    assert dialogue(5) != dialogue(6)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [({"exchanges": 0}, "exchanges"), ({"barge_in_share": 1.5}, "barge_in_share"),
     ({"backchannel_share": -0.1}, "backchannel_share")],
)
def test_bad_arguments_are_rejected(kwargs: dict, name: str) -> None:
    args = {"exchanges": 3, "barge_in_share": 0.2, "backchannel_share": 0.2} | kwargs
    with pytest.raises(ValueError, match=name):
        make_dialogue(np.random.default_rng(0), **args)
