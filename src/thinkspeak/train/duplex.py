"""Train the full-duplex Thinker in stages (SyncLLM §3 "training", OmniFlatten §3 "progressive training").

The recipe (``kind: duplex``) names a sequence corpus (``thinkspeak data duplex-seq``) and stages; each stage's
``duplex:`` mapping says what it reads:

* ``format: turn`` -- the turn-based sequences (SyncLLM stage 1, OmniFlatten's half-duplex stage): user units
  of a turn, then the assistant's 2:8 thinking-in-speaking stream;
* ``format: chunks`` -- windows of ``window_chunks`` chunks of the clocked sequence (full duplex);
* ``select: no_overlap`` -- only dialogues without barge-ins or backchannels (SyncLLM stage 2, "no overlap");
  ``all`` -- everything, with barge-ins, backchannels and noise (stage 3);
* ``user_weight`` -- the loss weight of the user's units and the tag that closes a user chunk: 0 masks the
  user stream (OmniFlatten), > 0 trains the prediction of the user's next chunk that SyncLLM's latency
  tolerance relies on (§3.3). The assistant's slots weigh 1, its think pads and silence ``pad_weight``.

The first stage starts from the shipped Thinker (``duplex.init``, text rows and layers reused, the table grown
by the units, :meth:`DuplexModel.from_thinker`); each later stage from the previous stage's final model. The
loop, Accelerate checkpoints, exact resume, time budget and learning-rate schedule are the Thinker trainer's.
"""

from __future__ import annotations

import json
import logging
import random
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

from thinkspeak.layouts import duplex as layout
from thinkspeak.layouts.duplex import ClockConfig
from thinkspeak.model.duplex import DUPLEX_FILE, DuplexModel
from thinkspeak.train.recipe import Recipe, StageConfig
from thinkspeak.train.trainer import (
    FINAL,
    StageResult,
    _mixed_precision,
    latest_checkpoint,
    lr_factor,
    resume_progress,
    save_checkpoint,
    setup_logging,
)

log = logging.getLogger("thinkspeak.train")
FORMATS = ("turn", "chunks")
SELECTS = ("all", "no_overlap")
COLUMNS = ["id", "split", "tokens", "roles", "chunk_starts", "turn_tokens", "turn_roles", "n_barge_ins",
           "n_backchannels"]


