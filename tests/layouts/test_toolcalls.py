"""Tool-call syntax of the reasoning stream: render -> parse round trip, malformed input never raises."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from thinkspeak.layouts.toolcalls import (
    ARGS,
    CALL,
    CALL_END,
    MAX_ARGUMENTS,
    RESULT,
    RESULT_END,
    TOOL_TOKENS,
    TOOL_WAIT,
    Call,
    Malformed,
    Result,
    calls_and_results,
    parse,
    render,
    render_call,
)

plain = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=30).filter(
    lambda s: not any(t in s for t in TOOL_TOKENS))
stripped = plain.map(str.strip).filter(bool)
names = st.from_regex(r"[a-z][a-z0-9_]{0,31}", fullmatch=True)
calls = st.builds(Call, names, stripped.filter(lambda s: len(s) <= MAX_ARGUMENTS))
results = st.one_of(st.builds(Result, stripped.filter(lambda s: not s.startswith("error:"))),
                    st.builds(Result, stripped, st.just(True)))


@st.composite
def traces(draw):
    """Pieces with no two text pieces in a row (the parser merges adjacent text)."""
    pieces = []
    for piece in draw(st.lists(st.one_of(plain, calls, results), max_size=8)):
        if isinstance(piece, str) and pieces and isinstance(pieces[-1], str):
            continue
        pieces.append(piece)
    return pieces


@given(traces())
def test_render_parse_round_trip(pieces):
    assert parse(render(pieces)) == pieces


@given(traces(), st.integers(0, 3))
def test_wait_tokens_carry_no_content(pieces, waits):
    text = render(pieces).replace(CALL_END, CALL_END + TOOL_WAIT * waits)
    assert parse(text) == pieces


@given(st.text(max_size=60), st.lists(st.sampled_from(TOOL_TOKENS), max_size=6), st.randoms())
def test_any_text_parses_without_raising(text, tokens, rng):
    chars = list(text)
    for token in tokens:
        chars.insert(rng.randint(0, len(chars)), token)
    pieces = parse("".join(chars))
    for piece in pieces:
        assert isinstance(piece, str | Call | Result | Malformed)
        if isinstance(piece, Malformed):
            assert piece.reason


@pytest.mark.parametrize("text, reason", [
    (f"{CALL}calc 2 + 2{CALL_END}", "no <|args|>"),
    (f"{CALL}Calc!{ARGS}2{CALL_END}", "not a lower-case identifier"),
    (f"{CALL}calc{ARGS}   {CALL_END}", "no arguments"),
    (f"so {CALL}calc{ARGS}2 + 2", "without <|call_end|>"),
    (f"{RESULT}42", "without <|result_end|>"),
    (f"a {CALL_END} b", "stray <|call_end|>"),
    (f"{CALL}calc{ARGS}{'9' * (MAX_ARGUMENTS + 1)}{CALL_END}", "longer than"),
])
def test_malformed_pieces_say_why(text, reason):
    bad = [p for p in parse(text) if isinstance(p, Malformed)]
    assert len(bad) == 1 and reason in bad[0].reason


def test_example_of_the_docs():
    text = f"So {CALL}calc{ARGS}23 + 19{CALL_END}{TOOL_WAIT}{RESULT}42{RESULT_END} in all."
    assert parse(text) == ["So ", Call("calc", "23 + 19"), Result("42"), " in all."]
    assert calls_and_results(f"{RESULT}error: division by zero{RESULT_END}") == [Result("division by zero", True)]


@pytest.mark.parametrize("call", [Call("Calc", "1"), Call("calc", " 1"), Call("calc", ""),
                                  Call("calc", f"1{RESULT}2")])
def test_render_refuses_what_would_not_parse_back(call):
    with pytest.raises(ValueError, match="call"):
        render_call(call)


def test_render_refuses_a_success_that_reads_as_an_error():
    with pytest.raises(ValueError, match="error:"):
        render([Result("error: nope")])
