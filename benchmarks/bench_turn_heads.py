"""Two learned end-of-turn heads on the same pauses, one run (issue 14; docs/results.md "Turn-taking").

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_turn_heads.py --heads BASELINE_DIR,shipped \
        [--voices flite:slt,flite:rms,flite:awb]

Questions and word problems of ``bench_duplex_turn.py`` and :data:`MORE_QUESTIONS` spoken by voices held out
of the heads' training (flite), heard as the server hears a pause (0.2 s before, 0.1 s of silence after): **whole** (the turn is
over) and **cut** at each inner pause (:func:`~thinkspeak.speech.turn.train.dips`, unfinished). Per head:
whole questions with P(complete) >= 0.5 (the turn ends after the short silence) and < 0.1 (it waits the
longest), cuts with P(complete) < 0.1 (an inner pause that does not end the turn), the separation (share
of (whole, cut) pairs of one question where the whole one scores higher), and **lead sentences**: the
statements that open the word problems of :data:`WORD_PROBLEMS` (written for this benchmark, in none of the
heads' training or of ``bench_turns.py``), each said alone as a finished sentence, with P(complete) < 0.5
(the turn does not end after the short silence: the question is still to come). The first head is the
baseline; ``shipped`` is ``assets/turn-learned``, any other name a folder written by ``python -m
thinkspeak.speech.turn.train --fit``. Barge-ins (backchannels vs interruptions, whole and early) are
``bench_barge_prefix.py``'s.
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

from bench_duplex_turn import QUESTIONS, at_pause, speak

from thinkspeak.speech.turn.train import dips, lead_sentences

#: more finished questions, written for this benchmark (none is a corpus template), so that heads are compared
#: on more than bench_duplex_turn's four
MORE_QUESTIONS = ("How many minutes are in three hours?", "Could you add eighteen and twenty seven for me?",
                  "What's nine squared?", "Is fifty one a prime number?", "Tell me what ten percent of eighty is.",
                  "Which is bigger, two thirds or three fifths?", "What do I get if I double thirty five?",
                  "How much change do I get from a twenty if I spend thirteen fifty?")
WORD_PROBLEMS = ("A baker makes forty rolls in the morning. She sells twenty six of them by noon. How many rolls "
                 "are left?",
                 "My sister is eight years old. I am three times her age. How old am I?",
                 "A box holds twelve eggs. We bought seven boxes. How many eggs do we have?",
                 "The park is two kilometres away. I walk there and back every day. How far do I walk in a week?",
                 "There are thirty children in the class. A third of them wear glasses. How many wear glasses?")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--heads", required=True, help="comma-separated: the baseline first; shipped or folders")
    parser.add_argument("--voices", default="flite:slt,flite:rms,flite:awb")
    args = parser.parse_args()
    from thinkspeak.speech.turn.learned import ASSET, LearnedTurn

    cases, leads = [], []
    for voice in args.voices.split(","):
        for question in QUESTIONS + MORE_QUESTIONS:
            speech = speak(question, voice)
            cases.append((at_pause(speech), [at_pause(speech[:cut]) for cut in dips(speech)]))
        leads += [at_pause(speak(lead, voice)) for problem in WORD_PROBLEMS for lead in lead_sentences(problem)]
    n_cuts = sum(len(cuts) for _, cuts in cases)
    print(f"{len(cases)} whole questions, {n_cuts} cuts, {len(leads)} lead sentences ({args.voices})")
    print("| head | whole: P >= 0.5 | whole: P < 0.1 | cuts: P < 0.1 | separation | lead sentences: P < 0.5 |")
    print("|---|---:|---:|---:|---:|---:|")
    for name in args.heads.split(","):
        head = LearnedTurn(ASSET if name == "shipped" else Path(name))
        scored = [(head.probability(whole), [head.probability(c) for c in cuts]) for whole, cuts in cases]
        wholes = [w for w, _ in scored]
        cut_ps = [c for _, cs in scored for c in cs]
        sep = statistics.mean(1.0 if w > c else 0.5 if w == c else 0.0 for w, cs in scored for c in cs)
        lead_ok = sum(head.probability(x) < 0.5 for x in leads)
        print(f"| {name} | {sum(p >= 0.5 for p in wholes)}/{len(wholes)} | {sum(p < 0.1 for p in wholes)}/{len(wholes)} "
              f"| {sum(p < 0.1 for p in cut_ps)}/{len(cut_ps)} | {sep:.2f} | {lead_ok}/{len(leads)} |")


if __name__ == "__main__":
    main()
