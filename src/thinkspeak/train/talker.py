"""Train the token Talker (Mini-Omni-Reasoner §4 stage 5: the Talker is trained last, apart from the Thinker).

The recipe (``kind: talker``) names a Talker dataset (``thinkspeak data talker``), the Talker's shape
(``talker:`` keys of :class:`~thinkspeak.model.talker.TalkerConfig`) and stages with the usual optimiser
keys. The loss is the cross-entropy of every audio stream (masked before its delay and after EOA) plus, with
the ``moshi`` alignment, the text slot's (PAD / EPAD / characters, so the Talker learns word timing). The
loop, checkpoints (Accelerate state + ``progress.json``), exact resume, time budget and learning-rate
schedule are the Thinker trainer's (:mod:`thinkspeak.train.trainer`); the log has one loss per codebook.
"""

from __future__ import annotations

import json
import logging
import random
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from thinkspeak.model.talker import Streams, Talker, TalkerConfig, build_streams
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
ROW_COLUMNS = ["id", "split", "words", "word_start", "codes", "frames", "codec"]


TRAINING_ONLY = ("input_noise", "trained_with")  # config keys a warm start may change


def talker_config(recipe: Recipe) -> TalkerConfig:
    keys = {k: v for k, v in recipe.talker.items() if k != "init"}
    return TalkerConfig.from_dict(keys, where=f"recipe {recipe.source or recipe.name}: talker")


def talker_init(recipe: Recipe) -> Path | None:
    """The Talker folder a recipe's ``talker: {init: ...}`` starts from (``shipped``: the packaged default)."""
    from thinkspeak.decode.talker import default_talker_path

    value = recipe.talker.get("init")
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise ValueError(f"recipe {recipe.name}: talker.init must be a Talker folder or 'shipped', got {value!r}")
    return default_talker_path() if value == "shipped" else Path(value)


def warm_start(init: Path, config: TalkerConfig) -> Talker:
    """The Talker saved in ``init``, checked to have ``config``'s shape; training-only keys come from ``config``."""
    from dataclasses import fields, replace

    talker = Talker.load(init)
    differ = [f.name for f in fields(TalkerConfig) if f.name not in TRAINING_ONLY
              and getattr(talker.config, f.name) != getattr(config, f.name)]
    if differ:
        raise ValueError(f"Talker {str(init)!r} differs from the recipe's talker config in {differ}")
    talker.config = replace(talker.config, input_noise=config.input_noise)
    return talker.train()


def load_checkpoint(run: str | Path, recipe: Recipe, checkpoint: str | Path | None = None) -> Talker:
    """The Talker of a training checkpoint (``checkpoint``, default the newest of the recipe's last started
    stage in run directory ``run``), for evaluating a run while it trains."""
    from safetensors.torch import load_file

    if checkpoint is None:
        for stage in reversed(recipe.stages):
            checkpoint = latest_checkpoint(Path(run) / stage.name)
            if checkpoint is not None:
                break
    if checkpoint is None or not (Path(checkpoint) / "model.safetensors").is_file():
        raise ValueError(f"no Talker checkpoint with model.safetensors in {str(run)!r} ({checkpoint})")
    talker = Talker(talker_config(recipe))
    state = load_file(str(Path(checkpoint) / "model.safetensors"))
    talker.load_state_dict({k.removeprefix("talker."): v for k, v in state.items()})
    return talker.eval()


def read_streams(corpus: str | Path, config: TalkerConfig, split: str, limit: int | None = None) -> list[Streams]:
    """The Talker streams of every row of ``split`` in a Talker dataset."""
    from thinkspeak.data import shards

    out = []
    k = len(config.codebook_sizes)
    for row in shards.iter_rows(Path(corpus), columns=ROW_COLUMNS):
        if row["split"] != split:
            continue
        if row["codec"] != config.codec:
            raise ValueError(f"corpus {str(corpus)!r} has {row['codec']} codes, the Talker config says {config.codec}")
        codes = np.asarray(row["codes"], dtype=np.int64).reshape(row["frames"], k)
        out.append(build_streams(config, row["words"], row["word_start"], codes))
        if limit is not None and len(out) >= limit:
            break
    if not out:
        raise ValueError(f"corpus {str(corpus)!r} has no {split!r} rows (thinkspeak data talker --out ...)")
    return out


@dataclass
class TalkerBatch:
    text: torch.Tensor      # [B, T]
    audio: torch.Tensor     # [B, T, S]
    mask: torch.Tensor      # [B, T, S] audio targets that count
    length: torch.Tensor    # [B]

    def to(self, device) -> TalkerBatch:
        return TalkerBatch(*(t.to(device) for t in (self.text, self.audio, self.mask, self.length)))


