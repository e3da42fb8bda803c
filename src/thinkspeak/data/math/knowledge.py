"""Knowledge-oriented problems (Spoken-MQA's fifth subset: questions that need a common fact).

Every problem rests on a fact of the shipped fact base (:mod:`thinkspeak.tools.facts`: "A spider has 8 legs.",
"There are 100 cents in a dollar."). The fact is a reasoning step with a ``query``: a trace with tools asks
``retrieve`` for it, a trace without tools states it from memory. Kinds:

* ``fact``: the fact itself ("How many legs does a spider have?");
* ``scaled``: the fact times a count ("How many legs do 7 spiders have?");
* ``convert``: a count of the unit back to things ("How many dollars make 300 cents?");
* ``compare``: two facts of the same unit ("How many more legs does a spider have than an ant?");
* ``together``: counts of two things ("How many legs do 3 spiders and 2 ants have together?").
"""

from __future__ import annotations

import random
from fractions import Fraction

from thinkspeak.data.math.facts import Fact, load_facts
from thinkspeak.data.math.problem import Problem, Say, Step, claim, pick


def _fact_step(fact: Fact) -> Step:
    return Step(fact.sentence, query=fact.query)


def _how_many(fact: Fact, subject: str, *, plural: bool) -> str:
    if fact.relation == "has":
        return f"How many {fact.unit} {'do' if plural else 'does'} {subject} have"
    return f"How many {fact.unit} are in {subject}"


def fact(rng: random.Random) -> Problem:
    f = rng.choice(load_facts())
    q = pick(rng, ("{h}?", "Do you know: {l}?", "Quick question: {l}?", "{h}, do you know?"),
             h=_how_many(f, f.one, plural=False), l=_how_many(f, f.one, plural=False).lower())
    steps = [_fact_step(f), Step(pick(rng, ("So that's {v}.", "So the number is {v}.", "That gives {v}."), v=f.value))]
    say = Say(f.sentence, steps[0])
    return Problem("knowledge", "fact", q, Fraction(f.value), steps, [say], unit=f.unit)


def _scalable(rng: random.Random) -> Fact:
    return rng.choice([f for f in load_facts() if f.many is not None])


def scaled(rng: random.Random) -> Problem:
    f = _scalable(rng)
    n = rng.randint(2, 12)
    total = n * f.value
    subject = f"{n} {f.many}"
    after = "do they have" if f.relation == "has" else "is that"
    q = pick(rng, ("{h}?", "If there are {s}, how many {u} {a} in all?", "{s}: how many {u} {a} altogether?"),
             h=_how_many(f, subject, plural=True), s=subject, u=f.unit, a=after)
    first = _fact_step(f)
    second = Step(f"For {n} of them: {claim(rng, n, '*', f.value)}.")
    says = [Say(f"Each has {f.value}, so {n} of them make {total}.", second)]
    return Problem("knowledge", "scaled", q, Fraction(total), [first, second], says, unit=f.unit)


def convert(rng: random.Random) -> Problem:
    f = rng.choice([f for f in load_facts() if f.relation == "in" and f.many is not None])
    n = rng.randint(2, 12)
    amount = n * f.value
    q = pick(rng, ("How many {m} make {a} {u}?", "{a} {u} is how many {m}?", "Turn {a} {u} into {m}."),
             m=f.many, a=amount, u=f.unit)
    first = _fact_step(f)
    second = Step(f"So {claim(rng, amount, '/', f.value)}.")
    says = [Say(pick(rng, ("{a} divided by {v} is {n}.", "That's {v} in each, so {n} of them."), a=amount, v=f.value, n=n),
                second)]
    return Problem("knowledge", "convert", q, Fraction(n), [first, second], says, unit=f.many)


def _pair(rng: random.Random) -> tuple[Fact, Fact]:
    for _ in range(50):
        a = _scalable(rng)
        others = [f for f in load_facts() if f.unit == a.unit and f.relation == a.relation and f.many is not None
                  and f.value != a.value]
        if others:
            return a, rng.choice(others)
    raise ValueError("the fact base has no two facts of one unit with different values")


def compare(rng: random.Random) -> Problem:
    a, b = _pair(rng)
    if a.value < b.value:
        a, b = b, a
    q = (f"How many more {a.unit} does {a.one} have than {b.one}?" if a.relation == "has"
         else f"How many more {a.unit} are there in {a.one} than in {b.one}?")
    steps = [_fact_step(a), _fact_step(b), Step(f"The difference: {claim(rng, a.value, '-', b.value)}.")]
    says = [Say(f"That's {a.value} against {b.value}, so {a.value - b.value} more.", steps[-1])]
    return Problem("knowledge", "compare", q, Fraction(a.value - b.value), steps, says, unit=a.unit)


def together(rng: random.Random) -> Problem:
    a, b = _pair(rng)
    m, n = rng.randint(2, 9), rng.randint(2, 9)
    verb = "do {s} have together" if a.relation == "has" else "are in {s} together"
    subject = f"{m} {a.many} and {n} {b.many}"
    q = pick(rng, ("How many {u} " + verb + "?", "Count the {u} of {s}."), u=a.unit, s=subject)
    steps = [_fact_step(a), _fact_step(b), Step(f"{a.many.capitalize()}: {claim(rng, m, '*', a.value)}."),
             Step(f"{b.many.capitalize()}: {claim(rng, n, '*', b.value)}."),
             Step(f"Together: {claim(rng, m * a.value, '+', n * b.value)}.")]
    total = m * a.value + n * b.value
    says = [Say(f"{m * a.value} and {n * b.value} make {total} {a.unit}.", steps[-1])]
    return Problem("knowledge", "together", q, Fraction(total), steps, says, unit=a.unit)


KINDS = (fact, scaled, scaled, convert, compare, together)
