"""One trainer for every stage, on Hugging Face Accelerate (CPU, one GPU, DDP/FSDP via ``accelerate launch``).

Per stage (Mini-Omni §3.4, Mini-Omni-Reasoner §4): the model starts from the previous stage's final
weights (or the recipe's ``model.init``), the stage's ``train`` list decides what is trainable
(``backbone`` and/or ``adapter``), examples mix the stage's modes, and the loss is the weighted next-token
loss of :mod:`thinkspeak.train.examples` (no loss on prompts or audio; pads down-weighted). AdamW, cosine
learning rate with linear warm-up, gradient accumulation, gradient clipping, bf16 autocast on GPU.

Run directory ``OUT``::

    OUT/train.log, OUT/metrics.jsonl             human log and one JSON line per logged step
    OUT/<stage>/start/                            the Thinker the stage started from (incl. tokenizer)
    OUT/<stage>/checkpoints/step-NNNNNN/          Accelerate state: model, optimizer, RNG, progress
                                                  (the last two are kept, also after the stage finishes)
    OUT/<stage>/final/                            the stage's Thinker (the next stage starts here)

Resume is exact: the batches are a pure function of (seed, epoch) and the progress counter says how many
were consumed, and Accelerate restores the model, optimizer and RNG states and the progress counters (the
learning rate is a function of them), so the next step computes the same loss as an uninterrupted run would.
With a time budget (``max_minutes``) the learning rate also follows elapsed time, see :func:`lr_factor`.
"""

from __future__ import annotations

import json
import logging
import math
import shutil
import time
from contextlib import nullcontext
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from thinkspeak.model.adapter import AdapterConfig
from thinkspeak.model.thinker import BackboneShape, Thinker, ThinkerConfig
from thinkspeak.train.batches import Batch, EpochPlan, bucket_batches, collate, plan_examples
from thinkspeak.train.corpus import MathSample, read_samples
from thinkspeak.train.examples import encode_samples
from thinkspeak.train.features import FeatureStore, precompute_features, whisper_store
from thinkspeak.train.lora import add_lora, merged_state_dict
from thinkspeak.train.recipe import Recipe, StageConfig

log = logging.getLogger("thinkspeak.train")
FINAL = "final"
START = "start"


class WeightedLMLoss(nn.Module):
    """``sum(w * CE) , sum(w)`` of next-token prediction; only targets with weight > 0 reach the LM head."""

    def __init__(self, thinker: Thinker):
        super().__init__()
        self.thinker = thinker

    def forward(self, input_ids, attention_mask, weights, features=()) -> tuple[torch.Tensor, torch.Tensor]:
        hidden = self.thinker(input_ids, attention_mask, features)
        w = weights[:, 1:]
        sel = w > 0
        logits = self.thinker.model.lm_head(hidden[:, :-1][sel])
        ce = F.cross_entropy(logits.float(), input_ids[:, 1:][sel], reduction="none")
        return (ce * w[sel]).sum(), w[sel].sum()


@dataclass
class Progress:
    """Counters saved with every checkpoint, as ``progress.json`` beside Accelerate's state.

    Not registered with ``Accelerator.register_for_checkpointing``: one Accelerator serves every stage of a
    run, and registrations accumulate, so a later stage's checkpoint would hold earlier stages' counters and
    refuse to load in a process that resumes straight into that stage.
    """

    step: int = 0
    micro: int = 0
    tokens: int = 0
    elapsed_s: float = 0.0
    last_loss: float = float("nan")

    def state_dict(self) -> dict:
        return asdict(self)

    def load_state_dict(self, state: dict) -> None:
        for k, v in state.items():
            setattr(self, k, v)


@dataclass
class StageResult:
    name: str
    steps: int
    tokens: int
    loss: float
    valid_loss: float | None
    elapsed_s: float
    final_dir: str


def lr_factor(step: int, warmup: int, total: int, min_ratio: float, elapsed_s: float = 0.0,
              budget_s: float | None = None) -> float:
    """Linear warm-up to 1 over ``warmup`` steps, then cosine decay to ``min_ratio``.

    The decay's progress is the step fraction, or the elapsed fraction of a time budget when that is larger,
    so a run cut by its time budget on a slow or shared machine still ends annealed.
    """
    if step < warmup:
        return (step + 1) / warmup
    t = (step - warmup) / max(1, total - warmup)
    if budget_s is not None:
        t = max(t, elapsed_s / budget_s)
    t = min(1.0, t)
    return min_ratio + (1 - min_ratio) * 0.5 * (1 + math.cos(math.pi * t))


