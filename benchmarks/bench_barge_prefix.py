"""Can the learned turn head judge a barge-in before its first pause? (issue 14, docs/results.md)

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_barge_prefix.py [--prefix-ms 300,450,600] [--voices ...] \
        [--heads shipped,DIR...]

The server's ``--turn-model learned`` confirms a barge-in at the speech's first pause, with the whole clip
(interruption latency 1.3-2.2 s in bench_turns). Judging earlier would mean judging the first N ms of speech.
For backchannels, coughs and real interruptions spoken by voices held out of the head's training (flite),
this prints, per prefix length:
* how many clips are still voiced at N ms (shorter ones end in a pause first and are judged whole, as today);
* of those, the share the head gets right: an interruption with P(other) < 0.5, a backchannel or cough with
  P(other) >= 0.5;
and the same for the whole clips (the baseline: what the server judges at a pause). Clips are heard as the
server hears them: 300 ms of silence before (its pre-roll), and a prefix ends where the speech is cut (the
early verdict, ``--barge-in-verdict-ms``), a whole clip 100 ms into the silence after it (a pause).
Per head, the prefix rows also count the clips the server's early verdict would interrupt on (P(other) <
``EARLY_BACKCHANNEL_P``, 0.02: wanted for interruptions, a false interruption for the others); that is what
``--barge-in-verdict-ms`` is chosen by. ``--heads``: the learned heads to compare in the same run (``shipped``: ``assets/turn-learned``; or a folder
written by ``python -m thinkspeak.speech.turn.train --fit``), one "right" column each.
"""

from __future__ import annotations

import argparse

import numpy as np

BACKCHANNELS = ["mm-hm", "okay", "yeah", "uh-huh", "right", "I see", "sure", "oh okay", "mm", "yes"]
INTERRUPTIONS = ["Wait, stop. What is eight times nine?", "Hold on, can you say that again?",
                 "No, I asked about seven times eight.", "Sorry, what was the first number?", "Stop, that is wrong.",
                 "Actually, let me ask something else.", "Can you go slower please?"]
OTHER_P = 0.5


def clips(voices: list[str], coughs: int) -> list[tuple[str, np.ndarray]]:
    """(kind, 16 kHz audio trimmed to its voiced part) for every text x voice, and ``coughs`` coughs."""
    from thinkspeak.audio import resample
    from thinkspeak.speech.tts import get_tts
    from thinkspeak.speech.turn.train import synthetic_cough

    out = []
    for voice in voices:
        tts = get_tts(voice)
        for kind, texts in (("backchannel", BACKCHANNELS), ("interruption", INTERRUPTIONS)):
            for text in texts:
                result = tts.synthesize(text)
                x = resample(result.pcm, result.sample_rate, 16000)
                loud = np.flatnonzero(np.abs(x) > 0.01)
                out.append((kind, x[loud[0]:loud[-1] + 1]))
    out += [("cough", synthetic_cough(np.random.default_rng([0, 1000 + k]))) for k in range(coughs)]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--prefix-ms", default="300,450,600,800")
    parser.add_argument("--voices", default="flite:slt,flite:rms,flite:awb")
    parser.add_argument("--coughs", type=int, default=6)
    parser.add_argument("--heads", default="shipped", help="comma-separated: shipped and/or head folders")
    args = parser.parse_args()
    from pathlib import Path

    from thinkspeak.speech.turn.learned import ASSET, LearnedTurn

    names = args.heads.split(",")
    heads = [LearnedTurn(ASSET if name == "shipped" else Path(name)) for name in names]
    data = clips(args.voices.split(","), args.coughs)
    lead, tail = np.zeros(4800, np.float32), np.zeros(1600, np.float32)
    print(f"{len(data)} clips ({args.voices}; {args.coughs} coughs)")
    from thinkspeak.serve.detectors import EARLY_BACKCHANNEL_P

    print("| prefix | kind | voiced that long | " + " | ".join(f"right: {n} | early interrupt: {n}" for n in names)
          + " |")
    print("|---|---|---:|" + "---:|---:|" * len(names))
    for ms in [int(v) for v in args.prefix_ms.split(",")] + [None]:
        for kind in ("interruption", "backchannel", "cough"):
            heard = [np.concatenate([lead, x, tail]) if ms is None else np.concatenate([lead, x[:ms * 16]])
                     for k, x in data if k == kind and (ms is None or len(x) > ms * 16)]
            total = sum(k == kind for k, _ in data)
            shares = []
            for head in heads:
                p = [head.backchannel(x) for x in heard]
                right = [(v >= OTHER_P) == (kind != "interruption") for v in p]
                shares.append(f"{sum(right)}/{len(right)}" if right else "-")
                early = sum(v < EARLY_BACKCHANNEL_P for v in p)
                shares.append("-" if ms is None or not p else f"{early}/{len(p)}")
            label = "whole clip (at its pause)" if ms is None else f"{ms} ms"
            print(f"| {label} | {kind} | {len(heard)}/{total} | " + " | ".join(shares) + " |")


if __name__ == "__main__":
    main()
