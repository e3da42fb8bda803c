"""Speech engines on this machine: TTS real-time factor and first-chunk latency, ASR round-trip WER per
TTS engine (beam 1 and beam 5), ASR speed by beam size, Whisper encoder feature speed, VAD speed.

Baselines measured in the same run: ASR beam 5 vs beam 1 (greedy, the default); encoder features on the
unpadded mel (what WhisperEncoder does) vs the same audio padded to Whisper's 30 s window (what Whisper
itself does). RTF = compute time / audio duration; every figure is a median over the sentences/repeats.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_speech.py [--engines piper,espeak:en-us,...] [--repeats 3]
"""

from __future__ import annotations

import argparse
import re
import statistics
import time

import jiwer
import numpy as np

from thinkspeak.speech.asr import WhisperASR
from thinkspeak.speech.encoder import WhisperEncoder
from thinkspeak.speech.tts import get_tts
from thinkspeak.speech.vad import SileroVAD
from thinkspeak.text.reading import words_to_digits

SENTENCES = [
    "What is twelve times three?",
    "Let me think about that for a moment.",
    "Twelve times three is thirty six, so the answer is thirty six.",
    "A farmer has seven cows and buys five more.",
    "How many cows does the farmer have now?",
    "Seven plus five makes twelve cows in total.",
    "If a train travels sixty miles in one hour, how far does it go in three hours?",
    "The train goes one hundred and eighty miles.",
    "Half of forty eight is twenty four.",
    "Please say that again, a little more slowly.",
]
DEFAULT_ENGINES = [
    "piper",
    "espeak:en-us",
    "espeak:en-gb+f3:rate=160:pitch=60",
    "flite:slt",
    "flite:kal16",
    "festival:kal",
]


def normalise(text: str) -> str:
    """Lower case, number words -> digits, no punctuation: Whisper writes "36" where TTS said "thirty six"."""
    return " ".join(re.findall(r"[a-z0-9']+", words_to_digits(text.lower()).replace(",", "")))


def median_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def bench_tts(specs: list[str], asr: WhisperASR, asr_beam: WhisperASR) -> None:
    print(
        f"\n{'TTS engine':40s} {'RTF':>7s} {'first chunk s':>14s} {'audio s':>8s} {'WER % b1':>9s} {'WER % b5':>9s}"
    )
    for spec in specs:
        tts = get_tts(spec)
        tts.synthesize("Warm up.")
        rtfs, firsts, durations, refs, hyps, hyps_beam = [], [], [], [], [], []
        for sentence in SENTENCES:
            start = time.perf_counter()
            speech = tts.synthesize(sentence)
            rtfs.append((time.perf_counter() - start) / speech.duration)
            durations.append(speech.duration)
            start = time.perf_counter()
            next(iter(tts.stream(sentence)))
            firsts.append(time.perf_counter() - start)
            refs.append(normalise(sentence))
            hyps.append(normalise(asr.transcribe(speech.pcm).text))
            hyps_beam.append(normalise(asr_beam.transcribe(speech.pcm).text))
        wer, wer_beam = 100 * jiwer.wer(refs, hyps), 100 * jiwer.wer(refs, hyps_beam)
        print(
            f"{tts.spec:40s} {statistics.median(rtfs):7.3f} {statistics.median(firsts):14.3f} "
            f"{statistics.median(durations):8.2f} {wer:9.1f} {wer_beam:9.1f}"
        )


def bench_asr(asr_fast: WhisperASR, asr_beam: WhisperASR, repeats: int) -> None:
    speech = get_tts("flite:slt").synthesize(" ".join(SENTENCES[:3])).pcm
    seconds = speech.size / 16000
    fast = median_time(lambda: asr_fast.transcribe(speech), repeats)
    beam = median_time(lambda: asr_beam.transcribe(speech), repeats)
    print(
        f"\nASR on {seconds:.1f} s of speech: beam 1 {fast:.3f} s (RTF {fast / seconds:.3f}), "
        f"beam 5 {beam:.3f} s (RTF {beam / seconds:.3f}); beam 1 is x{beam / fast:.2f} faster"
    )


def bench_encoder(encoder: WhisperEncoder, repeats: int) -> None:
    speech = get_tts("flite:slt").synthesize(" ".join(SENTENCES)).pcm
    print(
        f"\n{'encoder audio s':>16s} {'features s':>11s} {'RTF':>7s} {'padded-to-30s s':>16s} {'speed-up':>9s}"
    )
    for seconds in (2, 5, 10, 20):
        clip = np.resize(speech, seconds * 16000)
        ours = median_time(lambda clip=clip: encoder.features(clip), repeats)
        padded = np.concatenate([clip, np.zeros(30 * 16000 - clip.size, dtype=np.float32)])
        baseline = median_time(lambda padded=padded: encoder.features(padded), repeats)
        print(f"{seconds:16d} {ours:11.3f} {ours / seconds:7.3f} {baseline:16.3f} {baseline / ours:8.1f}x")


def bench_vad(repeats: int) -> None:
    vad = SileroVAD()
    audio = get_tts("flite:slt").synthesize(" ".join(SENTENCES[:4])).pcm
    frames = [audio[i : i + 512] for i in range(0, audio.size - 511, 512)]
    elapsed = median_time(lambda: [vad.process(f) for f in frames], repeats)
    print(
        f"\nSilero VAD: {len(frames)} frames in {elapsed:.3f} s, RTF {elapsed / (len(frames) * 0.032):.4f}, "
        f"{1000 * elapsed / len(frames):.3f} ms per 32 ms frame"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engines", default=",".join(DEFAULT_ENGINES), help="comma-separated TTS specs")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    asr, asr_beam = WhisperASR(), WhisperASR(beam_size=5)
    bench_tts(args.engines.split(","), asr, asr_beam)
    bench_asr(asr, asr_beam, args.repeats)
    bench_encoder(WhisperEncoder(), args.repeats)
    bench_vad(args.repeats)


if __name__ == "__main__":
    main()
