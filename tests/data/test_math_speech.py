"""Speech stage of the spoken-math corpus: voice and augmentation choices (always run) and real synthesis
with espeak-ng and flite through the speech layer's worker pool (skipped when an engine is missing; a failure in CI, tests/parts.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from parts import needs_program
from thinkspeak.data.math import MathConfig, generate_math
from thinkspeak.data.math.speech import SpeechOptions, choose_augmentation, choose_voice, engine_of
from thinkspeak.data.shards import dataset_files, read_table

VOICES = ("espeak:en-us+f3:rate=170:pitch=60", "espeak:en-gb+m1:rate=140", "flite:slt", "flite:awb")


def test_held_out_engine_reads_only_the_test_split() -> None:
    options = SpeechOptions(voices=VOICES, held_out_engine="flite")
    for index in range(300):
        assert engine_of(choose_voice(options, 0, index, "test")) == "flite"
        for split in ("train", "valid"):
            assert engine_of(choose_voice(options, 0, index, split)) == "espeak"
    everywhere = SpeechOptions(voices=VOICES, held_out_engine=None)
    assert {engine_of(choose_voice(everywhere, 0, i, "train")) for i in range(100)} == {"espeak", "flite"}


def test_choices_depend_only_on_seed_and_index() -> None:
    options = SpeechOptions(voices=VOICES)
    assert [choose_voice(options, 1, i, "train") for i in range(50)] == [
        choose_voice(options, 1, i, "train") for i in range(50)]
    augs = [choose_augmentation(options, 1, i) for i in range(2000)]
    assert augs == [choose_augmentation(options, 1, i) for i in range(2000)]
    noisy = [a for a in augs if a.snr_db is not None]
    assert all(15 <= a.snr_db <= 25 for a in noisy)
    assert 0.45 < len(noisy) / len(augs) < 0.55
    assert 0.25 < sum(a.rt60_s is not None for a in augs) / len(augs) < 0.35


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"voices": ()}, "voices must name"),
    ({"voices": VOICES, "held_out_engine": "piper"}, "held_out_engine must be one of"),
    ({"voices": ("flite:slt",), "held_out_engine": "flite"}, "would leave no voice"),
    ({"voices": VOICES, "noise_share": 1.5}, "noise_share must be"),
])
def test_options_reject_bad_values(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SpeechOptions(**kwargs)


def test_cli_options() -> None:
    options = SpeechOptions.from_cli(voices="espeak:en-us,flite:slt", held_out_engine="none", response_audio=False,
                                     noise_share=0.0, snr="18-22", reverb_share=0.0)
    assert options.held_out_engine is None and options.snr_db == (18.0, 22.0) and options.engines == ("espeak", "flite")
    with pytest.raises(ValueError, match="snr must be a range"):
        SpeechOptions.from_cli(voices=None, held_out_engine="flite", response_audio=True, noise_share=0.5,
                               snr="loud", reverb_share=0.3)


needs_engines = needs_program("espeak-ng", "flite")


@pytest.mark.slow
@needs_engines
def test_corpus_with_speech(tmp_path: Path) -> None:
    from thinkspeak.audio import decode_audio

    options = SpeechOptions(voices=VOICES, held_out_engine="flite", response_voice="espeak:en-us+f3:rate=170")
    config = MathConfig(test_share=0.4)
    manifest = generate_math(10, tmp_path / "a", seed=2, speech=options, config=config, workers=2, progress=False,
                             rows_per_file=5)
    rows = read_table(tmp_path / "a").to_pylist()
    assert len(rows) == manifest["count"] == 10
    assert manifest["held_out_engine"] == "flite" and set(manifest["engines"]) == {"espeak", "flite"}
    assert sum(manifest["engines"].values()) == 10
    assert sum(manifest["voices"].values()) == 20
    for row in rows:
        assert row["question_engine"] == ("flite" if row["split"] == "test" else "espeak")
        for side in ("question", "response"):
            pcm, sr = decode_audio(row[f"{side}_audio"])
            assert sr == 16000
            assert abs(pcm.size / sr - row[f"{side}_duration"]) < 1e-3
            assert 0.5 < row[f"{side}_duration"] < 60
            assert 0.001 < float(abs(pcm).max()) <= 1.0
            if row[f"{side}_words"] is not None:
                words = json.loads(row[f"{side}_words"])
                starts = [w[1] for w in words]
                assert starts == sorted(starts) and all(0 <= w[1] <= w[2] <= row[f"{side}_duration"] + 0.05
                                                        for w in words)
        # a longer question takes longer to say: a loose sanity bound of 1-8 words per second
        words_per_s = len(row["question_spoken"].split()) / row["question_duration"]
        assert 0.8 < words_per_s < 8, (row["question_voice"], words_per_s)
    generate_math(10, tmp_path / "b", seed=2, speech=options, config=config, workers=1, progress=False,
                  rows_per_file=5)
    assert [f.read_bytes() for f in dataset_files(tmp_path / "a")] == [
        f.read_bytes() for f in dataset_files(tmp_path / "b")]
