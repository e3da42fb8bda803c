"""Evaluate the full-duplex Thinker on held-out dialogues: simulate it on the chunk clock, score its floor.

**Simulation** (SyncLLM §5 "latency tolerance"): the model runs against the recorded user channel of a held-out
dialogue; user chunk ``j`` reaches it ``latency`` later than it ends, i.e. before the tick of chunk ``t`` only
chunks ``j <= t - 1 - ceil(latency / 160 ms)`` have arrived, the rest are its own estimates
(:class:`thinkspeak.decode.duplex.ChunkClockDecoder`). :func:`simulate_pair` runs two model instances
against each other with the same network delay each way.

**What the model said**: each word of its say stream starts in the slot where its first token is written (the
Talker voices it then) and lasts the corpus's spoken-duration estimate for the word
(:data:`thinkspeak.data.duplex.timeline.SECONDS_PER_CHAR`, ``SECONDS_PER_WORD``), cut at the next word.

**Scores**, against the ground-truth floor events of :mod:`thinkspeak.data.duplex.events`, with the
Full-Duplex-Bench v1 rules of :mod:`thinkspeak.eval.duplex_metrics` (TOR from the words, latency from the first
word):

* ``smooth_tor`` / ``smooth_latency_s``: after each user turn end, the words starting before the next user turn
  (turn ends whose reply in the corpus is itself too short to be a take-over, "You're welcome!", are left out);
* ``interruption_tor`` / ``interruption_latency_s``: after each barge-in ends, likewise;
* ``pause_tor``: the words starting from an inner pause of a user turn to that turn's end (lower is better);
* ``backchannel_tor``: the backchannels come from the user in this corpus, so a take-over is the model treating
  one as a turn: it yields, no word of its own starting from the backchannel's start to 1 s after its end
  (lower is better);
* OmniFlatten Acc@K (K chunks of 160 ms): speaking K chunks after a user turn end, silent K chunks after a
  barge-in starts;
* dGSLM turn-taking statistics (IPUs, pauses, gaps, overlaps per minute) of the user + model channels per
  dialogue, and their Pearson correlation over dialogues with the same statistics of the corpus's channels.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from thinkspeak.data.duplex.events import FloorEvent, speech_segments
from thinkspeak.data.duplex.timeline import SECONDS_PER_CHAR, SECONDS_PER_WORD
from thinkspeak.decode.duplex import AssistantChunk, ChunkClockDecoder
from thinkspeak.eval.duplex_metrics import (
    assistant_turn_acc,
    take_over,
    take_over_score,
    turn_taking_sample,
    user_turn_acc,
)
from thinkspeak.eval.segments import Segment
from thinkspeak.eval.turn_taking import EVENTS, turn_taking_stats
from thinkspeak.model.duplex import DuplexModel

ACC_K = (1, 3, 5)


@dataclass(frozen=True)
class HeldOutDialogue:
    """A dialogue to evaluate on: the user's raw units (whole chunks), the corpus turns and floor events."""

    id: str
    duration: float
    units: list[int]
    turns: list[dict[str, Any]]
    events: list[FloorEvent]


@dataclass
class Transcript:
    """What the model wrote in one simulation: its chunks and its timed words."""

    chunks: list[AssistantChunk]
    words: list[Segment] = field(default_factory=list)


def check_latency(latency_ms: object) -> int:
    if isinstance(latency_ms, bool) or not isinstance(latency_ms, int) or not 0 <= latency_ms <= 2000:
        raise ValueError(f"latency_ms must be an int number of milliseconds in [0, 2000], got {latency_ms!r}")
    return latency_ms


def lag_chunks(latency_ms: int, chunk_s: float) -> int:
    """Chunks of delay a network latency adds: user chunk j is usable from tick j + 1 + lag."""
    return math.ceil(check_latency(latency_ms) / (1000 * chunk_s) - 1e-9)


