"""Run a responder over spoken-math items, score each answer, write ``items.jsonl`` and ``summary.json``.

A run directory holds one line per item (question id, category, reference, prediction, correctness, the
spoken and reasoning text, words, first spoken step, decoding steps and, with the spoken-answer check, what
was heard) and one summary: the accuracy table of :mod:`thinkspeak.eval.math_summary` for the text and,
when checked, for the speech, the speech gap, mean words per spoken response and mean first-spoken-token
step. ``thinkspeak eval report`` reads these summaries.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from thinkspeak.eval.math_items import MathItem
from thinkspeak.eval.math_summary import accuracy_table, mean
from thinkspeak.eval.responders import Responder, Response
from thinkspeak.eval.spoken_check import SpokenAnswerCheck
from thinkspeak.eval.spoken_mqa import score

ITEMS_FILE = "items.jsonl"
SUMMARY_FILE = "summary.json"


@dataclass(frozen=True)
class ItemResult:
    id: str
    category: str
    answer: str
    prediction: str | None
    correct: bool
    say: str
    think: str
    say_words: int
    first_say_step: int | None
    tokens: int
    heard: str | None = None
    heard_prediction: str | None = None
    heard_correct: bool | None = None


def score_item(item: MathItem, response: Response, check: SpokenAnswerCheck | None = None) -> ItemResult:
    """Score one response (and, with ``check``, its spoken form) against the item's reference."""
    text_score = score(response.text, item.answer, normalise_reference=item.normalise_reference)
    heard = check(response.say, item.answer, normalise_reference=item.normalise_reference) if check else None
    return ItemResult(
        id=item.id,
        category=item.category,
        answer=text_score.reference,
        prediction=text_score.prediction,
        correct=text_score.correct,
        say=response.say,
        think=response.think,
        say_words=len(response.say.split()),
        first_say_step=response.first_say_step,
        tokens=response.tokens,
        heard=heard.transcript if heard else None,
        heard_prediction=heard.score.prediction if heard else None,
        heard_correct=heard.score.correct if heard else None,
    )


def summarise(results: Iterable[ItemResult], **meta: Any) -> dict[str, Any]:
    """The run summary: ``meta`` (run, model, mode, input, data...) plus the accuracy tables and means."""
    results = list(results)
    text = accuracy_table((r.category, r.correct) for r in results)
    steps = [r.first_say_step for r in results if r.first_say_step is not None]
    summary: dict[str, Any] = {
        **meta,
        **text.to_json(),
        "mean_say_words": mean([r.say_words for r in results]),
        "mean_first_say_step": mean(steps),
        "said_nothing": len(results) - len(steps),
        "mean_tokens": mean([r.tokens for r in results]),
        "speech": None,
    }
    checked = [r for r in results if r.heard_correct is not None]
    if checked:
        speech = accuracy_table((r.category, bool(r.heard_correct)) for r in checked)
        text_on_checked = accuracy_table((r.category, r.correct) for r in checked)
        summary["speech"] = {
            **speech.to_json(),
            "text_accuracy": text_on_checked.overall.accuracy,
            "gap": text_on_checked.overall.accuracy - speech.overall.accuracy,
        }
    return summary


def run_math(items: Iterable[MathItem], responder: Responder, out_dir: str | Path, *,
             check: SpokenAnswerCheck | None = None, progress: bool = False,
             **meta: Any) -> dict[str, Any]:
    """Answer and score every item, streaming ``items.jsonl``; write and return the summary."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    results: list[ItemResult] = []
    if progress:
        from tqdm import tqdm

        items = tqdm(items, desc="eval math", unit="item")
    with open(out / ITEMS_FILE, "w", encoding="utf-8") as lines:
        for item in items:
            result = score_item(item, responder(item), check)
            results.append(result)
            lines.write(json.dumps(asdict(result), ensure_ascii=False) + "\n")
            lines.flush()
    if not results:
        raise ValueError(f"no items to evaluate in {meta.get('data', 'the data')!r} (check --split/--limit)")
    summary = summarise(results, run=out.name, created=datetime.now(UTC).isoformat(timespec="seconds"),
                        speech_tts=check.tts_spec if check else None, **meta)
    (out / SUMMARY_FILE).write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return summary
