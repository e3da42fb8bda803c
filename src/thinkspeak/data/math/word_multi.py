"""Multi-step word problems (Spoken-MQA "reasoning, multi-step"; GSM8K-like, 2-6 steps).

Kinds: story_chain (a quantity through 2-5 events: gains, losses, doubling, sharing, losing a fraction),
shopping (several items, total, change), savings (weekly savings, spending, weeks to a goal), trip (two
legs at different speeds, unit conversion, comparison), discount (percent off, quantity, budget left),
recipe (scale a recipe by a ratio), production (rate x time for two workers, then remainder), average,
split_groups (fraction then percent of the rest), convert_compare (unit conversion then difference).
Every step states its arithmetic as a checkable claim and the response lines cite the step they rest on.
"""

from __future__ import annotations

import random
from fractions import Fraction

from thinkspeak.data.math import lexicon as lx
from thinkspeak.data.math.problem import Problem, Say, Step, claim, money, num, pick


def _story(rng: random.Random, sentences: list[str]) -> str:
    return " ".join(lx.maybe_distract(rng, sentences, share=0.35))


def story_chain(rng: random.Random) -> Problem:
    """A count that changes through 2-5 events; the trace has one step per event."""
    name, other = lx.names(rng, 2)
    t = rng.choice(lx.THINGS)
    value = Fraction(rng.randint(8, 60))
    sentences = [pick(rng, ("{n} starts the day with {a} {t}.", "{n} has {a} {t} in a {box}.",
                            "On Monday, {n} owns {a} {t}."), n=name, a=num(value), t=t.many, box=t.box)]
    steps: list[Step] = []
    for _ in range(rng.randint(2, 5)):
        event = rng.choice(("gain", "lose", "double", "share", "fraction"))
        divisors = [d for d in (2, 3, 4) if value % d == 0]
        if (event in ("share", "fraction") and not divisors) or (event == "lose" and value < 3):
            event = "gain"
        if event == "gain":
            b = rng.randint(2, 40)
            sentences.append(pick(rng, ("Then {o} gives {n} {b} more.", "{n} buys {b} more.", "{n} finds another {b}."),
                                  n=name, o=other, b=b))
            steps.append(Step(f"After getting {b} more: {claim(rng, value, '+', b)}."))
            value += b
        elif event == "lose":
            b = rng.randint(1, int(value) - 1)
            sentences.append(pick(rng, ("{n} gives {b} to {o}.", "Then {b} of them get lost.", "{n} sells {b}."),
                                  n=name, o=other, b=b))
            steps.append(Step(f"After {b} go: {claim(rng, value, '-', b)}."))
            value -= b
        elif event == "double":
            sentences.append(pick(rng, ("Then the number of {t} doubles.", "{o} gives {n} as many again."),
                                  n=name, o=other, t=t.many))
            steps.append(Step(f"Doubling: {claim(rng, value, '*', 2)}."))
            value *= 2
        elif event == "share":
            d = rng.choice(divisors)
            sentences.append(pick(rng, ("{n} splits them evenly into {d} piles and keeps one pile.",
                                        "{n} shares them equally among {d} people, {n} included, and keeps one share."),
                                  n=name, d=d))
            steps.append(Step(f"One of {d} equal shares: {claim(rng, value, '/', d)}."))
            value /= d
        else:
            part = rng.choice([d for d in divisors if d != 3] or [2])
            if value % part:
                part = divisors[0]
            word = {2: "half", 3: "a third", 4: "a quarter"}[part]
            sentences.append(pick(rng, ("{n} uses {w} of them.", "{W} of them are given away."), n=name, w=word,
                                  W=word.capitalize()))
            lost = value / part
            steps.append(Step(f"{word.capitalize()} of {num(value)}: {claim(rng, value, '/', part)}, so "
                              f"{claim(rng, value, '-', lost)}."))
            value -= lost
    sentences.append(pick(rng, ("How many {t} does {n} have at the end?", "How many {t} are left in the end?",
                                "In the end, how many {t} does {n} have?"), n=name, t=t.many))
    steps.append(Step(f"So {name} ends with {num(value)} {t.many}."))
    says = [Say(pick(rng, ("Following each change in turn, {n} ends up with {r}.", "Going event by event, that leaves {r}."),
                     n=name, r=num(value)), steps[-1])]
    if len(steps) >= 3 and rng.random() < 0.5:
        says.insert(0, Say(f"After the first change there are {num(_last_number(steps[0]))}.", steps[0]))
    return Problem("multi_step", "story_chain", _story(rng, sentences), value, steps, says, unit=t.many)


