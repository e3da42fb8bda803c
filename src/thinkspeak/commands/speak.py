"""``thinkspeak speak``: say a text with the token Talker (issue 11) and write a mono WAV.

    thinkspeak speak --text "The answer is forty two." --out out.wav [--talker PATH] [--codec NAME[:PATH]]
"""

from __future__ import annotations

import argparse
import json


def register(subparsers) -> None:
    p = subparsers.add_parser("speak", help="say a text with the token Talker and write a WAV",
                              description="Speak TEXT with the token Talker (audio tokens decoded by a codec) "
                              "and write a mono 16-bit WAV. Empty text writes empty audio.")
    p.add_argument("--text", required=True, help="the text to speak (numbers are spelled out)")
    p.add_argument("--out", required=True, help="output WAV file")
    p.add_argument("--talker", default=None, metavar="PATH", help="Talker folder (default: the shipped talker-default)")
    p.add_argument("--codec", default=None, metavar="NAME[:PATH]",
                   help="codec the Talker was trained with (default: the Talker's, e.g. codec2)")
    p.add_argument("--rate", type=int, default=16000, help="output sample rate (default 16000)")
    p.add_argument("--temperature", type=float, default=None, help="audio sampling temperature (0: greedy)")
    p.add_argument("--seed", type=int, default=0, help="sampling seed (default 0)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import time

    import soundfile
    import torch

    from thinkspeak.audio.pcm import check_sample_rate
    from thinkspeak.decode.talker import TalkerOptions, TokenTalker

    check_sample_rate("--rate", args.rate)
    torch.set_num_threads(1)
    options = TalkerOptions(seed=args.seed, **({} if args.temperature is None else {"temperature": args.temperature}))
    talker = TokenTalker.load(args.talker, args.codec, options)
    t0 = time.perf_counter()
    pcm = talker.speak(args.text, args.rate)
    elapsed = time.perf_counter() - t0
    soundfile.write(args.out, pcm, args.rate, subtype="PCM_16")
    seconds = pcm.size / args.rate
    print(json.dumps({"out": args.out, "seconds": round(seconds, 3), "elapsed_s": round(elapsed, 3),
                      "rtf": round(elapsed / seconds, 3) if seconds else None}))
    return 0
