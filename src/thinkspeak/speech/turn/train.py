"""Recipe of the learned end-of-turn head (:mod:`.learned`): examples from the duplex corpus, features, fit.

Examples are the user side of the duplex corpus (:mod:`thinkspeak.data.duplex`): its spoken-math dialogues
(``make_dialogue`` with the corpus's turn kinds), each user utterance voiced with one of the corpus's user
voices **except flite** (held out for the benchmark, benchmarks/bench_turns.py), at -29..-19 dBFS in white,
pink or babble noise at 15-30 dB SNR, as the server hears it at a pause (up to 0.3 s of lead-in, 50-250 ms of
trailing noise after the last word):

* **complete**: a user turn or barge-in, whole;
* **incomplete**: the same turn cut where its energy dips between words or sentences (a pause inside a
  sentence, or between the sentences of a word problem);
* **other**: a backchannel of the corpus ("uh-huh", "okay", ...) or a :func:`synthetic_cough`;
* **lead sentences** (``leads``, off by default: measured no better, docs/results.md): a turn of several
  sentences that ends in a question, said only up to a sentence before the question ("Paintbrushes cost six dollars each." of a word problem), labelled incomplete: said alone, the
  statement ends with a finished sentence's fall, which a cut of the whole turn's audio at the same place
  (a dip) hears less clearly, and a word problem's first sentence is where a turn model cuts the user off
  (docs/results.md "Turn-taking");
* **prefixes** (``prefixes``, on by default): the first 0.6-1.0 s (``prefix_s``) of every user turn, barge-in
  and backchannel longer than that, labelled incomplete (a turn or barge-in) or other (a backchannel; each backchannel by an
  espeak-ng voice is also said slowly, 80-110 words a minute, whole and its prefix, since few backchannels
  last 0.6 s at the voices' own rates). The server's early
  barge-in verdict (``--barge-in-verdict-ms``) judges speech that is still going on; a head trained on
  whole clips only took the first 800 ms of a long "mm-hm" for an interruption (P(other) 0.007 where the
  whole clip scored 0.999, docs/results.md).

Features: :func:`.learned.pooled` Whisper-base encoder frames of the last 3 s. The head is fitted with torch
(class-balanced cross-entropy, AdamW), dialogues split 85/15 for validation, and written with its SHA256SUMS
and model card::

    nice -n 10 python -m thinkspeak.speech.turn.train --dialogues 240 --work runs/turn-learned \\
        [--shard i/N]     # features of every N-th dialogue only; run the N shards, then --fit
    python -m thinkspeak.speech.turn.train --work runs/turn-learned --fit --out src/thinkspeak/assets/turn-learned
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np

from thinkspeak.data.shards import ShardSpec
from thinkspeak.speech.turn.learned import CLASSES, WEIGHTS, WINDOW_S, pooled

RATE = 16000
TRAIN_VOICES = ("espeak:en-us+m3:rate=165:pitch=45", "espeak:en-us+f3:rate=160:pitch=60",
                "espeak:en-gb+m1:rate=175:pitch=40", "espeak:en-us+f4:rate=150:pitch=70", "festival:kal")
SEED = 1
COMPLETE, INCOMPLETE, OTHER = range(3)
PREFIX_S = (0.6, 1.0)  # the early barge-in verdict's span (--barge-in-verdict-ms, 800 ms) and around it


def synthetic_cough(rng: np.random.Generator, rate: int = RATE) -> np.ndarray:
    """A cough: one or two bursts of band-passed (300-3000 Hz) noise, each 10 ms onset and a 60-140 ms
    exponential decay, with a 100-200 Hz glottal buzz under the first; 0.25-0.6 s in all, peak 0.5."""
    from scipy.signal import butter, sosfilt

    sos = butter(2, [300, 3000], btype="bandpass", fs=rate, output="sos")
    parts = []
    for k in range(int(rng.integers(1, 3))):
        n = int(rng.uniform(0.18, 0.3) * rate)
        t = np.arange(n) / rate
        env = np.minimum(t / 0.01, 1.0) * np.exp(-t / rng.uniform(0.06, 0.14))
        burst = sosfilt(sos, rng.standard_normal(n)) * env
        if k == 0:
            burst += 0.3 * np.sin(2 * np.pi * rng.uniform(100, 200) * t) * env
        parts += [burst, np.zeros(int(rng.uniform(0.03, 0.1) * rate))]
    x = np.concatenate(parts)
    return (0.5 * x / np.abs(x).max()).astype(np.float32)


def dips(audio: np.ndarray, *, edge_s: float = 0.4, floor: float = 0.08) -> list[int]:
    """Samples where speech stops for >= 30 ms inside ``audio`` (10 ms RMS under ``floor`` x its 95th
    percentile), at least ``edge_s`` from either end: the inner pauses a VAD may take for an end of turn."""
    hop = RATE // 100
    n = audio.size // hop
    rms = np.sqrt((audio[: n * hop].reshape(n, hop) ** 2).mean(axis=1))
    quiet = rms < floor * np.percentile(rms, 95)
    out, run = [], 0
    for i, q in enumerate(quiet):
        run = run + 1 if q else 0
        if run == 3 and edge_s * 100 <= i - 2 <= n - edge_s * 100:
            out.append((i - 2) * hop)
    return out


def heard(speech: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``speech`` as the server hears it at a pause: lead-in, trailing silence, level, noise."""
    from thinkspeak.audio import add_noise, normalize_loudness

    x = np.concatenate([np.zeros(int(rng.uniform(0.0, 0.3) * RATE), np.float32), speech,
                        np.zeros(int(rng.uniform(0.05, 0.25) * RATE), np.float32)])
    x = normalize_loudness(x, RATE, float(rng.uniform(-29, -19)))
    return add_noise(x, float(rng.uniform(15, 30)), rng, kind=str(rng.choice(["white", "pink", "babble"])), sr=RATE)


