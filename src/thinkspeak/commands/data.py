"""``thinkspeak data``: make and inspect corpora.

* ``data math --n N --out DIR`` - the spoken-math corpus with thinking-in-speaking targets (issue 3); with
  ``--tools SHARE`` its traces call tools and ``--phrasings SHARE`` varies the questions (issue 12).
* ``data duplex --n N --out DIR`` - pseudo full-duplex two-channel dialogues (OmniFlatten recipe).
* ``data duplex-seq --data DIR --out DIR`` - training sequences of the full-duplex Thinker: user units on the
  chunk clock, the assistant's say/think text, floor events (issue 13).
* ``data talker --n N --out DIR`` - spoken responses voiced by piper, codec tokens, word times (issue 11).
* ``data show DIR`` - print samples with their interleaved layout, say and think coloured.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

DUPLEX_COMMON = ("n", "out", "seed", "shard", "workers")
SHOW_COLUMNS = ("id", "split", "category", "kind", "question", "question_spoken", "answer", "reasoning", "response",
                "licenses", "journey", "tis", "think_first", "no_think", "question_voice", "question_duration",
                "response_voice", "response_duration")


def _int_at_least(minimum: int):
    """An argparse type: an int >= ``minimum``, with an error naming the bound and the value."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be an int >= {minimum}, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be an int >= {minimum}, got {value}")
        return value

    return parse


_positive_int = _int_at_least(1)
_seed = _int_at_least(0)


def _share(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number in [0, 1], got {text!r}") from None
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"must be a number in [0, 1], got {value}")
    return value


def _categories(text: str) -> dict[str, float]:
    """``'arith_short=1,multi_step=2'`` or ``'arith_long,multi_step'`` (weight 1 each)."""
    out: dict[str, float] = {}
    for part in text.split(","):
        name, _, weight = part.strip().partition("=")
        try:
            out[name] = float(weight) if weight else 1.0
        except ValueError:
            raise argparse.ArgumentTypeError(f"weight of {name!r} must be a number, got {weight!r}") from None
    return out