def timed_words(model: DuplexModel, chunks: Sequence[AssistantChunk]) -> list[Segment]:
    """The model's spoken words with times (rule in the module docstring)."""
    clock, m = model.clock, model.markers
    slot_s = clock.chunk_s / clock.say_slots
    starts: list[tuple[float, list[int]]] = []
    previous_spoke = False
    for ch in chunks:
        for j, tok in enumerate(ch.slots[:clock.say_slots]):
            if tok in (m.silence, m.say_pad):
                previous_spoke = previous_spoke and tok == m.say_pad
                continue
            piece = model.tokenizer.convert_ids_to_tokens(tok)
            if not previous_spoke or not starts or piece.startswith("\u0120"):
                starts.append((ch.chunk * clock.chunk_s + j * slot_s, [tok]))
            else:
                starts[-1][1].append(tok)
            previous_spoke = True
    words = []
    for k, (start, toks) in enumerate(starts):
        text = model.tokenizer.decode(toks).strip()
        length = SECONDS_PER_CHAR * sum(c.isalnum() for c in text) + SECONDS_PER_WORD
        end = start + length if k + 1 == len(starts) else min(start + length, starts[k + 1][0])
        words.append(Segment(start, max(start, end), text))
    return words


def simulate(model: DuplexModel, dialogue: HeldOutDialogue, latency_ms: int = 0) -> Transcript:
    """The model against the recorded user channel, with ``latency_ms`` of network delay."""
    n = model.clock.chunk_units
    lag = lag_chunks(latency_ms, model.clock.chunk_s)
    decoder = ChunkClockDecoder(model)
    chunks = []
    for t in range(len(dialogue.units) // n):
        j = t - 1 - lag
        if j >= 0:
            decoder.receive(j, dialogue.units[j * n:(j + 1) * n])
        chunks.append(decoder.tick())
    return Transcript(chunks, timed_words(model, chunks))


def simulate_pair(model: DuplexModel, first_units: Sequence[int], n_chunks: int, latency_ms: int,
                  voice) -> tuple[Transcript, Transcript]:
    """Two instances against each other: A hears ``first_units`` (a recorded opening turn) and then B's voice;
    B hears A's voice. A side's voice is its say words rendered by ``voice(text) -> units at the unit rate``
    (a TTS and the unit model), queued like a Talker's: a word is voiced once it is complete (the next word
    or a pad begins), from that chunk or after the previous word's voice; each side receives the other's
    chunks ``latency_ms`` late."""
    n = model.clock.chunk_units
    lag = lag_chunks(latency_ms, model.clock.chunk_s)
    decoders = (ChunkClockDecoder(model), ChunkClockDecoder(model))
    silence = [int(first_units[-1])] * (n * n_chunks)
    heard = [list(first_units) + silence[len(first_units):], list(silence)]  # what A and B hear, at the unit rate
    chunks: tuple[list[AssistantChunk], list[AssistantChunk]] = ([], [])
    pending: list[list[int]] = [[], []]  # tokens of the word each side is writing
    cursor = [0, 0]  # where each side's voice is free again, in units
    for t in range(n_chunks):
        for side in (0, 1):
            j = t - 1 - lag
            if j >= 0:
                decoders[side].receive(j, heard[side][j * n:(j + 1) * n])
            out = decoders[side].tick()
            chunks[side].append(out)
            listener = heard[1 - side]
            for tok in out.slots[:model.clock.say_slots]:
                piece = model.tokenizer.convert_ids_to_tokens(tok) if tok < model.units.text_size else ""
                word_ends = tok in (model.markers.silence, model.markers.say_pad) or piece.startswith("\u0120")
                if word_ends and pending[side]:
                    units = list(voice(model.tokenizer.decode(pending[side]).strip()))
                    at = max(cursor[side], t * n)
                    listener[at:at + len(units)] = units
                    del listener[n * n_chunks:]
                    cursor[side] = at + len(units)
                    pending[side] = []
                if tok not in (model.markers.silence, model.markers.say_pad):
                    pending[side].append(tok)
    return (Transcript(chunks[0], timed_words(model, chunks[0])), Transcript(chunks[1], timed_words(model, chunks[1])))


def _window(words: Sequence[Segment], start: float, until: float) -> list[Segment]:
    return [w for w in words if start <= w.start < until]


def floor_scores(model: DuplexModel, dialogues: Sequence[HeldOutDialogue],
                 transcripts: Sequence[Transcript]) -> dict[str, Any]:
    """Full-Duplex-Bench v1, OmniFlatten Acc@K and dGSLM statistics of the transcripts (see module docstring)."""
    clock = model.clock
    smooth, interrupt, pause, backchannel = [], [], [], []
    ends, barges, speaking_runs = [], [], []
    model_stats, corpus_stats = [], []
    for d, tr in zip(dialogues, transcripts, strict=True):
        reference = reference_transcript(d, clock.chunk_s).words
        for e in d.events:
            since = e.start if e.kind in ("pause", "backchannel") else e.end
            if e.kind in ("turn_end", "barge_in") and not take_over(_window(reference, since, e.until)):
                continue  # the corpus's own reply is short ("You're welcome!"): not a take-over sample
            win = _window(tr.words, since, e.until)
            if e.kind == "turn_end":
                smooth.append(turn_taking_sample(win, e.end))
            elif e.kind == "barge_in":
                interrupt.append(turn_taking_sample(win, e.end))
            elif e.kind == "pause":
                pause.append(take_over(win))
            else:
                backchannel.append(0 if win else 1)
        speaking = [int(c.speaking) for c in tr.chunks]
        offset = len(speaking_runs)
        speaking_runs += speaking + [0] * max(ACC_K)  # past a dialogue's end counts as silence
        ends += [offset + min(len(speaking) - 1, int(e.end / clock.chunk_s)) for e in d.events if e.kind == "turn_end"]
        barges += [offset + min(len(speaking) - 1, int(e.start / clock.chunk_s)) for e in d.events if e.kind == "barge_in"]
        user = [Segment(a, b) for a, b in speech_segments(d.turns, "user")]
        mine = [Segment(w.start, min(w.end, d.duration)) for w in tr.words if w.start < d.duration]
        reference = [Segment(a, b) for a, b in speech_segments(d.turns, "assistant")]
        model_stats.append(turn_taking_stats(user, mine, duration=max(d.duration, *(s.end for s in mine), 0.0)))
        corpus_stats.append(turn_taking_stats(user, reference, duration=d.duration))
    out: dict[str, Any] = {}
    for name, samples in (("smooth", smooth), ("interruption", interrupt)):
        score = take_over_score(samples) if samples else None
        out[f"{name}_tor"] = None if score is None else round(score.tor, 4)
        out[f"{name}_latency_s"] = None if score is None or score.latency is None else round(score.latency, 4)
        out[f"{name}_samples"] = len(samples)
    out["pause_tor"] = round(sum(pause) / len(pause), 4) if pause else None
    out["pause_samples"] = len(pause)
    out["backchannel_tor"] = round(sum(backchannel) / len(backchannel), 4) if backchannel else None
    out["backchannel_samples"] = len(backchannel)
    silence = {0}
    out["assistant_acc"] = {f"@{k}": round(assistant_turn_acc(speaking_runs, silence, ends, k), 4)
                            for k in ACC_K} if ends else None
    out["user_acc"] = {f"@{k}": round(user_turn_acc(speaking_runs, silence, barges, k), 4)
                       for k in ACC_K} if barges else None
    out["turn_taking"] = turn_taking_summary(model_stats, corpus_stats)
    return out


def turn_taking_summary(model_stats, corpus_stats) -> dict[str, Any]:
    """Per-minute rates of each dGSLM event (means over dialogues) and their Pearson r with the corpus's."""
    out: dict[str, Any] = {}
    rs = []
    for name in EVENTS:
        a = np.array([s.events[name].per_minute for s in model_stats])
        b = np.array([s.events[name].per_minute for s in corpus_stats])
        r = float(np.corrcoef(a, b)[0, 1]) if len(a) > 1 and a.std() > 0 and b.std() > 0 else None
        if r is not None:
            rs.append(r)
        out[name] = {"per_minute": round(float(a.mean()), 3), "corpus_per_minute": round(float(b.mean()), 3),
                     "pearson_r": None if r is None else round(r, 4)}
    out["mean_pearson_r"] = round(float(np.mean(rs)), 4) if rs else None
    return out


def reference_transcript(dialogue: HeldOutDialogue, chunk_s: float) -> Transcript:
    """The corpus's own assistant channel as a transcript (the scores a perfect imitation of the corpus gets)."""
    words = sorted((Segment(w["start"], w["end"], w["word"]) for t in dialogue.turns if t["role"] == "assistant"
                    for w in t["words"]), key=lambda w: w.start)
    segments = speech_segments(dialogue.turns, "assistant")
    n_chunks = math.ceil(dialogue.duration / chunk_s - 1e-9)
    chunks = [AssistantChunk(c, (), any(a < (c + 1) * chunk_s and b > c * chunk_s for a, b in segments), 1.0)
              for c in range(n_chunks)]
    return Transcript(chunks, words)


def silence_rule_transcript(dialogue: HeldOutDialogue, chunk_s: float, silence_ms: int = 500,
                            yield_ms: int = 200, word_s: float = 0.32) -> Transcript:
    """Baseline floor policy: a silence-threshold endpointer (the server VAD's default 500 ms) on the user's true
    speech segments (a perfect VAD). After ``silence_ms`` of user silence following user speech it takes the
    floor and speaks a word every ``word_s`` for as long as the corpus's next reply lasts; after ``yield_ms`` of
    user speech it yields. Read by the same scores as the model."""
    segments = speech_segments(dialogue.turns, "user")
    replies = sorted((t["start"], t["end"]) for t in dialogue.turns if t["role"] == "assistant")
    n_chunks = math.ceil(dialogue.duration / chunk_s - 1e-9)
    need_quiet, need_voice = math.ceil(silence_ms / 1000 / chunk_s), math.ceil(yield_ms / 1000 / chunk_s)
    quiet = voice = 0
    heard = False
    speaking_until = -1.0
    chunks, words = [], []
    for c in range(n_chunks):
        t0, t1 = c * chunk_s, (c + 1) * chunk_s
        active = any(a < t1 and b > t0 for a, b in segments)
        quiet, voice = (0, voice + 1) if active else (quiet + 1, 0)
        heard = heard or active
        if speaking_until > t0 and voice >= need_voice:
            speaking_until = t0
            words = [w for w in words if w.start < t0]
        if speaking_until <= t0 and heard and quiet >= need_quiet:
            length = next((b - a for a, b in replies if a >= t0 - 1.0), 2.0)
            speaking_until, heard = t0 + length, False
            words += [Segment(t, t + word_s - 0.02, "word") for t in np.arange(t1, t1 + length, word_s)]
        chunks.append(AssistantChunk(c, (), speaking_until > t0, 1.0))
    return Transcript(chunks, [w for w in words if w.start < n_chunks * chunk_s])


def held_out_dialogues(unit_model, model: DuplexModel, n: int = 8, seed: int = 7,
                       voices: Sequence[str] = ("flite:slt", "flite:rms", "flite:awb", "flite:kal16")
                       ) -> list[HeldOutDialogue]:
    """``n`` dialogues made on the fly with a seed and voices kept out of training (flite is the held-out
    engine), voiced and staged by the duplex generator, their user channel turned into units."""
    from thinkspeak.data.duplex.config import DuplexConfig
    from thinkspeak.data.duplex.events import floor_events
    from thinkspeak.data.duplex.sample import make_sample
    from thinkspeak.data.duplex.sequences import padded_units
    from thinkspeak.data.duplex.store import sample_to_row

    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be an int >= 1 (dialogues), got {n!r}")
    config = DuplexConfig(turns=(2, 3), pause_share=0.5, barge_in_share=0.3, backchannel_share=0.6,
                          no_assistant_audio=True, user_voices=tuple(voices))
    out = []
    for index in range(n):
        sample = make_sample(seed, index, config)
        row = sample_to_row(sample, config)
        clock = model.clock
        units = padded_units(unit_model.encode(sample.audio.user, 16000), clock.n_chunks(row["duration"]),
                             clock.chunk_units)
        out.append(HeldOutDialogue(row["id"], row["duration"], units, row["turns"],
                                   floor_events(row["turns"], row["duration"])))
    return out


def dialogues_from_corpus(path, split: str | None = None, limit: int | None = None) -> list[HeldOutDialogue]:
    """Dialogues of a ``thinkspeak data duplex-seq`` corpus (its units, turns and floor events)."""
    import json
    from pathlib import Path

    from thinkspeak.data import shards

    if not (Path(path) / "manifest.json").is_file():
        raise ValueError(f"data must be a `thinkspeak data duplex-seq` directory with manifest.json, got {str(path)!r}")
    out = []
    for row in shards.iter_rows(Path(path), columns=["id", "split", "duration", "units", "turns", "events"]):
        if split is not None and row["split"] != split:
            continue
        events = [FloorEvent(**e) for e in json.loads(row["events"])]
        out.append(HeldOutDialogue(row["id"], row["duration"], list(row["units"]), json.loads(row["turns"]), events))
        if limit is not None and len(out) >= limit:
            break
    if not out:
        raise ValueError(f"data {str(path)!r} holds no dialogue" + (f" in split {split!r}" if split else ""))
    return out


def run_duplex_eval(model_dir=None, data=None, latencies: Sequence[int] = (0, 240), *, n: int = 6, seed: int = 7,
                    units=None, split: str | None = None, progress: bool = False) -> dict[str, Any]:
    """``thinkspeak eval duplex``: the scores per latency, the corpus channel's own scores and the turn-taking
    correlation's change from the lowest to the highest latency, as one JSON-ready dict."""
    import time

    from thinkspeak.model.duplex import check_unit_model

    latencies = [check_latency(v) for v in latencies]
    if not latencies:
        raise ValueError("latencies must name at least one latency in ms")
    unit_model = None
    if data is None or model_dir is None:
        from thinkspeak.units import load_unit_model

        unit_model = load_unit_model(units)
    model = DuplexModel.load(model_dir, unit_model=unit_model)
    if data is None:
        dialogues = held_out_dialogues(unit_model, model, n=n, seed=seed)
        source = {"kind": "held-out, made on the fly", "seed": seed, "dialogues": n,
                  "user_voices": "flite (held out of training)"}
    else:
        dialogues = dialogues_from_corpus(data, split=split, limit=n)
        source = {"kind": "duplex-seq corpus", "path": str(data), "split": split, "dialogues": len(dialogues)}
    report: dict[str, Any] = {"corpus": "synthetic pseudo-duplex corpus", "model": str(model_dir or "duplex-default"),
                              "data": source, "chunk_ms": round(1000 * model.clock.chunk_s), "latency_ms": {}}
    for latency in latencies:
        t0 = time.monotonic()
        transcripts = [simulate(model, d, latency) for d in dialogues]
        scores = floor_scores(model, dialogues, transcripts)
        scores["decode_s_per_chunk"] = round((time.monotonic() - t0) / sum(len(t.chunks) for t in transcripts), 4)
        report["latency_ms"][str(latency)] = scores
        if progress:
            print(f"latency {latency} ms: smooth {scores['smooth_tor']} / {scores['smooth_latency_s']} s, "
                  f"interruption {scores['interruption_tor']} / {scores['interruption_latency_s']} s, "
                  f"pause {scores['pause_tor']}, backchannel {scores['backchannel_tor']}", flush=True)
    chunk_s = model.clock.chunk_s
    report["reference"] = floor_scores(model, dialogues, [reference_transcript(d, chunk_s) for d in dialogues])
    report["baseline_silence_rule_500ms"] = floor_scores(model, dialogues, [silence_rule_transcript(d, chunk_s)
                                                                           for d in dialogues])
    lo, hi = (report["latency_ms"][str(v)]["turn_taking"]["mean_pearson_r"] for v in (min(latencies), max(latencies)))
    report["turn_taking_r_change"] = None if lo is None or hi is None or lo == 0 else round((hi - lo) / abs(lo), 4)
    if unit_model is not None:
        check_unit_model(model.config, unit_model, "(eval)")
    return report
