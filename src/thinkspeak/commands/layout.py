"""``thinkspeak layout ...``: render the token layouts of the seed systems as colored tables or JSON.

Sub-commands: ``miniomni`` (prompt, delayed output, or streams from a JSON file), ``tis``
(thinking-in-speaking on word tokens), ``syncllm``, ``omniflatten``, ``moshi`` and ``demo`` (a few of
each). Every sub-command takes ``--json``. Only pure-Python layout modules are imported here; rich is
imported when a table is printed.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable, Sequence

from thinkspeak.layouts import interleave, miniomni, moshi, omniflatten, render, syncllm

SAY_PAD, THINK_PAD, END, THINK_END = "<say_pad>", "<think_pad>", "<end>", "<think_end>"
EXAMPLE_SAY = "Twelve times four is forty eight so the answer is forty eight."
EXAMPLE_THINK = "We need 12 times 4. 12 times 4 = 48. The answer is 48."
EXAMPLE_LICENSES = [0, 0, 0, 0] + [10] * 8  # "forty eight" waits for "... = 48." (10 reasoning words)


def _ints(text: str) -> list[int]:
    """Parse ``"1 2 3"`` or ``"1,2,3"``."""
    parts = [p for p in re.split(r"[\s,]+", text.strip()) if p]
    try:
        return [int(p) for p in parts]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected integers separated by spaces or commas, got {text!r}") from None


def _codes(silence_word: str) -> Callable[[str], list[int | None]]:
    """Parse raw codes where ``silence_word`` stands for the stream's silence token (returned as None)."""

    def parse(text: str) -> list[int | None]:
        parts = [p for p in re.split(r"[\s,]+", text.strip()) if p]
        return [None if p == silence_word else _ints(p)[0] for p in parts]

    return parse


def _word(text: str) -> tuple[list[int], float, float]:
    """Parse ``TOKENS:START:END`` or ``WORD:TOKENS:START:END`` (tokens comma-separated, times in seconds)."""
    parts = text.split(":")
    if len(parts) == 4:
        parts = parts[1:]
    if len(parts) != 3:
        raise argparse.ArgumentTypeError(f"expected [WORD:]TOKENS:START:END like hello:101,102:0.0:0.4, got {text!r}")
    try:
        return _ints(parts[0]), float(parts[1]), float(parts[2])
    except ValueError:
        raise argparse.ArgumentTypeError(f"START and END must be seconds, got {text!r}") from None


def _emit(grids: list[render.Grid], as_json: bool) -> int:
    if as_json:
        data = [g.to_json() for g in grids]
        print(json.dumps(data[0] if len(data) == 1 else data))
    else:
        for grid in grids:
            render.print_grid(grid)
    return 0


def _miniomni_grid(args: argparse.Namespace) -> render.Grid:
    if args.from_json:
        with sys.stdin if args.from_json == "-" else open(args.from_json) as f:
            streams = json.load(f)
        return render.miniomni_grid(streams, title=f"Mini-Omni streams from {args.from_json}", raw_ids=args.ids)
    if args.answer_text is not None or args.answer_frames is not None:
        frames = [tuple((f * miniomni.SNAC_LAYERS + i) % miniomni.VOCAB.audio_vocab
                        for i in range(miniomni.SNAC_LAYERS)) for f in range(args.answer_frames or 0)]
        streams = miniomni.encode_output(args.answer_text or [], frames)
        title = (f"Mini-Omni delayed output: {len(args.answer_text or [])} text tokens, {len(frames)} frames "
                 "(frame f has codes 7f..7f+6)")
        return render.miniomni_grid(streams, title=title, raw_ids=args.ids)
    audio_len = args.audio_len
    if audio_len is None:
        audio_len = 3 if args.task in miniomni.AUDIO_INPUT_TASKS else 0
    streams = miniomni.build_prompt(args.task, audio_len, args.text_ids)
    return render.miniomni_grid(streams, title=f"Mini-Omni prompt {args.task}", raw_ids=args.ids)


def tis_grid(say: str, think: str, *, p: int = 2, q: int = 8, mode: str = "tis",
             licenses: list[int] | None = None) -> render.Grid:
    """A sample on word tokens in one of the forms of :func:`thinkspeak.layouts.interleave.arrange`."""
    say_words, think_words = say.split(), think.split()
    stream = interleave.arrange(say_words, think_words, mode, say_pad=SAY_PAD, think_pad=THINK_PAD, end=END,
                                think_end=THINK_END, p=p, q=q, licenses=licenses)
    title = f"thinking-in-speaking, mode {mode}" + (f", p:q = {p}:{q}" if mode == "tis" else "")
    if mode == "tis":
        return render.interleave_grid(stream, say_pad=SAY_PAD, think_pad=THINK_PAD, end=END, p=p, q=q, title=title)
    cut = len(think_words) + 1 if mode == "think-first" else 0
    segments = [("think", stream[:cut]), ("say", stream[cut:])] if cut else [("say", stream)]
    return render.sequential_grid(segments, markers={THINK_END: "THINK_END", END: "END"}, title=title)


