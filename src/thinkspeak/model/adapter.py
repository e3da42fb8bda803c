"""Hearing: Whisper encoder features -> frame stacking -> gated MLP adapter -> model width.

Mini-Omni §3.1 feeds Whisper encoder states (50 Hz) through the adapter ``proj(silu(fc1 x) * fc2 x)`` and
puts the result where the audio placeholder tokens are. We first stack ``stack`` consecutive frames
(default 4: 50 Hz -> 12.5 Hz, 80 ms per position) so a 5 s question costs 63 positions instead of 250;
the last group is zero-padded, so ``n_positions(T) = ceil(T / stack)``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
from torch import nn
from torch.nn import functional as F


@dataclass(frozen=True)
class AdapterConfig:
    """Shape of the audio adapter: ``feature_dim`` (Whisper-base: 512), ``stack``, hidden and output widths."""

    feature_dim: int = 512
    stack: int = 4
    hidden_dim: int = 1024
    out_dim: int = 256

    def __post_init__(self) -> None:
        for name in ("feature_dim", "stack", "hidden_dim", "out_dim"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"AdapterConfig.{name} must be an int >= 1, got {value!r}")

    def to_dict(self) -> dict:
        return asdict(self)


def n_audio_positions(n_frames: int, stack: int) -> int:
    """Number of ``<|audio|>`` positions for ``n_frames`` encoder frames stacked ``stack`` at a time."""
    if n_frames < 1:
        raise ValueError(f"n_frames must be >= 1 (at least one encoder frame), got {n_frames!r}")
    return math.ceil(n_frames / stack)


class AudioAdapter(nn.Module):
    """``proj(silu(fc1 x) * fc2 x)`` over stacked encoder frames (Mini-Omni §3.1)."""

    def __init__(self, config: AdapterConfig):
        super().__init__()
        self.config = config
        width = config.feature_dim * config.stack
        self.fc1 = nn.Linear(width, config.hidden_dim)
        self.fc2 = nn.Linear(width, config.hidden_dim)
        self.proj = nn.Linear(config.hidden_dim, config.out_dim)

    def check_features(self, features: torch.Tensor) -> None:
        """Raise a ValueError unless ``features`` is ``[T, feature_dim]`` or ``[B, T, feature_dim]``, T >= 1."""
        if not isinstance(features, torch.Tensor):
            raise ValueError(f"features must be a torch.Tensor [T, {self.config.feature_dim}], got {type(features)}")
        if features.dim() not in (2, 3) or features.shape[-1] != self.config.feature_dim:
            raise ValueError(
                f"features must have shape [T, {self.config.feature_dim}] or [B, T, {self.config.feature_dim}] "
                f"(encoder width {self.config.feature_dim}), got {tuple(features.shape)}"
            )
        if features.shape[-2] < 1:
            raise ValueError(f"features must hold at least one frame, got shape {tuple(features.shape)}")

    def stack_frames(self, features: torch.Tensor) -> torch.Tensor:
        """``[..., T, D]`` -> ``[..., ceil(T/stack), stack*D]``, zero-padding the last group."""
        k = self.config.stack
        t = features.shape[-2]
        pad = (-t) % k
        if pad:
            features = F.pad(features, (0, 0, 0, pad))
        return features.reshape(*features.shape[:-2], (t + pad) // k, k * features.shape[-1])

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """Map ``[T, D]`` (or ``[B, T, D]``) encoder features to ``[ceil(T/stack), out_dim]`` embeddings."""
        self.check_features(features)
        x = self.stack_frames(features.to(self.fc1.weight.dtype))
        return self.proj(F.silu(self.fc1(x)) * self.fc2(x))
