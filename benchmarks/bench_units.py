"""What the speech units keep, on held-out voices (flite: never used to fit the units), for the unit model
under test and a named baseline unit model measured in the same run (default: the shipped Whisper units vs
log-mel units fitted with `thinkspeak units fit --feature logmel`).

* Speech/silence purity: user channels of pseudo full-duplex dialogues voiced by flite (with the corpus's
  silences and 15-25 dB noise), labelled per 40 ms by the corpus timeline. Cluster purity (share of frames
  whose unit's majority label matches theirs) and accuracy/F1 of "unit is not a silence unit" as a speech
  detector. A reference detector in the same run: an energy threshold (Otsu on the frame log-energy).
* Word identity across voices: the same words spoken by the 4 flite voices; units deduplicated (SyncLLM §3.1);
  ABX-style discrimination (is the same word by another voice closer, in normalised edit distance, than a
  different word by that voice? chance 0.5) and 1-nearest-neighbour word identification across voices
  (chance 1 / number of words).
* Streaming: units of random push sizes vs whole-clip ``encode`` (must be equal), and for Whisper features
  the agreement of the sliding-window units with units of the encoder run on the whole clip at once.
* Cost: ms of compute per second of audio, one thread, pushing 160 ms chunks (median over clips) and the
  implied real-time sessions per core.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_units.py --baseline runs/units-logmel [--units DIR]
        [--dialogues 6] [--words 40]
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import time

import numpy as np

from thinkspeak.data.duplex.config import DEFAULT_USER_VOICES, DuplexConfig
from thinkspeak.data.duplex.sample import make_sample
from thinkspeak.data.duplex.timeline import activity_frames
from thinkspeak.units import UnitModel, load_unit_model
from thinkspeak.units.features import HOP_SAMPLES, SAMPLE_RATE

HELD_OUT = tuple(v for v in DEFAULT_USER_VOICES if v.startswith("flite:")) + ("flite:kal",)
WORDS = ("zero one two three four five six seven eight nine ten eleven twelve twenty thirty forty fifty "
         "hundred plus minus times divided half answer number equals farmer train apples minutes hours "
         "wait sorry right okay again slowly question think total").split()
SEED = 1013  # not the fitting seed


def held_out_dialogues(n: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """(user channel, speech labels per unit) of ``n`` dialogues voiced by the held-out flite voices."""
    config = DuplexConfig(user_voices=HELD_OUT)
    out = []
    for i in range(n):
        s = make_sample(SEED, i, config)
        pcm = s.audio.user.astype(np.float32)
        frames = activity_frames(s.timeline.segments("user"), s.timeline.duration, SAMPLE_RATE / HOP_SAMPLES)
        n_units = len(pcm) // HOP_SAMPLES
        labels = np.zeros(n_units, dtype=np.int8)
        labels[: min(n_units, len(frames))] = frames[:n_units]
        out.append((pcm, labels))
    return out


def held_out_words(words: list[str]) -> dict[str, list[np.ndarray]]:
    """Each word voiced by each held-out voice: ``{voice: [pcm per word]}``."""
    from thinkspeak.data.duplex.sample import voice

    return {spec: [voice(spec, w).pcm.astype(np.float32) for w in words] for spec in dict.fromkeys(HELD_OUT)}


def purity(model: UnitModel, dialogues: list[tuple[np.ndarray, np.ndarray]]) -> dict[str, float]:
    units = np.concatenate([model.encode(pcm, SAMPLE_RATE) for pcm, _ in dialogues])
    labels = np.concatenate([lab for _, lab in dialogues])
    speech = np.bincount(units, weights=labels.astype(float), minlength=model.n_units)
    total = np.bincount(units, minlength=model.n_units)
    detected = ~np.isin(units, list(model.silence_units))
    return {"cluster_purity": float(np.maximum(speech, total - speech).sum() / total.sum()),
            **_detector(detected, labels), "units_used": int(np.unique(units).size)}


def _detector(detected: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    truth = labels.astype(bool)
    tp = float(np.sum(detected & truth))
    precision = tp / max(1.0, float(detected.sum()))
    recall = tp / max(1.0, float(truth.sum()))
    return {"speech_acc": float(np.mean(detected == truth)),
            "speech_f1": 2 * precision * recall / max(1e-9, precision + recall)}


def energy_detector(dialogues: list[tuple[np.ndarray, np.ndarray]]) -> dict[str, float]:
    """Reference: frame log-energy above an Otsu threshold fitted on these very frames (an oracle threshold)."""
    energy = np.concatenate([
        10 * np.log10(np.mean(pcm[: len(pcm) // HOP_SAMPLES * HOP_SAMPLES].reshape(-1, HOP_SAMPLES) ** 2, axis=1) + 1e-12)
        for pcm, _ in dialogues])
    labels = np.concatenate([lab for _, lab in dialogues])
    grid = np.linspace(energy.min(), energy.max(), 256)
    best = max(grid, key=lambda t: _otsu(energy, t))
    return _detector(energy > best, labels)


def _otsu(x: np.ndarray, t: float) -> float:
    lo, hi = x[x <= t], x[x > t]
    if lo.size == 0 or hi.size == 0:
        return 0.0
    return lo.size * hi.size * (lo.mean() - hi.mean()) ** 2


def dedup(units: np.ndarray) -> list[int]:
    """Collapse runs of a repeated unit (SyncLLM §3.1 deduplication)."""
    return [int(u) for i, u in enumerate(units) if i == 0 or u != units[i - 1]]


def edit_distance(a: list[int], b: list[int]) -> float:
    """Levenshtein distance divided by the longer length."""
    prev = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        cur = [i]
        for j, y in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x != y)))
        prev = cur
    return prev[-1] / max(1, len(a), len(b))


def word_probe(model: UnitModel, voiced: dict[str, list[np.ndarray]]) -> dict[str, float]:
    seqs = {v: [dedup(model.encode(p, SAMPLE_RATE)) for p in pcms] for v, pcms in voiced.items()}
    voices = list(seqs)
    n = len(next(iter(seqs.values())))
    abx, nn = [], []
    for va, vb in itertools.permutations(voices, 2):
        d = np.array([[edit_distance(a, b) for b in seqs[vb]] for a in seqs[va]])
        for w in range(n):
            others = np.delete(d[w], w)
            abx.extend((d[w, w] < others) + 0.5 * (d[w, w] == others))
            nn.append(float(np.argmin(d[w]) == w))
    return {"abx_word": float(np.mean(abx)), "nn_word": float(np.mean(nn)), "chance_nn": 1.0 / n,
            "units_per_s_dedup": float(np.mean([len(s) for v in seqs.values() for s in v]) /
                                       np.mean([len(p) for v in voiced.values() for p in v]) * SAMPLE_RATE)}


def streaming(model: UnitModel, dialogues: list[tuple[np.ndarray, np.ndarray]]) -> dict[str, float]:
    rng = np.random.default_rng(0)
    equal, costs, window_agree = [], [], []
    for pcm, _ in dialogues:
        batch = model.encode(pcm, SAMPLE_RATE)
        stream, parts, i = model.stream(), [], 0
        while i < len(pcm):
            step = int(rng.integers(1, 8000))
            parts.append(stream.push(pcm[i: i + step]))
            i += step
        parts.append(stream.flush())
        equal.append(float(np.mean(np.concatenate(parts) == batch)))
        stream, chunk = model.stream(), 2560  # 160 ms pushes, as a live session makes them
        start = time.process_time()
        for i in range(0, len(pcm), chunk):
            stream.push(pcm[i: i + chunk])
        stream.flush()
        costs.append((time.process_time() - start) / (len(pcm) / SAMPLE_RATE) * 1000.0)
        if model.feature == "whisper":
            whole = whole_clip_whisper_units(model, pcm)
            window_agree.append(float(np.mean(whole == batch[: len(whole)])))
    out = {"stream_equals_batch": float(np.mean(equal)), "ms_per_s": statistics.median(costs),
           "sessions_per_core": 1000.0 / statistics.median(costs), "delay_ms": model.delay_ms}
    if window_agree:
        out["window_vs_whole_clip_agreement"] = float(np.mean(window_agree))
    return out


def whole_clip_whisper_units(model: UnitModel, pcm: np.ndarray) -> np.ndarray:
    """Units of the Whisper encoder run on the whole clip in 30 s windows (no sliding window)."""
    usable = len(pcm) // HOP_SAMPLES * HOP_SAMPLES
    feats = model.extractor.encode_units(pcm[:usable])
    return model.assign(feats)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--units", default=None, help="unit model under test (default: the shipped units-default)")
    parser.add_argument("--baseline", required=True, help="baseline unit model folder (e.g. log-mel units)")
    parser.add_argument("--dialogues", type=int, default=6)
    parser.add_argument("--words", type=int, default=len(WORDS))
    args = parser.parse_args()
    models = {"units": load_unit_model(args.units), "baseline": load_unit_model(args.baseline)}
    dialogues = held_out_dialogues(args.dialogues)
    voiced = held_out_words(list(WORDS[: args.words]))
    minutes = sum(len(p) for p, _ in dialogues) / SAMPLE_RATE / 60
    print(f"held-out (flite) dialogues: {args.dialogues} ({minutes:.1f} min, user channel, noisy); "
          f"words: {args.words} x {len(voiced)} voices ({', '.join(voiced)})")
    print(f"energy-threshold detector (oracle Otsu threshold): {json.dumps(energy_detector(dialogues))}")
    results = {}
    for name, model in models.items():
        results[name] = {"feature": model.feature, "n_units": model.n_units, **purity(model, dialogues),
                         **word_probe(model, voiced), **streaming(model, dialogues)}
        print(f"{name}: " + json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in results[name].items()}))
    u, b = results["units"], results["baseline"]
    print(f"ratios units/baseline ({u['feature']} vs {b['feature']}): "
          + ", ".join(f"{k} {u[k] / b[k]:.3f}" for k in ("cluster_purity", "speech_f1", "abx_word", "nn_word", "ms_per_s")))


if __name__ == "__main__":
    main()
