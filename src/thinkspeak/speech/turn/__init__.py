"""Learned end-of-turn models: the audio of a user's utterance so far -> P(the turn is complete).

Each model is an :class:`EndOfTurnModel`; the server's turn detectors (:mod:`thinkspeak.serve.detectors`)
turn its probability into the silence that ends the turn, and its backchannel probability (when it has one)
into the barge-in decision. Two ship: :mod:`.smart_turn` (Pipecat's Smart Turn v3.2 ONNX, read from the
installed ``pipecat-ai`` wheel) and :mod:`.learned` (a small head over Whisper-base encoder features trained on
the duplex corpus, :mod:`.train`); :mod:`.duplex` reads the full-duplex Thinker's own probability of speaking
next (it needs the shipped duplex model).
"""

from __future__ import annotations

from typing import Protocol

import numpy as np


class TurnModelUnavailable(ValueError):
    """A turn model's files or package are missing; the message says how to install them."""


class EndOfTurnModel(Protocol):
    """``name``: how it is reported; ``tells_backchannels``: :meth:`backchannel` is meaningful. Both methods
    are thread-safe."""

    name: str
    tells_backchannels: bool

    def probability(self, audio: np.ndarray) -> float:
        """P(the turn is complete) after the 16 kHz mono float32 ``audio`` (the utterance so far)."""

    def backchannel(self, audio: np.ndarray) -> float:
        """P(``audio`` is a backchannel or a noise, not a bid for the floor)."""