def corpus_texts(samples: list[MathSample]):
    for s in samples:
        yield s.question
        yield " ".join(s.reasoning)
        yield " ".join(s.response)


def initial_thinker(recipe: Recipe, samples: list[MathSample]) -> Thinker:
    """Build the recipe's starting Thinker: from scratch (tokenizer trained on ``samples``), the shipped default
    or a local folder; with ``model.tools`` the tool-call tokens are added."""
    m = recipe.model
    adapter = AdapterConfig(feature_dim=m.feature_dim, stack=m.stack, hidden_dim=m.adapter_hidden, out_dim=m.d_model)
    if m.init != "scratch":
        thinker = Thinker.load(None if m.init == "default" else m.init)
    else:
        from thinkspeak.model.tokenizer import train_tokenizer

        tokenizer = train_tokenizer(corpus_texts(samples), vocab_size=m.vocab_size)
        shape = BackboneShape(layers=m.layers, d_model=m.d_model, heads=m.heads, kv_heads=m.kv_heads, ffn=m.ffn,
                              max_positions=m.max_positions)
        thinker = Thinker.build(tokenizer, shape, ThinkerConfig(p=recipe.p, q=recipe.q, adapter=adapter),
                                seed=recipe.seed)
    if m.tools:
        thinker.add_tool_tokens()
    return thinker


def set_trainable(thinker: Thinker, train: tuple[str, ...]) -> list[nn.Parameter]:
    """Freeze everything not named in ``train`` ('backbone', 'adapter'); return the trainable parameters."""
    for p in thinker.model.parameters():
        p.requires_grad_("backbone" in train)
    if thinker.adapter is not None:
        for p in thinker.adapter.parameters():
            p.requires_grad_("adapter" in train)
    params = [p for p in thinker.parameters() if p.requires_grad]
    if not params:
        raise ValueError(f"train {list(train)} leaves nothing trainable (this Thinker has no adapter?)")
    return params


