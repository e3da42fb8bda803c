"""``thinkspeak ask``: put one question to the Thinker and watch it think while it speaks.

    thinkspeak ask --text "What is 12 times 7?" [--model PATH] [--mode tis|think-first|no-think]
                   [--temperature T] [--top-p P] [--top-k K] [--seed S] [--max-steps N] [--p P --q Q]
                   [--threads N] [--batch-parallel] [--json] [--no-tools] [--index DIR] [--search PROVIDER]
    thinkspeak ask --audio question.wav ...

The spoken channel (say) and the reasoning channel (think) stream live in two colours, then the answer, the
step of the first spoken token and the decoding speed. A Thinker with the tool tokens calls tools from its
think stream (calc, retrieve over the fact base or ``--index``, ``--search`` through a provider; issue 12):
calls and results show in the think panel. ``--json`` prints one JSON object instead (keys: answer, say,
think, first_say_step, tokens_per_s, steps, mode, p, q, say_tokens, think_tokens, forwards, prefill_s,
elapsed_s, stop_reason, tool_calls: [{name, arguments, result, error, call_step, result_step, latency_s}],
early_tool_mentions: spoken numbers said before the tool result that holds them was injected).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from thinkspeak.layouts.interleave import MODES


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "ask",
        help="ask the Thinker a typed or spoken question; stream its speech and reasoning",
        description="Decode one question with the thinking-in-speaking decoder and stream both channels.",
    )
    parser.add_argument("--text", default=None,
                        help="the question, typed (read as the server reads it: number words as digits, "
                             "text.written.corpus_numbers; --as-typed keeps it verbatim)")
    parser.add_argument("--as-typed", action="store_true", help="give the Thinker --text verbatim")
    parser.add_argument("--audio", default=None, metavar="FILE",
                        help="the question, spoken (any format soundfile reads; resampled to 16 kHz mono)")
    parser.add_argument("--model", default=None, metavar="PATH",
                        help="Thinker folder, local Qwen2 folder or packaged name (default, tools; default: the shipped default)")
    parser.add_argument("--mode", default="tis", help=f"one of {', '.join(MODES)} (default: tis)")
    parser.add_argument("--temperature", type=float, default=0.0, help="0 decodes greedily (default)")
    parser.add_argument("--top-p", type=float, default=1.0, help="nucleus sampling mass (default 1: off)")
    parser.add_argument("--top-k", type=int, default=0, help="sample among the k likeliest (default 0: off)")
    parser.add_argument("--seed", type=int, default=None, help="seed for sampling")
    parser.add_argument("--max-steps", type=int, default=512, help="longest generated stream (default 512)")
    parser.add_argument("--p", type=int, default=None, help="say slots per block (default: the model's)")
    parser.add_argument("--q", type=int, default=None, help="think slots per block (default: the model's)")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads (default 1: the small default model's matrix products are too small "
                             "to split, and on a busy 2-core machine a second thread only waits); raise it for "
                             "bigger models")
    parser.add_argument("--batch-parallel", action="store_true",
                        help="reason in a think-first row and speak in the TiS row (Mini-Omni's batch-parallel "
                             "decoding; tis mode, models trained on both arrangements)")
    parser.add_argument("--no-tools", action="store_true",
                        help="do not let a Thinker with tool tokens call tools")
    parser.add_argument("--index", default=None, metavar="DIR",
                        help="retrieval index for the retrieve tool (default: the shipped fact base)")
    parser.add_argument("--search", default=None, metavar="PROVIDER",
                        help="web search provider for the search tool: searxng, brave or serper (keys from the "
                             "environment)")
    parser.add_argument("--tool-timeout", type=float, default=5.0, help="seconds a tool may take (default 5)")
    parser.add_argument("--speak", default=None, metavar="WAV",
                        help="also speak the say stream with the token Talker as it is decoded; write it to WAV")
    parser.add_argument("--talker", default=None, metavar="PATH",
                        help="Talker folder for --speak (default: the shipped talker-default)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the live view")
    parser.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> int:
    """Check the arguments (ValueError on bad ones), read the audio, then decode with ``args.threads`` threads."""
    if (args.text is None) == (args.audio is None):
        got = "both" if args.text is not None else "neither"
        raise ValueError(f"give exactly one of --text or --audio, got {got}")
    import torch
    from transformers.utils import logging as hf_logging

    from thinkspeak.decode.schedule import check_mode

    check_mode(args.mode)
    if args.threads < 1:
        raise ValueError(f"--threads must be an int >= 1, got {args.threads}")
    audio = read_question_audio(args.audio) if args.audio is not None else None
    hf_logging.disable_progress_bar()
    threads = torch.get_num_threads()
    torch.set_num_threads(args.threads)
    try:
        return run(args, audio)
    finally:
        torch.set_num_threads(threads)


def run(args: argparse.Namespace, audio) -> int:
    """Load the model, decode, and show the result (live view or JSON)."""
    from thinkspeak.decode import TiSDecoder
    from thinkspeak.model import Thinker

    thinker = Thinker.load(args.model)
    tools = None
    if thinker.tool_ids is not None and not args.no_tools:
        from thinkspeak.tools.defaults import default_tools

        tools = default_tools(args.index, args.search, preload=True)
    decoder = TiSDecoder(
        thinker,
        p=thinker.config.p if args.p is None else args.p,
        q=thinker.config.q if args.q is None else args.q,
        mode=args.mode,
        max_steps=args.max_steps,
        temperature=args.temperature,
        top_p=args.top_p,
        seed=args.seed,
        top_k=args.top_k,
        batch_parallel=args.batch_parallel,
        tools=tools,
        tool_timeout_s=args.tool_timeout,
    )
    text = args.text
    if text is not None and not args.as_typed:
        from thinkspeak.text.written import corpus_numbers

        text = corpus_numbers(text)
    events = decoder.stream(text=text, audio=audio)
    if args.speak:
        events = speak_along(events, args.speak, args.talker)
    if args.json:
        events = list(events)
        print(json.dumps(summary(events[-1], decoder, events, text or ""), ensure_ascii=False))
    else:
        show_live(events, decoder)
    return 0


def speak_along(events, wav: str, talker_path: str | None):
    """Pass the decoder's events through while the token Talker speaks each say token as it arrives (a word
    is spoken once the next one starts); write the speech to ``wav`` (16 kHz mono) at the end."""
    import numpy as np
    import soundfile

    from thinkspeak.decode import Done, SayToken
    from thinkspeak.decode.talker import TokenTalker

    session = TokenTalker.load(talker_path).session(out_rate=16000)
    chunks = []
    for event in events:
        if isinstance(event, SayToken):
            session.push_text(event.text)
            chunks += list(session.stream())
        elif isinstance(event, Done):
            session.end_text()
            chunks += list(session.stream())
            soundfile.write(wav, np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.float32), 16000,
                            subtype="PCM_16")
        yield event


def read_question_audio(path: str):
    """A sound file as 16 kHz mono float32 (channels averaged; resampled with soxr)."""
    import soundfile

    from thinkspeak.audio import resample

    if not Path(path).is_file():
        raise ValueError(f"--audio must be a sound file, got {path!r} (no such file)")
    try:
        pcm, rate = soundfile.read(path, dtype="float32", always_2d=True)
    except (RuntimeError, soundfile.LibsndfileError) as exc:
        raise ValueError(f"--audio {path!r} is not a sound file soundfile can read: {exc}") from exc
    return resample(pcm.mean(axis=1), rate, 16000)


def tool_calls(events) -> list[dict]:
    """Each tool call of a decode with its result (None until injected)."""
    from thinkspeak.decode.events import ToolCall, ToolResult

    calls: dict[str, dict] = {}
    for e in events:
        if isinstance(e, ToolCall):
            calls[e.call_id] = {"name": e.name, "arguments": e.arguments, "result": None, "error": None,
                                "call_step": e.step, "result_step": None, "latency_s": None}
        elif isinstance(e, ToolResult) and e.call_id in calls:
            calls[e.call_id].update(result=e.value, error=e.error, result_step=e.step,
                                    latency_s=round(e.latency_s, 4))
    return list(calls.values())


def summary(done, decoder, events=(), question: str = "") -> dict:
    """The JSON contract of ``ask --json``."""
    from thinkspeak.decode.tooldrift import tool_drift

    s = done.stats
    return {
        "answer": done.answer,
        "say": done.say,
        "think": done.think,
        "first_say_step": s.first_say_step,
        "tokens_per_s": round(s.tokens_per_s, 1),
        "steps": s.steps,
        "mode": decoder.mode,
        "p": decoder.p,
        "q": decoder.q,
        "say_tokens": s.say_tokens,
        "think_tokens": s.think_tokens,
        "forwards": s.forwards,
        "prefill_s": round(s.prefill_s, 4),
        "elapsed_s": round(s.elapsed_s, 4),
        "stop_reason": s.stop_reason,
        "tool_calls": tool_calls(events),
        "early_tool_mentions": len(tool_drift(events, question).early),
    }


def show_live(events, decoder) -> None:
    """Two live panels, say (cyan) and think (magenta), then the answer and the timing figures."""
    from rich.console import Console, Group
    from rich.live import Live
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    from thinkspeak.decode import Done, SayToken, ThinkToken
    from thinkspeak.layouts import toolcalls as tc

    shown = {tc.CALL: " [", tc.ARGS: ": ", tc.CALL_END: "]", tc.RESULT: " -> ", tc.RESULT_END: " "}
    say, think = Text(style="bold cyan"), Text(style="magenta")
    view = Group(Panel(say, title="say", border_style="cyan"), Panel(think, title="think", border_style="magenta"))
    console = Console()
    done = None
    with Live(view, console=console, refresh_per_second=25):
        for event in events:
            if isinstance(event, Done):
                done = event
            elif isinstance(event, SayToken):
                say.append(event.text)
            elif isinstance(event, ThinkToken):
                if event.text in shown:  # a tool call's markers, drawn as [calc: 23 + 19] -> 42
                    think.append(shown[event.text], style="bold yellow")
                else:
                    think.append(event.text)
    s = done.stats
    console.print()
    table = Table.grid(padding=(0, 2))
    table.add_row("answer", Text(str(done.answer), style="bold green"))
    table.add_row("first spoken token", f"step {s.first_say_step}" if s.first_say_step is not None else "none")
    table.add_row("decoding", f"{s.tokens_per_s:.0f} tokens/s ({s.steps} steps in {s.forwards} forwards, "
                              f"prefill {s.prefill_s * 1000:.0f} ms)")
    table.add_row("stream", f"mode {decoder.mode}, p:q {decoder.p}:{decoder.q}, stopped by {s.stop_reason}")
    if s.tool_calls:
        table.add_row("tools", f"{s.tool_calls} call(s)")
    console.print(table)
