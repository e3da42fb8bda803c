"""Single-step word problems (Spoken-MQA "reasoning, single-step"): one operation hidden in a short story.

Kinds: total, remaining, groups, share, compare, cost, change, distance, percent_of, fraction_of, convert.
Each kind has several phrasings (story first or question first), draws its people, things and units from
:mod:`.lexicon`, and may carry a distractor sentence the solution must ignore.
"""

from __future__ import annotations

import random
from fractions import Fraction

from thinkspeak.data.math import lexicon as lx
from thinkspeak.data.math.problem import Problem, Say, Step, claim, money, num, pick


def _story(rng: random.Random, sentences: list[str]) -> str:
    return " ".join(lx.maybe_distract(rng, sentences))


def total(rng: random.Random) -> Problem:
    name, other = lx.names(rng, 2)
    t = rng.choice(lx.THINGS)
    a, b = rng.randint(3, 95), rng.randint(2, 60)
    f = {"n": name, "o": other, "a": a, "b": b, "t": t.many}
    if rng.random() < 0.3:
        q = pick(rng, ("How many {t} does {n} have after {o} gives {n} {b} more, if {n} started with {a}?",
                       "If {n} has {a} {t} and finds {b} more, how many {t} does {n} have in total?"), **f)
    else:
        q = _story(rng, [pick(rng, ("{n} has {a} {t}.", "{n} collected {a} {t} last week.",
                                    "There are {a} {t} on {n}'s desk."), **f),
                         pick(rng, ("{o} gives {n} {b} more.", "Then {n} gets another {b}.",
                                    "{n} buys {b} more at the shop."), **f),
                         pick(rng, ("How many {t} does {n} have now?", "How many {t} are there altogether?",
                                    "What is the total number of {t}?"), **f)])
    s = Step(f"{name} starts with {a} and gets {b} more, so {claim(rng, a, '+', b)}.")
    say = Say(pick(rng, ("{a} and {b} more makes {r} {t}.", "Adding {b} to {a} gives {r} {t}."),
                   a=a, b=b, r=a + b, t=t.many), s)
    return Problem("single_step", "total", q, Fraction(a + b), [s], [say], unit=t.many)


def remaining(rng: random.Random) -> Problem:
    name = rng.choice(lx.NAMES)
    t = rng.choice(lx.THINGS)
    a = rng.randint(10, 120)
    b = rng.randint(1, a - 1)
    verb = rng.choice(("gives away", "sells", "uses", "loses", "eats" if t.one in ("apple", "cookie", "plum") else "shares"))
    f = {"n": name, "a": a, "b": b, "t": t.many, "v": verb}
    if rng.random() < 0.3:
        q = pick(rng, ("{n} had {a} {t} and {v} {b} of them. How many are left?",
                       "How many {t} remain if {n} starts with {a} and {v} {b}?"), **f)
    else:
        q = _story(rng, [pick(rng, ("{n} has {a} {t}.", "{n} bought {a} {t} on Saturday."), **f),
                         pick(rng, ("{n} {v} {b} of them.", "Later, {n} {v} {b}."), **f),
                         pick(rng, ("How many {t} does {n} have left?", "How many are left?"), **f)])
    s = Step(f"Take the {b} away from {a}: {claim(rng, a, '-', b)}.")
    say = Say(pick(rng, ("Taking {b} from {a} leaves {r}.", "{a} minus {b} leaves {r} {t}."),
                   a=a, b=b, r=a - b, t=t.many), s)
    return Problem("single_step", "remaining", q, Fraction(a - b), [s], [say], unit=t.many)


def groups(rng: random.Random) -> Problem:
    name = rng.choice(lx.NAMES)
    t = rng.choice(lx.THINGS)
    a, b = rng.randint(2, 15), rng.randint(3, 24)
    f = {"n": name, "a": a, "b": b, "t": t.many, "box": t.boxes}
    q = _story(rng, [pick(rng, ("{n} has {a} {box} of {t}.", "{n} buys {a} {box} of {t}."), **f),
                     pick(rng, ("Each {box1} holds {b} {t}.", "There are {b} {t} in every {box1}."), box1=t.box, **f),
                     pick(rng, ("How many {t} does {n} have?", "How many {t} is that in all?"), **f)])
    s = Step(f"{a} {t.boxes} of {b} each: {claim(rng, a, '*', b)}.")
    say = Say(pick(rng, ("{a} lots of {b} is {r} {t}.", "With {b} in each, {a} of them make {r}."),
                   a=a, b=b, r=a * b, t=t.many), s)
    return Problem("single_step", "groups", q, Fraction(a * b), [s], [say], unit=t.many)


