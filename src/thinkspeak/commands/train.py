"""``thinkspeak train``: run a staged recipe (Accelerate; wrap with ``accelerate launch`` for many GPUs)."""

from __future__ import annotations

import argparse


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "train",
        help="train the Thinker with a staged recipe",
        description="Train the Thinker with a staged recipe (built-in name or YAML path). Runs on CPU, one GPU, "
        "or many through `accelerate launch -m thinkspeak.cli train ...`.",
    )
    p.add_argument("--recipe", default="default", help="built-in recipe name or YAML file (default: default)")
    p.add_argument("--out", default=None, help="run directory (default: runs/<recipe name>)")
    p.add_argument("--resume", action="store_true", help="skip finished stages, resume the unfinished one")
    p.add_argument("--stages", nargs="+", default=None, metavar="NAME", help="run only these stages")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: the recipe's or torch's)")
    p.add_argument("--export", default=None, metavar="DIR",
                   help="after training, export the last finished stage to DIR (bf16 safetensors + SHA256SUMS)")
    p.add_argument("--export-only", action="store_true", help="do not train; only --export the last finished stage")
    p.add_argument("--checkpoint", type=int, default=None, metavar="STEP",
                   help="with --export: export the last finished stage as it was at its kept checkpoint STEP "
                        "(checkpoints/step-STEP) instead of its final weights")
    p.add_argument("--no-progress", action="store_true", help="no progress bar (the log file is still written)")
    p.set_defaults(func=run)


def command_line(args: argparse.Namespace, out) -> str:
    """The canonical command line of these options (recorded in the run directory and the model card)."""
    parts = ["thinkspeak train", f"--recipe {args.recipe}", f"--out {out}"]
    parts += ["--resume"] if args.resume else []
    parts += [f"--stages {' '.join(args.stages)}"] if args.stages else []
    parts += [f"--threads {args.threads}"] if args.threads else []
    parts += ["--no-progress"] if args.no_progress else []
    parts += [f"--export {args.export}"] if args.export else []
    parts += [f"--checkpoint {args.checkpoint}"] if args.checkpoint is not None else []
    return " ".join(parts)


# PyTorch's oneDNN/ideep caches keep one compiled kernel per input shape; with length-bucketed batches and
# bf16 autocast on CPU they grew by ~0.5 GB a minute here. Small caches bound the memory (measured: flat).
CPU_KERNEL_CACHES = {"LRU_CACHE_CAPACITY": "16", "ONEDNN_PRIMITIVE_CACHE_CAPACITY": "16"}


def run(args: argparse.Namespace) -> int:
    import os
    from pathlib import Path

    for key, value in CPU_KERNEL_CACHES.items():
        os.environ.setdefault(key, value)  # before torch is imported
    import torch

    from thinkspeak.train.export import COMMANDS_FILE, export_run
    from thinkspeak.train.recipe import load_recipe
    from thinkspeak.train.trainer import train_recipe

    recipe = load_recipe(args.recipe)
    out = Path(args.out or f"runs/{recipe.name}")
    threads = args.threads or recipe.threads
    if threads is not None:
        if threads < 1:
            raise ValueError(f"--threads must be >= 1, got {threads}")
        torch.set_num_threads(threads)
    if args.export_only and not args.export:
        raise ValueError("--export-only needs --export DIR")
    if args.checkpoint is not None and (not args.export or recipe.kind in ("talker", "duplex")):
        raise ValueError("--checkpoint needs --export DIR and a Thinker recipe")
    if recipe.kind in ("talker", "duplex"):
        return _run_other(args, recipe, out)
    if not args.export_only:
        out.mkdir(parents=True, exist_ok=True)
        with (out / COMMANDS_FILE).open("a") as f:
            f.write(command_line(args, out) + "\n")
        for r in train_recipe(recipe, out, resume=args.resume, only=args.stages, progress=not args.no_progress):
            valid = "n/a" if r.valid_loss is None else f"{r.valid_loss:.4f}"
            print(f"{r.name}: {r.steps} steps, {r.tokens} tokens, loss {r.loss:.4f}, valid {valid}, "
                  f"{r.elapsed_s / 60:.1f} min -> {r.final_dir}")
    if args.export:
        print(f"exported to {export_run(recipe, out, Path(args.export), checkpoint=args.checkpoint)}")
    return 0


def _run_other(args: argparse.Namespace, recipe, out) -> int:
    """Train (and export) a recipe of kind ``talker`` or ``duplex``: each has its trainer and its export."""
    from pathlib import Path

    from thinkspeak.train.export import COMMANDS_FILE

    if recipe.kind == "talker":
        from thinkspeak.train.talker import train_talker_recipe as train
        from thinkspeak.train.talker_export import export_talker as export
    else:
        from thinkspeak.train.duplex import train_duplex_recipe as train
        from thinkspeak.train.duplex_export import export_duplex as export
    if not args.export_only:
        out.mkdir(parents=True, exist_ok=True)
        with (out / COMMANDS_FILE).open("a") as f:
            f.write(command_line(args, out) + "\n")
        for r in train(recipe, out, resume=args.resume, progress=not args.no_progress):
            valid = "n/a" if r.valid_loss is None else f"{r.valid_loss:.4f}"
            print(f"{r.name}: {r.steps} steps, loss {r.loss:.4f}, valid {valid}, {r.elapsed_s / 60:.1f} min")
    if args.export:
        print(f"exported to {export(recipe, out, Path(args.export))}")
    return 0
