"""Held-out accuracy with tools vs the shipped Thinker without tools, in one run (issue 12).

    .venv/bin/python benchmarks/bench_tools.py --data data/corpus-tools --model runs/thinker-tools \
        [--base default] [--split test] [--limit 30] [--batch 8] [--max-steps 640] [--threads 1] [--out FILE.json]
        [--inputs text,audio] [--base-tools]

Both models answer the same typed questions (text in) of ``--split`` of a tool corpus
(``thinkspeak data math --tools ...``), up to ``--limit`` per category, greedily, in thinking-in-speaking
mode; with ``--inputs text,audio`` the same questions are also asked aloud, read by the corpus's test-split
voices (flite, the engine held out of training, with the corpus's noise and reverberation draws), into the
Thinker's audio adapter (``thinkspeak serve --e2e``); ``asr`` asks the same clips through Whisper-base
transcripts, as the server hears by default (numbers put in the corpus's written form as the server's local
Thinker reads them, ``text.written.corpus_numbers``); ``asr-raw`` types the transcripts as Whisper wrote them,
``text-read`` the typed questions as the server and ``thinkspeak ask`` read them (number words as digits:
"twenty three plus nineteen" -> "23 plus 19"), ``text`` as typed; ``words`` / ``words-read`` type each question
with every number in words (``text.numbers.spoken_form``: the issue's "typed number words within 2 points of
digits"), verbatim / read as served. ``--no-base`` runs the candidate only (its
baseline is then another input of the same run, e.g. ``--inputs text,text-read``). The baseline is ``--base`` (default: the shipped Thinker) without tools; the candidate is ``--model``
with the default tools (calc, retrieve over the fact base); ``--base-tools`` gives the baseline the same tools
(to compare two Thinkers with tools, e.g. ``--base tools`` before and after the DPO stage). Answers are scored with the Spoken-MQA rule
(``eval.spoken_mqa.score``). Printed per category and overall: correct / n, accuracy and its standard error
(sqrt(p(1-p)/n)); the same for questions asked the corpus's template way vs rephrased (requests, fragments,
number words: the row's question differs from the one the corpus makes without ``--phrasings``); the median
step of the first spoken token; tool calls per answer; and spoken numbers said before the tool result holding
them was injected (``decode.tooldrift``).
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
from collections import defaultdict
from pathlib import Path

import torch

from thinkspeak.data.math.sample import MathConfig, build_sample
from thinkspeak.data.shards import iter_rows
from thinkspeak.decode import Done, Request, TiSDecoder
from thinkspeak.decode.tooldrift import tool_drift
from thinkspeak.eval.spoken_mqa import score
from thinkspeak.model import Thinker


def held_out(data: Path, split: str, limit: int) -> list[dict]:
    """Rows of ``split``, at most ``limit`` per category, each marked ``rephrased`` or not."""
    manifest = json.loads((data / "manifest.json").read_text())
    config = dict(manifest["config"])
    config["phrasing_share"] = 0.0
    plain = MathConfig(**config)
    rows, count = [], defaultdict(int)
    columns = ["id", "index", "split", "category", "question", "question_spoken", "answer", "reasoning"]
    for row in iter_rows(data, columns=columns):
        if row["split"] != split or count[row["category"]] >= limit:
            continue
        count[row["category"]] += 1
        row["rephrased"] = build_sample(manifest["seed"], row["index"], plain)[0]["question"] != row["question"]
        rows.append(row)
    return rows


def answer_all(decoder: TiSDecoder, rows: list[dict], batch: int) -> list[dict]:
    out = []
    for start in range(0, len(rows), batch):
        chunk = rows[start:start + batch]
        events = defaultdict(list)
        requests = [Request(audio=r["audio"]) if "audio" in r else Request(text=r["question"]) for r in chunk]
        for i, event in decoder.stream_batch(requests):
            events[i].append(event)
        for i, row in enumerate(chunk):
            done = events[i][-1]
            assert isinstance(done, Done)
            got = score(done.say, row["answer"])
            drift = tool_drift(events[i], row["question"])
            out.append({"category": row["category"], "rephrased": row["rephrased"], "correct": got.correct,
                        "first_say_step": done.stats.first_say_step, "tool_calls": done.stats.tool_calls,
                        "early": len(drift.early), "say": done.say, "answer": row["answer"]})
        print(f"  {len(out)}/{len(rows)}", flush=True)
    return out


def accuracy(results: list[dict]) -> str:
    n = len(results)
    if not n:
        return "-"
    k = sum(r["correct"] for r in results)
    p = k / n
    return f"{k}/{n} = {100 * p:.1f}% ± {100 * math.sqrt(p * (1 - p) / n):.1f}"


def report(name: str, results: list[dict]) -> dict:
    groups = defaultdict(list)
    for r in results:
        groups[r["category"]].append(r)
        groups["template" if not r["rephrased"] else "rephrased"].append(r)
        groups["overall"].append(r)
    steps = [r["first_say_step"] for r in results if r["first_say_step"] is not None]
    summary = {
        "accuracy": {g: accuracy(rs) for g, rs in sorted(groups.items())},
        "first_say_step_median": statistics.median(steps) if steps else None,
        "tool_calls_per_answer": sum(r["tool_calls"] for r in results) / max(1, len(results)),
        "early_tool_mentions": sum(r["early"] for r in results),
    }
    print(f"\n{name}")
    for group, text in summary["accuracy"].items():
        print(f"  {group:12s} {text}")
    print(f"  first spoken token step (median) {summary['first_say_step_median']}; tool calls per answer "
          f"{summary['tool_calls_per_answer']:.2f}; spoken before the result was injected: "
          f"{summary['early_tool_mentions']}")
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--model", required=True, help="Thinker with tool tokens")
    parser.add_argument("--base", default="default", help="baseline Thinker, run without tools (default: shipped)")
    parser.add_argument("--base-tools", action="store_true", help="run the baseline with the default tools too")
    parser.add_argument("--split", default="test")
    parser.add_argument("--limit", type=int, default=30, help="items per category")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--max-steps", type=int, default=640)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path, default=None, help="write the figures and answers as JSON")
    parser.add_argument("--inputs", default="text",
                        help="comma-separated: text, text-read, words, words-read, audio (flite, held out), asr, "
                             "asr-raw")
    parser.add_argument("--no-base", action="store_true", help="run the candidate only")
    args = parser.parse_args()
    inputs = args.inputs.split(",")
    kinds = {"text", "text-read", "words", "words-read", "audio", "asr", "asr-raw"}
    if not inputs or set(inputs) - kinds:
        parser.error(f"--inputs must be a comma-separated subset of {','.join(sorted(kinds))}, got {args.inputs!r}")
    torch.set_num_threads(args.threads)
    from thinkspeak.tools.defaults import default_tools

    rows = held_out(args.data, args.split, args.limit)
    print(f"{len(rows)} held-out questions ({args.split}), {sum(r['rephrased'] for r in rows)} rephrased")
    candidate = Thinker.load(args.model)
    tools = default_tools(preload=True)
    runs = {}
    if not args.no_base:
        base = Thinker.load(None if args.base == "default" else args.base)
        runs[f"baseline: {args.base} {'with' if args.base_tools else 'without'} tools"] = \
            TiSDecoder(base, max_steps=args.max_steps, tools=tools if args.base_tools else None)
    runs[f"candidate: {args.model} with tools"] = TiSDecoder(candidate, max_steps=args.max_steps, tools=tools)
    from thinkspeak.text.numbers import spoken_form
    from thinkspeak.text.written import corpus_numbers

    asked = {"text": rows, "text-read": [{**row, "question": corpus_numbers(row["question"])} for row in rows],
             "words": [{**row, "question": spoken_form(row["question"])} for row in rows]}
    asked["words-read"] = [{**row, "question": corpus_numbers(row["question"])} for row in asked["words"]]
    if {"audio", "asr", "asr-raw"} & set(inputs):
        from thinkspeak.data.math.speech import SpeechOptions
        from thinkspeak.eval.held_out import spoken_questions

        seed = json.loads((args.data / "manifest.json").read_text())["seed"]
        clips = spoken_questions(rows, seed, SpeechOptions(response_audio=False))
        asked["audio"] = [{**row, "audio": clip} for row, clip in zip(rows, clips, strict=True)]
    if {"asr", "asr-raw"} & set(inputs):  # the server's default hearing: Whisper-base transcripts, typed
        from thinkspeak.speech.asr import WhisperASR

        asr = WhisperASR()
        heard = [asr.transcribe(clip).text for clip in clips]
        asked["asr-raw"] = [{**row, "question": text} for row, text in zip(rows, heard, strict=True)]
        # the transcript read as the server's local Thinker reads it
        asked["asr"] = [{**row, "question": corpus_numbers(text)} for row, text in zip(rows, heard, strict=True)]
    figures = {}
    for source in inputs:
        for name, decoder in runs.items():
            label = f"{source} in, {name}"
            print(label, flush=True)
            results = answer_all(decoder, asked[source], args.batch)
            figures[label] = {"summary": report(label, results), "answers": results}
    if args.out is not None:
        args.out.write_text(json.dumps(figures, indent=1) + "\n")


if __name__ == "__main__":
    main()
