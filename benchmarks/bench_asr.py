"""WhisperASR on short spoken questions: accuracy and latency of the 30 s window vs short encoder windows.

Synthesises spoken-math questions (``thinkspeak.data.math`` generators, seeded, in spoken form) with
espeak-ng, flite and piper voices in turn, then transcribes every clip with each setting, the settings
interleaved clip by clip so that load on the machine hits them alike. Reported per setting:

* WER (jiwer) after lower-casing, spoken numbers -> digits (``words_to_digits``) and dropping punctuation,
  with its substitutions / deletions / insertions (insertions would show short-window hallucinations);
* numbers %: share of clips whose transcript names exactly the reference's numbers, in order;
* fallbacks: clips whose short-window decode looped and were heard on the 30 s window instead
  (``WhisperASR`` logs each at debug level);
* median and p90 seconds per clip, and the median's ratio to the baseline's measured in the same run.

The baseline is faster-whisper's padded 30 s window with word timestamps (``WhisperASR()``).

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_asr.py [--n 30] [--seed 0] [--voices ...]
"""

from __future__ import annotations

import argparse
import logging
import random
import re
import statistics
import time
from dataclasses import dataclass

import numpy as np

from thinkspeak.speech.asr import WhisperASR, window_seconds
from thinkspeak.text.numbers import spoken_form
from thinkspeak.text.reading import find_numbers, words_to_digits

VOICES = ("espeak:en-us", "flite:slt", "piper:joe", "espeak:en-gb+f3:rate=160", "flite:kal16", "flite:awb",
          "espeak:en-us+m3:rate=165", "flite:rms")
#: (label, WhisperASR options); the first is the baseline.
SETTINGS = (
    ("30 s + word times", {}),
    ("30 s", {"word_timestamps": False}),
    ("30 s, one pass", {"word_timestamps": False, "window_s": 30.0}),
    ("10 s", {"word_timestamps": False, "window_s": 10.0}),
    ("auto", {"word_timestamps": False, "window_s": "auto"}),
    ("auto + word times", {"window_s": "auto"}),
    ("tight (+1 s)", {"word_timestamps": False, "window_s": 1.0}),
)


@dataclass
class Clip:
    text: str
    voice: str
    pcm: np.ndarray

    @property
    def seconds(self) -> float:
        return self.pcm.size / 16000


def questions(n: int, seed: int, max_words: int) -> list[str]:
    """``n`` distinct spoken-form questions of at most ``max_words`` words, all four corpus categories."""
    from thinkspeak.data.math.sample import GENERATORS

    rng = random.Random(seed)
    kinds = [k for gens in GENERATORS.values() for k in gens]
    out: list[str] = []
    while len(out) < n:
        text = spoken_form(rng.choice(kinds)(rng).question)
        if len(text.split()) <= max_words and text not in out:
            out.append(text)
    return out


def synthesise(texts: list[str], voices: list[str]) -> list[Clip]:
    from thinkspeak.speech.tts import get_tts

    engines = {v: get_tts(v) for v in voices}
    return [Clip(text, voices[i % len(voices)], engines[voices[i % len(voices)]].synthesize(text).pcm)
            for i, text in enumerate(texts)]


def normalise(text: str) -> str:
    """Lower case, spoken numbers as digits, no punctuation (decimal points and fraction bars kept)."""
    text = words_to_digits(text.lower().replace("-", " "))
    return " ".join(re.findall(r"\d+(?:[.,/]\d+)*|[a-z]+(?:'[a-z]+)?", text)).replace(",", "")


def numbers(text: str) -> list:
    return [span.value for span in find_numbers(text)]


class Fallbacks(logging.Handler):
    """Counts WhisperASR's "window looped; hearing the clip on the 30 s window" debug records."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += "30 s window" in record.getMessage()


def main() -> None:
    import jiwer

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=30, help="questions (default 30)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-words", type=int, default=16, help="longest question in words (default 16)")
    parser.add_argument("--voices", default=",".join(VOICES), help="comma-separated TTS specs, used in turn")
    parser.add_argument("--show", action="store_true", help="print every transcript that differs from the baseline's")
    args = parser.parse_args()

    clips = synthesise(questions(args.n, args.seed, args.max_words), args.voices.split(","))
    systems = [(label, WhisperASR(**options)) for label, options in SETTINGS]
    for _, asr in systems:  # first-call costs (allocations, tokenizer) out of the timings
        asr.transcribe(clips[0].pcm)
    fallbacks = Fallbacks()
    asr_log = logging.getLogger("thinkspeak.speech.asr")
    asr_log.addHandler(fallbacks)
    asr_log.setLevel(logging.DEBUG)
    hyps: dict[str, list[str]] = {label: [] for label, _ in systems}
    times: dict[str, list[float]] = {label: [] for label, _ in systems}
    fell_back: dict[str, int] = dict.fromkeys(hyps, 0)
    for clip in clips:
        for label, asr in systems:
            seen, start = fallbacks.count, time.perf_counter()
            hyps[label].append(asr.transcribe(clip.pcm).text)
            times[label].append(time.perf_counter() - start)
            fell_back[label] += fallbacks.count - seen

    durations = [c.seconds for c in clips]
    print(f"{len(clips)} questions, {sum(len(c.text.split()) for c in clips)} words, audio {min(durations):.1f}-"
          f"{max(durations):.1f} s (median {statistics.median(durations):.1f}); auto windows "
          f"{sorted({window_seconds(d, 'auto') for d in durations})} s; voices {args.voices}")
    refs = [normalise(c.text) for c in clips]
    base = statistics.median(times[SETTINGS[0][0]])
    print(f"{'setting':<20} {'WER %':>6} {'sub':>4} {'del':>4} {'ins':>4} {'numbers %':>9} {'fallbacks':>9} "
          f"{'median s':>8} {'p90 s':>6} {'speed-up':>8}")
    for label, _ in systems:
        measure = jiwer.process_words(refs, [normalise(h) for h in hyps[label]])
        right = sum(numbers(c.text) == numbers(h) for c, h in zip(clips, hyps[label], strict=True))
        med = statistics.median(times[label])
        print(f"{label:<20} {100 * measure.wer:>6.1f} {measure.substitutions:>4} {measure.deletions:>4} "
              f"{measure.insertions:>4} {100 * right / len(clips):>9.1f} {fell_back[label]:>9} {med:>8.3f} "
              f"{float(np.percentile(times[label], 90)):>6.3f} {base / med:>7.2f}x")
    if args.show:
        for i, clip in enumerate(clips):
            seen = {label: hyps[label][i] for label, _ in systems}
            if len({normalise(h) for h in seen.values()}) > 1:
                print(f"\n[{clip.voice}, {clip.seconds:.1f} s] {clip.text}")
                for label, text in seen.items():
                    print(f"  {label:<20} {text}")


if __name__ == "__main__":
    main()
