"""LoRA on the backbone, through peft (MooER: encoder frozen, adapter trained, LLM updated with LoRA on ~2%
of its parameters; Mini-Omni "Any Model Can Talk": adapt a pretrained LLM without retraining all of it).

A stage with ``lora: {targets: [q_proj, v_proj], rank: 8, alpha: 16}`` freezes the backbone, lets peft inject
low-rank factors ``A`` (rank x in) and ``B`` (out x rank) beside each named linear layer of the decoder
blocks, and trains only those (and the audio adapter if the stage trains it). The stage's final Thinker is
saved merged, ``W + (alpha / rank) * B @ A``, so it loads and decodes as a plain Qwen2 Thinker.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import torch
from torch import nn

ADAPTER_NAME = "default"


@dataclass(frozen=True)
class LoraSpec:
    """Which linear layers of the decoder blocks get LoRA factors, their rank and scale ``alpha / rank``."""

    targets: tuple[str, ...]
    rank: int = 8
    alpha: float = 16.0
    dropout: float = 0.0

    @property
    def scaling(self) -> float:
        return self.alpha / self.rank


def block_linear_names(model: nn.Module) -> list[str]:
    """Names (last path component) of the linear layers inside the backbone's decoder blocks."""
    layers = model.get_decoder().layers
    return sorted({name.rsplit(".", 1)[-1] for name, m in layers.named_modules() if isinstance(m, nn.Linear)})


def check_targets(model: nn.Module, spec: LoraSpec, where: str = "lora.targets") -> None:
    """A recipe naming layers the backbone lacks fails here, before any training."""
    available = block_linear_names(model)
    missing = sorted(set(spec.targets) - set(available))
    if missing:
        raise ValueError(f"{where} names {missing}, which this backbone ({type(model).__name__}) does not have; "
                         f"its decoder blocks' linear layers are {available}")


def add_lora(model: nn.Module, spec: LoraSpec) -> list[nn.Parameter]:
    """Freeze ``model`` and inject trainable LoRA factors into its decoder blocks' ``spec.targets`` (in place,
    the module tree keeps its shape); returns the LoRA parameters."""
    from peft import LoraConfig, inject_adapter_in_model

    check_targets(model, spec)
    for p in model.parameters():
        p.requires_grad_(False)
    config = LoraConfig(r=spec.rank, lora_alpha=spec.alpha, lora_dropout=spec.dropout, bias="none",
                        target_modules=rf".*\.layers\.\d+\..*\.({'|'.join(map(re.escape, spec.targets))})")
    inject_adapter_in_model(config, model, adapter_name=ADAPTER_NAME)
    params = [p for name, p in model.named_parameters() if ".lora_" in name]
    for p in params:
        p.requires_grad_(True)
    return params


def merged_state_dict(state: dict[str, torch.Tensor], spec: LoraSpec) -> dict[str, torch.Tensor]:
    """A state dict with LoRA layers (``X.base_layer.weight``, ``X.lora_A.default.weight``...) rewritten as the
    plain layers (``X.weight = W + scaling * B @ A``, ``X.bias``). Works on a gathered (FSDP) state dict."""
    out: dict[str, torch.Tensor] = {}
    for key, value in state.items():
        if f".lora_A.{ADAPTER_NAME}." in key or f".lora_B.{ADAPTER_NAME}." in key:
            continue
        if ".base_layer." not in key:
            out[key] = value
            continue
        prefix, _, leaf = key.partition(".base_layer.")
        if leaf == "weight":
            a = state[f"{prefix}.lora_A.{ADAPTER_NAME}.weight"].float()
            b = state[f"{prefix}.lora_B.{ADAPTER_NAME}.weight"].float()
            value = (value.float() + spec.scaling * (b @ a)).to(value.dtype)
        out[f"{prefix}.{leaf}"] = value
    return out