def make_optimizer(thinker: Thinker, stage: StageConfig) -> torch.optim.Optimizer:
    decay, no_decay = [], []
    for name, p in thinker.named_parameters():
        if not p.requires_grad:
            continue
        (decay if p.dim() >= 2 and "embed" not in name else no_decay).append(p)
    groups = [{"params": decay, "weight_decay": stage.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.AdamW([g for g in groups if g["params"]], lr=stage.lr, betas=(0.9, 0.95))


class StageData:
    """The stage's encoded samples and the per-epoch batch plans this process reads, by micro-step."""

    def __init__(self, thinker: Thinker, recipe: Recipe, stage: StageConfig, samples: list[MathSample],
                 store: FeatureStore | None, rank: int, world: int):
        self.recipe, self.stage, self.store = recipe, stage, store
        self.ids = thinker.ids
        self.rank, self.world = rank, world
        self.encoded = encode_samples(thinker.tokenizer, samples)
        self.positions = (store.audio_positions([s.id for s in samples], thinker.config.adapter.stack)
                          if store is not None else {})
        if stage.audio > 0 and not self.positions:
            raise ValueError(f"stage {stage.name!r} has audio={stage.audio} but no sample has cached audio features")
        self._epoch: int | None = None
        self._plan: EpochPlan | None = None
        self._batches: list[list[int]] = []
        self._counts: list[int] = []  # micro-batches per process of epochs 0, 1, ... (they vary with the draws)
        self._cursor = (0, 0)  # (epoch, its first micro-batch) of the last lookup
        self.per_epoch = self._count(0)
        if self.per_epoch < 1:
            raise ValueError(f"stage {stage.name!r}: too few samples ({len(samples)}) for {world} processes")

    def _batches_of(self, epoch: int) -> list[list[int]]:
        if self._epoch != epoch:
            s = self.stage
            self._plan = EpochPlan(self.encoded, self.ids, modes=s.modes, audio=s.audio, seed=self.recipe.seed,
                                   epoch=epoch, p=self.recipe.p, q=self.recipe.q, pad_weight=s.pad_weight,
                                   history_prob=s.history_prob, audio_positions=self.positions)
            self._batches = bucket_batches(self._plan.lengths, s.batch_tokens, s.max_batch, self.recipe.seed, epoch)
            self._epoch = epoch
        return self._batches

    def _count(self, epoch: int) -> int:
        while len(self._counts) <= epoch:
            self._counts.append(len(self._batches_of(len(self._counts))) // self.world)
        return self._counts[epoch]

    def locate(self, micro: int) -> tuple[int, int]:
        """``(epoch, index)`` of global micro-batch ``micro``: epochs hold different numbers of batches (each
        epoch redraws modes, audio and history, hence lengths and buckets), so this walks the epochs' counts,
        a pure function of the recipe -- resuming at ``micro`` lands on the same batch."""
        epoch, start = self._cursor if micro >= self._cursor[1] else (0, 0)
        while micro >= start + self._count(epoch):
            start += self._count(epoch)
            epoch += 1
        self._cursor = (epoch, start)
        return epoch, micro - start

    def batch(self, micro: int) -> Batch:
        epoch, index = self.locate(micro)
        chosen = self._batches_of(epoch)[index * self.world + self.rank]
        return collate([self._plan.example(i) for i in chosen], self.ids.pad,
                       self.store.load if self.store is not None else None)


def _saved_progress(ckpt: Path) -> dict:
    if not (ckpt / "progress.json").is_file():
        raise ValueError(f"checkpoint {str(ckpt)!r} has no progress.json (it was written by an older thinkspeak)")
    return json.loads((ckpt / "progress.json").read_text())


def resume_progress(accelerator: Any, ckpt: Path | None, stage_name: str) -> Progress:
    """Fresh progress counters, or those of checkpoint ``ckpt`` with the Accelerator's state loaded from it."""
    prog = Progress()
    if ckpt is None:
        return prog
    saved = _saved_progress(ckpt)
    accelerator.load_state(str(ckpt))
    prog.load_state_dict(saved)
    log.info("stage %s: resumed from %s at step %d", stage_name, ckpt, prog.step)
    return prog


def latest_checkpoint(stage_dir: Path) -> Path | None:
    ckpts = sorted((stage_dir / "checkpoints").glob("step-*"))
    return ckpts[-1] if ckpts else None


def _mixed_precision(recipe: Recipe) -> str:
    if recipe.mixed_precision != "auto":
        return recipe.mixed_precision
    if torch.cuda.is_available():
        return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    # CPUs with AVX512-BF16/AMX run bf16 autocast ~2.5x faster than fp32 (measured: docs/training.md).
    return "bf16" if torch.ops.mkldnn._is_mkldnn_bf16_supported() else "no"


def setup_logging(out: Path, main: bool) -> None:
    out.mkdir(parents=True, exist_ok=True)
    logger = logging.getLogger("thinkspeak")
    logger.setLevel(logging.INFO)
    if main and not any(getattr(h, "_thinkspeak_run", None) == str(out) for h in logger.handlers):
        handler = logging.FileHandler(out / "train.log")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        handler._thinkspeak_run = str(out)  # type: ignore[attr-defined]
        logger.addHandler(handler)


def train_recipe(recipe: Recipe, out: str | Path, *, resume: bool = False, only: list[str] | None = None,
                 progress: bool = True) -> list[StageResult]:
    """Run the recipe's stages in order (or just ``only``); finished stages are skipped when resuming."""
    from accelerate import Accelerator, DistributedDataParallelKwargs

    out = Path(out)
    names = [s.name for s in recipe.stages]
    if only:
        bad = [n for n in only if n not in names]
        if bad:
            raise ValueError(f"stages {bad} are not in recipe {recipe.name!r}; its stages are {names}")
    # cpu=True on a machine without CUDA: only then does Accelerate join processes started by torchrun as
    # MULTI_CPU (gloo); without it every process would train alone as if it were the only one.
    # find_unused_parameters: a batch of typed questions leaves the audio adapter without gradients.
    accelerator = Accelerator(mixed_precision=_mixed_precision(recipe), cpu=not torch.cuda.is_available(),
                              kwargs_handlers=[DistributedDataParallelKwargs(find_unused_parameters=True)])
    for stage in recipe.stages:
        if not only or stage.name in only:
            accumulation(stage, accelerator.num_processes)
    setup_logging(out, accelerator.is_main_process)
    if accelerator.is_main_process:
        (out / "recipe.json").write_text(json.dumps(_recipe_dict(recipe), indent=2) + "\n")
    results = []
    previous: Path | None = None
    for i, stage in enumerate(recipe.stages):
        stage_dir = out / stage.name
        final = stage_dir / FINAL
        if only and stage.name not in only:
            previous = final if (final / "thinker.json").is_file() else previous
            continue
        if (final / "thinker.json").is_file():
            if not resume:
                raise ValueError(f"stage {stage.name!r} is already finished in {str(out)!r}; pass --resume to "
                                 "skip finished stages or choose another --out")
            log.info("stage %s already finished, skipping", stage.name)
            previous = final
            continue
        if i > 0 and previous is None:
            raise ValueError(f"stage {stage.name!r} needs the previous stage {recipe.stages[i - 1].name!r} finished")
        results.append(train_stage(recipe, stage, stage_dir, previous, accelerator, resume=resume,
                                   progress=progress))
        previous = final
    return results


def accumulation(stage: StageConfig, processes: int) -> int:
    """Micro-batches each process accumulates per optimizer step: ``global_batch / processes`` when the stage
    fixes a global batch (which the process count must divide), else ``grad_accum``."""
    if stage.global_batch is None:
        return stage.grad_accum
    if stage.global_batch % processes:
        raise ValueError(f"stage {stage.name!r}: global_batch {stage.global_batch} must be divisible by the number "
                         f"of processes, got {processes} processes")
    return stage.global_batch // processes


def _recipe_dict(recipe: Recipe) -> dict:
    d = asdict(recipe)
    d["stages"] = [asdict(s) for s in recipe.stages]
    return d


def _feature_store(recipe: Recipe, stage: StageConfig, corpus: str, ids: set[str], accelerator) -> FeatureStore | None:
    if stage.audio <= 0:
        return None
    encoder, store = whisper_store(recipe.feature_cache)
    if accelerator.is_main_process:
        precompute_features(corpus, store, encoder, ids)
    accelerator.wait_for_everyone()
    return store


def train_stage(recipe: Recipe, stage: StageConfig, stage_dir: Path, init: Path | None, accelerator, *,
                resume: bool = False, progress: bool = True) -> StageResult:
    """Train one stage to ``stage.steps`` optimizer steps (or ``stage.max_minutes``) and save its final Thinker."""
    from tqdm import tqdm

    corpus = stage.corpus or recipe.corpus
    samples = read_samples(corpus, "train")
    valid = read_samples(corpus, "valid", limit=stage.eval_samples) if stage.eval_samples else []
    if stage.audio > 0:
        samples = [s for s in samples if s.has_audio] or samples
        valid = [s for s in valid if s.has_audio]
    ckpt = latest_checkpoint(stage_dir) if resume else None
    start_dir = stage_dir / START
    if ckpt is not None or (resume and (start_dir / "thinker.json").is_file()):
        thinker = Thinker.load(start_dir)
    else:
        if stage_dir.exists() and any(stage_dir.iterdir()) and not resume:
            raise ValueError(f"{str(stage_dir)!r} holds an unfinished stage; pass --resume or choose another --out")
        thinker = Thinker.load(init) if init is not None else initial_thinker(recipe, samples)
        if accelerator.is_main_process:
            thinker.save(start_dir)
        accelerator.wait_for_everyone()
    # With a global batch, batches are indexed globally (as one process would read them), see _optimizer_step.
    rank, world = ((0, 1) if stage.global_batch is not None
                   else (accelerator.process_index, accelerator.num_processes))
    if stage.dpo is not None:  # on-policy sampling with the weights the stage starts from
        from thinkspeak.train.dpo import DPOLoss, PairData, prepare_pairs

        pairs, reference = prepare_pairs(thinker, samples, stage.dpo, stage_dir, mode=next(iter(stage.modes)),
                                         p=recipe.p, q=recipe.q, seed=recipe.seed, pad_weight=stage.pad_weight,
                                         accelerator=accelerator, progress=progress)
    thinker.train()
    params = set_trainable(thinker, stage.train)
    if stage.lora is not None:
        add_lora(thinker.model, stage.lora)
        params = [p for p in thinker.parameters() if p.requires_grad]
    if stage.dpo is not None:
        data = PairData(pairs, reference, thinker.ids, stage.pad_weight, stage.max_batch, recipe.seed, rank, world,
                        stage.name)
        loss_module, valid_batches = DPOLoss(thinker, stage.dpo.beta, stage.dpo.nll), []
    else:
        store = _feature_store(recipe, stage, corpus, {s.id for s in samples} | {s.id for s in valid}, accelerator)
        data = StageData(thinker, recipe, stage, samples, store, rank, world)
        valid_batches = _valid_batches(thinker, recipe, stage, valid, store)
        loss_module = WeightedLMLoss(thinker)
    optimizer = make_optimizer(thinker, stage)
    accelerator.free_memory()
    loss_module, optimizer = accelerator.prepare(loss_module, optimizer)
    prog = resume_progress(accelerator, ckpt, stage.name)
    n_params = sum(p.numel() for p in params)
    log.info("stage %s: %d train samples, %d batches/epoch/process, %d trainable params, modes %s, audio %.2f, "
             "%d steps on %d processes", stage.name, len(samples), data.per_epoch, n_params, stage.modes, stage.audio,
             stage.steps, accelerator.num_processes)

    metrics = stage_dir.parent / "metrics.jsonl"
    bar = tqdm(total=stage.steps, initial=prog.step, desc=stage.name, mininterval=2,
               disable=not (progress and accelerator.is_main_process))
    t0 = time.monotonic() - prog.elapsed_s
    window_tokens, window_t = 0, time.monotonic()
    valid_loss = None
    while prog.step < stage.steps:
        if stage.max_minutes is not None and time.monotonic() - t0 > 60 * stage.max_minutes:
            log.info("stage %s: time budget of %.1f min reached at step %d", stage.name, stage.max_minutes, prog.step)
            break
        lr = stage.lr * lr_factor(prog.step, stage.warmup_steps, stage.steps, stage.min_lr_ratio, prog.elapsed_s,
                                  None if stage.max_minutes is None else 60 * stage.max_minutes)
        loss_value, step_tokens = _optimizer_step(accelerator, loss_module, optimizer, lr, data, prog, stage)
        prog.step += 1
        prog.tokens += step_tokens
        prog.last_loss = loss_value
        prog.elapsed_s = time.monotonic() - t0
        window_tokens += step_tokens
        now = time.monotonic()
        tok_s = window_tokens / max(1e-9, now - window_t)
        bar.update(1)
        bar.set_postfix(loss=f"{loss_value:.3f}", tok_s=f"{tok_s:.0f}", refresh=False)
        record = {"stage": stage.name, "step": prog.step, "loss": loss_value, "lr": lr,
                  "tokens": prog.tokens, "tokens_per_s": round(tok_s, 1), "elapsed_s": round(prog.elapsed_s, 1)}
        if stage.eval_every and (prog.step % stage.eval_every == 0 or prog.step == stage.steps) and valid_batches:
            valid_loss = evaluate(loss_module, valid_batches, accelerator)
            record["valid_loss"] = valid_loss
        if prog.step % stage.log_every == 0 or "valid_loss" in record or prog.step == 1:
            window_tokens, window_t = 0, now
            if accelerator.is_main_process:
                with metrics.open("a") as f:
                    f.write(json.dumps(record) + "\n")
                log.info("%s", " ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                                        for k, v in record.items()))
        if prog.step % stage.save_every == 0 and prog.step < stage.steps:
            save_checkpoint(accelerator, stage_dir, prog.step, prog)
    bar.close()
    final = stage_dir / FINAL
    accelerator.wait_for_everyone()
    state = accelerator.get_state_dict(loss_module)  # every process takes part (gathers FSDP shards)
    if stage.lora is not None and accelerator.is_main_process:
        state = merged_state_dict(state, stage.lora)
    if accelerator.is_main_process:
        unwrapped = accelerator.unwrap_model(loss_module).thinker
        unwrapped.config.trained_with = {**unwrapped.config.trained_with,
                                         stage.name: {"steps": prog.step, "tokens": prog.tokens,
                                                      "loss": prog.last_loss, "valid_loss": valid_loss}}
        unwrapped.save(final, state_dict={k.removeprefix("thinker."): v for k, v in state.items()})
    accelerator.wait_for_everyone()
    log.info("stage %s finished: %d steps, %d tokens, loss %.4f, valid %s, %.0f s", stage.name, prog.step,
             prog.tokens, prog.last_loss, valid_loss, prog.elapsed_s)
    return StageResult(stage.name, prog.step, prog.tokens, prog.last_loss, valid_loss, prog.elapsed_s, str(final))


def _optimizer_step(accelerator, loss_module, optimizer, lr: float, data: StageData, prog: Progress,
                    stage: StageConfig) -> tuple[float, int]:
    """One optimizer step over ``grad_accum`` micro-batches; returns (mean loss, tokens processed)."""
    total_loss = 0.0
    tokens = 0
    accum = accumulation(stage, accelerator.num_processes)
    for k in range(accum):
        # global batch: step s reads global micro-batches s*G .. s*G+G-1, process r every world-th from r
        micro = (prog.micro if stage.global_batch is None
                 else prog.step * stage.global_batch + k * accelerator.num_processes + accelerator.process_index)
        batch = data.batch(micro).to(accelerator.device)
        prog.micro += 1
        sync = k == accum - 1
        with (nullcontext() if sync else accelerator.no_sync(loss_module)), accelerator.autocast():
            loss_sum, weight_sum = loss_module(*batch.inputs())
            loss = loss_sum / weight_sum.clamp_min(1e-9)
        accelerator.backward(loss / accum)
        total_loss += loss.detach().float() / accum
        tokens += batch.tokens
    if stage.clip > 0:
        accelerator.clip_grad_norm_(loss_module.parameters(), stage.clip)
    for group in optimizer.param_groups:
        group["lr"] = lr
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    mean_loss = float(accelerator.reduce(total_loss.reshape(1), reduction="mean"))  # over processes
    all_tokens = int(accelerator.reduce(torch.tensor([tokens], device=accelerator.device), reduction="sum"))
    return mean_loss, all_tokens


def _valid_batches(thinker: Thinker, recipe: Recipe, stage: StageConfig, valid: list[MathSample],
                   store: FeatureStore | None) -> list[Batch]:
    if not valid:
        return []
    encoded = encode_samples(thinker.tokenizer, valid)
    positions = store.audio_positions([s.id for s in valid], thinker.config.adapter.stack) if store else {}
    examples = plan_examples(encoded, thinker.ids, modes=stage.modes, audio=stage.audio, seed=recipe.seed + 1,
                             epoch=0, p=recipe.p, q=recipe.q, pad_weight=stage.pad_weight, history_prob=0.0,
                             audio_positions=positions)
    order = sorted(range(len(examples)), key=lambda i: len(examples[i]))
    return [collate([examples[i] for i in order[j:j + 32]], thinker.ids.pad, store.load if store else None)
            for j in range(0, len(order), 32)]


@torch.no_grad()
def evaluate(loss_module, batches: list[Batch], accelerator) -> float:
    """Weighted validation loss over fixed batches (every process computes it; it is small)."""
    loss_module.eval()
    total = weight = 0.0
    for b in batches:
        b = b.to(accelerator.device)
        with accelerator.autocast():
            s, w = loss_module(*b.inputs())
        total += float(s)
        weight += float(w)
    loss_module.train()
    return total / max(weight, 1e-9)


def save_checkpoint(accelerator, stage_dir: Path, step: int, prog: Progress, keep: int = 2) -> Path:
    """Accelerate state (model, optimizer, RNG) and ``progress.json`` under ``checkpoints/step-NNNNNN``."""
    path = stage_dir / "checkpoints" / f"step-{step:06d}"
    accelerator.save_state(str(path))
    if accelerator.is_main_process:
        (path / "progress.json").write_text(json.dumps(prog.state_dict()) + "\n")
        for old in sorted((stage_dir / "checkpoints").glob("step-*"))[:-keep]:
            shutil.rmtree(old, ignore_errors=True)
        log.info("checkpoint %s", path)
    return path