def share(rng: random.Random) -> Problem:
    name = rng.choice(lx.NAMES)
    t = rng.choice(lx.THINGS)
    people, each = rng.randint(2, 12), rng.randint(2, 25)
    a = people * each
    f = {"n": name, "a": a, "p": people, "t": t.many}
    q = _story(rng, [pick(rng, ("{n} has {a} {t}.", "{n} baked {a} {t}." if t.one in ("cookie", "muffin", "cupcake")
                                else "{n} has a pile of {a} {t}."), **f),
                     pick(rng, ("{n} shares them equally among {p} friends.", "They are split evenly into {p} groups."), **f),
                     pick(rng, ("How many {t} does each one get?", "How many {t} are in each group?"), **f)])
    s = Step(f"Split {a} into {people} equal parts: {claim(rng, a, '/', people)}.")
    say = Say(pick(rng, ("{a} shared {p} ways is {r} each.", "Dividing {a} by {p} gives {r} each."),
                   a=a, p=people, r=each), s)
    return Problem("single_step", "share", q, Fraction(each), [s], [say], unit=t.many)


def compare(rng: random.Random) -> Problem:
    n1, n2 = lx.names(rng, 2)
    t = rng.choice(lx.THINGS)
    b = rng.randint(5, 80)
    a = b + rng.randint(1, 60)
    f = {"x": n1, "y": n2, "a": a, "b": b, "t": t.many}
    q = _story(rng, [pick(rng, ("{x} has {a} {t} and {y} has {b}.", "{y} has {b} {t}, while {x} has {a}."), **f),
                     pick(rng, ("How many more {t} does {x} have than {y}?", "How many fewer {t} does {y} have than {x}?",
                                "What is the difference between their numbers of {t}?"), **f)])
    s = Step(f"The difference is {a} minus {b}: {claim(rng, a, '-', b)}.")
    say = Say(pick(rng, ("{x} has {r} more, since {a} minus {b} is {r}.", "The gap between {a} and {b} is {r}."),
                   x=n1, a=a, b=b, r=a - b), s)
    return Problem("single_step", "compare", q, Fraction(a - b), [s], [say], unit=t.many)


def cost(rng: random.Random) -> Problem:
    name = rng.choice(lx.NAMES)
    t = rng.choice(lx.THINGS)
    price = Fraction(rng.randint(*t.price), 100)
    n = rng.randint(2, 12)
    f = {"n": name, "k": n, "t": t.many, "p": money(price), "place": rng.choice(lx.PLACES)}
    q = _story(rng, [pick(rng, ("At {place}, {t} cost ${p} each.", "One {one} costs ${p} at {place}."), one=t.one, **f),
                     pick(rng, ("{n} buys {k} of them.", "{n} wants {k} {t}."), **f),
                     pick(rng, ("How much does {n} pay in dollars?", "How many dollars does that cost?"), **f)])
    s = Step(f"{n} at {money(price)} dollars each: {claim(rng, n, '*', price, fmt=_money_fmt)} dollars.")
    say = Say(pick(rng, ("{k} at {p} each comes to {r} dollars.", "That's {k} times {p}, so {r} dollars."),
                   k=n, p=money(price), r=money(n * price)), s)
    return Problem("single_step", "cost", q, n * price, [s], [say], unit="dollars")


def _money_fmt(value: Fraction | int) -> str:
    f = Fraction(value)
    return money(f) if f.denominator != 1 or f > 20 else str(f)


def change(rng: random.Random) -> Problem:
    name = rng.choice(lx.NAMES)
    item, low, high = rng.choice(lx.GOODS)
    price = Fraction(rng.randint(low * 100, high * 100 - 1), 100)
    paid = next(p for p in (5, 10, 20, 50, 100, 200) if p > price)
    f = {"n": name, "one": item, "p": money(price), "paid": paid, "place": rng.choice(lx.PLACES)}
    q = _story(rng, [pick(rng, ("{n} buys a {one} for ${p} at {place}.", "A {one} costs ${p}, and {n} buys one."), **f),
                     pick(rng, ("{n} pays with a ${paid} bill.", "{n} hands over ${paid}."), **f),
                     pick(rng, ("How much change should {n} get?", "How many dollars come back as change?"), **f)])
    s = Step(f"Change is {paid} minus {money(price)}: {claim(rng, paid, '-', price, fmt=money)} dollars.")
    say = Say(pick(rng, ("From {paid} dollars, that leaves {r} in change.", "{paid} minus {p} is {r} dollars back."),
                   paid=paid, p=money(price), r=money(paid - price)), s)
    return Problem("single_step", "change", q, paid - price, [s], [say], unit="dollars")


def distance(rng: random.Random) -> Problem:
    vehicle, verb = rng.choice(lx.VEHICLES)
    speed = rng.randint(3, 24) * 5
    hours = Fraction(rng.choice((2, 3, 4, 5, 6, 3, 5, 1, 2)), rng.choice((1, 1, 1, 2)))
    unit = rng.choice(("kilometers", "miles"))
    f = {"v": vehicle, "verb": verb, "s": speed, "h": num(hours), "u": unit, "hs": "hour" if hours == 1 else "hours"}
    q = _story(rng, [pick(rng, ("A {v} {verb} at {s} {u} per hour.", "A {v} keeps a steady speed of {s} {u} an hour."), **f),
                     pick(rng, ("How far does it go in {h} {hs}?", "How many {u} does it cover in {h} {hs}?"), **f)])
    s = Step(f"Distance is speed times time: {claim(rng, speed, '*', hours)} {unit}.")
    say = Say(pick(rng, ("At {s} an hour for {h} {hs}, that's {r} {u}.", "{s} times {h} gives {r} {u}."),
                   r=num(speed * hours), **f), s)
    return Problem("single_step", "distance", q, speed * hours, [s], [say], unit=unit)


