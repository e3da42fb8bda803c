"""Token Talker diagnosis (issue 11): teacher-forced vs free-running decoding, and the overfit check.

    python benchmarks/talker_diagnose.py --data data/talker --talker PATH --split train --n 5
    python benchmarks/talker_diagnose.py --data data/talker --overfit 10 --steps 100 [--config '{"input_noise": 0.15}']

Whisper-base round-trip WER on ``n`` utterances of one split of a Talker dataset, in one run:
* ``codec``: the teacher's own codes decoded (the ceiling);
* ``teacher_forced``: every step's argmax of each stream given the *true* history (text slot and audio) --
  what the Talker knows when it never has to live with its own choices;
* ``free_t0.7`` / ``free_greedy``: the Talker decoding on its own (:func:`thinkspeak.decode.talker.speak`,
  top-8 at temperature 0.7, and greedy).
With ``--overfit N`` it first trains a fresh Talker (the recipe ``talker``'s shape, ``--config`` overrides)
on the first ``N`` training utterances with the trainer's loss (:class:`thinkspeak.train.talker.TalkerLoss`),
full batch, and diagnoses it on those same utterances: a Talker that cannot speak its own training data when
free-running, while teacher forcing can, has a decoding problem, not a data problem.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
from bench_talker import RATE, wer


def rows_of(data: Path, split: str, n: int) -> list[dict]:
    from thinkspeak.data import shards

    cols = ["split", "words", "word_start", "codes", "frames", "text"]
    return [r for r in shards.iter_rows(data, columns=cols) if r["split"] == split][:n]


def codes_of(row: dict, k: int) -> np.ndarray:
    return np.asarray(row["codes"], dtype=np.int64).reshape(row["frames"], k)


@torch.no_grad()
def teacher_forced(talker, row: dict) -> np.ndarray:
    """The argmax codes ``[frames, K]`` of every stream given the true streams up to each step."""
    from thinkspeak.model.talker import build_streams

    c = talker.config
    k = len(c.codebook_sizes)
    s = build_streams(c, row["words"], row["word_start"], codes_of(row, k))
    text, audio = torch.from_numpy(s.text)[None], torch.from_numpy(s.audio)[None]
    _, logits = talker(text[:, :-1], audio[:, :-1], targets=audio[:, 1:])
    steps = -(-row["frames"] // c.frames_per_step)
    out = np.zeros((steps, len(c.stream_sizes)), dtype=np.int64)
    for j, (part, d, size) in enumerate(zip(talker.split_audio(logits[0]), c.stream_delays,
                                            c.codebook_sizes * c.frames_per_step, strict=True)):
        out[:, j] = part[d - 1:d - 1 + steps, :size].argmax(-1).numpy()  # logits at t predict step t + 1
    return out.reshape(-1, k)[:row["frames"]]


def overfit(rows: list[dict], steps: int, overrides: dict, lr: float = 2e-3):
    from thinkspeak.model.talker import Talker, TalkerConfig, build_streams
    from thinkspeak.train.recipe import load_recipe
    from thinkspeak.train.talker import TalkerLoss, collate, talker_config

    torch.manual_seed(0)
    base = talker_config(load_recipe("talker")).to_dict()
    c = TalkerConfig.from_dict({**base, **overrides})
    k = len(c.codebook_sizes)
    batch = collate([build_streams(c, r["words"], r["word_start"], codes_of(r, k)) for r in rows], c)
    talker = Talker(c)
    loss_module = TalkerLoss(talker).train()
    opt = torch.optim.AdamW(talker.parameters(), lr=lr, betas=(0.9, 0.95), weight_decay=0.0)
    t0 = time.monotonic()
    for step in range(steps):
        for g in opt.param_groups:  # warm-up, then cosine to 10%
            g["lr"] = lr * min(1.0, (step + 1) / 30) * (0.1 + 0.45 * (1 + np.cos(np.pi * step / steps)))
        loss, per_codebook, _ = loss_module(batch)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(talker.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        if step % 25 == 0 or step == steps - 1:
            print(json.dumps({"step": step + 1, "loss": round(float(loss), 4), "s": round(time.monotonic() - t0)}),
                  flush=True)
    return talker.eval()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("data/talker"))
    parser.add_argument("--talker", default=None, help="Talker folder (default: the shipped talker-default)")
    parser.add_argument("--split", default="train")
    parser.add_argument("--n", type=int, default=5)
    parser.add_argument("--overfit", type=int, default=0, metavar="N", help="train on N training utterances first")
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--config", default="{}", help="Talker config overrides for --overfit (JSON)")
    parser.add_argument("--save", type=Path, default=None, help="save the --overfit Talker here")
    args = parser.parse_args()
    torch.set_num_threads(1)

    from thinkspeak.codecs import get_codec
    from thinkspeak.decode.talker import TalkerOptions, TokenTalker, speak
    from thinkspeak.speech.asr import WhisperASR

    if args.overfit:
        rows = rows_of(args.data, "train", args.overfit)
        talker = overfit(rows, args.steps, json.loads(args.config))
        if args.save:
            talker.save(args.save)
        rows = rows[:args.n]
    else:
        talker = TokenTalker.load(args.talker).talker
        rows = rows_of(args.data, args.split, args.n)
    codec = get_codec(talker.config.codec)
    asr = WhisperASR(word_timestamps=False, window_s="auto")
    k = len(talker.config.codebook_sizes)
    hyps: dict[str, list[str]] = {"codec": [], "teacher_forced": [], "free_t0.7": [], "free_greedy": []}
    for r in rows:
        hyps["codec"].append(asr.transcribe(codec.decode(codes_of(r, k), RATE)).text)
        hyps["teacher_forced"].append(asr.transcribe(codec.decode(teacher_forced(talker, r), RATE)).text)
        hyps["free_t0.7"].append(asr.transcribe(speak(talker, codec, r["text"], RATE)).text)
        hyps["free_greedy"].append(asr.transcribe(speak(talker, codec, r["text"], RATE,
                                                        TalkerOptions(temperature=0))).text)
    refs = [r["text"] for r in rows]
    result = {"split": "train (overfit)" if args.overfit else args.split, "n": len(rows),
              "wer": {name: round(wer(refs, h), 4) for name, h in hyps.items()},
              "example": {"ref": refs[0], **{name: h[0] for name, h in hyps.items()}}}
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
