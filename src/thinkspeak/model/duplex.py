"""The full-duplex Thinker: one Qwen2 decoder over the user's speech units and its own say/think text.

SyncLLM (§3) and OmniFlatten (§3.3) put both sides of a conversation into one token table and one sequence;
here the table is the text vocabulary of the Thinker's tokenizer, then the ``n_units`` speech units of a unit
model (:mod:`thinkspeak.units`), then the chunk tags ``[S0]`` (user) and ``[S1]`` (assistant) and
``<|silence|>`` (the assistant does not hold the floor). ``<|say_pad|>`` and ``<|think_pad|>`` are the
Thinker's own. The sequence layout is :mod:`thinkspeak.layouts.duplex`.

A model trained on units records the unit model's digest and size; :meth:`DuplexModel.load` refuses a unit
model that does not match, naming both. A folder holds the HF files (``config.json``, ``model.safetensors``,
tokenizer files) and ``duplex.json``; the shipped default is ``assets/duplex-default`` (verified against its
``SHA256SUMS`` on load).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from thinkspeak.layouts.duplex import ClockConfig, Markers
from thinkspeak.model.tokens import SpecialIds

DEFAULT_DIR = Path(__file__).resolve().parent.parent / "assets" / "duplex-default"
DUPLEX_FILE = "duplex.json"
EXTRA_TOKENS = ("[S0]", "[S1]", "<|silence|>")


@dataclass(frozen=True)
class UnitVocab:
    """Where the units and the duplex tokens sit in the model's table (after ``text_size`` text ids)."""

    text_size: int
    n_units: int
    unit_digest: str

    def __post_init__(self) -> None:
        for name in ("text_size", "n_units"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be an int >= 1, got {value!r}")

    @property
    def unit_offset(self) -> int:
        return self.text_size

    def unit(self, u: int) -> int:
        return self.text_size + int(u)

    @property
    def user_tag(self) -> int:
        return self.text_size + self.n_units

    @property
    def assistant_tag(self) -> int:
        return self.user_tag + 1

    @property
    def silence(self) -> int:
        return self.user_tag + 2

    @property
    def size(self) -> int:
        return self.user_tag + len(EXTRA_TOKENS)

    def is_unit(self, token: int) -> bool:
        return self.text_size <= token < self.user_tag


@dataclass
class DuplexConfig:
    """What ``duplex.json`` holds: the unit vocabulary, the chunk clock and the training record."""

    units: UnitVocab
    clock: ClockConfig = field(default_factory=ClockConfig)
    trained_with: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"text_size": self.units.text_size, "n_units": self.units.n_units,
                "unit_digest": self.units.unit_digest, "clock": self.clock.to_dict(),
                "trained_with": self.trained_with}

    @classmethod
    def from_dict(cls, d: dict) -> DuplexConfig:
        return cls(UnitVocab(d["text_size"], d["n_units"], d["unit_digest"]), ClockConfig(**d["clock"]),
                   d.get("trained_with", {}))


def check_unit_model(config: DuplexConfig, unit_model: Any, where: str) -> None:
    """Refuse a unit model whose size or centroid digest differs from the one ``config`` was trained on."""
    n, digest = getattr(unit_model, "n_units", None), getattr(unit_model, "digest", None)
    if n != config.units.n_units or digest != config.units.unit_digest:
        raise ValueError(
            f"unit_model does not match the duplex model {where}: the model was trained on {config.units.n_units} "
            f"units (digest {config.units.unit_digest[:12]}), the unit model has {n} units (digest "
            f"{str(digest)[:12]})")


