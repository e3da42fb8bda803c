"""One corpus row from (seed, index): problem, journey, response, interleaved forms, split, drift verdict.

The sample depends only on ``(seed, index)`` and the :class:`MathConfig` (its random generator is seeded
from them, :func:`thinkspeak.data.shards.sample_rng`), so any shard of the index range can be produced
anywhere and the shards merge to exactly the unsharded corpus (contract 2 rows).
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass, field

from thinkspeak.data.math import arithmetic, knowledge, word_multi, word_single
from thinkspeak.data.math.drift import MARKERS, DriftVerdict, check_words
from thinkspeak.data.math.journey import add_journey
from thinkspeak.data.math.phrasing import rephrase
from thinkspeak.data.math.problem import CATEGORIES, DEFAULT_CATEGORIES, Problem
from thinkspeak.data.math.responses import build_response
from thinkspeak.data.math.tooltraces import with_tools
from thinkspeak.data.shards import sample_rng, stable_split
from thinkspeak.layouts.interleave import arrange, check_rhythm
from thinkspeak.text.numbers import spoken_form

# Bump when the generated content changes for the same seed, so resuming into an older corpus is refused.
CORPUS_VERSION = 1

GENERATORS = {
    "arith_short": (arithmetic.arith_short,),
    "arith_long": (arithmetic.arith_long,),
    "single_step": word_single.KINDS,
    "multi_step": word_multi.KINDS,
    "knowledge": knowledge.KINDS,
}
TOOL_FIELDS = ("tool_share", "tool_error_share", "phrasing_share")


def _share(name: str, value: object) -> float:
    if not isinstance(value, int | float) or isinstance(value, bool) or not 0 <= value <= 1:
        raise ValueError(f"{name} must be a number in [0, 1], got {value!r}")
    return float(value)


@dataclass(frozen=True)
class MathConfig:
    """Options of the text stage; recorded in the manifest so resumed or sharded jobs must agree.

    Tools (issue 12): ``tool_share`` of the traces call ``calc``/``retrieve`` (:mod:`.tooltraces`; not with a
    journey slip), ``tool_error_share`` of those have their first call fail and go on by hand;
    ``phrasing_share`` of the questions are asked another way (:mod:`.phrasing`). At 0 (the defaults) the
    corpus is exactly the one without them.
    """

    p: int = 2
    q: int = 8
    journey_share: float = 0.15
    valid_share: float = 0.05
    test_share: float = 0.05
    categories: dict[str, float] = field(default_factory=lambda: dict.fromkeys(DEFAULT_CATEGORIES, 1.0))
    tool_share: float = 0.0
    tool_error_share: float = 0.1
    phrasing_share: float = 0.0

    def __post_init__(self) -> None:
        check_rhythm(self.p, self.q)
        for name in ("journey_share", *TOOL_FIELDS):
            _share(name, getattr(self, name))
        _share("valid_share", self.valid_share)
        _share("test_share", self.test_share)
        if self.valid_share + self.test_share >= 1:
            raise ValueError(f"valid_share + test_share must be < 1, got {self.valid_share} + {self.test_share}")
        unknown = set(self.categories) - set(CATEGORIES)
        if unknown or not self.categories or any(w < 0 for w in self.categories.values()) \
                or sum(self.categories.values()) <= 0:
            raise ValueError(f"categories must map names in {CATEGORIES} to weights >= 0 with a positive sum, "
                             f"got {self.categories!r}")

    def to_dict(self) -> dict:
        """The options; the tool options only when used, so corpora made without them keep their fingerprint."""
        d = asdict(self)
        if not (self.tool_share or self.phrasing_share):
            for name in TOOL_FIELDS:
                del d[name]
        return d


def make_problem(rng: random.Random, category: str) -> Problem:
    """A problem of ``category`` from one of its template families, chosen uniformly."""
    if category not in GENERATORS:
        raise ValueError(f"category must be one of {CATEGORIES}, got {category!r}")
    return rng.choice(GENERATORS[category])(rng)


def word_licenses(reasoning: list[str], response: list[str], licenses: list[int]) -> list[int]:
    """Per response word: reasoning words that must precede it (all words of steps ``0..licenses[k]``)."""
    ends = [0]
    for step in reasoning:
        ends.append(ends[-1] + len(step.split()))
    return [ends[lic + 1] for chunk, lic in zip(response, licenses, strict=True) for _ in chunk.split()]


def layouts(reasoning: list[str], response: list[str], licenses: list[int], p: int, q: int) -> dict[str, str]:
    """Word-level 'tis', 'think_first' and 'no_think' strings with the contract 2 markers."""
    think = " ".join(reasoning).split()
    say = " ".join(response).split()
    need = word_licenses(reasoning, response, licenses)
    markers = {k: MARKERS[k] for k in ("say_pad", "think_pad", "end")}
    return {
        "tis": " ".join(arrange(say, think, "tis", **markers, p=p, q=q, licenses=need)),
        "think_first": " ".join(arrange(say, think, "think-first", **markers, think_end=MARKERS["think_end"])),
        "no_think": " ".join(arrange(say, think, "no-think", **markers)),
    }


def build_sample(seed: int, index: int, config: MathConfig) -> tuple[dict, DriftVerdict]:
    """Row ``index`` of the corpus for ``seed`` (contract 2 text columns) and its drift verdict."""
    rng = sample_rng(seed, index, "math")
    names = [c for c in CATEGORIES if c in config.categories]  # canonical order: the manifest's dict is sorted
    category = rng.choices(names, weights=[config.categories[n] for n in names])[0]
    problem = make_problem(rng, category)
    journey = False
    if rng.random() < config.journey_share:
        with_slip = add_journey(rng, problem)
        if with_slip is not None:
            problem, journey = with_slip, True
    if config.tool_share and not journey and rng.random() < config.tool_share:
        fail = bool(config.tool_error_share) and rng.random() < config.tool_error_share
        problem = with_tools(rng, problem, fail=fail)
    question = problem.question
    if config.phrasing_share and rng.random() < config.phrasing_share:
        question = rephrase(rng, problem)
    response = build_response(rng, problem)
    reasoning = [s.text for s in problem.steps]
    forms = layouts(reasoning, response.chunks, response.licenses, config.p, config.q)
    row = {
        "id": f"{seed}-{index:08d}",
        "index": index,
        "split": stable_split(problem.question, config.valid_share, config.test_share),
        "category": problem.category,
        "kind": problem.kind,
        "question": question,
        "question_spoken": spoken_form(question),
        "answer": problem.answer_text,
        "reasoning": reasoning,
        "response": response.chunks,
        "licenses": response.licenses,
        "journey": journey,
        **forms,
    }
    return row, check_words(forms["tis"], p=config.p, q=config.q)