def _last_number(step: Step) -> Fraction:
    """The result of the last claim in a step (the number before the final period)."""
    word = step.text.rstrip(".").split()[-1]
    return Fraction(word)


def shopping(rng: random.Random) -> Problem:
    name = rng.choice(lx.NAMES)
    items = rng.sample(lx.THINGS, rng.randint(2, 3))
    lines, steps, costs = [], [], []
    for t in items:
        qty = rng.randint(2, 6)
        price = Fraction(rng.randint(*t.price), 100)
        cost = qty * price
        lines.append(f"{t.count(qty)} at ${money(price)} each")
        steps.append(Step(f"{t.many.capitalize()}: {claim(rng, qty, '*', price, fmt=money)} dollars."))
        costs.append(cost)
    total = sum(costs, Fraction(0))
    sum_text = " plus ".join(money(c) for c in costs)
    steps.append(Step(f"Total: {sum_text} is {money(total)} dollars."))
    says = [Say(pick(rng, ("Everything together comes to {t} dollars.", "The items add up to {t} dollars."),
                     t=money(total)), steps[-1])]
    paid = next(p for p in (10, 20, 50, 100, 200) if p >= total)
    ask_change = rng.random() < 0.6
    bought = ", ".join(lines[:-1]) + f" and {lines[-1]}"
    sentences = [pick(rng, ("At {place}, {n} buys {b}.", "{n} goes to {place} and picks up {b}."),
                      place=rng.choice(lx.PLACES), n=name, b=bought)]
    if ask_change:
        sentences.append(pick(rng, ("{n} pays with ${p}. How much change does {n} get?",
                                    "If {n} hands over ${p}, how many dollars come back?"), n=name, p=paid))
        steps.append(Step(f"Change from {paid}: {claim(rng, paid, '-', total, fmt=money)} dollars."))
        says.append(Say(f"Out of {paid}, that leaves {money(paid - total)} in change.", steps[-1]))
        answer = paid - total
    else:
        sentences.append(pick(rng, ("How much does {n} spend in total?", "What is the total cost in dollars?"), n=name))
        answer = total
    return Problem("multi_step", "shopping", _story(rng, sentences), answer, steps, says, unit="dollars")