def _shard(text: str):
    from thinkspeak.data.shards import ShardSpec

    try:
        return ShardSpec.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--n", type=_positive_int, required=True, help="number of samples to generate")
    p.add_argument("--out", type=Path, required=True, help="output directory (created; resumable)")
    p.add_argument("--seed", type=_seed, default=0, help="sample i depends only on (seed, i) (default 0)")
    p.add_argument("--shard", type=_shard, default=None, metavar="i/N",
                   help="make only job i of N; the N jobs' files merge to the unsharded dataset")
    p.add_argument("--workers", type=_positive_int, default=1, help="worker processes (default 1)")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("data", help="make and inspect corpora (spoken math, full-duplex dialogues)")
    sub = parser.add_subparsers(dest="data_command", required=True, metavar="WHAT")

    math = sub.add_parser("math", help="spoken-math corpus with thinking-in-speaking targets")
    _add_common(math)
    math.add_argument("--no-audio", action="store_true", help="text only (no speech synthesis)")
    math.add_argument("--p", type=_positive_int, default=2, help="response tokens per block (default 2)")
    math.add_argument("--q", type=_positive_int, default=8, help="reasoning tokens per block (default 8)")
    math.add_argument("--journey-share", type=_share, default=0.15,
                      help="share of traces with a slip and 'Wait, let me check' correction (default 0.15)")
    math.add_argument("--valid-share", type=_share, default=0.05, help="share of the valid split (default 0.05)")
    math.add_argument("--test-share", type=_share, default=0.05, help="share of the test split (default 0.05)")
    math.add_argument("--categories", type=_categories, default=None,
                      help="weights, e.g. 'arith_short=1,arith_long=1,single_step=1,multi_step=2' (add "
                           "'knowledge' for the fact questions; default: the first four)")
    math.add_argument("--tools", type=_share, default=0.0, metavar="SHARE",
                      help="share of traces that call calc/retrieve (docs/tools.md; default 0)")
    math.add_argument("--tool-errors", type=_share, default=0.1, metavar="SHARE",
                      help="share of tool traces whose first call fails and go on by hand (default 0.1)")
    math.add_argument("--phrasings", type=_share, default=0.0, metavar="SHARE",
                      help="share of questions asked another way: requests, fragments, number words (default 0)")
    math.add_argument("--rows-per-file", type=_positive_int, default=None,
                      help="samples per Parquet file, the unit of resume (default 1000 text-only, 200 with speech)")
    math.add_argument("--no-progress", action="store_true", help="no progress bar")
    speech = math.add_argument_group("speech (ignored with --no-audio)")
    speech.add_argument("--voices", default=None,
                        help="comma-separated TTS specs (default: espeak-ng, flite, festival and piper voices)")
    speech.add_argument("--held-out-engine", default="flite",
                        help="engine used only for the test split ('none' to use all everywhere; default flite)")
    speech.add_argument("--no-response-audio", action="store_true", help="synthesise questions only")
    speech.add_argument("--noise-share", type=_share, default=0.5, help="share of clips with added noise")
    speech.add_argument("--snr", default="15-25", help="noise SNR range in dB, 'lo-hi' (default 15-25)")
    speech.add_argument("--reverb-share", type=_share, default=0.3, help="share of clips with reverberation")
    math.set_defaults(func=run_math)

    duplex = sub.add_parser("duplex", help="pseudo full-duplex two-channel dialogues (OmniFlatten recipe)")
    _add_common(duplex)
    try:
        from thinkspeak.data.duplex import add_duplex_arguments
    except ModuleNotFoundError as exc:
        if exc.name != "thinkspeak.data.duplex":
            raise
    else:
        add_duplex_arguments(duplex)
    duplex.set_defaults(func=run_duplex)

    seq = sub.add_parser("duplex-seq", help="full-duplex Thinker sequences: user units + say/think text on the clock")
    seq.add_argument("--data", type=Path, required=True, help="a `thinkspeak data duplex` corpus (with user audio)")
    seq.add_argument("--out", type=Path, required=True, help="output directory (created; resumable)")
    seq.add_argument("--shard", type=_shard, default=None, metavar="i/N", help="make only job i of N")
    seq.add_argument("--units", default=None, metavar="DIR", help="unit model folder (default: the packaged one)")
    seq.add_argument("--layout", choices=("syncllm", "omniflatten"), default="syncllm",
                     help="chunks tagged and deduplicated (SyncLLM) or fixed-rate (OmniFlatten) (default syncllm)")
    seq.add_argument("--say-slots", type=_positive_int, default=2, help="say slots per 160 ms chunk (default 2)")
    seq.add_argument("--think-slots", type=_positive_int, default=4, help="think slots per chunk (default 4)")
    seq.add_argument("--no-progress", action="store_true", help="no progress bar")
    seq.set_defaults(func=run_duplex_seq)

    talker = sub.add_parser("talker", help="Talker data: spoken responses, teacher voice, codec tokens, word times")
    talker.add_argument("--n", type=_positive_int, required=True, help="number of responses (spoken-math samples)")
    talker.add_argument("--out", type=Path, required=True, help="output directory (created; resumable)")
    talker.add_argument("--seed", type=_seed, default=0, help="spoken-math seed (default 0)")
    talker.add_argument("--shard", type=_shard, default=None, metavar="i/N", help="make only job i of N")
    talker.add_argument("--codec", default="codec2", help="codec NAME[:PATH] (default codec2)")
    talker.add_argument("--rows-per-file", type=_positive_int, default=100, help="rows per Parquet file (default 100)")
    talker.add_argument("--no-progress", action="store_true", help="no progress bar")
    talker.set_defaults(func=run_talker)

    show = sub.add_parser("show", help="print samples with question, answer and coloured interleaved layout")
    show.add_argument("dir", type=Path, help="a corpus directory made by 'thinkspeak data math'")
    show.add_argument("--n", type=_positive_int, default=3, help="how many samples (default 3)")
    show.add_argument("--split", choices=("train", "valid", "test"), default=None, help="only this split")
    show.add_argument("--category", default=None, help="only this category")
    show.add_argument("--form", choices=("tis", "think_first", "no_think"), default="tis",
                      help="which layout to print (default tis)")
    show.set_defaults(func=run_show)


