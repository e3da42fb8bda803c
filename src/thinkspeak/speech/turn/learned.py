"""The learned end-of-turn head: Whisper-base encoder features of the last 3 s -> complete / incomplete / other.

The packaged Whisper-base encoder (the server's ears, :mod:`thinkspeak.speech.encoder`) encodes the last
``WINDOW_S`` seconds of the utterance at 50 Hz; three poolings of its 512-wide frames (the last 0.2 s, the last
0.5 s, the whole window) feed a two-layer MLP with three classes: the turn is **complete**, it is
**incomplete** (the speaker paused inside a sentence or between the sentences of a word problem), or it is
**other**: a backchannel ("mm-hm", "okay"), a cough or a noise -- speech that does not take the floor, which
confirms barge-ins (:meth:`LearnedTurn.backchannel`). Trained on the duplex corpus's user turns
(:mod:`.train`); weights in ``assets/turn-learned`` with SHA256SUMS and a model card.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

from thinkspeak.audio.pcm import as_mono_float32
from thinkspeak.speech.models import ModelIntegrityError, sha256_file
from thinkspeak.speech.turn import TurnModelUnavailable

ASSET = Path(__file__).resolve().parents[2] / "assets" / "turn-learned"
WEIGHTS = "head.npz"
WINDOW_S = 3.0
CLASSES = ("complete", "incomplete", "other")
POOLS = (10, 25, None)  # frames at 50 Hz: the last 0.2 s, the last 0.5 s, all


def pooled(frames: np.ndarray) -> np.ndarray:
    """``[T, dim]`` encoder frames -> ``[len(POOLS) * dim]``: the mean of each tail of :data:`POOLS`."""
    if frames.shape[0] == 0:
        return np.zeros(len(POOLS) * frames.shape[1], np.float32)
    return np.concatenate([frames[-n:].mean(axis=0) if n else frames.mean(axis=0) for n in POOLS]).astype(np.float32)


class TurnHead:
    """The MLP (numpy): ``[N, features]`` -> class probabilities ``[N, 3]``. Inputs are standardised with the
    training set's mean and scale stored beside the weights."""

    def __init__(self, arrays: dict[str, np.ndarray]) -> None:
        self.mean, self.scale = arrays["mean"], arrays["scale"]
        self.w1, self.b1, self.w2, self.b2 = arrays["w1"], arrays["b1"], arrays["w2"], arrays["b2"]

    def __call__(self, x: np.ndarray) -> np.ndarray:
        h = np.maximum((x - self.mean) / self.scale @ self.w1 + self.b1, 0.0)
        logits = h @ self.w2 + self.b2
        e = np.exp(logits - logits.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)


def read_sums(folder: Path) -> dict[str, str]:
    """``SHA256SUMS`` of ``folder`` as {file name: hex digest}."""
    sums = {}
    for line in (folder / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split(maxsplit=1)
        sums[name.strip().lstrip("*")] = digest
    return sums


def load_head(folder: Path = ASSET) -> TurnHead:
    """The head in ``folder``, its SHA-256 checked against the folder's SHA256SUMS."""
    path = Path(folder) / WEIGHTS
    if not path.is_file():
        raise TurnModelUnavailable(f"the learned turn model's weights are missing ({path}); retrain them: "
                                   "python -m thinkspeak.speech.turn.train (docs/server.md)")
    expected = read_sums(Path(folder)).get(WEIGHTS)
    if (actual := sha256_file(path)) != expected:
        raise ModelIntegrityError(f"{path} has SHA-256 {actual}, but its SHA256SUMS says {expected}; retrain or "
                                  "restore it")
    with np.load(path, allow_pickle=False) as arrays:
        return TurnHead({k: arrays[k] for k in arrays.files})


class LearnedTurn:
    """Whisper-base encoder + :class:`TurnHead`; shares the encoder (and its model) with ASR."""

    name = "learned"
    tells_backchannels = True

    def __init__(self, folder: Path = ASSET, encoder=None) -> None:
        self.head = load_head(folder)
        if encoder is None:
            from thinkspeak.speech.encoder import WhisperEncoder

            encoder = WhisperEncoder()  # the same CTranslate2 model (and settings) as the server's ASR
        self.encoder = encoder

    def features(self, audio: np.ndarray) -> np.ndarray:
        x = as_mono_float32(audio, "audio")
        return pooled(self.encoder.features(x[-int(WINDOW_S * 16000):]))

    def classes(self, audio: np.ndarray) -> np.ndarray:
        """P(complete), P(incomplete), P(other) for the utterance so far."""
        return self.head(self.features(audio)[None])[0]

    def probability(self, audio: np.ndarray) -> float:
        return float(self.classes(audio)[0])

    def backchannel(self, audio: np.ndarray) -> float:
        return float(self.classes(audio)[2])


_LOADED: dict[str, LearnedTurn] = {}
_LOCK = threading.Lock()


def load_learned() -> LearnedTurn:
    """The process's one :class:`LearnedTurn` (weights hash-checked on first use)."""
    with _LOCK:
        if "default" not in _LOADED:
            _LOADED["default"] = LearnedTurn()
        return _LOADED["default"]
