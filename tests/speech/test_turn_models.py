"""End-of-turn models on real speech made by the packaged TTS (flite: the voice held out of the learned head's
training): a finished question against the same recording cut at a pause inside it, backchannels and a cough.
Smart Turn's features are checked against the model itself: features in another layout would not separate
complete from cut-off speech."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from parts import needs_flite
from thinkspeak.audio import resample
from thinkspeak.speech.turn.features import last_window, window_log_mel
from thinkspeak.speech.turn.train import dips, synthetic_cough

pytestmark = needs_flite
QUESTION = "What is six times seven?"


def speak(text: str, voice: str = "flite:slt") -> np.ndarray:
    """``text`` at 16 kHz, trimmed to its speech."""
    from thinkspeak.speech.tts import get_tts

    result = get_tts(voice).synthesize(text)
    x = resample(result.pcm, result.sample_rate, 16000)
    loud = np.flatnonzero(np.abs(x) > 0.01)
    return x[loud[0]:loud[-1]]


def at_pause(speech: np.ndarray) -> np.ndarray:
    """As the server hears it at a pause: 0.2 s lead-in, 100 ms of silence after."""
    return np.concatenate([np.zeros(3200, np.float32), speech, np.zeros(1600, np.float32)])


@pytest.fixture(scope="module")
def question() -> tuple[np.ndarray, list[np.ndarray]]:
    speech = speak(QUESTION)
    cuts = dips(speech)
    assert len(cuts) >= 2, "flite's question has pauses between its words"
    return at_pause(speech), [at_pause(speech[:c]) for c in cuts]


def test_window_log_mel_keeps_the_end_and_pads_the_start():
    x = np.linspace(-0.5, 0.5, 16000 * 10, dtype=np.float32)
    assert np.array_equal(last_window(x, 8.0), x[-128000:])
    padded = last_window(x[:16000], 8.0)
    assert padded.shape == (128000,) and not padded[:112000].any() and np.array_equal(padded[112000:], x[:16000])
    mel = window_log_mel(x[:16000], 8.0)
    assert mel.shape == (80, 800) and mel.dtype == np.float32
    assert mel.max() <= 2.0 and mel.min() >= mel.max() - 2.0  # clamped 8 below the max, scaled by 1/4


def test_smart_turn_hears_a_finished_question_and_not_its_cut_off_start(question):
    from thinkspeak.speech.turn.smart_turn import load_smart_turn

    model = load_smart_turn()
    whole, cuts = question
    p = model.probability(whole)
    assert p >= 0.5
    assert all(model.probability(cut) < p - 0.3 for cut in cuts)


def test_learned_head_hears_a_finished_question_and_not_its_cut_off_start(question):
    from thinkspeak.speech.turn.learned import load_learned

    model = load_learned()
    whole, cuts = question
    assert model.probability(whole) >= 0.5
    assert all(model.probability(cut) < 0.5 for cut in cuts)
    assert model.backchannel(whole) < 0.5  # a question takes the floor


@pytest.mark.parametrize("text", ["okay", "mm-hm", "uh-huh"])
def test_learned_head_tells_backchannels_from_interruptions(text):
    from thinkspeak.speech.turn.learned import load_learned

    model = load_learned()
    assert model.backchannel(at_pause(speak(text))) >= 0.5
    assert model.backchannel(at_pause(speak("Wait, what does that mean?"))) < 0.5


def test_learned_head_hears_a_cough_as_no_bid_for_the_floor():
    from thinkspeak.speech.turn.learned import load_learned

    cough = synthetic_cough(np.random.default_rng(7))
    assert load_learned().backchannel(at_pause(cough)) >= 0.5


def test_a_tampered_learned_head_is_refused(tmp_path):
    from thinkspeak.speech.models import ModelIntegrityError
    from thinkspeak.speech.turn.learned import ASSET, load_head

    for name in ("head.npz", "SHA256SUMS"):
        (tmp_path / name).write_bytes((ASSET / name).read_bytes())
    load_head(tmp_path)
    data = bytearray((tmp_path / "head.npz").read_bytes())
    data[-100] ^= 1
    (tmp_path / "head.npz").write_bytes(bytes(data))
    with pytest.raises(ModelIntegrityError, match="SHA256SUMS"):
        load_head(tmp_path)


def test_training_examples_add_the_first_second_of_each_utterance_labelled_by_kind():
    """Prefixes teach the head the early barge-in verdict (speech still going on): a turn's start is incomplete,
    a backchannel's start other; without them the examples are the earlier recipe's, draw for draw."""
    from thinkspeak.speech.turn.train import (
        COMPLETE,
        INCOMPLETE,
        OTHER,
        PREFIX_S,
        RATE,
        ExampleRecipe,
        dialogue_examples,
    )

    for index in range(3):
        old = dialogue_examples(index, ExampleRecipe(prefixes=False))
        new = dialogue_examples(index, ExampleRecipe(leads=True))
        assert len(new) > len(old)
        extra = len(new) - len(old)
        labels_new = sorted(e.label for e in new)
        for label in (INCOMPLETE, OTHER):
            assert labels_new.count(label) >= sorted(e.label for e in old).count(label)
        assert sum(e.label == INCOMPLETE for e in new) - sum(e.label == INCOMPLETE for e in old) <= extra
        assert "prefix" not in {e.kind for e in old}
        for e in new:
            # lead-in <= 0.3 s, trailing <= 0.25 s around the speech
            assert e.seconds * RATE + 0.05 * RATE <= e.audio.size + 1 <= (e.seconds + 0.55) * RATE + 1
            if e.kind == "prefix":
                assert PREFIX_S[0] <= e.seconds <= PREFIX_S[1]
                assert e.label != COMPLETE  # a turn's start never ends it
            assert e.label == {"whole": COMPLETE, "cut": INCOMPLETE, "lead": INCOMPLETE, "backchannel": OTHER,
                               "slow-backchannel": OTHER, "cough": OTHER}.get(e.kind, e.label)


def test_a_fit_leaves_out_the_kinds_asked_and_short_prefixes(tmp_path):
    from thinkspeak.speech.turn.train import load_features

    kind = np.array(["whole", "cut", "lead", "prefix", "prefix", "cough"])
    np.savez(tmp_path / "features-0-of-1.npz", x=np.arange(6, dtype=np.float32)[:, None], y=np.array([0, 1, 1, 1, 2, 2]),
             group=np.zeros(6, int), kind=kind, seconds=np.array([2.0, 1.0, 1.5, 0.4, 0.8, 0.3], np.float32))
    x, y, _ = load_features(tmp_path, exclude=("lead",), min_prefix_s=0.6)
    assert x[:, 0].tolist() == [0, 1, 4, 5] and y.tolist() == [0, 1, 2, 2]
    assert load_features(tmp_path)[0].shape == (6, 1)
    with pytest.raises(ValueError, match="exclude must name kinds"):
        load_features(tmp_path, exclude=("leads",))
    np.savez(tmp_path / "features-1-of-1.npz", x=np.zeros((1, 1), np.float32), y=np.array([0]), group=np.zeros(1, int))
    with pytest.raises(ValueError, match="features-1-of-1.npz"):
        load_features(tmp_path, exclude=("lead",))


def test_a_prefix_is_the_utterances_first_0_6_to_1_second_or_none():
    from thinkspeak.speech.turn.train import PREFIX_S, RATE, prefix

    rng = np.random.default_rng(0)
    speech = np.arange(3 * RATE, dtype=np.float32)
    for _ in range(20):
        start = prefix(speech, rng)
        assert PREFIX_S[0] * RATE <= start.size <= PREFIX_S[1] * RATE and start[0] == 0 and start[-1] == start.size - 1
    assert prefix(speech[: int((PREFIX_S[0] + 0.1) * RATE)], rng) is None


@given(st.lists(st.text(alphabet="abc xyz3", min_size=1, max_size=12).map(str.strip).filter(bool), min_size=1,
                max_size=5), st.sampled_from([". ", "! "]), st.booleans())
def test_lead_sentences_stop_before_the_closing_question(sentences, stop, asks):
    """A lead is the turn's text up to one of its sentences before the last, and only a turn that ends in a
    question has leads (a statement said alone is then an unfinished turn)."""
    from thinkspeak.speech.turn.train import lead_sentences

    text = stop.join(sentences) + ("?" if asks else ".")
    leads = lead_sentences(text)
    assert len(leads) == (len(sentences) - 1 if asks else 0)
    for k, lead in enumerate(leads, start=1):
        assert text.startswith(lead) and lead.endswith(stop.strip()) and not lead.endswith("?")
        assert lead == stop.join(sentences[:k]) + stop.strip()
