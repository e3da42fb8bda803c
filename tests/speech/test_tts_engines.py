"""Every TTS engine synthesises, streams with a short first chunk, and is understood by Whisper."""

import itertools
import re

import numpy as np
import pytest
from speech_fixtures import SR

from parts import needs_espeak, needs_festival, needs_flite, require_module
from thinkspeak.speech.tts import TTS, get_tts

TEXT = "Well, I think the answer is twelve. Let me check it once more. Yes, it is twelve."
ENGINES = [
    pytest.param("espeak:en-us+f3:rate=160:pitch=60", marks=needs_espeak),
    pytest.param("flite:slt", marks=needs_flite),
    pytest.param("flite:kal", marks=needs_flite),
    pytest.param("festival:kal", marks=needs_festival),
    pytest.param("piper:noise_scale=0:noise_w_scale=0", id="piper"),
]


@pytest.fixture(scope="module", params=ENGINES)
def tts(request):
    if request.param.startswith("piper"):
        require_module("piper", "piper")
    return get_tts(request.param)


def test_render_is_the_engine_own_rate_and_synthesize_resamples_it(tts):
    """The server resamples once, from the engine's rate straight to the wire rate (docs/server.md)."""
    native, resampled = tts.render("Twelve."), tts.synthesize("Twelve.")
    assert native.pcm.dtype == np.float32 and native.sample_rate >= 8000
    assert abs(native.duration - resampled.duration) < 0.01


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z']+", text.lower().replace("12", "twelve"))


def test_synthesis_is_16k_float32_speech(tts):
    assert isinstance(tts, TTS)
    speech = tts.synthesize(TEXT)
    assert speech.sample_rate == tts.sample_rate == SR
    assert speech.pcm.dtype == np.float32 and speech.pcm.ndim == 1
    assert 2.5 < speech.duration < 12.0
    assert 0.05 < float(np.max(np.abs(speech.pcm))) <= 1.0


def test_stream_starts_with_a_short_chunk(tts):
    chunks = list(tts.stream(TEXT))
    assert len(chunks) == 4
    assert all(c.dtype == np.float32 and c.ndim == 1 for c in chunks)
    whole = tts.synthesize(TEXT).duration
    assert chunks[0].size / SR < 0.3 * whole
    assert sum(c.size for c in chunks) / SR == pytest.approx(whole, rel=0.35)


def test_round_trip_through_whisper(tts, asr):
    sentence = "Let me check it once more, the answer is twelve."
    heard = _words(asr.transcribe(tts.synthesize(sentence).pcm).text)
    expected = _words(sentence)
    matched = sum(1 for w in expected if w in heard)
    assert matched >= len(expected) - 1, heard


def test_words_only_where_the_engine_reports_them(tts):
    speech = tts.synthesize("I have 42 apples.")
    if tts.voice.engine != "festival":
        assert speech.words is None
        return
    assert [w.word.lower() for w in speech.words] == ["i", "have", "forty", "two", "apples"]
    assert all(0.0 <= w.start < w.end <= speech.duration for w in speech.words)
    assert all(a.end <= b.start + 1e-6 for a, b in itertools.pairwise(speech.words))


def test_empty_text_is_refused(tts):
    with pytest.raises(ValueError, match="text"):
        tts.synthesize("   ")
    with pytest.raises(ValueError, match="text"):
        list(tts.stream(""))


@needs_espeak
def test_output_rate_is_a_parameter():
    assert get_tts("espeak:en-us", sample_rate=24000).synthesize("hello").sample_rate == 24000
    a = get_tts("espeak:en-us", sample_rate=8000).synthesize("hello").pcm.size
    b = get_tts("espeak:en-us", sample_rate=16000).synthesize("hello").pcm.size
    assert abs(2 * a - b) <= 2
    with pytest.raises(ValueError, match="sample_rate"):
        get_tts("espeak:en-us", sample_rate=0)


@needs_espeak
def test_espeak_options_change_the_speech():
    slow = get_tts("espeak:en-us:rate=100").synthesize(TEXT).duration
    fast = get_tts("espeak:en-us:rate=300").synthesize(TEXT).duration
    assert slow > 2 * fast


@needs_festival
def test_festival_quotes_and_backslashes_are_escaped():
    speech = get_tts("festival:kal").synthesize('He said "hello" \\ twice.')
    assert speech.words and speech.words[0].word == "He"


def test_piper_is_only_imported_when_chosen():
    import subprocess
    import sys

    code = (
        "import sys; from thinkspeak.speech.tts import get_tts, list_voices; from thinkspeak.speech import pool;"
        "list_voices('flite') if __import__('shutil').which('flite') else None;"
        "print('piper' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
