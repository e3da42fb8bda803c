"""Two-channel rendering of duplex dialogues: trimming, placement, barge-in cuts, SNR, FLAC rows, real TTS.

Mixing is tested on synthetic speech-like clips (amplitude-modulated noise) so exact placement and SNR can be
checked sample by sample; the last tests voice real dialogues with the offline espeak-ng engine.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from parts import needs_espeak
from thinkspeak.data.duplex.config import DuplexConfig
from thinkspeak.data.duplex.render import SAMPLE_RATE, Voiced, measured_snr_db, render, voiced
from thinkspeak.data.duplex.sample import AcousticPlan, DuplexSample, make_sample
from thinkspeak.data.duplex.store import dialogue_audio, sample_to_row
from thinkspeak.data.duplex.timeline import Clip, dialogue_utterances, place_dialogue, spread_words
from thinkspeak.speech.words import Word

SR = SAMPLE_RATE


def speechlike(seconds: float, rng: np.random.Generator) -> np.ndarray:
    """Noise switched by a 4 Hz syllable envelope that never falls to zero (so trimming keeps it whole)."""
    n = round(seconds * SR)
    t = np.arange(n) / SR
    envelope = 0.6 + 0.4 * np.sin(2 * np.pi * 4 * t)
    return (0.1 * rng.standard_normal(n) * envelope).astype(np.float32)


def staged(index: int, **options) -> tuple[DuplexSample, list[Voiced]]:
    """A dialogue of the corpus staged with synthetic clips whose lengths follow the text."""
    config = DuplexConfig(no_audio=True, **options)
    base = make_sample(0, index, config)
    rng = np.random.default_rng(index)
    voices = []
    for utt in dialogue_utterances(base.dialogue):
        seconds = 0.3 + 0.06 * len(utt.spoken)
        voices.append(Voiced(speechlike(seconds, rng), Clip(round(seconds * SR) / SR,
                                                              spread_words(utt.spoken, round(seconds * SR) / SR),
                                                              "estimated")))
    timeline = place_dialogue(base.dialogue, [v.clip for v in voices], config, np.random.default_rng([index, 1]))
    return DuplexSample(0, index, base.dialogue, base.plan, timeline, None), voices


def mask(segments: list[tuple[float, float]], n: int) -> np.ndarray:
    m = np.zeros(n, dtype=bool)
    for a, b in segments:
        m[round(a * SR) : round(b * SR)] = True
    return m


def test_voiced_resamples_trims_and_shifts_engine_words() -> None:
    rng = np.random.default_rng(0)
    sr = 22050
    pcm = np.concatenate([np.zeros(int(0.3 * sr)), rng.standard_normal(int(0.5 * sr)) * 0.2,
                          np.zeros(int(0.2 * sr))]).astype(np.float32)
    words = [Word("one", 0.3, 0.55), Word("two", 0.55, 0.9)]
    v = voiced(pcm, sr, "one two", words)
    assert v.clip.duration == pytest.approx(0.5, abs=0.015) and len(v.pcm) == round(v.clip.duration * SR)
    assert v.clip.words_source == "engine"
    assert v.clip.words[0].start == pytest.approx(0.0, abs=0.015)
    assert v.clip.words[1].end == pytest.approx(v.clip.duration)  # clipped to the trimmed speech
    estimated = voiced(pcm, sr, "one two", None)
    assert estimated.clip.words_source == "estimated" and estimated.clip.words[-1].end == pytest.approx(0.5, abs=0.015)
    with pytest.raises(ValueError, match="silent"):
        voiced(np.zeros(1600, dtype=np.float32), SR, "x", None)


@pytest.mark.parametrize(("index", "snr", "kind"), [(0, 15.0, "white"), (1, 20.0, "pink"), (2, 25.0, "babble")])
def test_render_places_turns_cuts_barge_ins_and_adds_noise_at_the_snr(index: int, snr: float, kind: str) -> None:
    sample, voices = staged(index, barge_in_share=1.0, turns=(3, 3), reaction=0.25)
    tl = sample.timeline
    audio = render(tl, voices, snr_db=snr, noise_kind=kind, user_level_dbfs=-25.0, rng=np.random.default_rng(9))
    n = round(tl.duration * SR)
    assert audio.user.shape == audio.assistant.shape == audio.user_clean.shape == (n,)
    assert audio.user.dtype == np.float32 and np.max(np.abs(audio.user)) <= 0.99 + 1e-6
    assert measured_snr_db(audio.user_clean, audio.user, tl.segments("user")) == pytest.approx(snr, abs=0.01)
    user_speech = mask(tl.segments("user"), n)
    assert np.all(audio.user_clean[~user_speech] == 0.0) and np.all(audio.user[~user_speech] != 0.0)
    speaking = mask(tl.segments("assistant"), n)
    assert np.all(audio.assistant[~speaking] == 0.0)
    assert np.mean(np.abs(audio.assistant[speaking]) > 0) > 0.99
    cuts = [t for t in tl.turns if t.truncated]
    assert len(cuts) == 2
    for cut in cuts:
        end = round(cut.end * SR)
        assert np.all(audio.assistant[end : end + round(0.5 * SR)] == 0.0)
        assert np.any(audio.assistant[end - round(0.05 * SR) : end] != 0.0)


def test_rows_hold_two_flac_channels_at_16_khz(tmp_path: Path) -> None:
    sample, voices = staged(3, backchannel_share=1.0)
    plan = AcousticPlan("synthetic", "synthetic", 18.5, "pink", -24.0)
    audio = render(sample.timeline, voices, snr_db=plan.snr_db, noise_kind=plan.noise_kind,
                   user_level_dbfs=plan.user_level_dbfs, rng=np.random.default_rng(1))
    full = DuplexSample(0, 3, sample.dialogue, plan, sample.timeline, audio)
    row = sample_to_row(full, DuplexConfig())
    assert row["timing"] == "audio" and row["sample_rate"] == SR and row["snr_db"] == 18.5
    channels = dialogue_audio(row)
    assert channels.shape == (2, round(sample.timeline.duration * SR)) and channels.dtype == np.float32
    np.testing.assert_allclose(channels[1], audio.assistant, atol=1.0 / 32768 + 1e-7)
    assert measured_snr_db(audio.user_clean, channels[0], sample.timeline.segments("user")) == pytest.approx(18.5, abs=0.05)
    with pytest.raises(ValueError, match="no audio"):
        dialogue_audio(sample_to_row(sample, DuplexConfig()))


ESPEAK = {"user_voices": ("espeak:en-us+f3:rate=170",), "assistant_voice": "espeak:en-us+m3:rate=190"}


@needs_espeak
@pytest.mark.slow
def test_real_voices_two_channels_snr_and_ground_truth() -> None:
    config = DuplexConfig(turns=(2, 2), barge_in_share=1.0, backchannel_share=1.0, **ESPEAK)
    sample = make_sample(4, 0, config)
    tl, audio = sample.timeline, sample.audio
    assert audio is not None and audio.user.shape == audio.assistant.shape == (round(tl.duration * SR),)
    snr = measured_snr_db(audio.user_clean, audio.user, tl.segments("user"))
    assert 15.0 <= snr <= 25.0 and snr == pytest.approx(sample.plan.snr_db, abs=0.01)
    n = len(audio.user)
    assert np.all(audio.assistant[~mask(tl.segments("assistant"), n)] == 0.0)
    for turn in tl.turns:
        channel = audio.user_clean if turn.role == "user" else audio.assistant
        piece = channel[round(turn.start * SR) : round(turn.end * SR)]
        assert np.sqrt(np.mean(piece.astype(np.float64) ** 2)) > 1e-3, turn
        assert all(turn.start - 1e-6 <= w.start <= w.end <= turn.end + 1e-6 for w in turn.words)
    barge = next(t for t in tl.turns if t.kind == "barge_in")
    cut = next(t for t in tl.turns if t.role == "assistant" and t.start < barge.start < t.end + 1e-9)
    assert cut.end <= barge.start + config.reaction + 1e-9
    again = make_sample(4, 0, config)
    assert np.array_equal(again.audio.user, audio.user) and np.array_equal(again.audio.assistant, audio.assistant)


@needs_espeak
@pytest.mark.slow
def test_generate_with_audio_writes_decodable_rows(tmp_path: Path) -> None:
    from thinkspeak.data import shards
    from thinkspeak.data.duplex import generate_duplex

    manifest = generate_duplex(2, tmp_path, seed=1, turns=(1, 2), progress=False, **ESPEAK)
    assert manifest["timing"] == "audio" and manifest["count"] == 2 and manifest["hours"] > 0
    for row in shards.read_table(tmp_path).to_pylist():
        channels = dialogue_audio(row)
        assert channels.shape == (2, round(row["duration"] * SR))
        assert row["user_voice"] == ESPEAK["user_voices"][0]


def test_default_voices_are_valid_specs_and_a_bad_voice_is_refused_before_any_work(tmp_path: Path) -> None:
    from thinkspeak.data.duplex import generate_duplex
    from thinkspeak.data.duplex.config import DEFAULT_ASSISTANT_VOICE, DEFAULT_USER_VOICES
    from thinkspeak.speech.tts import parse_spec

    for spec in (*DEFAULT_USER_VOICES, DEFAULT_ASSISTANT_VOICE):
        parse_spec(spec)
    with pytest.raises(ValueError, match="engine must be one of"):
        generate_duplex(2, tmp_path / "out", user_voices=("nosuch:voice",), progress=False)
    assert not (tmp_path / "out").exists()
