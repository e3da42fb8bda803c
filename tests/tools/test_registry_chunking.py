"""The registry never raises; chunking keeps every word and respects the passage size."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from thinkspeak.layouts.toolcalls import RESULT, Call, Result
from thinkspeak.tools import Calculator, ToolError, ToolRegistry, ToolSpec
from thinkspeak.tools.chunking import chunk_text
from thinkspeak.tools.registry import MAX_RESULT_CHARS


class Broken:
    spec = ToolSpec("broken", "raises a bug")

    def __call__(self, arguments):
        raise KeyError(arguments)


class Echo:
    spec = ToolSpec("echo", "says its input back")

    def __call__(self, arguments):
        return arguments


def test_results_and_errors():
    registry = ToolRegistry([Calculator(), Broken(), Echo()])
    assert registry.run(Call("calc", "6 * 7")) == Result("42")
    assert registry.run(Call("calc", "1 / 0")) == Result("division by zero", error=True)
    assert registry.run(Call("broken", "x")) == Result("broken failed: KeyError", error=True)
    unknown = registry.run(Call("nope", "x"))
    assert unknown.error and "nope" in unknown.value and "calc" in unknown.value
    assert registry.run(Call("echo", "error: made up")).error
    long = registry.run(Call("echo", "word " * 200))
    assert len(long.value) <= MAX_RESULT_CHARS
    assert RESULT not in registry.run(Call("echo", f"a {RESULT} b")).value
    assert [t["name"] for t in registry.realtime_tools()] == ["calc", "broken", "echo"]
    assert registry.realtime_tools()[0]["type"] == "function"


def test_register_refuses_duplicates_and_non_tools():
    registry = ToolRegistry([Calculator()])
    with pytest.raises(ValueError, match="already registered"):
        registry.register(Calculator())
    registry.register(Calculator(), replace=True)
    with pytest.raises(ValueError, match="spec.name"):
        registry.register(object())
    assert issubclass(ToolError, Exception)


words = st.text("abcdefgh", min_size=1, max_size=8)


@given(st.lists(st.lists(st.lists(words, min_size=1, max_size=30), min_size=1, max_size=4), min_size=1, max_size=4),
       st.integers(8, 40))
def test_chunks_cover_the_text_within_the_size(sections, max_words):
    text = "\n\n".join(f"# Part {i}\n\n" + "\n\n".join(" ".join(p) + "." for p in paras)
                       for i, paras in enumerate(sections))
    passages = chunk_text(text, max_words=max_words, overlap=0)
    body = [p.split(": ", 1)[1] for p in passages]
    assert all(len(b.split()) <= max_words for b in body)
    assert " ".join(body).split() == [w for paras in sections for p in paras for w in (" ".join(p) + ".").split()]
    assert all(p.startswith("Part ") for p in passages)


def test_chunking_rejects_bad_sizes():
    with pytest.raises(ValueError, match="max_words"):
        chunk_text("a b", max_words=2)
    with pytest.raises(ValueError, match="overlap"):
        chunk_text("a b", max_words=20, overlap=15)
