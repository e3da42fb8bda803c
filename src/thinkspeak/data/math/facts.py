"""The project's fact base (``assets/facts/facts.tsv``): a few hundred common facts written for thinkspeak.

Each fact is a count: ``has`` (a spider has 8 legs) or ``in`` (there are 100 cents in a dollar). The
knowledge category of the corpus (:mod:`.knowledge`) asks about them; the ``retrieve`` tool answers from an
index of their sentences (:mod:`thinkspeak.tools.facts`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

FACTS_DIR = Path(__file__).resolve().parents[2] / "assets" / "facts"
FACTS_FILE = FACTS_DIR / "facts.tsv"


@dataclass(frozen=True)
class Fact:
    """``relation`` 'has' or 'in'; ``many`` is None for a unique thing (the solar system)."""

    relation: str
    value: int
    unit: str
    one: str
    many: str | None

    @property
    def sentence(self) -> str:
        """The passage the index holds: "A spider has 8 legs." / "There are 100 cents in a dollar."."""
        if self.relation == "has":
            return f"{self.one[0].upper()}{self.one[1:]} has {self.value} {self.unit}."
        return f"There are {self.value} {self.unit} in {self.one}."

    @property
    def query(self) -> str:
        """What a trace asks ``retrieve``: "legs of a spider" / "cents in a dollar"."""
        return f"{self.unit} {'of' if self.relation == 'has' else 'in'} {self.one}"


def parse_line(line: str, where: str) -> Fact:
    parts = line.rstrip("\n").split("\t")
    if len(parts) != 5 or parts[0] not in ("has", "in") or not parts[1].isdigit():
        raise ValueError(f"{where}: expected 'has|in<TAB>value<TAB>unit<TAB>one<TAB>many', got {line!r}")
    relation, value, unit, one, many = parts
    return Fact(relation, int(value), unit, one, None if many == "-" else many)


@cache
def load_facts(path: Path = FACTS_FILE) -> tuple[Fact, ...]:
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    return tuple(parse_line(line, f"{path}:{i + 1}") for i, line in enumerate(lines)
                 if line.strip() and not line.startswith("#"))