def collate(items: list[Streams], config: TalkerConfig) -> TalkerBatch:
    T = max(len(s.text) for s in items)
    S = len(config.stream_sizes)
    pad_a = np.array(config.stream_sizes) - 2
    text = np.zeros((len(items), T), dtype=np.int64)
    audio = np.tile(pad_a, (len(items), T, 1))
    mask = np.zeros((len(items), T, S), dtype=bool)
    for i, s in enumerate(items):
        n = len(s.text)
        text[i, :n], audio[i, :n], mask[i, :n] = s.text, s.audio, s.audio_mask
    length = torch.tensor([len(s.text) for s in items])
    return TalkerBatch(torch.from_numpy(text), torch.from_numpy(audio), torch.from_numpy(mask), length)


def epoch_batches(lengths: list[int], batch_tokens: int, max_batch: int, seed: int, epoch: int) -> list[list[int]]:
    """Length-bucketed batches of at most ``batch_tokens`` padded steps, shuffled by ``(seed, epoch)``."""
    rng = random.Random(f"talker:{seed}:{epoch}")
    order = sorted(range(len(lengths)), key=lambda i: (lengths[i], rng.random()))
    batches, cur = [], []
    for i in order:
        if cur and (len(cur) + 1) * lengths[i] > batch_tokens or len(cur) >= max_batch:
            batches.append(cur)
            cur = []
        cur.append(i)
    if cur:
        batches.append(cur)
    rng.shuffle(batches)
    return batches


def jitter(audio: torch.Tensor, config: TalkerConfig, p: float) -> torch.Tensor:
    """Training inputs with a share ``p`` of the codes moved to a neighbouring code (+-1 or 2; a 1-bit field
    flips), the targets unchanged: decoding feeds back its own samples, which miss by a code or two (Codec2's
    fields are ordered scalar indices), and a Talker that saw only exact histories drifts off after one miss
    (the overfit check in docs/talker.md: 97% teacher-forced field accuracy, free-running WER > 100%)."""
    n_codes = torch.tensor(config.codebook_sizes * config.frames_per_step, device=audio.device)
    is_code = audio < n_codes
    step = torch.randint(1, 3, audio.shape, device=audio.device) * (torch.randint(0, 2, audio.shape,
                                                                                  device=audio.device) * 2 - 1)
    moved = (audio + step).clamp(min=0)
    moved = torch.minimum(moved, n_codes - 1)
    moved = torch.where(moved == audio, audio + step.sign().neg(), moved).clamp(0)  # stuck at an edge: go back
    moved = torch.minimum(moved, n_codes - 1)
    hit = is_code & (torch.rand(audio.shape, device=audio.device) < p)
    return torch.where(hit, moved, audio)


class TalkerLoss(nn.Module):
    """Mean audio cross-entropy over counted targets (+ text slot CE for ``moshi``); per-codebook CE too."""

    def __init__(self, talker: Talker):
        super().__init__()
        self.talker = talker

    def forward(self, b: TalkerBatch) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        c = self.talker.config
        audio_in = jitter(b.audio[:, :-1], c, c.input_noise) if self.training and c.input_noise else b.audio[:, :-1]
        text_logits, audio_logits = self.talker(b.text[:, :-1], audio_in, targets=b.audio[:, 1:])
        per_stream = []
        for s, logits in enumerate(self.talker.split_audio(audio_logits)):
            m = b.mask[:, 1:, s]
            ce = F.cross_entropy(logits[m].float(), b.audio[:, 1:, s][m], reduction="mean")
            per_stream.append(ce)
        per_stream = torch.stack(per_stream)
        k = len(c.codebook_sizes)
        per_codebook = per_stream.view(c.frames_per_step, k).mean(0)
        loss = per_stream.mean()
        text_loss = torch.zeros((), device=loss.device)
        if c.alignment == "moshi":
            steps = torch.arange(b.text.shape[1] - 1, device=b.text.device)
            valid = steps[None] < (b.length[:, None] - 1)
            text_loss = F.cross_entropy(text_logits[valid].float(), b.text[:, 1:][valid])
        return loss + text_loss, per_codebook.detach(), text_loss.detach()


def train_talker_recipe(recipe: Recipe, out: str | Path, *, resume: bool = False, progress: bool = True
                        ) -> list[StageResult]:
    """Run the Talker recipe's stages in order; each starts from the previous stage's final Talker."""
    from accelerate import Accelerator

    out = Path(out)
    accelerator = Accelerator(mixed_precision=_mixed_precision(recipe))
    setup_logging(out, accelerator.is_main_process)
    config = talker_config(recipe)
    results, previous = [], talker_init(recipe)
    for stage in recipe.stages:
        stage_dir = out / stage.name
        if (stage_dir / FINAL / "talker.json").is_file():
            if not resume:
                raise ValueError(f"stage {stage.name!r} is already finished in {str(out)!r}; pass --resume")
            previous = stage_dir / FINAL
            continue
        results.append(train_talker_stage(recipe, config, stage, stage_dir, previous, accelerator, resume=resume,
                                          progress=progress))
        previous = stage_dir / FINAL
    return results


