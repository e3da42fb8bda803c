"""Export a trained run as a shippable Thinker folder: bf16 safetensors, tokenizer, config, model card, SHA256SUMS."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from thinkspeak.checksums import write_sha256sums
from thinkspeak.model.thinker import Thinker
from thinkspeak.train.recipe import Recipe
from thinkspeak.train.trainer import FINAL

COMMANDS_FILE = "commands.log"  # every `thinkspeak train` command run in a run directory, one a line


def last_finished_stage(recipe: Recipe, out: Path) -> Path:
    """The final folder of the last stage of ``recipe`` finished in run directory ``out``."""
    for stage in reversed(recipe.stages):
        final = out / stage.name / FINAL
        if (final / "thinker.json").is_file():
            return final
    raise ValueError(f"no stage of recipe {recipe.name!r} has finished in {str(out)!r} (no <stage>/final/)")


def _fmt(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.4f}"


def _corpus_summary(corpus: str) -> str:
    manifest = Path(corpus) / "manifest.json"
    if not manifest.is_file():
        return f"`{corpus}`"
    m = json.loads(manifest.read_text())
    return (f"`{corpus}`: {m.get('count')} samples (seed {m.get('seed')}, splits {m.get('splits')}, "
            f"categories {m.get('categories')}), made by `{m.get('created_by', 'thinkspeak data math')}`")


def model_card(recipe: Recipe, thinker: Thinker, source: Path, size_bytes: int, run_dir: Path) -> str:
    cfg = thinker.model.config
    n_params = sum(p.numel() for p in thinker.parameters())
    rows = "\n".join(
        f"| {name} | {v['steps']} | {v['tokens']} | {_fmt(v['loss'])} | {_fmt(v.get('valid_loss'))} |"
        for name, v in thinker.config.trained_with.items()
    )
    stages = ", ".join(s.name for s in recipe.stages)
    log = run_dir / COMMANDS_FILE
    lines = log.read_text().splitlines() if log.is_file() else [f"thinkspeak train --recipe {recipe.name}"]
    commands = "\n".join(f"  `{line}`" for line in lines)
    return f"""# thinkspeak Thinker: `{recipe.name}`

A small Qwen2-architecture thinking-in-speaking model (Mini-Omni-Reasoner §3) with a Whisper-base audio
adapter (Mini-Omni §3.1), trained from scratch by thinkspeak on its synthetic spoken-math corpus.

- Architecture: Qwen2ForCausalLM, {cfg.num_hidden_layers} layers, d={cfg.hidden_size}, {cfg.num_attention_heads}
  heads ({cfg.num_key_value_heads} KV), FFN {cfg.intermediate_size}, vocabulary {cfg.vocab_size} (byte-level BPE,
  single digits), tied embeddings; adapter {thinker.config.adapter}; {n_params / 1e6:.2f} M parameters, stored in bf16.
- Interleave rhythm p:q = {thinker.config.p}:{thinker.config.q}; modes `<|tis|>`, `<|think_first|>`, `<|no_think|>`, `<|asr|>`.
- Size: {size_bytes / 2**20:.1f} MiB (weights, tokenizer, configs).
- Data: {_corpus_summary(recipe.corpus)}.
- Recipe `{recipe.name}`, stages {stages}; the table lists the stages this export has been through.
- Commands run in `{run_dir}`, in order:
{commands}
- Exported from `{source}`.

| stage | steps | tokens | final train loss | valid loss |
|---|---|---|---|---|
{rows}

Files are listed with their SHA-256 in `SHA256SUMS`. Intended for research and demos of the thinking-in-speaking
layout on simple arithmetic and word problems; it is not a general assistant.
"""


def checkpoint_thinker(final: Path, step: int) -> tuple[Thinker, Path]:
    """The Thinker of stage ``final.parent`` as it was at its kept checkpoint ``step`` (the stage's final folder
    gives the architecture and tokenizer; the checkpoint's Accelerate model state the weights)."""
    from safetensors.torch import load_file

    path = final.parent / "checkpoints" / f"step-{step:06d}"
    weights = path / "model.safetensors"
    if not weights.is_file():
        kept = sorted(p.name for p in (final.parent / "checkpoints").glob("step-*"))
        raise ValueError(f"--checkpoint {step}: no {str(weights)!r}; kept checkpoints of this stage: {kept or 'none'}")
    thinker = Thinker.load(final)
    state = {k.removeprefix("thinker."): v for k, v in load_file(str(weights)).items()}  # the loss module's prefix
    result = thinker.load_state_dict(state, strict=False)
    tied = {"model.lm_head.weight"} if thinker.model.config.tie_word_embeddings else set()
    if set(result.missing_keys) - tied or result.unexpected_keys:
        raise ValueError(f"checkpoint {str(path)!r} does not match the stage's Thinker: missing "
                         f"{sorted(set(result.missing_keys) - tied)[:3]}, unexpected {result.unexpected_keys[:3]}")
    progress = json.loads((path / "progress.json").read_text()) if (path / "progress.json").is_file() else {}
    stage = final.parent.name
    thinker.config.trained_with = {**thinker.config.trained_with, stage: {
        "steps": progress.get("step", step), "tokens": progress.get("tokens"), "loss": progress.get("last_loss"),
        "valid_loss": None, "checkpoint": path.name}}
    return thinker, path


def export_run(recipe: Recipe, out: Path, dest: Path, dtype: torch.dtype = torch.bfloat16,
               checkpoint: int | None = None) -> Path:
    """Save the last finished stage of run ``out`` (or its kept ``checkpoint`` step) to ``dest`` in ``dtype``
    with a model card and SHA256SUMS."""
    source = last_finished_stage(recipe, out)
    if checkpoint is None:
        thinker = Thinker.load(source)
    else:
        thinker, source = checkpoint_thinker(source, checkpoint)
    dest.mkdir(parents=True, exist_ok=True)
    for old in dest.iterdir():
        if old.is_file():
            old.unlink()
    thinker.save(dest, dtype=dtype)
    # the recipe file's name only: a shipped folder must not carry a path of the machine that trained it
    source_name = Path(recipe.source).name if recipe.source else ""
    (dest / "recipe.json").write_text(json.dumps({"recipe": recipe.name, "source": source_name}, indent=2) + "\n")
    size = sum(p.stat().st_size for p in dest.iterdir() if p.is_file())
    (dest / "README.md").write_text(model_card(recipe, thinker, source, size, out))
    write_sha256sums(dest)
    return dest