def lead_sentences(text: str) -> list[str]:
    """The leading parts of ``text`` that end at a sentence before its closing question: for "A has 3. B has 4.
    How many?" -> ["A has 3.", "A has 3. B has 4."]; none when ``text`` does not end in "?" or is one sentence."""
    sentences = re.split(r"(?<=[.!])\s+", text.strip())
    if len(sentences) < 2 or not text.rstrip().endswith("?"):
        return []
    return [" ".join(sentences[:k]) for k in range(1, len(sentences))]


def prefix(speech: np.ndarray, rng: np.random.Generator, span: tuple[float, float] = PREFIX_S) -> np.ndarray | None:
    """The first ``span`` seconds of ``speech`` (drawn), or None when the speech is not 0.1 s longer."""
    n = int(rng.uniform(*span) * RATE)
    return speech[:n] if speech.size > n + RATE // 10 else None


@dataclass(frozen=True)
class ExampleRecipe:
    """What examples a dialogue gives (the defaults make the shipped head's): the corpus ``seed``, the user
    ``voices`` (one per dialogue in turn), ``prefixes`` of ``prefix_s`` seconds, and ``leads``."""

    seed: int = SEED
    voices: tuple[str, ...] = TRAIN_VOICES
    prefixes: bool = True
    prefix_s: tuple[float, float] = PREFIX_S
    leads: bool = False


class Example(NamedTuple):
    """One labelled clip as the server hears it; ``kind`` says how it was made (:data:`KINDS`) and ``seconds``
    how much speech it holds before the trailing silence (a prefix's length), so a fit can leave kinds out."""

    audio: np.ndarray
    label: int
    kind: str
    seconds: float


#: how an example was made: a user turn whole, cut at a dip, said up to a lead sentence, the first 0.6-1.0 s of
#: an utterance, a backchannel (at the voice's rate or slowly) and a synthetic cough
KINDS = ("whole", "cut", "lead", "prefix", "backchannel", "slow-backchannel", "cough")


def dialogue_examples(index: int, recipe: ExampleRecipe = ExampleRecipe()) -> list[Example]:
    """The labelled clips of dialogue ``index``: its user turns whole and cut at their dips (and, with
    ``recipe.leads``, said up to a lead sentence), its backchannels, one cough, and (``recipe.prefixes``) the
    first ``recipe.prefix_s`` seconds of each utterance longer than that."""
    from thinkspeak.data.dialogues import make_dialogue
    from thinkspeak.data.duplex.sample import voice
    from thinkspeak.data.duplex.timeline import dialogue_utterances

    rng = np.random.default_rng([recipe.seed, index])
    dialogue = make_dialogue(rng, exchanges=int(rng.integers(2, 5)), barge_in_share=0.2, backchannel_share=0.9)
    spec = recipe.voices[index % len(recipe.voices)]
    out: list[Example] = []

    def add(speech: np.ndarray, label: int, kind: str) -> None:
        out.append(Example(heard(speech, rng), label, kind, speech.size / RATE))

    add(synthetic_cough(rng), OTHER, "cough")
    for utterance in dialogue_utterances(dialogue):
        if utterance.role != "user":
            continue
        speech = voice(spec, utterance.spoken).pcm
        start = prefix(speech, rng, recipe.prefix_s) if recipe.prefixes else None
        if start is not None:
            add(start, OTHER if utterance.kind == "backchannel" else INCOMPLETE, "prefix")
        if utterance.kind == "backchannel":
            add(speech, OTHER, "backchannel")
            if recipe.prefixes and spec.startswith("espeak:"):  # drawn out ("mmm-hmm"): most are shorter than a prefix
                slow = voice(re.sub(r"rate=\d+", f"rate={int(rng.integers(80, 110))}", spec), utterance.spoken).pcm
                add(slow, OTHER, "slow-backchannel")
                start = prefix(slow, rng, recipe.prefix_s)
                if start is not None:
                    add(start, OTHER, "prefix")
            continue
        add(speech, COMPLETE, "whole")
        for cut in rng.permutation(dips(speech))[:3]:
            add(speech[:cut], INCOMPLETE, "cut")
        for lead in lead_sentences(utterance.spoken) if recipe.leads else ():
            add(voice(spec, lead).pcm, INCOMPLETE, "lead")
    return out