def _syncllm_grid(args: argparse.Namespace) -> render.Grid:
    config = syncllm.SyncConfig(args.n_units, args.unit_rate, args.chunk_ms)
    return render.syncllm_grid(syncllm.encode(args.s0, args.s1, config), config,
                               title=f"SyncLLM: chunks of {config.chunk_ms:g} ms = {config.chunk_units} units")


def _example_speech(n_chunks: int, chunk: int, speaking: set[int], first_code: int) -> list[int | None]:
    """Codes ``first_code, first_code + 1, ...`` in the chunks of ``speaking``, silence (None) elsewhere."""
    return [first_code + c * chunk + i if c in speaking else None for c in range(n_chunks) for i in range(chunk)]


def omniflatten_sequence(n_streams: int, *, speech_chunk: int = 10, text_chunk: int = 2,
                         user_speech: list[int | None] | None = None,
                         assistant_speech: list[int | None] | None = None,
                         user_text: Sequence[int] = (), assistant_text: list[int | None] | None = None) -> list[int]:
    """Flatten raw codes (None = silence) and text ids (None = silence-end) in the 4-, 3- or 2-stream layout.

    Streams not given get an example: the user speaks in chunk 0, the assistant answers in chunks 1-2 (one
    turn of speech each in the 4-stream layout).
    """
    vocab = omniflatten.VOCAB

    def speech(codes: list[int | None]) -> list[int]:
        return [vocab.speech_silence if c is None else vocab.speech(c) for c in codes]

    def text(ids: list[int | None]) -> list[int]:
        return [vocab.text_silence_end if t is None else t for t in ids]

    n_chunks, user_chunks, assistant_chunks = (1, {0}, {0}) if n_streams == 4 else (3, {0}, {1, 2})
    if user_speech is None:
        user_speech = _example_speech(n_chunks, speech_chunk, user_chunks, 100)
    if assistant_speech is None:
        assistant_speech = _example_speech(n_chunks, speech_chunk, assistant_chunks, 500)
    if assistant_text is None:
        assistant_text = [9707, 11, 1246]
    if n_streams == 4:
        turn = omniflatten.Turn(speech(user_speech), text(user_text), text(assistant_text), speech(assistant_speech))
        return omniflatten.flatten_turns([turn])
    return omniflatten.flatten_duplex(speech(user_speech), speech(assistant_speech),
                                      text(assistant_text) if n_streams == 3 else None,
                                      speech_chunk=speech_chunk, text_chunk=text_chunk)


def _omniflatten_grid(args: argparse.Namespace) -> render.Grid:
    sequence = omniflatten_sequence(args.streams, speech_chunk=args.speech_chunk, text_chunk=args.text_chunk,
                                    user_speech=args.user_speech, assistant_speech=args.assistant_speech,
                                    user_text=args.user_text, assistant_text=args.assistant_text)
    return render.omniflatten_grid(sequence, args.streams, speech_chunk=args.speech_chunk,
                                   text_chunk=args.text_chunk)


def _moshi_grid(args: argparse.Namespace) -> render.Grid:
    words = args.words or [([101, 102], 0.0, 0.4), ([201], 0.5, 0.9)]
    text = moshi.align_text(words, args.duration, args.frame_rate, args.pad, args.epad)
    return render.moshi_grid(text, pad=args.pad, epad=args.epad, frame_rate=args.frame_rate)


def _run(build: Callable[[argparse.Namespace], render.Grid]) -> Callable[[argparse.Namespace], int]:
    return lambda args: _emit([build(args)], args.json)


