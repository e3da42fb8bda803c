"""The model card (README.md) of a fitted unit folder."""

from __future__ import annotations

from thinkspeak.units.model import UnitModel


def model_card(model: UnitModel) -> str:
    fit = model.info.get("fit", {})
    f = model.feature_config
    feature = ("packaged Whisper-base encoder (CTranslate2 int8), frame pairs averaged to 25 Hz, on a sliding "
               f"window of {f.window_ms} ms advanced by {f.step_ms} ms (look-ahead {f.lookahead_ms} ms)"
               if f.kind == "whisper" else
               f"causal log-mel stacks (80 bands, 25 ms window ending at each 10 ms; {f.context_ms} ms of context)")
    return f"""# thinkspeak speech units: {model.n_units} units at 25 Hz ({f.kind})

Discrete speech units after SyncLLM §3.1 (HuBERT units, 25 Hz, ~500 units): nearest-centroid assignment of
{feature}, k-means (faiss) centroids. Issue 13 deliverable 1; see docs/units.md.

- Units: {model.n_units} (one per 40 ms = 640 samples at 16 kHz); digest (sha256 of the float32 centroids):
  `{model.digest}`
- Streaming delay (algorithmic look-ahead): {model.delay_ms} ms
- Silence units (more than half of their fitting frames silent): {len(model.silence_units)}

## Fitting data
{fit.get("minutes", "?")} minutes ({fit.get("frames", "?")} frames, speech share {fit.get("speech_share", "?")}) of
the pseudo full-duplex corpus ({fit.get("corpus", "thinkspeak data duplex")}): {fit.get("clips", "?")} channels
of synthetic dialogues; TTS voices {", ".join(fit.get("voices", []))}: the user channel (espeak-ng, festival) with
the corpus's silences and 15-25 dB white/pink/babble noise, the assistant channel (piper) clean. Held out of fitting: {fit.get("held_out", "flite")}
(the project's held-out voice for evaluation). Synthetic speech only: no recording of a person.
Units used: {fit.get("units_used", "?")} of {model.n_units}; k-means {fit.get("niter", "?")} iterations, seed
{fit.get("seed", "?")}, {fit.get("kmeans_seconds", "?")} s.

Command: `{fit.get("command", "thinkspeak units fit")}`

## What the units keep
Figures (speech/silence purity, word identity across voices, streaming agreement, cost) are in
docs/results.md, produced by `benchmarks/bench_units.py`.

Files are listed with their SHA-256 in `SHA256SUMS` (checked when the folder is loaded). Apache-2.0.
"""