def savings(rng: random.Random) -> Problem:
    name = rng.choice(lx.NAMES)
    weekly = rng.randint(3, 40)
    weeks = rng.randint(3, 12)
    spent = rng.randint(1, weekly * weeks - 1)
    saved = weekly * weeks
    left = saved - spent
    thing, verb = rng.choice((("a video game", "costs"), ("a pair of shoes", "costs"), ("a book set", "costs"),
                              ("concert tickets", "cost"), ("a bike helmet", "costs"), ("new headphones", "cost")))
    if rng.random() < 0.5:
        q = _story(rng, [f"{name} saves ${weekly} every week for {weeks} weeks.",
                         pick(rng, ("Then {n} spends ${s} on {th}.", "{n} buys {th} for ${s}."), n=name, s=spent, th=thing),
                         pick(rng, ("How much money does {n} have left?", "How many dollars remain?"), n=name)])
        steps = [Step(f"Saved: {claim(rng, weekly, '*', weeks)} dollars."),
                 Step(f"After spending {spent}: {claim(rng, saved, '-', spent)} dollars.")]
        says = [Say(f"{weeks} weeks at {weekly} is {saved} dollars.", steps[0]),
                Say(f"Taking away {spent} leaves {left}.", steps[1])]
        return Problem("multi_step", "savings", q, Fraction(left), steps, says, unit="dollars")
    goal = weekly * rng.randint(4, 20)
    start = rng.randint(0, goal // weekly - 1) * weekly
    need = goal - start
    q = _story(rng, [f"{name} wants {thing} that {verb} ${goal}.",
                     pick(rng, ("{n} already has ${s} and saves ${w} a week.",
                                "{n} has saved ${s} so far and puts away ${w} each week."), n=name, s=start, w=weekly),
                     pick(rng, ("How many more weeks until {n} can buy it?", "How many weeks will it take?"), n=name)])
    steps = [Step(f"Still needed: {claim(rng, goal, '-', start)} dollars."),
             Step(f"Weeks: {claim(rng, need, '/', weekly)}.")]
    says = [Say(f"{name} still needs {need} dollars.", steps[0]),
            Say(f"At {weekly} a week, that's {need // weekly} weeks.", steps[1])]
    return Problem("multi_step", "savings_goal", q, Fraction(need // weekly), steps, says, unit="weeks")


def trip(rng: random.Random) -> Problem:
    name = rng.choice(lx.NAMES)
    s1, s2 = rng.randint(4, 20) * 5, rng.randint(4, 20) * 5
    h1, m2 = rng.randint(1, 4), rng.choice((30, 90, 120, 45, 15, 150))
    h2 = Fraction(m2, 60)
    d1, d2 = s1 * h1, s2 * h2
    q = _story(rng, [f"{name} drives for {h1} {'hour' if h1 == 1 else 'hours'} at {s1} kilometers per hour.",
                     pick(rng, ("Then {n} drives {m} minutes at {s} kilometers per hour.",
                                "After a break, {n} covers another {m} minutes at {s} kilometers per hour."),
                          n=name, m=m2, s=s2),
                     pick(rng, ("How many kilometers does {n} drive in total?", "What is the total distance in kilometers?"),
                          n=name)])
    steps = [Step(f"First leg: {claim(rng, s1, '*', h1)} kilometers."),
             Step(f"{m2} minutes is {claim(rng, m2, '/', 60)} hours."),
             Step(f"Second leg: {claim(rng, s2, '*', h2)} kilometers."),
             Step(f"Total: {claim(rng, d1, '+', d2)} kilometers.")]
    says = [Say(f"The first part is {d1} kilometers, the second {num(d2)}.", steps[2]),
            Say(f"Together that's {num(d1 + d2)}.", steps[3])]
    return Problem("multi_step", "trip", q, d1 + d2, steps, says, unit="kilometers")


def discount(rng: random.Random) -> Problem:
    name = rng.choice(lx.NAMES)
    item, low, high = rng.choice(lx.GOODS)
    price = rng.randint(low, high)
    pct = rng.choice((10, 20, 25, 50, 15, 30, 40))
    qty = rng.randint(2, 6)
    off = Fraction(price * pct, 100)
    sale = price - off
    total = sale * qty
    q = _story(rng, [pick(rng, ("A {one} normally costs ${p}.", "The regular price of a {one} is ${p}."), one=item, p=price),
                     pick(rng, ("This week everything is {pc}% off.", "There is a {pc}% discount today."), pc=pct),
                     pick(rng, ("How much does {n} pay for {k} of them?", "{n} buys {k}. What is the total cost?"),
                          n=name, k=qty)])
    steps = [Step(f"Discount: {claim(rng, price, '*', pct)}, and {claim(rng, price * pct, '/', 100)} dollars off."),
             Step(f"Sale price: {claim(rng, price, '-', off, fmt=money)} dollars."),
             Step(f"For {qty}: {claim(rng, sale, '*', qty, fmt=money)} dollars.")]
    says = [Say(f"With {pct} percent off, each costs {money(sale)}.", steps[1]),
            Say(f"So {qty} of them come to {money(total)} dollars.", steps[2])]
    return Problem("multi_step", "discount", q, total, steps, says, unit="dollars")


def recipe(rng: random.Random) -> Problem:
    serves = rng.choice((2, 4, 6, 8))
    want = serves * rng.choice((Fraction(1, 2), Fraction(3, 2), Fraction(2), Fraction(3), Fraction(5, 2)))
    if want.denominator != 1:
        want = Fraction(serves * 2)
    amount = serves * rng.choice((25, 50, 75, 100, 125, 150, 200, 250)) // rng.choice((1, 5))
    ingredient = rng.choice(("grams of flour", "milliliters of milk", "grams of sugar", "grams of rice", "milliliters of water"))
    per = Fraction(amount, serves)
    need = per * want
    q = _story(rng, [pick(rng, ("A recipe for {s} people uses {a} {i}.", "To feed {s} people you need {a} {i}."),
                          s=serves, a=amount, i=ingredient),
                     pick(rng, ("How much is needed for {w} people?", "How many {i} for {w} people?"),
                          w=num(want), i=ingredient)])
    steps = [Step(f"Per person: {claim(rng, amount, '/', serves)}."),
             Step(f"For {num(want)} people: {claim(rng, per, '*', want)}.")]
    says = [Say(f"That's {num(per)} per person, so {num(need)} in all.", steps[1])]
    return Problem("multi_step", "recipe", q, need, steps, says, unit=ingredient.split(" of ")[0])


def production(rng: random.Random) -> Problem:
    w1, w2 = rng.sample(lx.WORKERS, 2)
    r1, r2 = rng.randint(5, 60), rng.randint(5, 60)
    h1, h2 = rng.randint(2, 8), rng.randint(2, 8)
    made = r1 * h1 + r2 * h2
    order = made + rng.randint(10, 300)
    t = rng.choice(lx.THINGS)
    q = _story(rng, [f"A {w1} makes {r1} {t.many} an hour and works for {h1} hours.",
                     f"A {w2} makes {r2} {t.many} an hour for {h2} hours.",
                     pick(rng, ("The order is for {o} {t}. How many are still missing?",
                                "If the customer needs {o} {t}, how many more must be made?"), o=order, t=t.many)])
    steps = [Step(f"The {w1}: {claim(rng, r1, '*', h1)}."),
             Step(f"The {w2}: {claim(rng, r2, '*', h2)}."),
             Step(f"Together: {claim(rng, r1 * h1, '+', r2 * h2)}."),
             Step(f"Still missing: {claim(rng, order, '-', made)}.")]
    says = [Say(f"Together they make {made}.", steps[2]), Say(f"So {order - made} are still missing.", steps[3])]
    return Problem("multi_step", "production", q, Fraction(order - made), steps, says, unit=t.many)


def average(rng: random.Random) -> Problem:
    name = rng.choice(lx.NAMES)
    k = rng.randint(3, 5)
    mean = rng.randint(50, 86)
    scores = [mean + rng.randint(-12, 12) for _ in range(k)]
    scores[-1] -= sum(scores) % k
    total = sum(scores)
    avg = Fraction(total, k)
    listed = ", ".join(map(str, scores[:-1])) + f" and {scores[-1]}"
    q = _story(rng, [pick(rng, ("{n} scored {l} on {k} tests.", "On {k} quizzes, {n} got {l} points."), n=name, l=listed, k=k),
                     pick(rng, ("What is the average score?", "What is {n}'s mean score?"), n=name)])
    steps = [Step(f"Sum: {' plus '.join(map(str, scores))} is {total}."),
             Step(f"Average: {claim(rng, total, '/', k)}.")]
    says = [Say(f"The scores add up to {total}, and divided by {k} that's {num(avg)}.", steps[1])]
    return Problem("multi_step", "average", q, avg, steps, says, unit="points")


def split_groups(rng: random.Random) -> Problem:
    den = rng.choice((2, 4, 5))
    whole = den * rng.randint(4, 20) * 5
    walk = Fraction(whole, den)
    rest = whole - walk
    pct = rng.choice((20, 40, 60, 80, 50))
    bus = Fraction(rest * pct, 100)
    car = rest - bus
    word = {2: "half", 4: "a quarter", 5: "a fifth"}[den]
    q = _story(rng, [f"A school has {whole} students.", f"{word.capitalize()} of them walk to school.",
                     f"{pct}% of the rest take the bus, and the others come by car.",
                     pick(rng, ("How many students come by car?", "How many arrive by car?"))])
    steps = [Step(f"Walkers: {claim(rng, whole, '/', den)}."),
             Step(f"The rest: {claim(rng, whole, '-', walk)}."),
             Step(f"Bus: {claim(rng, rest, '*', pct)}, and {claim(rng, rest * pct, '/', 100)}."),
             Step(f"Car: {claim(rng, rest, '-', bus)}.")]
    says = [Say(f"{num(walk)} walk, leaving {num(rest)}.", steps[1]),
            Say(f"{num(bus)} of those take the bus, so {num(car)} come by car.", steps[3])]
    return Problem("multi_step", "split_groups", q, car, steps, says, unit="students")


def convert_compare(rng: random.Random) -> Problem:
    c = rng.choice(lx.CONVERSIONS[:6])
    n1, n2 = lx.names(rng, 2)
    big = Fraction(rng.randint(2, 20), rng.choice((1, 2)))
    small = int(big * c.factor) - rng.randint(1, int(big * c.factor) - 1)
    q = _story(rng, [f"{n1} measures {num(big)} {c.bigs} and {n2} measures {small} {c.smalls}.",
                     pick(rng, ("How many more {s} is {a}'s amount?", "By how many {s} does {a}'s amount beat {b}'s?"),
                          s=c.smalls, a=n1, b=n2)])
    converted = big * c.factor
    steps = [Step(f"Convert: {claim(rng, big, '*', c.factor)} {c.smalls}."),
             Step(f"Difference: {claim(rng, converted, '-', small)} {c.smalls}.")]
    says = [Say(f"{num(big)} {c.bigs} is {num(converted)} {c.smalls}.", steps[0]),
            Say(f"That's {num(converted - small)} more.", steps[1])]
    return Problem("multi_step", "convert_compare", q, converted - small, steps, says, unit=c.smalls)


KINDS = (story_chain, story_chain, shopping, savings, trip, discount, recipe, production, average, split_groups,
         convert_compare)
