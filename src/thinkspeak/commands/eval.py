"""``thinkspeak eval``: spoken-math accuracy, reports, latency and turn-taking statistics.

    thinkspeak eval math --data DIR_OR_PARQUET [--model PATH] [--input text|audio] [--mode tis|think-first|no-think]
                         [--limit N] [--split test] [--speech-check TTS_SPEC] --out RUN_DIR
    thinkspeak eval report RUN_DIR [--out DIR]
    thinkspeak eval latency TURNS.jsonl [--out DIR]
    thinkspeak eval turns STEREO.wav [...] [--out FILE.json]
    thinkspeak eval duplex [--model DIR] [--data DIR] [--latency-ms 0,240] [--n N] [--json]
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    from thinkspeak.eval.responders import INPUTS, MODES

    parser = subparsers.add_parser("eval", help="evaluate models: spoken math, latency, turn-taking, reports")
    sub = parser.add_subparsers(dest="eval_command", required=True, metavar="EVAL")

    math = sub.add_parser("math", help="Spoken-MQA-style accuracy (AudioBench scoring) of a Thinker")
    math.add_argument("--data", required=True,
                      help="Spoken-MQA Parquet file/directory, or a corpus directory from `thinkspeak data math`")
    math.add_argument("--model", default=None, help="Thinker directory or packaged name: default, tools (default: the shipped default)")
    math.add_argument("--input", choices=INPUTS, default="text", help="give the question as text or audio")
    math.add_argument("--mode", choices=MODES, default="tis", help="thinking arrangement of the decoder")
    math.add_argument("--limit", type=int, default=None, help="at most N items per category")
    math.add_argument("--split", default="test", help="corpus split to use (ignored for Spoken-MQA)")
    math.add_argument("--speech-check", metavar="TTS_SPEC", default=None,
                      help="also speak each response with this TTS (e.g. piper, espeak:en-us), transcribe it "
                           "with Whisper and score what was heard")
    math.add_argument("--out", required=True, help="run directory for items.jsonl and summary.json")
    math.set_defaults(func=_math)

    report = sub.add_parser("report", help="Markdown + PNG report of the runs and latency logs in a directory")
    report.add_argument("run_dir", help="directory holding run directories (summary.json) and latency.jsonl")
    report.add_argument("--out", default=None, help="where to write report.md and PNGs (default: RUN_DIR)")
    report.set_defaults(func=_report)

    latency = sub.add_parser("latency", help="p50/p90 per stage and CDF plot of a per-turn timestamp log")
    latency.add_argument("turns", help="JSONL with end_of_speech, speech_stopped, transcript, ... per turn")
    latency.add_argument("--out", default=None, help="directory for latency.json and latency_cdf.png")
    latency.set_defaults(func=_latency)

    turns = sub.add_parser("turns", help="dGSLM turn-taking statistics of stereo recordings (VAD)")
    turns.add_argument("wavs", nargs="+", help="two-channel recordings: channel 0 user, channel 1 system")
    turns.add_argument("--out", default=None, help="write the statistics as JSON here")
    turns.set_defaults(func=_turns)

    duplex = sub.add_parser("duplex", help="full-duplex Thinker on held-out dialogues: Full-Duplex-Bench v1 TOR and "
                            "latency, OmniFlatten Acc@K, dGSLM turn-taking statistics, per network latency")
    duplex.add_argument("--model", default=None, help="duplex model folder (default: the shipped duplex-default)")
    duplex.add_argument("--data", default=None,
                        help="a `thinkspeak data duplex-seq` directory (default: held-out dialogues made on the fly: "
                             "held-out seed, flite voices)")
    duplex.add_argument("--split", default=None, help="with --data: only this split (e.g. valid)")
    duplex.add_argument("--units", default=None, help="unit model folder (default: the packaged one)")
    duplex.add_argument("--latency-ms", default="0,240", help="comma-separated network latencies in ms (default 0,240)")
    duplex.add_argument("--n", type=int, default=6, help="held-out dialogues made on the fly, or the most read from --data")
    duplex.add_argument("--seed", type=int, default=7, help="seed of the held-out dialogues (default 7; training used 0)")
    duplex.add_argument("--speak-threshold", type=float, default=0.5,
                        help="while silent, take the floor when P(speak) reaches this (default 0.5: greedy)")
    duplex.add_argument("--json", action="store_true", help="print only the JSON object")
    duplex.set_defaults(func=_duplex)


def _math(args: argparse.Namespace) -> int:
    from thinkspeak.eval.math_items import load_math_items
    from thinkspeak.eval.math_run import run_math
    from thinkspeak.eval.responders import decoder_responder
    from thinkspeak.eval.spoken_check import SpokenAnswerCheck

    items = load_math_items(args.data, split=args.split, with_audio=args.input == "audio", limit=args.limit)
    responder = decoder_responder(args.model, args.mode, args.input)
    check = SpokenAnswerCheck.load(args.speech_check) if args.speech_check else None
    summary = run_math(items, responder, args.out, check=check, progress=True, model=args.model or "default",
                       mode=args.mode, input=args.input, data=str(args.data))
    line = f"{summary['count']} items, accuracy {100 * summary['accuracy']:.1f}%"
    if summary["speech"]:
        line += f", heard {100 * summary['speech']['accuracy']:.1f}% (gap {100 * summary['speech']['gap']:.1f})"
    print(f"{line} -> {args.out}")
    return 0


def _report(args: argparse.Namespace) -> int:
    from thinkspeak.eval.report import build_report

    print(build_report(args.run_dir, args.out))
    return 0


def _latency(args: argparse.Namespace) -> int:
    from thinkspeak.eval.latency import latency_summary, load_turns, stage_latencies
    from thinkspeak.eval.plots import plot_latency_cdf

    turns = load_turns(args.turns)
    rows = latency_summary(turns)
    for row in rows:
        print(f"{row.stage:>18}  n={row.count:<5} p50={1000 * row.p50:7.0f} ms  p90={1000 * row.p90:7.0f} ms")
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "latency.json").write_text(json.dumps([asdict(r) for r in rows], indent=2) + "\n")
        plot_latency_cdf(stage_latencies(turns), out / "latency_cdf.png")
    return 0


def _latencies(text: str) -> list[int]:
    from thinkspeak.eval.duplex_model import check_latency

    try:
        values = [int(part) for part in str(text).split(",")]
    except ValueError:
        raise ValueError(f"--latency-ms must be comma-separated integers of milliseconds, got {text!r}") from None
    return [check_latency(v) for v in values]


def _duplex(args: argparse.Namespace) -> int:
    from thinkspeak.eval.duplex_model import run_duplex_eval

    latencies = _latencies(args.latency_ms)
    if args.n < 1:
        raise ValueError(f"--n must be an int >= 1, got {args.n}")
    if not 0 < args.speak_threshold < 1:
        raise ValueError(f"--speak-threshold must be a probability in (0, 1), got {args.speak_threshold}")
    report = run_duplex_eval(args.model, args.data, latencies, n=args.n, seed=args.seed, units=args.units,
                             split=args.split, speak_threshold=args.speak_threshold, progress=not args.json)
    print(json.dumps(report, indent=None if args.json else 1))
    return 0


def _turns(args: argparse.Namespace) -> int:
    import soundfile

    from thinkspeak.eval.turn_taking import turn_taking_stats
    from thinkspeak.eval.vad_segments import stereo_segments

    results = {}
    for wav in args.wavs:
        user, system = stereo_segments(wav)
        stats = turn_taking_stats(user, system, duration=soundfile.info(wav).duration)
        results[wav] = stats.to_json()
        events = ", ".join(f"{name} {e.per_minute:.1f}/min" for name, e in stats.events.items())
        print(f"{wav}: {events}")
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=2) + "\n")
    return 0