def extract(work: Path, dialogues: int, shard: ShardSpec, recipe: ExampleRecipe = ExampleRecipe()) -> Path:
    """Features, labels, kinds and speech lengths of this shard's dialogues -> ``work/features-i-of-N.npz``."""
    from thinkspeak.speech.encoder import WhisperEncoder

    encoder = WhisperEncoder(cpu_threads=1)
    xs, ys, groups, kinds, seconds = [], [], [], [], []
    for index in range(shard.index, dialogues, shard.count):
        for example in dialogue_examples(index, recipe):
            xs.append(pooled(encoder.features(example.audio[-int(WINDOW_S * RATE):])))
            ys.append(example.label)
            groups.append(index)
            kinds.append(example.kind)
            seconds.append(example.seconds)
        print(f"dialogue {index}: {len(ys)} examples", flush=True)
    work.mkdir(parents=True, exist_ok=True)
    path = work / f"features-{shard.index}-of-{shard.count}.npz"
    np.savez(path, x=np.stack(xs), y=np.array(ys), group=np.array(groups), kind=np.array(kinds),
             seconds=np.array(seconds, np.float32))
    return path


def load_features(work: Path, exclude: tuple[str, ...] = (), min_prefix_s: float = 0.0) -> tuple[np.ndarray, ...]:
    """(x, y, group) of every features file in ``work``, leaving out the examples of the kinds in ``exclude``
    and prefixes shorter than ``min_prefix_s`` (files written before kinds were recorded allow neither)."""
    unknown = sorted(set(exclude) - set(KINDS))
    if unknown:
        raise ValueError(f"exclude must name kinds among {list(KINDS)}, got {unknown}")
    files = sorted(work.glob("features-*.npz"))
    if not files:
        raise ValueError(f"work must hold features-*.npz (run without --fit first), got none in {work}")
    data = [np.load(f) for f in files]
    if (exclude or min_prefix_s > 0) and any("kind" not in d for d in data):
        old = [f.name for f, d in zip(files, data, strict=True) if "kind" not in d]
        raise ValueError(f"exclude / min_prefix_s need features files with kinds; {old} in {work} have none "
                         "(extract them again)")
    x = np.concatenate([d["x"] for d in data]).astype(np.float32)
    y = np.concatenate([d["y"] for d in data])
    group = np.concatenate([d["group"] for d in data])
    keep = np.ones(y.size, bool)
    if exclude or min_prefix_s > 0:
        kind = np.concatenate([d["kind"] for d in data])
        seconds = np.concatenate([d["seconds"] for d in data])
        keep = ~np.isin(kind, list(exclude)) & ~((kind == "prefix") & (seconds < min_prefix_s))
    return x[keep], y[keep], group[keep]


