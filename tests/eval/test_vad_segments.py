"""Speech segments of stereo recordings: placement known by construction."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile

from parts import needs_espeak
from thinkspeak.eval.segments import Segment
from thinkspeak.eval.turn_taking import turn_taking_stats
from thinkspeak.eval.vad_segments import speech_segments, stereo_segments

RATE = 44100
FRAME_S = 512 / 16000


class EnergyVAD:
    """A frame-energy voice activity detector (RMS above -40 dBFS): exact on tones in digital silence."""

    frame_samples = 512

    def process(self, frame: np.ndarray) -> float:
        return float(np.sqrt(np.mean(np.square(frame))) > 0.01)

    def reset(self) -> None:
        pass


def place(track: np.ndarray, start: float, end: float, hz: float) -> None:
    i, j = int(start * RATE), int(end * RATE)
    track[i:j] = 0.3 * np.sin(2 * np.pi * hz * np.arange(j - i) / RATE)


def assert_segments(found: list[Segment], expected: list[tuple[float, float]]) -> None:
    assert len(found) == len(expected), found
    for segment, (start, end) in zip(found, expected, strict=True):
        assert segment.start == pytest.approx(start, abs=2 * FRAME_S)
        assert segment.end == pytest.approx(end, abs=2 * FRAME_S)


def test_stereo_wav_segments_per_channel(tmp_path: Path) -> None:
    audio = np.zeros((4 * RATE, 2), dtype=np.float32)
    place(audio[:, 0], 0.5, 1.5, 220)
    place(audio[:, 1], 1.8, 2.6, 330)
    place(audio[:, 1], 2.65, 3.0, 330)   # 50 ms later: bridged (< 100 ms of silence)
    place(audio[:, 1], 3.5, 3.54, 330)   # a 40 ms click: dropped (< 100 ms of speech)
    path = tmp_path / "dialogue.wav"
    soundfile.write(path, audio, RATE)
    user, system = stereo_segments(path, vad_factory=EnergyVAD)
    assert_segments(user, [(0.5, 1.5)])
    assert_segments(system, [(1.8, 3.0)])
    gap = turn_taking_stats(user, system, duration=4.0).events["gap"]
    assert gap.count == 1 and gap.total_s == pytest.approx(0.3, abs=2 * FRAME_S)


def test_mono_input_is_rejected() -> None:
    with pytest.raises(ValueError, match="2 channels"):
        stereo_segments((np.zeros((100, 1)), 16000), vad_factory=EnergyVAD)
    with pytest.raises(ValueError, match="threshold"):
        speech_segments(np.zeros(1000), 16000, EnergyVAD(), threshold=1.5)


@needs_espeak
def test_silero_finds_synthetic_speech_where_it_was_placed(tmp_path: Path) -> None:
    wav = tmp_path / "hello.wav"
    subprocess.run(["espeak-ng", "-w", str(wav), "Hello there, how are you today?"], check=True)
    speech, rate = soundfile.read(wav, dtype="float32")
    voiced = np.flatnonzero(np.abs(speech) > 0.01)
    speech = speech[voiced[0]:voiced[-1] + 1]  # trim espeak's own leading/trailing silence
    length = len(speech) / rate
    audio = np.zeros((int((length + 3.0) * rate), 2), dtype=np.float32)
    start = int(1.0 * rate)
    audio[start:start + len(speech), 1] = speech
    user, system = stereo_segments((audio, rate))
    assert user == []
    assert system[0].start == pytest.approx(1.0, abs=0.15)
    assert system[-1].end == pytest.approx(1.0 + length, abs=0.3)


@needs_espeak
def test_turns_command_on_a_stereo_recording(tmp_path: Path) -> None:
    from thinkspeak.cli import main

    wav = tmp_path / "hello.wav"
    subprocess.run(["espeak-ng", "-w", str(wav), "Hello there."], check=True)
    speech, rate = soundfile.read(wav, dtype="float32")
    voiced = np.flatnonzero(np.abs(speech) > 0.01)
    speech = speech[voiced[0]:voiced[-1] + 1]
    length = len(speech) / rate
    # user talks at 0.5 s; the system answers 0.6 s after the user stops.
    audio = np.zeros((int((2 * length + 2.5) * rate), 2), dtype=np.float32)
    user_at, system_at = int(0.5 * rate), int((0.5 + length + 0.6) * rate)
    audio[user_at:user_at + len(speech), 0] = speech
    audio[system_at:system_at + len(speech), 1] = speech
    stereo = tmp_path / "dialogue.wav"
    soundfile.write(stereo, audio, rate)
    out = tmp_path / "turns.json"
    assert main(["eval", "turns", str(stereo), "--out", str(out)]) == 0
    stats = json.loads(out.read_text())[str(stereo)]
    assert (stats["gap"]["count"], stats["overlap"]["count"], stats["pause"]["count"]) == (1, 0, 0)
    assert stats["gap"]["total_s"] == pytest.approx(0.6, abs=0.2)
    assert stats["ipu"]["count"] == 2
