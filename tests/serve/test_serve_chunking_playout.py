"""Text chunking for the streaming TTS and the played-audio model behind truncation."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from thinkspeak.serve.playout import PlayoutClock, SpokenSpan, heard_text
from thinkspeak.serve.talker import SpeechChunker


def chunk_all(pieces: list[str], **kw) -> list[str]:
    chunker = SpeechChunker(**kw)
    out = []
    for piece in pieces:
        out += chunker.push(piece)
    return out + chunker.flush()


def test_first_chunk_is_short_then_clauses():
    tokens = "Well, six times seven is forty two because six sevens make forty two. The answer is 42.".split(" ")
    pieces = [tokens[0]] + [" " + t for t in tokens[1:]]
    chunks = chunk_all(pieces, first_words=3, min_words=4, max_words=16)
    assert chunks[0] == "Well,"  # a clause ended before three words: flushed at once
    assert chunks[1:] == ["six times seven is forty two because six sevens make forty two.", "The answer is 42."]


def test_first_chunk_flushes_after_first_words_without_punctuation():
    chunks = chunk_all(["Let", " me", " think", " about", " it"], first_words=3)
    assert chunks == ["Let me think", "about it"]


def test_a_word_split_across_tokens_is_never_cut():
    chunks = chunk_all(["Fort", "y", " tw", "o", " plus", " one"], first_words=1)
    assert chunks[0] == "Forty"


def test_bad_sizes_are_rejected():
    with pytest.raises(ValueError, match="first_words"):
        SpeechChunker(first_words=0)


@given(st.lists(st.text(alphabet="ab ,.", max_size=6), max_size=40), st.integers(1, 5), st.integers(1, 8))
def test_chunks_rebuild_the_text(pieces, first, min_words):
    max_words = max(first, min_words) + 3
    chunks = chunk_all(pieces, first_words=first, min_words=min_words, max_words=max_words)
    assert " ".join(chunks).split() == "".join(pieces).split()
    assert all(c.strip() == c and c for c in chunks)
    assert all(len(c.split()) <= max_words for c in chunks)


def test_playout_clock_models_real_time_playback_with_gaps():
    clock = PlayoutClock()
    clock.sent(1000.0, now=10.0)  # 1 s of audio at t=10
    clock.sent(1000.0, now=10.2)  # queued behind it: plays 11..12
    assert clock.played_ms(10.5) == pytest.approx(500.0)
    assert clock.played_ms(11.5) == pytest.approx(1500.0)
    assert clock.queued_s(11.5) == pytest.approx(0.5)
    clock.sent(500.0, now=20.0)  # after an underrun playback restarts at once
    assert clock.played_ms(20.25) == pytest.approx(2250.0)
    assert clock.played_ms(99.0) == clock.sent_ms == 2500.0


def test_heard_text_cuts_inside_the_playing_span():
    spans = [SpokenSpan(0, 1000, "six times seven"), SpokenSpan(1000, 3000, "is forty two, the answer")]
    assert heard_text(spans, 500) == "six"
    assert heard_text(spans, 1000) == "six times seven"
    assert heard_text(spans, 2000) == "six times seven is forty"
    assert heard_text(spans, 5000) == "six times seven is forty two, the answer"


@given(st.lists(st.tuples(st.integers(1, 2000), st.lists(st.sampled_from("ab c".split()), max_size=5)), max_size=8),
       st.floats(0, 20000), st.floats(0, 20000))
def test_heard_text_is_a_monotone_prefix(parts, cut_a, cut_b):
    spans, start = [], 0.0
    for duration, words in parts:
        spans.append(SpokenSpan(start, start + duration, " ".join(words)))
        start += duration
    full = " ".join(s.text for s in spans).split()
    short, long_ = sorted((cut_a, cut_b))
    a, b = heard_text(spans, short).split(), heard_text(spans, long_).split()
    assert full[: len(a)] == a and full[: len(b)] == b and len(a) <= len(b)


def test_held_reasoning_follows_the_words_played():
    from thinkspeak.serve.playout import HeldReasoning

    held = HeldReasoning()
    for words_said, text in [(0, "a"), (1, "b"), (1, "c"), (3, "d")]:
        held.hold(words_said, text)
    assert held.release(0) == ["a"]
    assert held.release(0.5) == []
    assert held.release(2.0) == ["b", "c"]
    assert held.release(2.9) == []
    assert held.rest() == ["d"]
    assert held.rest() == []
