"""The shipped default Thinker (src/thinkspeak/assets/thinker-default) loads, is intact and answers."""

from __future__ import annotations

import hashlib
import re

import pytest
import torch

from parts import needs_espeak
from thinkspeak.data.math import MathConfig
from thinkspeak.data.math.sample import build_sample
from thinkspeak.decode import TiSDecoder
from thinkspeak.eval.spoken_mqa import is_correct
from thinkspeak.layouts.interleave import deinterleave
from thinkspeak.model.thinker import DEFAULT_DIR, Thinker


@pytest.fixture(scope="module")
def thinker() -> Thinker:
    return Thinker.load()


def greedy_stream(thinker: Thinker, text: str, mode: str, max_steps: int = 400) -> list[int]:
    """Plain greedy decoding with the KV cache (no schedule enforcement): what the model itself emits."""
    with torch.no_grad():
        out = thinker.model(inputs_embeds=thinker.prompt_embeds(text=text, mode=mode), use_cache=True)
        stream = []
        for _ in range(max_steps):
            token = int(out.logits[0, -1].argmax())
            stream.append(token)
            if token == thinker.ids.end:
                break
            out = thinker.model(input_ids=torch.tensor([[token]]), past_key_values=out.past_key_values,
                                use_cache=True)
    return stream


def spoken_answer(say: str) -> str | None:
    m = re.search(r"[Tt]he answer is:? (-?\d+(?:[./]\d+)?)", say)
    return m.group(1) if m else None


def test_files_match_sha256sums():
    lines = (DEFAULT_DIR / "SHA256SUMS").read_text().splitlines()
    assert lines
    for line in lines:
        digest, name = line.split("  ")
        assert hashlib.sha256((DEFAULT_DIR / name).read_bytes()).hexdigest() == digest, name
    size = sum(p.stat().st_size for p in DEFAULT_DIR.iterdir())
    assert size < 30 * 2**20


def test_default_loads_with_adapter(thinker):
    assert thinker.adapter is not None and thinker.config.p == 2 and thinker.config.q == 8
    assert thinker.prompt_embeds(features=torch.zeros(50, thinker.adapter.config.feature_dim)).shape[1] == 13 + 3


def test_default_thinks_while_speaking_on_an_easy_question(thinker):
    """Unconstrained greedy output already has the TiS form: speech at once, reasoning, a scored answer."""
    ids = thinker.ids
    stream = greedy_stream(thinker, "What is 2 plus 3?", "tis")
    assert stream[-1] == ids.end
    assert stream[0] not in (ids.say_pad, ids.think_pad)  # first spoken token at step 0
    say, think = deinterleave(stream, say_pad=ids.say_pad, think_pad=ids.think_pad, end=ids.end, strict=False)
    say_text, think_text = thinker.tokenizer.decode(say), thinker.tokenizer.decode(think)
    assert "2" in think_text and "3" in think_text
    assert spoken_answer(say_text) is not None, say_text


def held_out_items(n: int, categories: tuple[str, ...]) -> list[dict]:
    """The first ``n`` test-split problems of the default corpus (seed 0) in ``categories``; the test split
    is chosen by a hash of the question, so none of them was trained on."""
    config = MathConfig()
    rows, index = [], 0
    while len(rows) < n:
        row, _ = build_sample(0, index, config)
        index += 1
        if row["split"] == "test" and row["category"] in categories:
            rows.append(row)
    return rows


def test_default_answers_held_out_problems_above_chance(thinker):
    """Regression guard on real accuracy: the shipped model got 15 of these 40 held-out easy problems right
    when it was exported (docs/results.md); an untrained or broken model gets none."""
    decoder = TiSDecoder(thinker)
    items = held_out_items(40, ("arith_short", "single_step"))
    correct = sum(is_correct(decoder.answer(text=row["question"]).say, row["answer"]) for row in items)
    assert correct >= 10, correct


@needs_espeak
def test_default_hears_spoken_numbers(thinker):
    """End-to-end hearing (Whisper encoder -> adapter -> Thinker): from the audio alone, the reasoning names
    the question's operands. An untrained adapter hears nothing of the sort (it scored 0% audio-in)."""
    from thinkspeak.audio import resample
    from thinkspeak.speech.tts import get_tts

    tts = get_tts("espeak:en-us")
    decoder = TiSDecoder(thinker)
    heard = 0
    for question, operands in [("What is 9 times 6?", ("9", "6")), ("What is 45 plus 38?", ("45", "38")),
                               ("What is 12 plus 7?", ("12", "7"))]:
        speech = tts.synthesize(question)
        done = decoder.answer(audio=resample(speech.pcm, speech.sample_rate, 16000))
        numbers = re.findall(r"\d+", done.think)
        heard += all(n in numbers for n in operands)
    assert heard >= 2, heard


def test_default_answers_fixed_easy_questions(thinker):
    """Correct answers, not just the form: the shipped model got all five right at export (greedy, so the
    result is deterministic up to floating-point differences between machines; one slip is tolerated)."""
    decoder = TiSDecoder(thinker)
    easy = {"What is 9 times 6?": "54", "What is 7 plus 8?": "15", "What is 10 minus 4?": "6",
            "What is 5 times 5?": "25", "What is 45 plus 38?": "83"}
    answers = {q: decoder.answer(text=q).answer for q in easy}
    assert answers["What is 9 times 6?"] == "54", answers
    assert sum(answers[q] == a for q, a in easy.items()) >= 4, answers