def fit(work: Path, out: Path, *, epochs: int = 400, hidden: int = 64, seed: int = 0, exclude: tuple[str, ...] = (),
        min_prefix_s: float = 0.0) -> dict:
    """Fit the head on the features in ``work`` (less ``exclude`` / short prefixes, :func:`load_features`);
    write ``out/head.npz``, SHA256SUMS and metrics."""
    import torch

    x, y, group = load_features(work, exclude, min_prefix_s)
    valid = (group * 2654435761 % 100) < 15
    mean, scale = x[~valid].mean(axis=0), x[~valid].std(axis=0) + 1e-4
    torch.manual_seed(seed)
    net = torch.nn.Sequential(torch.nn.Linear(x.shape[1], hidden), torch.nn.ReLU(), torch.nn.Dropout(0.2),
                              torch.nn.Linear(hidden, len(CLASSES)))
    xt = torch.from_numpy((x - mean) / scale)
    yt = torch.from_numpy(y).long()
    counts = np.bincount(y[~valid], minlength=len(CLASSES))
    loss_fn = torch.nn.CrossEntropyLoss(weight=torch.tensor(counts.sum() / (len(CLASSES) * counts), dtype=torch.float32))
    opt = torch.optim.AdamW(net.parameters(), lr=1e-3, weight_decay=0.05)
    train_idx = torch.from_numpy(np.flatnonzero(~valid))
    for _ in range(epochs):
        net.train()
        opt.zero_grad()
        loss = loss_fn(net(xt[train_idx]), yt[train_idx])
        loss.backward()
        opt.step()
    net.eval()
    with torch.no_grad():
        pred = net(xt).argmax(dim=1).numpy()
    metrics = {"examples": {"train": int((~valid).sum()), "valid": int(valid.sum())},
               "left_out": {"kinds": list(exclude), "prefixes_under_s": min_prefix_s},
               "class_counts": dict(zip(CLASSES, map(int, np.bincount(y, minlength=3)), strict=True)),
               "valid_accuracy": round(float((pred[valid] == y[valid]).mean()), 4),
               "valid_recall": {c: round(float((pred[valid & (y == k)] == k).mean()), 4) for k, c in enumerate(CLASSES)},
               "train_accuracy": round(float((pred[~valid] == y[~valid]).mean()), 4)}
    out.mkdir(parents=True, exist_ok=True)
    w1, b1, w2, b2 = (p.detach().numpy().astype(np.float32) for p in (net[0].weight.T, net[0].bias, net[3].weight.T,
                                                                      net[3].bias))
    np.savez(out / WEIGHTS, mean=mean.astype(np.float32), scale=scale.astype(np.float32), w1=w1, b1=b1, w2=w2, b2=b2)
    (out / "metrics.json").write_text(json.dumps(metrics, indent=1) + "\n")
    lines = [f"{hashlib.sha256((out / name).read_bytes()).hexdigest()}  {name}" for name in (WEIGHTS, "metrics.json")]
    (out / "SHA256SUMS").write_text("\n".join(lines) + "\n")
    return metrics


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, required=True, help="folder of the features files")
    parser.add_argument("--dialogues", type=int, default=240, help="duplex dialogues to draw examples from")
    parser.add_argument("--seed", type=int, default=SEED, help="corpus seed")
    parser.add_argument("--shard", type=ShardSpec.parse, default=ShardSpec(), help="i/N: every N-th dialogue")
    parser.add_argument("--no-prefixes", action="store_true",
                        help="leave out the utterances' first seconds (the head before the early barge-in verdict)")
    parser.add_argument("--prefix-s", default=f"{PREFIX_S[0]},{PREFIX_S[1]}", metavar="LO,HI",
                        help="span of the prefixes' lengths in s (default %(default)s)")
    parser.add_argument("--leads", action="store_true", help="add each word problem's lead sentences said alone")
    parser.add_argument("--voices", default=",".join(TRAIN_VOICES),
                        help="TTS voice specs of the user, one per dialogue in turn (keep flite out: the benchmarks')")
    parser.add_argument("--fit", action="store_true", help="fit the head on the features in --work")
    parser.add_argument("--out", type=Path, default=None, help="with --fit: the asset folder to write")
    parser.add_argument("--exclude", default="", help=f"with --fit: example kinds to leave out, comma-separated {KINDS}")
    parser.add_argument("--min-prefix-s", type=float, default=0.0, help="with --fit: leave out shorter prefixes")
    args = parser.parse_args(argv)
    if args.fit:
        if args.out is None:
            parser.error("--fit needs --out")
        exclude = tuple(k for k in args.exclude.split(",") if k)
        try:
            metrics = fit(args.work, args.out, exclude=exclude, min_prefix_s=args.min_prefix_s)
        except ValueError as exc:
            parser.error(str(exc))
        print(json.dumps(metrics, indent=1))
    else:
        if args.dialogues < 1:
            parser.error(f"--dialogues must be >= 1, got {args.dialogues}")
        voices = tuple(v for v in args.voices.split(",") if v)
        if not voices or any(v.startswith("flite") for v in voices):
            parser.error(f"--voices must name at least one voice and no flite voice (held out), got {args.voices!r}")
        try:
            lo, hi = (float(v) for v in args.prefix_s.split(","))
        except ValueError:
            parser.error(f"--prefix-s must be LO,HI in seconds, got {args.prefix_s!r}")
        if not 0.1 <= lo <= hi:
            parser.error(f"--prefix-s must have 0.1 <= LO <= HI, got {args.prefix_s!r}")
        recipe = ExampleRecipe(seed=args.seed, voices=voices, prefixes=not args.no_prefixes, prefix_s=(lo, hi),
                               leads=args.leads)
        print(extract(args.work, args.dialogues, args.shard, recipe))


if __name__ == "__main__":
    main()
