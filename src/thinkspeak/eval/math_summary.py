"""Accuracy tables for spoken math, laid out like Mini-Omni-Reasoner's Spoken-MQA results table.

Accuracy per category, count-weighted averages over the arithmetic and reasoning groups and over
everything (a group's accuracy is its correct answers over its questions, not a mean of category means),
plus the two quantities the paper puts next to accuracy: words per spoken response and the decoding step of
the first spoken token.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass

# Spoken-MQA split names and our corpus' category names (contract 2) for the paper's two groups.
CATEGORY_GROUPS = {
    "arithmetic": ("short_digit", "long_digit", "arith_short", "arith_long"),
    "reasoning": ("single_step_reasoning", "multi_step_reasoning", "single_step", "multi_step"),
}


@dataclass(frozen=True)
class Accuracy:
    count: int
    correct: int

    @property
    def accuracy(self) -> float:
        return self.correct / self.count if self.count else 0.0

    def to_json(self) -> dict[str, float | int]:
        return {**asdict(self), "accuracy": self.accuracy}


@dataclass(frozen=True)
class AccuracyTable:
    overall: Accuracy
    categories: dict[str, Accuracy]
    groups: dict[str, Accuracy]

    def to_json(self) -> dict[str, object]:
        return {
            **self.overall.to_json(),
            "categories": {name: acc.to_json() for name, acc in self.categories.items()},
            "groups": {name: acc.to_json() for name, acc in self.groups.items()},
        }


def accuracy_table(outcomes: Iterable[tuple[str, bool]]) -> AccuracyTable:
    """Tabulate ``(category, correct)`` pairs; groups appear only when one of their categories does."""
    counts: dict[str, list[int]] = {}
    for category, correct in outcomes:
        tally = counts.setdefault(category, [0, 0])
        tally[0] += 1
        tally[1] += bool(correct)
    categories = {name: Accuracy(*counts[name]) for name in sorted(counts)}
    groups = {}
    for group, members in CATEGORY_GROUPS.items():
        present = [categories[m] for m in members if m in categories]
        if present:
            groups[group] = Accuracy(sum(a.count for a in present), sum(a.correct for a in present))
    overall = Accuracy(sum(a.count for a in categories.values()), sum(a.correct for a in categories.values()))
    return AccuracyTable(overall=overall, categories=categories, groups=groups)


def mean(values: Sequence[float]) -> float | None:
    """Arithmetic mean, None for no values."""
    return sum(values) / len(values) if values else None
