"""The full-duplex Thinker as the server's ``duplex`` turn model: its own P(speaking next) on real speech made by
the packaged TTS (flite) becomes the silence that ends the turn, it confirms barge-ins after holding the floor,
and a model that cannot be loaded is an error that says how to make one. The model is a tiny randomly
initialised duplex model for the packaged unit model: these tests check the mechanism on the model's real
outputs, not what a trained model hears (docs/server.md, "Turn models", gives those figures)."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest
from duplex_fixtures import tiny_duplex

from parts import needs_flite
from thinkspeak.serve import detectors as D
from thinkspeak.serve.config import SessionConfig
from thinkspeak.serve.protocol import ProtocolError
from thinkspeak.speech.endpoint import EAGERNESS
from thinkspeak.speech.turn import TurnModelUnavailable
from thinkspeak.speech.turn import duplex as T
from thinkspeak.units import load_unit_model


@pytest.fixture(scope="module")
def units():
    return load_unit_model()


@pytest.fixture(scope="module")
def turn(units):
    return T.DuplexTurn(model=tiny_duplex(n_units=units.n_units, digest=units.digest), unit_model=units)


def speak(text: str) -> np.ndarray:
    """``text`` by flite at 16 kHz, trimmed to its speech, 0.2 s before and 0.1 s after (a pause as heard)."""
    from thinkspeak.audio import resample
    from thinkspeak.speech.tts import get_tts

    result = get_tts("flite:slt").synthesize(text)
    x = resample(result.pcm, result.sample_rate, 16000)
    loud = np.flatnonzero(np.abs(x) > 0.01)
    quiet = np.zeros(1600, np.float32)
    return np.concatenate([quiet, quiet, x[loud[0]:loud[-1]], quiet]).astype(np.float32)


@needs_flite
def test_the_models_p_speak_after_a_pause_is_the_silence_that_ends_the_turn(turn):
    whole = speak("What is six times seven?")
    for audio in (whole, whole[:len(whole) // 2]):
        trace = turn.p_speak(audio)
        assert len(trace) == len(audio) // 2560  # one judgement per 160 ms chunk heard
        assert all(0.0 <= p <= 1.0 for p in trace)
        p = turn.probability(audio)
        assert p == trace[-1]
        expected = EAGERNESS["high"].silence_ms(D.probability_state(p))
        assert D.ModelDecides(turn, EAGERNESS["high"]).silence_ms(D.Pause(audio)) == expected
        assert asyncio.run(D.judge(D.ModelDecides(turn, EAGERNESS["high"]), audio, None)) == expected


@needs_flite
def test_barge_ins_are_heard_while_the_model_holds_the_floor(turn):
    audio = speak("Wait, what is five times three?")
    keeps = turn.keeps_floor(audio)
    assert len(keeps) == len(audio) // 2560
    assert turn.backchannel(audio) == keeps[-1]
    detector = D.ModelDecides(turn, EAGERNESS["medium"])
    assert detector.judges_barge_ins
    assert asyncio.run(D.confirms_barge_in(detector, audio)) == (keeps[-1] < D.BACKCHANNEL_P)


@needs_flite
def test_each_chunk_is_read_from_what_was_heard_up_to_it(turn):
    audio = speak("How much is twelve plus nineteen?")
    trace = turn.p_speak(audio)
    for k in (3, 8, len(trace) - 1):
        assert turn.p_speak(audio[:k * 2560]) == pytest.approx(trace[:k], abs=1e-5)


def test_only_the_last_window_is_heard(turn):
    long = np.random.default_rng(0).normal(0, 0.05, 16000 * 5).astype(np.float32)
    assert len(turn.p_speak(long)) == int(T.WINDOW_S * 16000) // 2560
    assert turn.p_speak(long) == turn.p_speak(long[-int(T.WINDOW_S * 16000):])


def test_a_duplex_model_that_cannot_be_loaded_says_how_to_make_one(tmp_path, units):
    with pytest.raises(TurnModelUnavailable, match=r"cannot be loaded .*thinkspeak train --recipe duplex"):
        T.DuplexTurn(tmp_path, unit_model=units)
    other = tiny_duplex().save(tmp_path / "other-units")  # trained on another unit model
    with pytest.raises(TurnModelUnavailable, match=r"trained on 24 units.*thinkspeak train --recipe duplex"):
        T.DuplexTurn(other, unit_model=units)


def test_session_update_lists_duplex_and_a_missing_shipped_model_is_an_actionable_error(tmp_path, monkeypatch):
    from thinkspeak.model import duplex as model_duplex

    assert "duplex" in D.TURN_MODELS.names()
    monkeypatch.setattr(model_duplex, "DEFAULT_DIR", tmp_path)
    monkeypatch.setattr(T, "_LOADED", {})
    with pytest.raises(ProtocolError, match=r"shipped full-duplex Thinker.*--export src/thinkspeak/assets/"):
        SessionConfig().updated({"audio": {"input": {"turn_detection": {"type": "semantic_vad",
                                                                         "turn_model": "duplex"}}}})