def verify_sha256sums(folder: Path) -> None:
    """Check every file listed in ``folder/SHA256SUMS``; a mismatch or a missing file is a ValueError."""
    for line in (folder / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split(maxsplit=1)
        path = folder / name
        if not path.is_file() or hashlib.sha256(path.read_bytes()).hexdigest() != digest:
            raise ValueError(f"{str(path)!r} is missing or does not match its SHA-256 in SHA256SUMS")


class DuplexModel:
    """The backbone, the Thinker's text tokenizer and the :class:`DuplexConfig` that lays out its table."""

    def __init__(self, model, tokenizer, config: DuplexConfig):
        self.model = model
        self.tokenizer = tokenizer
        self.config = config
        ids = SpecialIds.from_tokenizer(tokenizer)
        u = config.units
        if model.config.vocab_size < u.size:
            raise ValueError(f"the backbone has {model.config.vocab_size} rows, the duplex table needs {u.size}")
        self.ids = ids
        self.markers = Markers(u.user_tag, u.assistant_tag, u.silence, ids.say_pad, ids.think_pad)

    @property
    def units(self) -> UnitVocab:
        return self.config.units

    @property
    def clock(self) -> ClockConfig:
        return self.config.clock

    def text_ids(self, text: str) -> list[int]:
        return self.tokenizer(text, add_special_tokens=False)["input_ids"]

    @classmethod
    def from_thinker(cls, thinker, n_units: int, unit_digest: str, clock: ClockConfig | None = None,
                     max_positions: int = 2048, seed: int = 0) -> DuplexModel:
        """A duplex model whose text rows and layers start from ``thinker`` (a :class:`Thinker`): the table
        grows by the units and the three duplex tokens; unit rows are drawn at the scale of the text rows,
        the tags and ``<|silence|>`` start as the mean text row."""
        from transformers import Qwen2Config, Qwen2ForCausalLM

        text_size = thinker.model.config.vocab_size
        units = UnitVocab(text_size, n_units, unit_digest)
        hf = Qwen2Config(**{**thinker.model.config.to_dict(), "vocab_size": units.size,
                            "max_position_embeddings": max_positions, "architectures": ["Qwen2ForCausalLM"]})
        torch.manual_seed(seed)
        model = Qwen2ForCausalLM(hf)
        state = {k: v for k, v in thinker.model.state_dict().items() if "embed_tokens" not in k and "lm_head" not in k}
        model.load_state_dict(state, strict=False)
        with torch.no_grad():
            old = thinker.model.get_input_embeddings().weight
            new = model.get_input_embeddings().weight
            new[:text_size] = old
            new[text_size:units.user_tag] = torch.randn(n_units, old.shape[1]) * old.std()
            new[units.user_tag:] = old.mean(0)
        model.tie_weights()
        return cls(model, thinker.tokenizer, DuplexConfig(units, clock or ClockConfig()))

    @classmethod
    def load(cls, path: str | Path | None = None, *, unit_model: Any = None) -> DuplexModel:
        """Load a duplex folder (None: the shipped default, hash-verified); with ``unit_model`` refuse one that
        does not match the units the model was trained on (:func:`check_unit_model`)."""
        from transformers import PreTrainedTokenizerFast, Qwen2ForCausalLM

        folder = Path(path) if path is not None else DEFAULT_DIR
        if not (folder / DUPLEX_FILE).is_file():
            raise ValueError(f"model must be a duplex model folder with {DUPLEX_FILE}, got {str(folder)!r}")
        if path is None:
            verify_sha256sums(folder)
        config = DuplexConfig.from_dict(json.loads((folder / DUPLEX_FILE).read_text()))
        if unit_model is not None:
            check_unit_model(config, unit_model, f"at {str(folder)!r}")
        model = Qwen2ForCausalLM.from_pretrained(folder, dtype=torch.float32, local_files_only=True)
        tokenizer = PreTrainedTokenizerFast.from_pretrained(folder, local_files_only=True)
        out = cls(model, tokenizer, config)
        out.model.eval()
        return out

    def save(self, path: str | Path, dtype: torch.dtype | None = None) -> Path:
        folder = Path(path)
        folder.mkdir(parents=True, exist_ok=True)
        state = {k: (v.to(dtype) if dtype is not None else v).contiguous() for k, v in self.model.state_dict().items()}
        self.model.save_pretrained(folder, state_dict=state)
        self.tokenizer.save_pretrained(folder)
        (folder / DUPLEX_FILE).write_text(json.dumps(self.config.to_dict(), indent=2) + "\n")
        return folder