@dataclass(frozen=True)
class StageData:
    """What one stage reads (the stage's ``duplex:`` mapping, checked)."""

    format: str = "chunks"
    select: str = "all"
    user_weight: float = 0.0
    window_chunks: int = 64
    max_tokens: int = 1024

    @classmethod
    def from_stage(cls, stage: StageConfig) -> StageData:
        d = dict(stage.duplex)
        where = f"stage {stage.name!r}: duplex"
        unknown = sorted(set(d) - {"format", "select", "user_weight", "window_chunks", "max_tokens"})
        if unknown:
            raise ValueError(f"{where} has unknown key(s) {unknown}")
        out = cls(**d)
        if out.format not in FORMATS:
            raise ValueError(f"{where}.format must be one of {FORMATS}, got {out.format!r}")
        if out.select not in SELECTS:
            raise ValueError(f"{where}.select must be one of {SELECTS}, got {out.select!r}")
        if isinstance(out.user_weight, bool) or not isinstance(out.user_weight, int | float) or not 0 <= out.user_weight <= 1:
            raise ValueError(f"{where}.user_weight must be a number in [0, 1], got {out.user_weight!r}")
        for name in ("window_chunks", "max_tokens"):
            value = getattr(out, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{where}.{name} must be an int >= 1, got {value!r}")
        return out


def role_weights(roles: list[int], tokens: list[int], model: DuplexModel, user_weight: float,
                 pad_weight: float) -> list[float]:
    """Loss weight of each position (the target predicted there from what precedes it)."""
    m = model.markers
    quiet = {m.silence, m.think_pad}
    out = []
    for role, tok in zip(roles, tokens, strict=True):
        if role in (layout.USER, layout.ASSISTANT_TAG):
            out.append(user_weight)
        elif role == layout.SAY:
            out.append(1.0)
        elif role == layout.THINK:
            out.append(pad_weight if tok in quiet else 1.0)
        else:
            out.append(0.0)
    return out


def examples(rows: list[dict], data: StageData, model: DuplexModel, pad_weight: float, seed: int,
             epoch: int) -> list[tuple[list[int], list[float]]]:
    """One example per dialogue: its turn-based sequence, or a window of chunks drawn by ``(seed, epoch)``."""
    rng = random.Random(f"duplex:{seed}:{epoch}")
    out = []
    for row in rows:
        if data.format == "turn":
            tokens, roles = row["turn_tokens"][:data.max_tokens], row["turn_roles"][:data.max_tokens]
        else:
            starts = [*row["chunk_starts"], len(row["tokens"])]
            n = len(starts) - 1
            first = rng.randrange(max(1, n - data.window_chunks + 1))
            a, b = starts[first], starts[min(n, first + data.window_chunks)]
            tokens, roles = row["tokens"][a:b], row["roles"][a:b]
        out.append((tokens, role_weights(roles, tokens, model, data.user_weight, pad_weight)))
    return out


def batches(n: int, size: int, seed: int, epoch: int) -> list[list[int]]:
    order = list(range(n))
    random.Random(f"duplex-batches:{seed}:{epoch}").shuffle(order)
    return [order[i:i + size] for i in range(0, n, size)]


def collate(items: list[tuple[list[int], list[float]]], pad: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    length = max(len(t) for t, _ in items)
    ids = torch.full((len(items), length), pad, dtype=torch.long)
    mask = torch.zeros((len(items), length), dtype=torch.long)
    weights = torch.zeros((len(items), length))
    for i, (t, w) in enumerate(items):
        ids[i, :len(t)] = torch.tensor(t)
        mask[i, :len(t)] = 1
        weights[i, :len(t)] = torch.tensor(w)
    return ids, mask, weights


class DuplexLoss(nn.Module):
    """``sum(w * CE), sum(w)`` of next-token prediction; only weighted targets reach the LM head."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, ids, mask, weights):
        hidden = self.model.model(input_ids=ids, attention_mask=mask, use_cache=False).last_hidden_state
        w = weights[:, 1:]
        sel = w > 0
        logits = self.model.lm_head(hidden[:, :-1][sel])
        ce = F.cross_entropy(logits.float(), ids[:, 1:][sel], reduction="none")
        return (ce * w[sel]).sum(), w[sel].sum()


def read_rows(corpus: str | Path) -> tuple[list[dict], dict]:
    from thinkspeak.data import shards

    manifest_path = Path(corpus) / "manifest.json"
    if not manifest_path.is_file():
        raise ValueError(f"corpus must be a `thinkspeak data duplex-seq` directory with manifest.json, got {str(corpus)!r}")
    return list(shards.iter_rows(Path(corpus), columns=COLUMNS)), json.loads(manifest_path.read_text())


def initial_model(recipe: Recipe, manifest: dict) -> DuplexModel:
    from thinkspeak.model.thinker import Thinker

    init = recipe.duplex.get("init", "default")
    thinker = Thinker.load(None if init == "default" else init)
    if thinker.model.config.vocab_size != manifest["text_size"]:
        raise ValueError(f"the corpus was built for {manifest['text_size']} text ids, the Thinker {init!r} has "
                         f"{thinker.model.config.vocab_size}")
    return DuplexModel.from_thinker(thinker, manifest["n_units"], manifest["unit_digest"],
                                    ClockConfig(**manifest["clock"]),
                                    max_positions=recipe.duplex.get("max_positions", 2048), seed=recipe.seed)


def train_duplex_recipe(recipe: Recipe, out: str | Path, *, resume: bool = False, progress: bool = True
                        ) -> list[StageResult]:
    """Run the recipe's stages in order; each starts from the previous stage's final model."""
    from accelerate import Accelerator

    out = Path(out)
    accelerator = Accelerator(mixed_precision=_mixed_precision(recipe), cpu=not torch.cuda.is_available())
    setup_logging(out, accelerator.is_main_process)
    results, previous = [], None
    for stage in recipe.stages:
        StageData.from_stage(stage)
        stage_dir = out / stage.name
        if (stage_dir / FINAL / DUPLEX_FILE).is_file():
            if not resume:
                raise ValueError(f"stage {stage.name!r} is already finished in {str(out)!r}; pass --resume")
            previous = stage_dir / FINAL
            continue
        results.append(train_duplex_stage(recipe, stage, stage_dir, previous, accelerator, resume=resume,
                                          progress=progress))
        previous = stage_dir / FINAL
    return results


def train_duplex_stage(recipe: Recipe, stage: StageConfig, stage_dir: Path, init: Path | None, accelerator, *,
                       resume: bool = False, progress: bool = True) -> StageResult:
    from tqdm import tqdm

    data = StageData.from_stage(stage)
    rows, manifest = read_rows(stage.corpus or recipe.corpus)
    if data.select == "no_overlap":
        rows = [r for r in rows if r["n_barge_ins"] == 0 and r["n_backchannels"] == 0]
    train = [r for r in rows if r["split"] == "train"]
    valid = [r for r in rows if r["split"] == "valid"][:stage.eval_samples]
    if not train:
        raise ValueError(f"stage {stage.name!r}: no training dialogue (select {data.select})")
    ckpt = latest_checkpoint(stage_dir) if resume else None
    if ckpt is None and any(stage_dir.glob("checkpoints/step-*")) and not resume:
        raise ValueError(f"{str(stage_dir)!r} holds an unfinished stage; pass --resume or choose another --out")
    start_dir = stage_dir / "start"
    if (start_dir / DUPLEX_FILE).is_file() and resume:
        model = DuplexModel.load(start_dir)
    else:
        model = DuplexModel.load(init) if init is not None else initial_model(recipe, manifest)
        if accelerator.is_main_process:
            model.save(start_dir)
    if (model.units.n_units, model.units.unit_digest) != (manifest["n_units"], manifest["unit_digest"]):
        raise ValueError(f"stage {stage.name!r}: the corpus has {manifest['n_units']} units (digest "
                         f"{manifest['unit_digest'][:12]}), the model {model.units.n_units} "
                         f"(digest {model.units.unit_digest[:12]})")
    model.model.train()
    loss_module = DuplexLoss(model.model)
    decay = [p for n, p in model.model.named_parameters() if p.dim() >= 2 and "embed" not in n]
    rest = [p for n, p in model.model.named_parameters() if not (p.dim() >= 2 and "embed" not in n)]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": stage.weight_decay},
                                   {"params": rest, "weight_decay": 0.0}], lr=stage.lr, betas=(0.9, 0.95))
    loss_module, optimizer = accelerator.prepare(loss_module, optimizer)
    prog = resume_progress(accelerator, ckpt, stage.name)
    pad = model.ids.pad
    valid_batches = [collate(examples(valid[j:j + 8], data, model, stage.pad_weight, recipe.seed + 1, 0), pad)
                     for j in range(0, len(valid), 8)]
    log.info("duplex stage %s: %d train / %d valid dialogues, format %s, select %s, user_weight %.2f, %d params",
             stage.name, len(train), len(valid), data.format, data.select, data.user_weight,
             sum(p.numel() for p in model.model.parameters()))
    metrics = stage_dir.parent / "metrics.jsonl"
    stage_dir.mkdir(parents=True, exist_ok=True)
    bar = tqdm(total=stage.steps, initial=prog.step, desc=stage.name, mininterval=5,
               disable=not (progress and accelerator.is_main_process))
    t0 = time.monotonic() - prog.elapsed_s
    budget = None if stage.max_minutes is None else 60 * stage.max_minutes
    per_epoch = len(batches(len(train), stage.max_batch, recipe.seed, 0))
    epoch_cache: dict[int, tuple[list, list]] = {}
    valid_loss = None
    while prog.step < stage.steps:
        if budget is not None and time.monotonic() - t0 > budget:
            log.info("duplex stage %s: time budget reached at step %d", stage.name, prog.step)
            break
        lr = stage.lr * lr_factor(prog.step, stage.warmup_steps, stage.steps, stage.min_lr_ratio, prog.elapsed_s,
                                  budget)
        epoch, index = divmod(prog.micro, per_epoch)
        if epoch not in epoch_cache:
            epoch_cache = {epoch: (examples(train, data, model, stage.pad_weight, recipe.seed, epoch),
                                   batches(len(train), stage.max_batch, recipe.seed, epoch))}
        items, plan = epoch_cache[epoch]
        ids, mask, weights = (t.to(accelerator.device) for t in collate([items[i] for i in plan[index]], pad))
        prog.micro += 1
        with accelerator.autocast():
            loss_sum, weight_sum = loss_module(ids, mask, weights)
            loss = loss_sum / weight_sum.clamp_min(1e-9)
        accelerator.backward(loss)
        if stage.clip > 0:
            accelerator.clip_grad_norm_(loss_module.parameters(), stage.clip)
        for group in optimizer.param_groups:
            group["lr"] = lr
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        prog.step += 1
        prog.tokens += int(mask.sum())
        prog.last_loss = float(loss.detach())
        prog.elapsed_s = time.monotonic() - t0
        bar.update(1)
        bar.set_postfix(loss=f"{prog.last_loss:.3f}", refresh=False)
        record = {"stage": stage.name, "step": prog.step, "loss": prog.last_loss, "lr": lr, "tokens": prog.tokens,
                  "elapsed_s": round(prog.elapsed_s, 1)}
        if valid_batches and prog.step % stage.eval_every == 0:
            valid_loss = evaluate(loss_module, valid_batches, accelerator)
            record["valid_loss"] = valid_loss
        if accelerator.is_main_process and (prog.step % stage.log_every == 0 or "valid_loss" in record
                                            or prog.step == 1):
            with metrics.open("a") as f:
                f.write(json.dumps(record) + "\n")
            log.info("%s", " ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in record.items()))
        if prog.step % stage.save_every == 0 and prog.step < stage.steps:
            save_checkpoint(accelerator, stage_dir, prog.step, prog)
    bar.close()
    if valid_batches:
        valid_loss = evaluate(loss_module, valid_batches, accelerator)
    accelerator.wait_for_everyone()
    final = stage_dir / FINAL
    if accelerator.is_main_process:
        model.model = accelerator.unwrap_model(loss_module).model
        model.model.eval()
        model.config.trained_with = {**model.config.trained_with, stage.name: {
            "steps": prog.step, "tokens": prog.tokens, "loss": round(prog.last_loss, 4),
            "valid_loss": None if valid_loss is None else round(valid_loss, 4), "minutes": round(prog.elapsed_s / 60, 1),
            "format": data.format, "select": data.select, "user_weight": data.user_weight,
            "train_dialogues": len(train)}}
        model.save(final)
        save_checkpoint(accelerator, stage_dir, prog.step, prog)
    log.info("duplex stage %s finished: %d steps, loss %.4f, valid %s", stage.name, prog.step, prog.last_loss,
             valid_loss)
    return StageResult(stage.name, prog.step, prog.tokens, prog.last_loss, valid_loss, prog.elapsed_s, str(final))


@torch.no_grad()
def evaluate(loss_module, batches_: list, accelerator) -> float:
    loss_module.eval()
    total = weight = 0.0
    for ids, mask, weights in batches_:
        with accelerator.autocast():
            s, w = loss_module(ids.to(accelerator.device), mask.to(accelerator.device), weights.to(accelerator.device))
        total += float(s)
        weight += float(w)
    loss_module.train()
    return total / max(weight, 1e-9)