def percent_of(rng: random.Random) -> Problem:
    name = rng.choice(lx.NAMES)
    pct = rng.choice((10, 20, 25, 30, 40, 50, 60, 75, 80, 15, 5, 35, 45))
    whole = rng.randint(1, 40) * 20
    part = Fraction(pct * whole, 100)
    group = rng.choice(("students in a school", "people at a concert", "seats in a theater", "trees in an orchard",
                        "emails in {n}'s inbox", "songs on {n}'s playlist")).format(n=name)
    head = group.split(" ")[0]
    f = {"p": pct, "w": whole, "g": group, "h": head}
    q = _story(rng, [pick(rng, ("There are {w} {g}.", "Suppose there are {w} {g}."), **f),
                     pick(rng, ("{p}% of them are new.", "Exactly {p}% of the {h} are marked."), **f),
                     pick(rng, ("How many {h} is that?", "How many {h} are they?"), **f)])
    s = Step(f"To find {pct} percent of {whole}, multiply by {pct} and divide by 100: "
             f"{claim(rng, whole, '*', pct)}, and {claim(rng, whole * pct, '/', 100)}, "
             f"so {pct} percent of {whole} is {num(part)}.")
    say = Say(pick(rng, ("{p} percent of {w} works out to {r}.", "Taking {p} percent of {w} gives {r}."),
                   p=pct, w=whole, r=num(part)), s)
    return Problem("single_step", "percent_of", q, part, [s], [say], unit=head)


def fraction_of(rng: random.Random) -> Problem:
    name = rng.choice(lx.NAMES)
    t = rng.choice(lx.THINGS)
    den = rng.choice((2, 3, 4, 5, 6, 8, 10))
    top = rng.randint(1, den - 1)
    frac = Fraction(top, den)
    while frac.denominator != den:
        top = rng.randint(1, den - 1)
        frac = Fraction(top, den)
    whole = den * rng.randint(2, 15)
    part = frac * whole
    fr = num(frac, as_fraction=True)
    f = {"n": name, "w": whole, "t": t.many, "fr": fr}
    q = _story(rng, [pick(rng, ("{n} has {w} {t}.", "A shelf holds {w} {t}."), **f),
                     pick(rng, ("{fr} of them are red.", "{n} gives away {fr} of them."), **f),
                     pick(rng, ("How many {t} is that?", "How many {t} does that make?"), **f)])
    s1 = Step(f"First {claim(rng, whole, '/', den)}, the size of one part.")
    s2 = Step(f"Then {claim(rng, whole // den, '*', top)}, so {fr} of {whole} is {num(part)}.")
    say = Say(pick(rng, ("{fr} of {w} is {r}.", "Each part is {o}, so {fr} of {w} is {r}."),
                   fr=fr, w=whole, r=num(part), o=whole // den), s2)
    return Problem("single_step", "fraction_of", q, part, [s1, s2], [say], unit=t.many)


def convert(rng: random.Random) -> Problem:
    c = rng.choice(lx.CONVERSIONS)
    if rng.random() < 0.5:
        big = Fraction(rng.randint(2, 40), rng.choice((1, 1, 2, 4)))
        value = big * c.factor
        q = pick(rng, ("How many {s} are there in {b} {bs}?", "Convert {b} {bs} to {s}.",
                       "A task takes {b} {bs}. How many {s} is that?"), s=c.smalls, b=num(big), bs=c.bigs)
        s = Step(f"One {c.big} is {c.factor} {c.smalls}, so {claim(rng, big, '*', c.factor)} {c.smalls}.")
        say = Say(pick(rng, ("Each {b1} is {f} {s}, so it's {r} {s}.", "{b} times {f} is {r} {s}."),
                         b1=c.big, f=c.factor, s=c.smalls, b=num(big), r=num(value)), s)
    else:
        small = c.factor * rng.randint(1, 30) + rng.choice((0, 0, c.factor // 2 if c.factor % 2 == 0 else 0))
        value = Fraction(small, c.factor)
        q = pick(rng, ("How many {bs} is {sm} {ss}?", "Write {sm} {ss} in {bs}."), bs=c.bigs, sm=small, ss=c.smalls)
        s = Step(f"There are {c.factor} {c.smalls} in one {c.big}, so {claim(rng, small, '/', c.factor)} {c.bigs}.")
        say = Say(pick(rng, ("{sm} divided by {f} is {r} {bs}.", "That's {r} {bs}, since each is {f} {ss}."),
                         sm=small, f=c.factor, r=num(value), bs=c.bigs, ss=c.smalls), s)
    return Problem("single_step", "convert", q, value, [s], [say], unit=c.smalls)


KINDS = (total, remaining, groups, share, compare, cost, change, distance, percent_of, fraction_of, convert)
