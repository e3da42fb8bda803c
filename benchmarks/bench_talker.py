"""Token Talker figures (issue 11), all in one run on the held-out split of a Talker dataset.

    python benchmarks/bench_talker.py --data data/talker [--talker PATH ...] [--n 100] [--sessions 1,2,4]
    python benchmarks/bench_talker.py --data data/talker --compare RUN_A RUN_B --n 6   # alignment ablation

Prints (medians over items unless said otherwise):
* Whisper-base round-trip WER of (a) the teacher voice (piper joe), (b) the teacher through the codec (the
  ceiling of any Talker on this codec), (c) the token Talker; the ratio (c)/(b);
* real-time factor of one Talker session (generation + codec decoding, one thread);
* first audio after the first spoken word: token Talker (first word in -> first PCM) vs piper (synthesis of
  the first streaming chunk, split_for_streaming's first clause; waiting for its words is not counted);
* concurrent sessions: N sessions stepped round-robin on one thread; real time when every session's audio
  is produced at least as fast as it plays.
Several ``--talker`` folders are measured in the same run on the same items (``shipped`` = the packaged
default); the first is the named baseline of the ``x_first`` WER ratios.
With ``--compare`` it trains nothing: it loads two runs' Talkers (e.g. the moshi and miniomni alignment
ablations) and reports their held-out audio loss and WER side by side.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import time
from pathlib import Path

import torch

RATE = 16000


def normalise(text: str) -> str:
    from thinkspeak.text.numbers import spoken_form

    text = spoken_form(text).lower().replace("-", " ")
    return " ".join(re.sub(r"[^a-z' ]+", " ", text).split())


def wer(refs: list[str], hyps: list[str]) -> float:
    import jiwer

    return jiwer.wer([normalise(r) for r in refs], [normalise(h) or "<empty>" for h in hyps])


def held_out(data: Path, n: int) -> list[dict]:
    from thinkspeak.audio.flac import decode_audio
    from thinkspeak.data import shards

    rows = [r for r in shards.iter_rows(data, columns=["id", "split", "text", "teacher_audio"]) if r["split"] == "test"]
    out = []
    for r in rows[:n]:
        pcm, rate = decode_audio(r["teacher_audio"])
        out.append({"id": r["id"], "text": r["text"], "teacher": pcm, "rate": rate})
    return out


def first_audio_ms(talker, codec, text: str) -> float:
    from thinkspeak.decode.talker import TalkerSession

    session = TalkerSession(talker, codec, RATE)
    first = text.split()[0]
    t0 = time.perf_counter()
    session.push_text(first + " ")
    for pcm in session.stream():
        if pcm.size:
            return 1000 * (time.perf_counter() - t0)
    return float("nan")


def piper_first_ms(text: str) -> float:
    from thinkspeak.speech.tts import get_tts, split_for_streaming

    tts = get_tts("piper:joe")
    tts.synthesize("warm up")
    t0 = time.perf_counter()
    tts.synthesize(split_for_streaming(text)[0])
    return 1000 * (time.perf_counter() - t0)


def concurrent(talker, codec, texts: list[str], n: int, seconds: float = 3.0) -> dict:
    """``n`` sessions stepped round-robin until each has ``seconds`` of audio; real time if wall <= seconds."""
    from thinkspeak.decode.talker import TalkerOptions, TalkerSession

    sessions = [TalkerSession(talker, codec, RATE, TalkerOptions(seed=i, max_seconds=seconds + 1))
                for i in range(n)]
    for s, text in zip(sessions, texts * n, strict=False):
        s.push_text(text)
        s.end_text()
    made = [0.0] * n
    t0 = time.perf_counter()
    while min(made) < seconds:
        for i, s in enumerate(sessions):
            if made[i] < seconds:
                pcm = s.step()
                made[i] = seconds if pcm is None else made[i] + pcm.size / RATE
    wall = time.perf_counter() - t0
    return {"sessions": n, "audio_s_each": seconds, "wall_s": round(wall, 2), "real_time": wall <= seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("data/talker"))
    parser.add_argument("--talker", action="append", default=None,
                        help="Talker folder, or 'shipped' (default); repeat to compare, the first is the baseline")
    parser.add_argument("--n", type=int, default=100, help="held-out responses (at most the split's size)")
    parser.add_argument("--sessions", default="1,2,4")
    parser.add_argument("--temperature", type=float, default=None,
                        help="sampling temperature of the Talkers' audio (default: TalkerOptions', 0.7; 0 = greedy)")
    parser.add_argument("--compare", nargs=2, default=None, metavar="RUN", help="two training runs to compare")
    parser.add_argument("--out", type=Path, default=None, help="also write the figures as JSON here")
    args = parser.parse_args()
    torch.set_num_threads(1)

    from thinkspeak.audio.resample import resample
    from thinkspeak.codecs import get_codec
    from thinkspeak.decode.talker import TalkerOptions, TokenTalker, speak
    from thinkspeak.speech.asr import WhisperASR

    items = held_out(args.data, args.n)
    asr = WhisperASR(word_timestamps=False, window_s="auto")
    refs = [it["text"] for it in items]
    result: dict = {"items": len(items), "data": str(args.data)}
    if args.compare:
        from thinkspeak.model.talker import Talker
        from thinkspeak.train.recipe import load_recipe
        from thinkspeak.train.talker import TalkerLoss, collate, load_checkpoint, read_streams

        for run in args.compare:
            recipe = json.loads((Path(run) / "recipe.json").read_text())["name"] if (Path(run) / "recipe.json").is_file() \
                else Path(run).name
            final = Path(run) / "talker" / "final"
            talker = Talker.load(final) if (final / "talker.json").is_file() else load_checkpoint(run, load_recipe(recipe))
            codec = get_codec(talker.config.codec)
            streams = read_streams(args.data, talker.config, "test", limit=len(items))
            with torch.no_grad():
                _, per_codebook, _ = TalkerLoss(talker)(collate(streams, talker.config))
            hyps = [asr.transcribe(speak(talker, codec, r, RATE)).text for r in refs]
            result[run] = {"alignment": talker.config.alignment, "heldout_audio_loss": round(float(per_codebook.mean()), 4),
                           "wer": round(wer(refs, hyps), 4), "examples": list(zip(refs, hyps, strict=True))[:2]}
            print(json.dumps({run: result[run]}, indent=1), flush=True)
    else:
        teacher_h, codec_h = [], []
        for it in items:
            teacher = resample(it["teacher"], it["rate"], RATE)
            teacher_h.append(asr.transcribe(teacher).text)
            codec = get_codec("codec2")
            codec_h.append(asr.transcribe(codec.decode(codec.encode(teacher, RATE), RATE)).text)
        w_codec = wer(refs, codec_h)
        result["wer"] = {"teacher": round(wer(refs, teacher_h), 4), "codec": round(w_codec, 4)}
        pipers = [piper_first_ms(it["text"]) for it in items[:10]]
        result["piper_first_chunk_ms_median"] = round(statistics.median(pipers), 1)
        result["talkers"], first = {}, None
        for name in args.talker or ["shipped"]:
            options = None if args.temperature is None else TalkerOptions(temperature=args.temperature)
            tk = TokenTalker.load(None if name == "shipped" else name, options=options)
            codec = tk.codec
            talker_h, rtf = [], []
            for it in items:
                t0 = time.perf_counter()
                pcm = speak(tk.talker, codec, it["text"], RATE, tk.options)
                rtf.append((time.perf_counter() - t0) / max(pcm.size / RATE, 1e-9))
                talker_h.append(asr.transcribe(pcm).text)
            w = wer(refs, talker_h)
            first = w if first is None else first
            firsts = [first_audio_ms(tk.talker, codec, it["text"]) for it in items[:10]]
            result["talkers"][name] = {
                "wer": round(w, 4), "over_codec": round(w / w_codec, 2) if w_codec else None, "x_first": round(w / max(first, 1e-9), 3),
                "rtf_median": round(statistics.median(rtf), 3),
                "first_audio_ms_median": round(statistics.median(firsts), 1),
                "concurrent": [concurrent(tk.talker, codec, refs, int(n)) for n in args.sessions.split(",")],
                "examples": [{"ref": r, "talker": h} for r, h in zip(refs[:3], talker_h[:3], strict=False)]}
            print(json.dumps({name: result["talkers"][name]}, indent=1), flush=True)
        print(json.dumps(result, indent=1))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
