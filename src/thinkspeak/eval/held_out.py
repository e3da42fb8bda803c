"""Held-out spoken-math items built from the corpus generator itself, for benchmarks and model tests.

The corpus puts a question in the test split by a hash of its text (:func:`thinkspeak.data.shards.stable_split`),
so the test-split rows of any seed were never trained on. :func:`held_out_items` walks the generator of
``seed`` from index 0, keeps the first ``per_category`` test-split rows of each category that pass the
anticipation-drift check (as the corpus does), and, with ``speech``, reads each question with the voices the
corpus reserves for the test split — flite by default, the engine held out of training (Mini-Omni-Reasoner
§3.3, evaluation on an unseen voice) — with the corpus's own noise and reverberation draws.
"""

from __future__ import annotations

from thinkspeak.data.math.problem import CATEGORIES
from thinkspeak.data.math.sample import MathConfig, build_sample
from thinkspeak.eval.math_items import SAMPLE_RATE, MathItem

MAX_INDEX = 1_000_000


def held_out_rows(per_category: int, *, seed: int = 0, categories: tuple[str, ...] = CATEGORIES,
                  config: MathConfig | None = None) -> list[dict]:
    """The first ``per_category`` test-split corpus rows of each category, in generator order."""
    if isinstance(per_category, bool) or not isinstance(per_category, int) or per_category < 1:
        raise ValueError(f"per_category must be an int >= 1, got {per_category!r}")
    unknown = sorted(set(categories) - set(CATEGORIES))
    if unknown or not categories:
        raise ValueError(f"categories must be a non-empty subset of {CATEGORIES}, got {categories!r}")
    config = config or MathConfig()
    counts = dict.fromkeys(categories, 0)
    rows = []
    for index in range(MAX_INDEX):
        if all(n >= per_category for n in counts.values()):
            return rows
        row, verdict = build_sample(seed, index, config)
        category = row["category"]
        if row["split"] == "test" and verdict.ok and counts.get(category, per_category) < per_category:
            counts[category] += 1
            rows.append(row)
    raise ValueError(f"only {counts} test-split rows in the first {MAX_INDEX} samples of seed {seed}")


def held_out_items(per_category: int, *, seed: int = 0, categories: tuple[str, ...] = CATEGORIES,
                   speech=None, workers: int = 1) -> list[MathItem]:
    """:func:`held_out_rows` as evaluation items; with ``speech`` (a
    :class:`thinkspeak.data.math.speech.SpeechOptions`) each item carries its spoken question (16 kHz)."""
    rows = held_out_rows(per_category, seed=seed, categories=categories)
    audio = spoken_questions(rows, seed, speech, workers) if speech is not None else [None] * len(rows)
    return [MathItem(id=row["id"], category=row["category"], question=row["question"].strip(),
                     answer=row["answer"].strip(), audio=clip) for row, clip in zip(rows, audio, strict=True)]


def spoken_questions(rows: list[dict], seed: int, speech, workers: int = 1) -> list:
    """Each corpus row's question read aloud as the corpus would for its split (``speech``: a
    :class:`thinkspeak.data.math.speech.SpeechOptions`; voices, noise and reverberation drawn from ``seed`` and
    the row's index), as 16 kHz float PCM; ``rows`` are left as they were."""
    from thinkspeak.audio import decode_audio, resample

    rows = [dict(row) for row in rows]
    synthesizer = speech.synthesizer(workers)
    try:
        synthesizer.add_audio(rows, seed)
    finally:
        synthesizer.close()
    out = []
    for row in rows:
        samples, rate = decode_audio(row["question_audio"])
        out.append(resample(samples, rate, SAMPLE_RATE) if rate != SAMPLE_RATE else samples)
    return out
