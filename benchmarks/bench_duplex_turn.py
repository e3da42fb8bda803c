"""The ``duplex`` turn model (the full-duplex Thinker's P(speaking next)) against the ``learned`` head, one run.

Each model judges the same pauses as the server would hear them (0.2 s before the speech, 0.1 s of silence
after it), on speech made with a voice held out of both models' training (flite):

* **whole**: a complete question; **cut**: the same recording cut at each inner pause (:func:`dips`), an
  unfinished turn. ``separation`` is the fraction of (whole, cut) pairs of one question where the whole one gets
  the higher P(complete) (ties count half; 0.5 = cannot tell them apart); the silence that ends the turn comes
  from the eagerness mapping of the server (``medium``);
* **barge-ins**: backchannels and synthetic coughs (should leave the floor with the assistant: high P(other))
  against real interruptions (low).

The learned head (``assets/turn-learned``) is the named baseline; ``ms`` is the median time of one judgement
(a pause; a barge-in) and its ratio to the baseline's. The 1-minute load average is printed (other jobs share the CPU).

    .venv/bin/python benchmarks/bench_duplex_turn.py [--model DUPLEX_DIR] [--voices flite:slt,flite:rms]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np

from thinkspeak.audio import resample
from thinkspeak.serve.detectors import probability_state
from thinkspeak.speech.endpoint import EAGERNESS
from thinkspeak.speech.tts import get_tts
from thinkspeak.speech.turn.train import dips, synthetic_cough

QUESTIONS = ("What is six times seven?", "How much is twelve plus nineteen?",
             "If Tom has twelve apples and gives away five, how many are left?",
             "A train goes sixty miles an hour for three hours. How far does it go?")
BACKCHANNELS = ("mm-hmm", "okay", "yeah", "right", "I see")
INTERRUPTIONS = ("Wait, stop. What is eight times nine?", "Sorry, can you slow down a bit?",
                 "No, that's wrong, it should be twelve.")


def speak(text: str, voice: str) -> np.ndarray:
    result = get_tts(voice).synthesize(text)
    x = resample(result.pcm, result.sample_rate, 16000)
    loud = np.flatnonzero(np.abs(x) > 0.01)
    return x[loud[0]:loud[-1]].astype(np.float32)


def at_pause(speech: np.ndarray) -> np.ndarray:
    return np.concatenate([np.zeros(3200, np.float32), speech, np.zeros(1600, np.float32)])


def timed(f, x) -> tuple[float, float]:
    t0 = time.perf_counter()
    p = f(x)
    return float(p), (time.perf_counter() - t0) * 1000


def separation(whole: float, cuts: list[float]) -> list[float]:
    return [1.0 if whole > c else 0.5 if whole == c else 0.0 for c in cuts]


def run(model, cases, barge) -> dict:
    ms, wholes, cuts, seps = [], [], [], []
    for whole, parts in cases:
        p, t = timed(model.probability, whole)
        pc = [timed(model.probability, c) for c in parts]
        ms += [t] + [t for _, t in pc]
        wholes.append(p)
        cuts += [q for q, _ in pc]
        seps += separation(p, [q for q, _ in pc])
    judged = {kind: [timed(model.backchannel, x) for x in xs] for kind, xs in barge.items()}
    other = {kind: [p for p, _ in r] for kind, r in judged.items()}
    barge_ms = statistics.median(t for r in judged.values() for _, t in r)
    silence = EAGERNESS["medium"].silence_ms
    return {"whole": wholes, "cut": cuts, "separation": statistics.mean(seps), "ms": statistics.median(ms), "barge_ms": barge_ms,
            "silence_whole": statistics.median(silence(probability_state(p)) for p in wholes),
            "silence_cut": statistics.median(silence(probability_state(p)) for p in cuts), **other}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="a duplex model folder (default: the shipped one)")
    parser.add_argument("--voices", default="flite:slt,flite:rms", help="user voices (held out: flite)")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    from thinkspeak.speech.turn.duplex import DuplexTurn
    from thinkspeak.speech.turn.learned import load_learned

    cases, barge = [], {"backchannel": [], "cough": [], "interruption": []}
    for voice in args.voices.split(","):
        for q in QUESTIONS:
            speech = speak(q, voice)
            cases.append((at_pause(speech), [at_pause(speech[:c]) for c in dips(speech)]))
        barge["backchannel"] += [at_pause(speak(t, voice)) for t in BACKCHANNELS]
        barge["interruption"] += [at_pause(speak(t, voice)) for t in INTERRUPTIONS]
    barge["cough"] = [at_pause(synthetic_cough(np.random.default_rng(100 + i))) for i in range(4)]
    models = {"learned head (baseline)": load_learned(), f"duplex ({args.model or 'shipped'})": DuplexTurn(args.model)}
    n_cut = sum(len(c) for _, c in cases)
    print(f"{len(cases)} questions, {n_cut} cuts, voices {args.voices}; load {os.getloadavg()[0]:.1f}")
    print("| model | P(complete) whole, median | cut, median | separation | silence whole / cut (medium) | "
          "P(other) backchannel / cough / interruption, median | ms per pause (x baseline) | ms per barge-in (x baseline) |")
    print("|---|---|---|---|---|---|---|---|")
    base = base_barge = None
    for name, model in models.items():
        r = run(model, cases, barge)
        base, base_barge = base or r["ms"], base_barge or r["barge_ms"]
        med = statistics.median
        print(f"| {name} | {med(r['whole']):.3f} | {med(r['cut']):.3f} | {r['separation']:.2f} | "
              f"{r['silence_whole']:.0f} / {r['silence_cut']:.0f} ms | {med(r['backchannel']):.2f} / "
              f"{med(r['cough']):.2f} / {med(r['interruption']):.2f} | {r['ms']:.0f} (x{r['ms'] / base:.2f}) | "
              f"{r['barge_ms']:.0f} (x{r['barge_ms'] / base_barge:.2f}) |")
    print(f"load after {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
