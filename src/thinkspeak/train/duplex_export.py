"""Export a full-duplex Thinker run as a shippable folder: bf16 safetensors, tokenizer, duplex.json, model card,
SHA256SUMS (the mechanism of the shipped Thinker and Talker)."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from thinkspeak.model.duplex import DUPLEX_FILE, DuplexModel
from thinkspeak.train.export import COMMANDS_FILE, write_sha256sums
from thinkspeak.train.recipe import Recipe
from thinkspeak.train.trainer import FINAL, _saved_progress, latest_checkpoint

CARD_EXTRA = "MEASURED.md"  # figures measured on the exported weights (thinkspeak eval duplex), kept across exports


def last_weights(recipe: Recipe, out: Path) -> DuplexModel:
    """The newest weights of run ``out``: the last finished stage's model, or the newest checkpoint of a later
    stage that was stopped before it finished (its progress goes into ``trained_with``)."""
    from safetensors.torch import load_file

    for stage in reversed(recipe.stages):
        stage_dir = out / stage.name
        if (stage_dir / FINAL / DUPLEX_FILE).is_file():
            return DuplexModel.load(stage_dir / FINAL)
        ckpt = latest_checkpoint(stage_dir)
        if ckpt is not None and (stage_dir / "start" / DUPLEX_FILE).is_file():
            model = DuplexModel.load(stage_dir / "start")
            state = load_file(str(ckpt / "model.safetensors"))
            model.model.load_state_dict({k.removeprefix("model."): v for k, v in state.items()}, strict=False)
            model.model.tie_weights()
            p = _saved_progress(ckpt)
            model.config.trained_with = {**model.config.trained_with, stage.name: {
                "steps": p["step"], "tokens": p["tokens"], "loss": round(p["last_loss"], 4),
                "minutes": round(p["elapsed_s"] / 60, 1), "stopped_at_checkpoint": True}}
            return model
    raise ValueError(f"no stage of duplex recipe {recipe.name!r} has weights in {str(out)!r}")


def model_card(recipe: Recipe, model: DuplexModel, out: Path, size_bytes: int, measured: str) -> str:
    cfg, u, clock = model.model.config, model.units, model.clock
    n_params = sum(p.numel() for p in model.model.parameters())
    rows = "\n".join(f"| {name} | {v.get('format', '?')} / {v.get('select', '?')} | {v.get('user_weight', '?')} | "
                     f"{v['steps']} | {v.get('minutes')} | {v['loss']} | {v.get('valid_loss')} |"
                     for name, v in model.config.trained_with.items())
    log = out / COMMANDS_FILE
    commands = "\n".join(f"  `{line}`" for line in (log.read_text().splitlines() if log.is_file() else []))
    return f"""# thinkspeak full-duplex Thinker: `{recipe.name}`

One Qwen2-architecture decoder that hears the user's speech units and, on a 160 ms chunk clock, writes its own
channel: silence, say tokens (spoken words, for the Talker/TTS) and think tokens (its reasoning stream) --
thinking-in-speaking (Mini-Omni-Reasoner §3) inside a SyncLLM/OmniFlatten-style full-duplex model. Trained on
the **synthetic pseudo-duplex corpus** of thinkspeak (spoken-math tutoring dialogues, TTS voices, staged
barge-ins, backchannels, inner pauses, noise). See docs/duplex.md.

- Architecture: Qwen2ForCausalLM, {cfg.num_hidden_layers} layers, d={cfg.hidden_size}, {cfg.num_attention_heads}
  heads ({cfg.num_key_value_heads} KV), FFN {cfg.intermediate_size}; table {cfg.vocab_size} = {u.text_size} text
  ids (the shipped Thinker's tokenizer; text rows and layers initialised from it) + {u.n_units} units + [S0], [S1],
  <|silence|>; {n_params / 1e6:.2f} M parameters, stored in bf16, {size_bytes / 2**20:.1f} MiB.
- Units: {u.n_units} units, digest `{u.unit_digest[:16]}`; another unit model is refused at load time.
- Clock: {clock.chunk_units} units a chunk ({1000 * clock.chunk_s:.0f} ms), {clock.say_slots} say + {clock.think_slots}
  think slots a chunk, layout `{clock.layout}`.
- Recipe `{recipe.name}`; commands run, in order:
{commands}

| stage | format / select | user weight | steps | minutes | final train loss | valid loss |
|---|---|---|---|---|---|---|
{rows}

{measured}
Files are listed with their SHA-256 in `SHA256SUMS`. A research model of turn-taking on synthetic dialogues; it is
not a general assistant.
"""


def export_duplex(recipe: Recipe, out: Path, dest: Path) -> Path:
    model = last_weights(recipe, out)
    dest.mkdir(parents=True, exist_ok=True)
    measured = (dest / CARD_EXTRA).read_text() if (dest / CARD_EXTRA).is_file() else ""
    for old in dest.iterdir():
        if old.is_file() and old.name != CARD_EXTRA:
            old.unlink()
    model.save(dest, dtype=torch.bfloat16)
    (dest / "recipe.json").write_text(json.dumps({"recipe": recipe.name}, indent=2) + "\n")
    size = sum(p.stat().st_size for p in dest.iterdir() if p.is_file())
    (dest / "README.md").write_text(model_card(recipe, model, out, size, measured))
    write_sha256sums(dest)
    return dest
