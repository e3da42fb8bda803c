"""Semantic end of turn: transcript states and the eagerness table."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from thinkspeak.speech.endpoint import ASKING, DANGLING, EAGERNESS, WEAK, utterance_state

WORDS = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=8)
FINAL = WORDS.filter(lambda w: w not in DANGLING and w not in WEAK)
PLAIN = WORDS.filter(lambda w: w not in ASKING)


@pytest.mark.parametrize(("text", "state"), [
    ("What is twelve times seven?", "complete"),
    ("Tom has 3 apples. How many does he have?", "complete"),
    ("What is 45 plus 38.", "complete"),
    ("Calculate 45 plus 38.", "complete"),
    ("Tom has 23 apples and gives away 9.", "unsure"),   # a word problem's question usually follows
    ("Tom has 23 apples and gives away 9. How many are left?", "complete"),
    ("What is twelve times", "incomplete"),
    ("What is twelve times?", "incomplete"),        # an operator cannot end a question, whatever the punctuation
    ("Tom has 3 apples and", "incomplete"),
    ("So,", "incomplete"),
    ("Well...", "incomplete"),
    ("", "incomplete"),
    ("  ", "incomplete"),
    ("what do I have", "incomplete"),
    ("What do I have?", "complete"),
    ("what is twelve times seven", "unsure"),
])
def test_states(text, state):
    assert utterance_state(text) == state


@given(st.lists(WORDS, max_size=6), st.sampled_from(sorted(DANGLING)), st.sampled_from(["", ".", "?", ","]))
def test_a_dangling_last_word_is_never_complete(words, last, mark):
    assert utterance_state(" ".join([*words, last]) + mark) == "incomplete"


@given(st.lists(WORDS, max_size=6), FINAL)
def test_a_finished_question_is_complete(words, last):
    assert utterance_state(" ".join([*words, last]) + "?") == "complete"


@given(st.sampled_from(sorted(ASKING)), st.lists(WORDS, max_size=6), FINAL, st.sampled_from([".", "!"]))
def test_a_finished_request_is_complete(cue, words, last, mark):
    assert utterance_state(" ".join([cue, *words, last]) + mark) == "complete"


@given(st.lists(PLAIN, max_size=6), FINAL.filter(lambda w: w not in ASKING), st.sampled_from([".", "!"]))
def test_a_statement_is_unsure(words, last, mark):
    assert utterance_state(" ".join([*words, last]) + mark) == "unsure"


@given(st.lists(WORDS, max_size=6), FINAL)
def test_no_punctuation_is_at_best_unsure(words, last):
    assert utterance_state(" ".join([*words, last])) == "unsure"


def test_non_text_is_refused():
    with pytest.raises(TypeError, match="text must be a str"):
        utterance_state(None)


def test_eagerness_orders_the_waits():
    assert set(EAGERNESS) == {"low", "medium", "high", "auto"} and EAGERNESS["auto"] == EAGERNESS["medium"]
    for e in EAGERNESS.values():
        assert 0 < e.complete_ms < e.unsure_ms < e.max_ms
        assert [e.silence_ms(s) for s in ("complete", "unsure", "incomplete")] == [e.complete_ms, e.unsure_ms,
                                                                                  e.max_ms]
    assert EAGERNESS["high"].complete_ms < EAGERNESS["medium"].complete_ms < EAGERNESS["low"].complete_ms
