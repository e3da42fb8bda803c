"""The shipped Thinker with tool calls (src/thinkspeak/assets/thinker-tools, issue 12) loads, is intact, calls
calc from its think stream, hears a spoken question and is right where the default Thinker is not."""

from __future__ import annotations

import hashlib
import re

import pytest

from parts import needs_espeak
from thinkspeak.data.math import MathConfig
from thinkspeak.decode import TiSDecoder
from thinkspeak.decode.events import ToolCall
from thinkspeak.eval.held_out import held_out_rows
from thinkspeak.eval.spoken_mqa import is_correct
from thinkspeak.model.thinker import DEFAULT_DIR, TOOLS_DIR, Thinker
from thinkspeak.tools.defaults import default_tools


@pytest.fixture(scope="module")
def thinker() -> Thinker:
    return Thinker.load("tools")


@pytest.fixture(scope="module")
def decoder(thinker) -> TiSDecoder:
    return TiSDecoder(thinker, tools=default_tools(preload=True))


def test_files_match_sha256sums():
    listed = dict(reversed(line.split("  ")) for line in (TOOLS_DIR / "SHA256SUMS").read_text().splitlines())
    assert {p.name for p in TOOLS_DIR.iterdir()} == set(listed) | {"SHA256SUMS"}
    for name, digest in listed.items():
        assert hashlib.sha256((TOOLS_DIR / name).read_bytes()).hexdigest() == digest, name
    assert sum(p.stat().st_size for p in TOOLS_DIR.iterdir()) < 30 * 2**20
    for path in TOOLS_DIR.iterdir():
        if path.suffix in (".json", ".md"):
            assert not re.search(r"(^|[\s\"'`(])/(work|tmp|home|root|Users)/", path.read_text()), path.name


def test_packaged_names_resolve_and_unknown_ones_are_refused(thinker):
    assert thinker.tool_ids is not None and Thinker.load("default").tool_ids is None
    assert (DEFAULT_DIR.parent / "thinker-tools") == TOOLS_DIR
    with pytest.raises(ValueError, match="packaged names"):
        Thinker.load("no-such-thinker")


def test_it_calls_calc_and_says_the_result(decoder):
    """The shipped default says 44 here; the tools Thinker hands the sum to calc and speaks calc's answer."""
    events = list(decoder.stream(text="What is 23 plus 19?"))
    calls = [e for e in events if isinstance(e, ToolCall)]
    assert [c.name for c in calls] == ["calc"] and re.sub(r"\s", "", calls[0].arguments) == "23+19"
    assert events[-1].answer == "42"


# Typed held-out questions of the tool corpus's generator (seed 0, the four arithmetic categories, tool traces
# on), the first 5 test-split rows of each: measured 13 and 14 of 20 with tools in two runs when the model was
# shipped (the DPO checkpoint: 15 before it, though better on the 100-question benchmark; a greedy decode with
# tools is not exactly repeatable: how many wait slots a call takes depends on the tool thread's timing), 6 of
# 20 for the default Thinker without them. Slack: three items.
SUBSET = ("arith_short", "arith_long", "single_step", "multi_step")
TOOLS_CORRECT, DEFAULT_CORRECT, SLACK = 14, 6, 3


def test_held_out_accuracy_with_tools_beats_the_default_without(decoder):
    config = MathConfig(categories=dict.fromkeys(SUBSET, 1.0), tool_share=0.85)
    rows = held_out_rows(5, categories=SUBSET, config=config)
    plain = TiSDecoder(Thinker.load())
    tools = sum(is_correct(decoder.answer(text=r["question"]).say, r["answer"]) for r in rows)
    default = sum(is_correct(plain.answer(text=r["question"]).say, r["answer"]) for r in rows)
    assert tools >= TOOLS_CORRECT - SLACK and default <= DEFAULT_CORRECT + SLACK and tools > default, (tools, default)


# Spoken by espeak-ng (not a voice of the tool stage's test split): measured with tools 5 of 5 right, each by a
# calc call holding the question's operands (9 * 6, 45 + 38, 12 + 7, 64 - 27, 23 + 19); the default Thinker 2
# of 5.
SPOKEN = {"What is 9 times 6?": ("9", "6", "54"), "What is 45 plus 38?": ("45", "38", "83"),
          "What is 12 plus 7?": ("12", "7", "19"), "What is 64 minus 27?": ("64", "27", "37"),
          "What is 23 plus 19?": ("23", "19", "42")}


@needs_espeak
def test_it_hears_spoken_questions_and_calls_calc_with_their_operands(decoder):
    """End to end (Whisper encoder -> adapter -> Thinker): the tools stage's speech pass taught the audio path
    the tool traces, so the operands heard reach calc and its result is spoken (one slip tolerated)."""
    from thinkspeak.audio import resample
    from thinkspeak.speech.tts import get_tts

    tts = get_tts("espeak:en-us")
    right, calls = 0, 0
    for question, (a, b, answer) in SPOKEN.items():
        speech = tts.synthesize(question)
        events = list(decoder.stream(audio=resample(speech.pcm, speech.sample_rate, 16000)))
        for call in (e for e in events if isinstance(e, ToolCall) and e.name == "calc"):
            calls += 1
            assert re.findall(r"\d+", call.arguments) == [a, b], (question, call.arguments)
        right += events[-1].answer == answer
    assert calls >= 2 and right >= 3, (calls, right)


def test_ask_reads_typed_number_words_as_digits(capsys):
    """Verbatim, "twenty three plus nineteen" made this Thinker call calc 20 + 19; ask reads it as the server
    does (text.written.corpus_numbers), so calc gets the question's operands."""
    import json

    from thinkspeak.cli import main

    assert main(["ask", "--model", "tools", "--text", "What is twenty three plus nineteen?", "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert [re.sub(r"\s", "", c["arguments"]) for c in got["tool_calls"]][:1] == ["23+19"] and got["answer"] == "42"
