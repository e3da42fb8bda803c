"""Pipecat's Smart Turn v3.2 (BSD-2-Clause): a Whisper-tiny encoder + linear head, 8.7 MB int8 ONNX.

Input: the last 8 s of the utterance as an 80 x 800 Whisper log-mel (:func:`.features.window_log_mel`);
output: P(turn complete) (REFERENCE.md, "Pipecat Smart Turn v3.2"). The file ships inside the ``pipecat-ai``
1.14.0 wheel; thinkspeak installs that wheel without its dependencies (``make`` does it; by hand:
``pip install --no-deps pipecat-ai==1.14.0``), locates the file as package data and runs it with onnxruntime
-- pipecat's own runtime is never imported. The file's SHA-256 is pinned like the Whisper parts
(:mod:`thinkspeak.speech.models`), so a different or corrupt file is refused.
"""

from __future__ import annotations

import importlib.util
import threading
from pathlib import Path

import numpy as np

from thinkspeak.speech.models import ModelIntegrityError, sha256_file
from thinkspeak.speech.turn import TurnModelUnavailable
from thinkspeak.speech.turn.features import window_log_mel

PACKAGE = "pipecat.audio.turn.smart_turn.data"
FILE = "smart-turn-v3.2-cpu.onnx"
SHA256 = "2bb026316b14a660486a75b1733cd3fbab8c2fd0314dc9af7be49f8cca967e4f"
INSTALL = "pip install --no-deps pipecat-ai==1.14.0"
WINDOW_S = 8.0


def smart_turn_path() -> Path:
    """The ONNX file inside the installed ``pipecat-ai`` wheel, found without importing pipecat."""
    spec = importlib.util.find_spec("pipecat")
    roots = list(spec.submodule_search_locations or []) if spec is not None else []
    for root in roots:
        path = Path(root, *PACKAGE.split(".")[1:], FILE)
        if path.is_file():
            return path
    where = "pipecat-ai is not installed" if not roots else f"pipecat-ai has no {FILE} (not version 1.14.0?)"
    raise TurnModelUnavailable(f"the smart-turn turn model needs Smart Turn v3.2 from the pipecat-ai wheel, but "
                               f"{where}; install it without its dependencies: {INSTALL} (or `make venv`)")


class SmartTurn:
    """Smart Turn v3.2 on onnxruntime, one thread per call; calls from several threads are safe."""

    name = "smart-turn"
    tells_backchannels = False  # trained for end of turn only

    def __init__(self, path: Path | None = None, *, expected_sha256: str | None = SHA256) -> None:
        path = smart_turn_path() if path is None else Path(path)
        if expected_sha256 is not None and (actual := sha256_file(path)) != expected_sha256:
            raise ModelIntegrityError(f"{path} has SHA-256 {actual}, expected {expected_sha256} (Smart Turn v3.2 of "
                                      f"pipecat-ai 1.14.0); reinstall it: {INSTALL} --force-reinstall")
        try:
            import onnxruntime as ort
        except ModuleNotFoundError:
            raise TurnModelUnavailable("the smart-turn turn model runs on onnxruntime, which is not installed: "
                                       "pip install 'thinkspeak[serve]'") from None
        options = ort.SessionOptions()
        options.intra_op_num_threads = options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        self._session = ort.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])

    def probability(self, audio: np.ndarray) -> float:
        mel = window_log_mel(audio, WINDOW_S)[None]
        return float(np.asarray(self._session.run(None, {"input_features": mel})[0]).reshape(-1)[0])

    def backchannel(self, audio: np.ndarray) -> float:
        raise NotImplementedError("Smart Turn v3.2 does not tell backchannels from interruptions")


_LOADED: dict[str, SmartTurn] = {}
_LOCK = threading.Lock()


def load_smart_turn() -> SmartTurn:
    """The process's one :class:`SmartTurn` (loaded and hash-checked on first use)."""
    with _LOCK:
        if "default" not in _LOADED:
            _LOADED["default"] = SmartTurn()
        return _LOADED["default"]