def run_math(args: argparse.Namespace) -> int:
    from thinkspeak.data.math import MathConfig, generate_math

    config = MathConfig(p=args.p, q=args.q, journey_share=args.journey_share, valid_share=args.valid_share,
                        test_share=args.test_share, tool_share=args.tools, tool_error_share=args.tool_errors,
                        phrasing_share=args.phrasings, **({"categories": args.categories} if args.categories else {}))
    speech = None
    if not args.no_audio:
        from thinkspeak.data.math.speech import SpeechOptions

        speech = SpeechOptions.from_cli(voices=args.voices, held_out_engine=args.held_out_engine,
                                        response_audio=not args.no_response_audio, noise_share=args.noise_share,
                                        snr=args.snr, reverb_share=args.reverb_share)
    manifest = generate_math(args.n, args.out, seed=args.seed, shard=args.shard, workers=args.workers,
                             config=config, speech=speech,
                             rows_per_file=args.rows_per_file or (1000 if speech is None else 200),
                             progress=not args.no_progress)
    keys = ("count", "complete", "splits", "categories", "dropped", "drift_rate_before_filter",
            "anticipation_drift_rate", "held_out_engine")
    print(json.dumps({k: manifest[k] for k in keys}, indent=1))
    print(f"manifest: {Path(args.out) / 'manifest.json'}")
    return 0


def run_talker(args: argparse.Namespace) -> int:
    from thinkspeak.data.talker import generate_talker

    manifest = generate_talker(args.n, args.out, seed=args.seed, shard=args.shard, codec_name=args.codec,
                               rows_per_file=args.rows_per_file, progress=not args.no_progress)
    print(json.dumps({k: v for k, v in manifest.items() if k != "options"}, indent=1))
    return 0


def run_duplex(args: argparse.Namespace) -> int:
    try:
        from thinkspeak.data.duplex import generate_duplex
    except ModuleNotFoundError as exc:
        if exc.name == "thinkspeak.data.duplex":
            raise ValueError("the duplex generator (thinkspeak.data.duplex) is not available in this install") from None
        raise
    options = {k: v for k, v in vars(args).items() if k not in (*DUPLEX_COMMON, "func", "command", "data_command")}
    shard = args.shard or _shard("0/1")
    manifest = generate_duplex(args.n, args.out, seed=args.seed, shard=(shard.index, shard.count),
                               workers=args.workers, **options)
    print(json.dumps({k: v for k, v in manifest.items() if not isinstance(v, list | dict)}, indent=1))
    return 0


def run_duplex_seq(args: argparse.Namespace) -> int:
    from thinkspeak.data.duplex.sequences import generate_sequences
    from thinkspeak.layouts.duplex import ClockConfig
    from thinkspeak.model.duplex import DuplexModel
    from thinkspeak.model.thinker import Thinker
    from thinkspeak.units import load_unit_model

    units = load_unit_model(args.units)
    clock = ClockConfig(chunk_units=round(0.16 * units.rate_hz), unit_rate_hz=units.rate_hz,
                        say_slots=args.say_slots, think_slots=args.think_slots, layout=args.layout)
    table = DuplexModel.from_thinker(Thinker.load(), units.n_units, units.digest, clock)
    shard = args.shard or _shard("0/1")
    manifest = generate_sequences(args.data, args.out, table, units, clock=clock, shard=(shard.index, shard.count),
                                  progress=not args.no_progress)
    print(json.dumps(manifest, indent=1))
    return 0


def run_show(args: argparse.Namespace) -> int:
    from rich.console import Console

    from thinkspeak.data.math.show import render_sample
    from thinkspeak.data.shards import iter_rows

    if not (args.dir / "manifest.json").exists() and not (args.dir / "data").is_dir():
        raise ValueError(f"dir must be a corpus directory with manifest.json and data/, got {args.dir}")
    manifest = json.loads((args.dir / "manifest.json").read_text()) if (args.dir / "manifest.json").exists() else {}
    console = Console()
    shown = 0
    # skip the audio bytes when reading a corpus with speech
    columns = [name for name in SHOW_COLUMNS if manifest.get("audio") or not name.endswith(("voice", "duration"))]
    for row in iter_rows(args.dir, columns=columns):
        if (args.split and row["split"] != args.split) or (args.category and row["category"] != args.category):
            continue
        render_sample(console, row, form=args.form, p=manifest.get("p", 2), q=manifest.get("q", 8))
        shown += 1
        if shown >= args.n:
            break
    if manifest:
        console.print(f"[bold]{manifest.get('count')} samples[/], splits {manifest.get('splits')}, "
                      f"drift before filter {manifest.get('drift_rate_before_filter', 0):.4f}, "
                      f"after {manifest.get('anticipation_drift_rate')}")
    return 0