def train_talker_stage(recipe: Recipe, config: TalkerConfig, stage: StageConfig, stage_dir: Path,
                       init: Path | None, accelerator, *, resume: bool = False, progress: bool = True) -> StageResult:
    from tqdm import tqdm

    corpus = stage.corpus or recipe.corpus
    train = read_streams(corpus, config, "train")
    valid = read_streams(corpus, config, "valid", limit=stage.eval_samples) if stage.eval_samples else []
    ckpt = latest_checkpoint(stage_dir) if resume else None
    if ckpt is None and stage_dir.exists() and any(stage_dir.glob("checkpoints/step-*")) and not resume:
        raise ValueError(f"{str(stage_dir)!r} holds an unfinished stage; pass --resume or choose another --out")
    torch.manual_seed(recipe.seed)
    talker = warm_start(init, config) if init is not None else Talker(config)
    loss_module = TalkerLoss(talker)
    decay = [p for n, p in talker.named_parameters() if p.dim() >= 2 and "emb" not in n]
    rest = [p for n, p in talker.named_parameters() if not (p.dim() >= 2 and "emb" not in n)]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": stage.weight_decay},
                                   {"params": rest, "weight_decay": 0.0}], lr=stage.lr, betas=(0.9, 0.95))
    loss_module, optimizer = accelerator.prepare(loss_module, optimizer)
    prog = resume_progress(accelerator, ckpt, stage.name)
    lengths = [len(s.text) for s in train]
    n_params = sum(p.numel() for p in talker.parameters())
    log.info("talker stage %s: %d train / %d valid utterances, %d params, alignment %s, %d steps", stage.name,
             len(train), len(valid), n_params, config.alignment, stage.steps)
    valid_batches = [collate(valid[j:j + 16], config) for j in range(0, len(valid), 16)]
    metrics = stage_dir.parent / "metrics.jsonl"
    stage_dir.mkdir(parents=True, exist_ok=True)
    bar = tqdm(total=stage.steps, initial=prog.step, desc=stage.name, mininterval=5,
               disable=not (progress and accelerator.is_main_process))
    t0 = time.monotonic() - prog.elapsed_s
    budget = None if stage.max_minutes is None else 60 * stage.max_minutes
    valid_loss = None
    while prog.step < stage.steps:
        if budget is not None and time.monotonic() - t0 > budget:
            log.info("talker stage %s: time budget reached at step %d", stage.name, prog.step)
            break
        lr = stage.lr * lr_factor(prog.step, stage.warmup_steps, stage.steps, stage.min_lr_ratio, prog.elapsed_s,
                                  budget)
        epoch, index = divmod(prog.micro, len(epoch_batches(lengths, stage.batch_tokens, stage.max_batch,
                                                            recipe.seed, 0)))
        chosen = epoch_batches(lengths, stage.batch_tokens, stage.max_batch, recipe.seed, epoch)[index]
        batch = collate([train[i] for i in chosen], config).to(accelerator.device)
        prog.micro += 1
        with accelerator.autocast():
            loss, per_codebook, text_loss = loss_module(batch)
        accelerator.backward(loss)
        if stage.clip > 0:
            accelerator.clip_grad_norm_(loss_module.parameters(), stage.clip)
        for group in optimizer.param_groups:
            group["lr"] = lr
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        prog.step += 1
        prog.tokens += int(batch.length.sum())
        prog.last_loss = float(loss.detach())
        prog.elapsed_s = time.monotonic() - t0
        bar.update(1)
        bar.set_postfix(loss=f"{prog.last_loss:.3f}", refresh=False)
        record = {"stage": stage.name, "step": prog.step, "loss": prog.last_loss, "text_loss": float(text_loss),
                  "codebooks": [round(float(x), 4) for x in per_codebook], "lr": lr, "tokens": prog.tokens,
                  "elapsed_s": round(prog.elapsed_s, 1)}
        if valid_batches and (prog.step % stage.eval_every == 0 or prog.step == stage.steps):
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
        unwrapped = accelerator.unwrap_model(loss_module).talker
        trained = {**unwrapped.config.trained_with, stage.name: {
            "steps": prog.step, "tokens": prog.tokens, "loss": prog.last_loss, "valid_loss": valid_loss,
            "minutes": round(prog.elapsed_s / 60, 1), "train_utterances": len(train)}}
        object.__setattr__(unwrapped.config, "trained_with", trained)
        unwrapped.save(final)
        save_checkpoint(accelerator, stage_dir, prog.step, prog)
    log.info("talker stage %s finished: %d steps, loss %.4f, valid %s", stage.name, prog.step, prog.last_loss,
             valid_loss)
    return StageResult(stage.name, prog.step, prog.tokens, prog.last_loss, valid_loss, prog.elapsed_s, str(final))


@torch.no_grad()
def evaluate(loss_module, batches: list[TalkerBatch], accelerator) -> float:
    loss_module.eval()
    total = 0.0
    for b in batches:
        with accelerator.autocast():
            loss, _, _ = loss_module(b.to(accelerator.device))
        total += float(loss)
    loss_module.train()
    return total / len(batches)
