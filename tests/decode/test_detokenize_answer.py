"""Incremental detokenisation of byte-level BPE, and the Spoken-MQA answer rule."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from thinkspeak.decode.answer import spoken_answer
from thinkspeak.decode.detokenize import REPLACEMENT, IncrementalDetokenizer
from thinkspeak.eval.spoken_mqa import score

ALPHABET = list("abcz ZAé0123456789.,ü") + ["😀", "🤖", "ê", "中", "\u00a0"]


@settings(deadline=None, max_examples=200)
@given(text=st.text(alphabet=st.sampled_from(ALPHABET), min_size=1, max_size=40))
def test_pieces_are_complete_utf8_and_add_up_to_the_text(tokenizer, text):
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    detok = IncrementalDetokenizer(tokenizer)
    pieces = [detok.push(i) for i in ids]
    assert all(REPLACEMENT not in p for p in pieces)
    assert "".join(pieces) == text == detok.text


def test_a_character_split_over_tokens_comes_out_whole_with_its_last_byte(tokenizer):
    ids = tokenizer("Zürich", add_special_tokens=False)["input_ids"]
    assert REPLACEMENT in tokenizer.decode(ids[:1])  # the tokenizer really splits ü across two tokens
    detok = IncrementalDetokenizer(tokenizer)
    assert [detok.push(i) for i in ids] == ["", "Zürich"]  # nothing until the character is complete


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        ("Seven plus five is 12. The answer is 12.", "12"),
        ("The answer is: 1,200 apples, not 3", "1200"),
        ("the answer is -3/4.", "-3/4"),
        ("Half of 9 is 4.5", "4.5"),
        ("First 3, then 4, so 7", "7"),
        ("The answer is 12. Wait, the answer is 13", "13"),
        ("no numbers here", None),
        ("The answer is unclear, sorry", None),
        ("", None),
    ],
)
def test_spoken_answer_takes_the_number_after_the_answer_is_else_the_last(text, answer):
    assert spoken_answer(text) == answer


@settings(max_examples=200)
@given(st.text(alphabet=st.sampled_from(list("The answris:0123456789-/., x")), max_size=60))
def test_the_extracted_answer_scores_like_the_whole_response(text):
    answer = spoken_answer(text)
    for reference in ("12", "0.75", "-3", "4.5"):
        assert score(answer or "", reference).correct == score(text, reference).correct


def test_spoken_answer_rejects_non_text():
    with pytest.raises(ValueError, match="text must be a str"):
        spoken_answer(12)
