"""WhisperASR on real synthesised speech (Whisper loaded once per session by the ``asr`` fixture)."""

import re

import numpy as np
import pytest
from speech_fixtures import SR, pad

from parts import needs_espeak

DIGITS = {"1": "one", "2": "two", "3": "three"}


def _words(text: str) -> list[str]:
    return [DIGITS.get(w, w) for w in re.findall(r"[a-z0-9']+", text.lower())]


@needs_espeak
def test_espeak_one_two_three_round_trip(asr, one_two_three):
    transcript = asr.transcribe(one_two_three)
    assert _words(transcript.text) == ["one", "two", "three"]
    assert [_words(w.word) for w in transcript.words] == [["one"], ["two"], ["three"]]


@needs_espeak
def test_word_timestamps_follow_the_audio(asr, one_two_three):
    """Whisper-base's word times are coarse (the first word often starts ~0.4 s early), so this checks
    order, bounds and that 1.5 s of leading silence moves the words by about 1.5 s."""
    plain = asr.transcribe(one_two_three)
    shifted = asr.transcribe(pad(one_two_three, 1.5, 0.5))
    starts = [w.start for w in shifted.words]
    assert starts == sorted(starts)
    assert all(0.0 <= w.start <= w.end <= one_two_three.size / SR + 2.0 for w in shifted.words)
    assert shifted.words[0].end > 1.5
    assert shifted.words[-1].end - plain.words[-1].end == pytest.approx(1.5, abs=0.3)


def test_empty_audio_gives_an_empty_transcript(asr):
    transcript = asr.transcribe(np.zeros(0, dtype=np.float32))
    assert transcript.text == "" and transcript.words == []


def test_bad_input_is_refused(asr):
    from thinkspeak.speech.asr import WhisperASR

    with pytest.raises(ValueError, match="pcm"):
        asr.transcribe(np.zeros((2, 100), dtype=np.float32))
    with pytest.raises(ValueError, match="beam_size"):
        WhisperASR(beam_size=0)


def test_instances_share_one_model(asr):
    from thinkspeak.speech.asr import WhisperASR
    from thinkspeak.speech.encoder import WhisperEncoder

    assert WhisperASR(beam_size=5).model is asr.model
    assert WhisperEncoder()._model is asr.model.model


@needs_espeak
def test_align_words_times_every_text_word(asr):
    from thinkspeak.speech.tts import align_words, get_tts

    text = "I have 42 apples and three pears."
    speech = get_tts("espeak:en-us").synthesize(text)
    words = align_words(speech.pcm, text, asr, speech.sample_rate)
    assert [w.word for w in words] == text.split()
    assert all(0.0 <= w.start <= w.end <= speech.duration + 0.1 for w in words)
    assert [w.start for w in words] == sorted(w.start for w in words)
    assert words[-1].end > words[0].end
