"""The tool-call tokens added to a Thinker by the vocabulary-extension mechanism (issue 12)."""

import pytest

torch = pytest.importorskip("torch")

from thinker_fixtures import tiny_thinker  # noqa: E402

from thinkspeak.layouts.toolcalls import TOOL_DESCRIPTIONS, TOOL_TOKENS, Call, Result, render  # noqa: E402
from thinkspeak.model.thinker import Thinker  # noqa: E402
from thinkspeak.model.tokens import ToolIds  # noqa: E402


def test_a_thinker_without_tool_tokens_has_no_tool_ids():
    assert tiny_thinker().tool_ids is None


def test_added_tokens_are_single_tokens_initialised_from_descriptions(tmp_path):
    thinker = tiny_thinker()
    n_before = len(thinker.tokenizer)
    weight = thinker.model.get_input_embeddings().weight.detach().clone()
    thinker.add_tool_tokens()
    ids = thinker.tool_ids
    assert ids is not None and len(set(ids.all())) == len(TOOL_TOKENS)
    assert min(ids.all()) >= n_before
    new = thinker.model.get_input_embeddings().weight
    for token, tid in zip(TOOL_TOKENS, ids.all(), strict=True):
        desc = thinker.tokenizer(TOOL_DESCRIPTIONS[token], add_special_tokens=False)["input_ids"]
        assert torch.allclose(new[tid], weight[desc].mean(0))
    assert torch.equal(new[:n_before], weight[:n_before])
    text = render(["so ", Call("calc", "23 + 19"), Result("42"), " apples"])
    tokens = thinker.text_ids(text)
    for tid in (ids.call, ids.args, ids.call_end, ids.result, ids.result_end):
        assert tokens.count(tid) == 1
    assert thinker.tokenizer.decode(tokens) == text
    thinker.add_tool_tokens()  # a second call changes nothing
    assert thinker.tool_ids == ids and len(thinker.tokenizer) == n_before + len(TOOL_TOKENS)
    thinker.save(tmp_path / "t")
    assert Thinker.load(tmp_path / "t").tool_ids == ids


def test_some_tool_tokens_but_not_all_is_refused():
    class Tok:
        def get_vocab(self):
            return {TOOL_TOKENS[0]: 5}

    with pytest.raises(ValueError, match="not"):
        ToolIds.from_tokenizer(Tok())
