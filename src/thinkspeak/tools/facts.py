"""The shipped fact base: a few hundred common facts written for the project (``assets/facts/facts.tsv``).

Spoken-MQA's fifth category, knowledge-oriented reasoning, needs a common fact (legs of a spider, days in a
leap year, cents in a dollar). Each fact is a count: ``has`` (a spider has 8 legs) or ``in`` (there are 100
cents in a dollar). The corpus (:mod:`thinkspeak.data.math.knowledge`) asks about them and its traces call
``retrieve`` with :attr:`Fact.query`; the ``retrieve`` tool answers from an index of the fact sentences,
shipped prebuilt in ``assets/facts/index`` (``thinkspeak index facts`` rebuilds it).
"""

from __future__ import annotations

from thinkspeak.data.math.facts import FACTS_DIR, FACTS_FILE, Fact, load_facts

FACTS_INDEX = FACTS_DIR / "index"
__all__ = ["FACTS_FILE", "FACTS_INDEX", "Fact", "build_facts_index", "facts_index", "load_facts"]


def build_facts_index(embedder, facts: tuple[Fact, ...] | None = None):
    """An index with one passage per fact sentence."""
    from thinkspeak.tools.index import Passage, PassageIndex

    facts = load_facts() if facts is None else facts
    return PassageIndex.build([Passage(f.sentence, FACTS_FILE.name) for f in facts], embedder)


def facts_index(embedder):
    """The shipped prebuilt fact index (refused if it was built with another embedder)."""
    from thinkspeak.tools.index import PassageIndex

    return PassageIndex.load(FACTS_INDEX, embedder)
