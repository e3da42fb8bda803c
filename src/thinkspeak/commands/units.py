"""``thinkspeak units``: fit speech units on the duplex corpus and encode audio files into units (issue 13).

    thinkspeak units fit --out DIR [--n-units 500] [--feature logmel|whisper] [--minutes M] [--shard i/N]
    thinkspeak units encode AUDIO.wav [--units DIR] [--json]

``fit --shard i/N`` only extracts that shard's features into ``DIR/features``; ``fit`` without ``--shard``
extracts what is missing of shard 0/1 unless a complete sharded set is there, clusters, and writes the unit
folder (centroids.npy, config.json, README.md model card, SHA256SUMS) to ``DIR``.
"""

from __future__ import annotations

import argparse
import json
import sys


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("units", help="fit speech units (25 Hz, k-means) and encode audio into units")
    sub = parser.add_subparsers(dest="units_command", required=True, metavar="UNITS")
    fit = sub.add_parser("fit", help="fit a unit model on the pseudo full-duplex corpus (flite voices held out)")
    fit.add_argument("--out", required=True, metavar="DIR", help="unit model folder to write")
    fit.add_argument("--n-units", type=int, default=500, help="vocabulary size (default 500, SyncLLM ~501)")
    fit.add_argument("--feature", default="logmel", choices=("logmel", "whisper"), help="frame features (default logmel: see docs/units.md)")
    fit.add_argument("--minutes", type=float, default=30.0, help="minutes of corpus audio to fit on (default 30)")
    fit.add_argument("--seed", type=int, default=13, help="corpus seed and k-means seed (default 13)")
    fit.add_argument("--niter", type=int, default=20, help="k-means iterations (default 20)")
    fit.add_argument("--shard", default=None, metavar="i/N", help="only extract the features of job i of N")
    fit.set_defaults(func=_fit)
    enc = sub.add_parser("encode", help="print the units of an audio file (one per 40 ms)")
    enc.add_argument("audio", metavar="AUDIO", help="audio file (WAV/FLAC/...; resampled to 16 kHz; mono)")
    enc.add_argument("--units", default=None, metavar="DIR", help="unit model folder (default: the shipped units-default)")
    enc.add_argument("--json", action="store_true", help="print one JSON object instead of space-separated units")
    enc.set_defaults(func=_encode)


def _fit(args: argparse.Namespace) -> int:
    from pathlib import Path

    from thinkspeak.data.shards import ShardSpec
    from thinkspeak.units.card import model_card
    from thinkspeak.units.features import FeatureConfig
    from thinkspeak.units.fit import (
        FEATURES_DIR,
        extract_shard,
        fit_settings,
        fit_unit_model,
        load_shards,
    )

    if not args.minutes > 0:
        raise ValueError(f"--minutes must be > 0, got {args.minutes!r}")
    feature = FeatureConfig(kind=args.feature)
    out = Path(args.out)
    if args.shard is not None:
        path = extract_shard(out, args.seed, args.minutes, feature, ShardSpec.parse(args.shard))
        print(json.dumps({"features": str(path)}))
        return 0
    if not any((out / FEATURES_DIR).glob("shard-*.npz")):
        extract_shard(out, args.seed, args.minutes, feature, ShardSpec())
    feats, speech, sources = load_shards(out, fit_settings(args.seed, args.minutes, feature))
    command = (f"thinkspeak units fit --out DIR --n-units {args.n_units} --feature {args.feature} "
               f"--minutes {args.minutes:g} --seed {args.seed} --niter {args.niter}")
    info = {"command": command, "minutes": round(len(feats) / 25.0 / 60.0, 2), "clips": len(sources),
            "voices": sorted({s.split(":", 2)[2] for s in sources}), "held_out": "flite (all voices)",
            "corpus": "thinkspeak data duplex (pseudo full-duplex, synthetic), user + assistant channels"}
    model = fit_unit_model(feats, speech, feature, args.n_units, args.seed, args.niter, info)
    model.save(out, model_card(model))
    print(json.dumps({"out": str(out), "n_units": model.n_units, "digest": model.digest, **model.info["fit"]}))
    return 0


def _encode(args: argparse.Namespace) -> int:
    import numpy as np
    import soundfile as sf

    from thinkspeak.units import load_unit_model

    try:
        pcm, rate = sf.read(args.audio, dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError) as exc:
        raise ValueError(f"AUDIO must be an audio file soundfile can read, got {args.audio!r}: {exc}") from exc
    if pcm.shape[1] != 1:
        raise ValueError(f"AUDIO must be mono, got {pcm.shape[1]} channels in {args.audio!r}")
    model = load_unit_model(args.units)
    units = model.encode(np.ascontiguousarray(pcm[:, 0]), int(rate))
    if args.json:
        print(json.dumps({"units": units.tolist(), "n_units": model.n_units, "rate_hz": model.rate_hz,
                          "feature": model.feature, "digest": model.digest, "delay_ms": model.delay_ms}))
    else:
        sys.stdout.write(" ".join(map(str, units.tolist())) + "\n")
    return 0
