"""WhisperASR's latency options: short encoder windows and transcription without word timestamps."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from speech_fixtures import SR, pad

from parts import needs_espeak
from thinkspeak.speech.asr import (
    AUTO_MIN_WINDOW_S,
    MAX_WINDOW_S,
    WINDOW_MARGIN_S,
    WhisperASR,
    repeats_back_to_back,
    tokens_within,
    window_seconds,
)
from thinkspeak.text.reading import words_to_digits


@pytest.fixture(scope="module")
def short_asr():
    return WhisperASR(window_s="auto")


@pytest.fixture(scope="module")
def twelve_times_four() -> np.ndarray:
    from thinkspeak.speech.tts import get_tts

    return get_tts("espeak:en-us").synthesize("what is twelve times four").pcm


@pytest.mark.parametrize("window_s", [0.5, 31, -1, float("nan"), "short", True, "30"])
def test_bad_window_is_refused(window_s):
    with pytest.raises(ValueError, match=r"window_s must be .*'auto' or a number of seconds in \[1, 30\], got"):
        WhisperASR(window_s=window_s)


@pytest.mark.parametrize("flag", [1, "yes", None])
def test_bad_word_timestamps_is_refused(flag):
    with pytest.raises(ValueError, match=rf"word_timestamps must be a bool, got {flag!r}"):
        WhisperASR(word_timestamps=flag)


@given(duration=st.floats(0.0, 40.0), window=st.one_of(st.just("auto"), st.floats(1.0, MAX_WINDOW_S)))
def test_window_fits_the_audio_and_whisper(duration, window):
    seconds = window_seconds(duration, window)
    if duration + WINDOW_MARGIN_S > MAX_WINDOW_S:
        assert seconds is None
        return
    assert duration + WINDOW_MARGIN_S <= seconds <= MAX_WINDOW_S
    smallest = AUTO_MIN_WINDOW_S if window == "auto" else window
    assert seconds == max(smallest, math.ceil(duration + WINDOW_MARGIN_S))
    assert window_seconds(duration, None) is None


def test_auto_window_examples():
    assert [window_seconds(d, "auto") for d in (0.3, 2.5, 4.0, 6.2, 28.9, 29.5)] == [5, 5, 5, 8, 30, None]
    assert [window_seconds(d, 10.0) for d in (2.5, 9.5, 12.0)] == [10, 11, 13]


@given(st.lists(st.integers(0, 3), max_size=14), st.integers(1, 6))
def test_repeats_back_to_back_matches_its_definition(tokens, block):
    brute = any(tokens[i:i + k] == tokens[i + k:i + 2 * k]
                for k in range(block, len(tokens) + 1) for i in range(len(tokens)) if i + 2 * k <= len(tokens))
    assert repeats_back_to_back(tokens, block) == brute


def test_repeats_back_to_back_examples():
    question = [708, 307, 2272, 1413, 1017, 30]
    assert repeats_back_to_back(question + question, 4)
    assert repeats_back_to_back([1, 15, 15, 15, 15, 15, 15, 15, 15], 4)
    assert not repeats_back_to_back(question, 4)
    assert not repeats_back_to_back([5, 5, 5, 5, 5, 5, 5], 4)  # seven tokens: no 4-run twice


def test_tokens_timed_after_the_audio_are_dropped():
    eot, ts = 100, 200  # text ids below eot; the timestamp of t seconds is ts + t / 0.02

    def at(seconds: float) -> int:
        return ts + round(seconds / 0.02)

    sequence = [at(0), 1, 2, 3, at(2.0), at(2.0), 4, 5, at(3.9), at(4.0), 6, 7, 8, at(5.0), eot + 1]
    assert tokens_within(sequence, 4.0, eot=eot, timestamp_begin=ts, precision=0.02) == [1, 2, 3, 4, 5]
    assert tokens_within(sequence, 4.02, eot=eot, timestamp_begin=ts, precision=0.02) == [1, 2, 3, 4, 5, 6, 7, 8]
    assert tokens_within([1, 2, eot + 3], 0.5, eot=eot, timestamp_begin=ts, precision=0.02) == [1, 2]


@needs_espeak
@pytest.mark.parametrize("word_timestamps", [False, True])
def test_short_window_hears_a_question(twelve_times_four, word_timestamps):
    transcript = WhisperASR(window_s="auto", word_timestamps=word_timestamps).transcribe(twelve_times_four)
    heard = transcript.text.lower()
    assert ("twelve" in heard or "12" in heard) and ("four" in heard or "4" in heard)
    assert bool(transcript.words) == word_timestamps


@needs_espeak
def test_short_window_word_times_follow_the_audio(short_asr, one_two_three):
    plain = short_asr.transcribe(one_two_three)
    shifted = short_asr.transcribe(pad(one_two_three, 1.5, 0.5))
    heard = [words_to_digits(w.word.strip(".,").lower()) for w in plain.words]
    assert heard == ["1", "2", "3"]  # Whisper writes the numbers as words or as digits
    assert [w.start for w in shifted.words] == sorted(w.start for w in shifted.words)
    assert all(0.0 <= w.start <= w.end <= one_two_three.size / SR + 2.0 for w in shifted.words)
    assert shifted.words[-1].end - plain.words[-1].end == pytest.approx(1.5, abs=0.3)


@needs_espeak
def test_fixed_window_and_undetected_language(twelve_times_four):
    heard = WhisperASR(window_s=10, language=None, word_timestamps=False).transcribe(twelve_times_four).text
    assert "12" in heard or "twelve" in heard.lower()


def test_short_window_hears_nothing_in_silence(short_asr):
    quiet = np.random.default_rng(0).normal(0, 0.003, SR).astype(np.float32)
    assert short_asr.transcribe(np.zeros(SR, np.float32)).text == ""
    assert short_asr.transcribe(quiet).text == ""
    assert short_asr.transcribe(np.zeros(0, np.float32)).text == ""
