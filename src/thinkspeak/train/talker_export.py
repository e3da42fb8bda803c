"""Export a trained Talker run as a shippable folder: bf16 safetensors, config, model card, SHA256SUMS."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from thinkspeak.model.talker import Talker
from thinkspeak.train.export import COMMANDS_FILE, write_sha256sums
from thinkspeak.train.recipe import Recipe
from thinkspeak.train.trainer import FINAL

CARD_EXTRA = "MEASURED.md"  # figures measured on the exported weights (bench_talker.py), kept across exports


def last_weights(recipe: Recipe, out: Path) -> tuple[Talker, Path]:
    """The newest weights of run ``out``: the last stage's final Talker, or -- when a later stage was stopped
    before it finished -- that stage's newest checkpoint (its progress goes into ``trained_with``)."""
    from thinkspeak.train.talker import load_checkpoint
    from thinkspeak.train.trainer import _saved_progress, latest_checkpoint

    for stage in reversed(recipe.stages):
        if (out / stage.name / FINAL / "talker.json").is_file():
            return Talker.load(out / stage.name / FINAL), out / stage.name / FINAL
        ckpt = latest_checkpoint(out / stage.name)
        if ckpt is not None:
            talker = load_checkpoint(out, recipe, ckpt)
            previous = [s for s in recipe.stages[:recipe.stages.index(stage)]
                        if (out / s.name / FINAL / "talker.json").is_file()]
            trained = dict(Talker.load(out / previous[-1].name / FINAL).config.trained_with) if previous else {}
            p = _saved_progress(ckpt)
            trained[stage.name] = {"steps": p["step"], "minutes": round(p["elapsed_s"] / 60, 1),
                                   "train_utterances": None, "loss": p["last_loss"], "valid_loss": None,
                                   "stopped_at_checkpoint": True}
            object.__setattr__(talker.config, "trained_with", trained)
            return talker, ckpt
    raise ValueError(f"no stage of Talker recipe {recipe.name!r} has weights in {str(out)!r}")


def _f(x) -> str:
    return "n/a" if x is None else f"{x:.4f}"


def model_card(recipe: Recipe, talker: Talker, out: Path, size: int, measured: str) -> str:
    c = talker.config
    n = sum(p.numel() for p in talker.parameters())
    rows = "\n".join(f"| {k} | {v['steps']} | {v['minutes']} | {v.get('train_utterances') or 'n/a'} | {_f(v.get('loss'))} | "
                     f"{_f(v.get('valid_loss'))} |" for k, v in c.trained_with.items())
    log = out / COMMANDS_FILE
    commands = "\n".join(f"  `{line}`" for line in (log.read_text().splitlines() if log.is_file() else []))
    return f"""# thinkspeak token Talker: `{recipe.name}`

Text in as it arrives, {c.codec} codec tokens out (issue 11; Mini-Omni's delayed parallel streams with
Moshi-style word-aligned text). Trained from scratch by thinkspeak on `thinkspeak data talker` (spoken-math
responses voiced by piper's `joe` voice).

- {c.layers} layers, d={c.d_model}, {c.heads} heads, FFN {c.ffn}; {n / 1e6:.2f} M parameters, stored in bf16
  ({size / 2**20:.1f} MiB).
- {c.frames_per_step} codec frames per step ({c.step_rate:g} steps/s), {len(c.codebook_sizes)} codebooks per
  frame (sizes {list(c.codebook_sizes)}), delays {list(c.delays)}; alignment `{c.alignment}`; characters
  `{c.charset}`.
- Commands:
{commands}

| stage | steps | minutes | train utterances | final train loss | valid loss |
|---|---|---|---|---|---|
{rows}

{measured}
Files are listed with their SHA-256 in `SHA256SUMS`. It speaks the narrow vocabulary of the spoken-math
responses in one voice; it is a research component, not a general TTS.
"""


def export_talker(recipe: Recipe, out: Path, dest: Path) -> Path:
    talker, _ = last_weights(recipe, out)
    dest.mkdir(parents=True, exist_ok=True)
    measured = (dest / CARD_EXTRA).read_text() if (dest / CARD_EXTRA).is_file() else ""
    for old in dest.iterdir():
        if old.is_file() and old.name != CARD_EXTRA:
            old.unlink()
    talker.save(dest, dtype=torch.bfloat16)
    (dest / "recipe.json").write_text(json.dumps({"recipe": recipe.name}, indent=2) + "\n")
    size = sum(p.stat().st_size for p in dest.iterdir() if p.is_file())
    (dest / "README.md").write_text(model_card(recipe, talker, out, size, measured))
    write_sha256sums(dest)
    return dest