def _demo(args: argparse.Namespace) -> int:
    output = miniomni.encode_output([9707, 11, 1246, 0], [tuple(range(7 * f, 7 * f + 7)) for f in range(3)])
    grids = [
        render.miniomni_grid(miniomni.build_prompt("A1A2", 3), title="Mini-Omni prompt A1A2, T = 3 (§3.3)"),
        render.miniomni_grid(output, title="Mini-Omni text-first delayed output, 3 frames (§3.2)"),
        tis_grid(EXAMPLE_SAY, EXAMPLE_THINK, licenses=EXAMPLE_LICENSES),
        render.syncllm_grid(syncllm.encode([7, 7, 7, 7, 12, 12, 40, 40], [0, 0, 0, 0, 0, 3, 3, 9]),
                            title="SyncLLM: 2 chunks of 160 ms, deduplicated (§3.2)"),
        render.omniflatten_grid(omniflatten_sequence(3, speech_chunk=4), 3, speech_chunk=4,
                                title="OmniFlatten, 3 streams, speech chunk 4 (paper: 10), text chunk 2 (§3.3)"),
        render.moshi_grid(moshi.align_text([([101, 102], 0.0, 0.4), ([201], 0.5, 0.9)], 1.2),
                          title="Moshi inner monologue: hello=[101,102] 0.0 s, world=[201] 0.5 s (§3.4.4)"),
    ]
    return _emit(grids, args.json)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("layout", help="render the token layouts of the seed systems",
                                   description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="layout", required=True, metavar="LAYOUT")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", help="print the grid as JSON instead of a table")

    p = sub.add_parser("miniomni", parents=[common], help="Mini-Omni 8-stream prompt or delayed output")
    p.add_argument("--task", choices=miniomni.TASKS, default="A1A2")
    p.add_argument("--audio-len", type=int, help="audio positions T (default 3 for audio-input tasks)")
    p.add_argument("--text-ids", type=_ints, default=[], help="text token ids of a T1A2/T1T2 prompt")
    p.add_argument("--answer-text", type=_ints, help="render the delayed OUTPUT with these text token ids")
    p.add_argument("--answer-frames", type=int, help="... and this many (synthetic) SNAC frames")
    p.add_argument("--from-json", metavar="FILE", help="render 8 streams from a JSON list of lists ('-': stdin)")
    p.add_argument("--ids", action="store_true", help="show table ids instead of names and raw codes")
    p.set_defaults(func=_run(_miniomni_grid))

    p = sub.add_parser("tis", parents=[common], help="thinking-in-speaking interleave of word tokens")
    p.add_argument("--say", default=EXAMPLE_SAY, help="spoken response (whitespace-separated words)")
    p.add_argument("--think", default=EXAMPLE_THINK, help="reasoning (whitespace-separated words)")
    p.add_argument("--p", type=int, default=2, help="response slots per block")
    p.add_argument("--q", type=int, default=8, help="reasoning slots per block")
    p.add_argument("--mode", choices=interleave.MODES, default="tis")
    p.add_argument("--licenses", type=_ints, help="per response word: reasoning words that must come before it")
    p.set_defaults(func=_run(lambda a: tis_grid(a.say, a.think, p=a.p, q=a.q, mode=a.mode, licenses=a.licenses)))

    p = sub.add_parser("syncllm", parents=[common], help="SyncLLM chunked two-speaker units")
    p.add_argument("--s0", type=_ints, default=[7, 7, 7, 7, 12, 12, 40, 40], help="speaker 0 units (fixed rate)")
    p.add_argument("--s1", type=_ints, default=[0, 0, 0, 0, 0, 3, 3, 9], help="speaker 1 units (fixed rate)")
    p.add_argument("--chunk-ms", type=float, default=160.0)
    p.add_argument("--unit-rate", type=float, default=25.0, help="units per second")
    p.add_argument("--n-units", type=int, default=501)
    p.set_defaults(func=_run(_syncllm_grid))

    p = sub.add_parser("omniflatten", parents=[common], help="OmniFlatten 4/3/2-stream flattening")
    p.add_argument("--streams", type=int, choices=(4, 3, 2), default=3)
    p.add_argument("--user-speech", type=_codes("sil"), help="raw speech codes, 'sil' = silence")
    p.add_argument("--assistant-speech", type=_codes("sil"), help="raw speech codes, 'sil' = silence")
    p.add_argument("--user-text", type=_ints, default=[], help="user text ids (4 streams)")
    p.add_argument("--assistant-text", type=_codes("end"), help="assistant text ids, 'end' = silence-end pad")
    p.add_argument("--speech-chunk", type=int, default=10)
    p.add_argument("--text-chunk", type=int, default=2)
    p.set_defaults(func=_run(_omniflatten_grid))

    p = sub.add_parser("moshi", parents=[common], help="Moshi inner-monologue text alignment")
    p.add_argument("--word", dest="words", type=_word, action="append",
                   help="[WORD:]TOKENS:START:END, repeatable (default: the hello/world example)")
    p.add_argument("--duration", type=float, default=1.2, help="seconds of audio")
    p.add_argument("--frame-rate", type=float, default=12.5)
    p.add_argument("--pad", type=int, default=3)
    p.add_argument("--epad", type=int, default=0)
    p.set_defaults(func=_run(_moshi_grid))

    p = sub.add_parser("demo", parents=[common], help="render a few layouts of every system")
    p.set_defaults(func=_demo)
