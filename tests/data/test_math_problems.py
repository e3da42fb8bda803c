"""Problems, traces and responses of the spoken-math corpus, checked by code that shares nothing with the
generators: questions are re-solved from their written text, every arithmetic claim of every trace is
re-executed, journey slips must be wrong and corrected, responses follow the spoken-answer rules."""

from __future__ import annotations

import re
from fractions import Fraction

import pytest

from thinkspeak.data.math.sample import MathConfig, build_sample, make_problem
from thinkspeak.data.shards import sample_rng

NUM = r"-?\d+(?:\.\d+)?(?:/\d+)?"
CLAIM = re.compile(rf"(?<![\w.])({NUM})((?: (?:plus|minus|times|divided by) {NUM})+) (?:is|equals|gives|makes) ({NUM})")
PERCENT_OF = re.compile(rf"(\d+) percent of ({NUM}) is ({NUM})")
FRACTION_OF = re.compile(r"(\d+/\d+) of (\d+) is (\d+)")
DISTRACTOR = re.compile(r"(?<![^ ])[^.?]*(years old|years ago|floor|Biscuit|sunny|listen to music|favorite color|might rain|"
                        r"people waiting|walk there)[^.?]*[.?] ?")
WORD_OPS = {"plus": "+", "minus": "-", "times": "*", "divided by": "/", "+": "+", "-": "-", "×": "*", "x": "*",
            "*": "*", "multiplied by": "*", "÷": "/", "/": "/"}


def rows(n: int, **config) -> list[dict]:
    cfg = MathConfig(**config)
    return [build_sample(11, i, cfg)[0] for i in range(n)]


def value(text: str) -> Fraction:
    return Fraction(text.replace("$", "").replace(",", ""))


def evaluate(tokens: list[str]) -> Fraction:
    """Shunting-free precedence evaluation of [number, op, number, op, ...]."""
    values, ops = [value(tokens[0])], []
    for op, tok in zip(tokens[1::2], tokens[2::2], strict=True):
        if op in "*/":
            values[-1] = values[-1] * value(tok) if op == "*" else values[-1] / value(tok)
        else:
            values.append(value(tok))
            ops.append(op)
    total = values[0]
    for op, v in zip(ops, values[1:], strict=True):
        total = total + v if op == "+" else total - v
    return total


def solve_arithmetic(question: str) -> Fraction:
    numbers = [value(x) for x in re.findall(NUM, question)]
    if m := re.search(r"(?:sum|total) of|^Add ", question):
        return sum(numbers, Fraction(0))
    if m := re.search(r"product of|^Multiply ", question):
        product = Fraction(1)
        for v in numbers:
            product *= v
        return product
    if m := re.match(rf"(?:Subtract|Take) ({NUM}) (?:from|away from) ({NUM})", question):
        return value(m[2]) - value(m[1])
    if m := re.match(rf"How many times does ({NUM}) go into ({NUM})", question):
        return value(m[2]) / value(m[1])
    ops = "|".join(re.escape(o) for o in sorted(WORD_OPS, key=len, reverse=True))
    m = re.search(rf"{NUM}(?: (?:{ops}) {NUM})+", question)
    assert m, question
    parts = re.findall(rf"{NUM}|{ops}", m[0])
    return evaluate([WORD_OPS.get(p, p) for p in parts])


CONVERT = {"hour": ("minute", 60), "minute": ("second", 60), "kilometer": ("meter", 1000), "meter": ("centimeter", 100),
           "kilogram": ("gram", 1000), "liter": ("milliliter", 1000), "dollar": ("cent", 100), "day": ("hour", 24),
           "week": ("day", 7), "foot": ("inch", 12), "yard": ("foot", 3), "dozen": ("egg", 12)}
PLURAL = {"foot": "feet", "inch": "inches", "dozen": "dozen"}


def plural(unit: str) -> str:
    return PLURAL.get(unit, unit + "s")


def solve_word(kind: str, question: str) -> Fraction | None:
    """Independent solutions of the word-problem kinds from the written question (None: kind not covered)."""
    q = DISTRACTOR.sub("", question)
    nums = [value(x) for x in re.findall(r"\$?" + NUM, q)]
    money = [value(x) for x in re.findall(r"\$(" + NUM + ")", q)]
    plain = [value(x) for x in re.findall(r"(?<![$\d.])" + NUM, q)]
    if kind == "total":
        return nums[0] + nums[1]
    if kind == "remaining":
        return nums[0] - nums[1]
    if kind == "groups":
        return nums[0] * nums[1]
    if kind == "share":
        return nums[0] / nums[1]
    if kind == "compare":
        return abs(nums[0] - nums[1])
    if kind == "cost":
        return money[0] * plain[0]
    if kind == "change":
        return max(money) - min(money)
    if kind == "distance":
        return nums[0] * nums[1]
    if kind == "percent_of":
        pct = value(re.search(r"(\d+)%", q)[1])
        whole = next(v for v in plain if v != pct)
        return whole * pct / 100
    if kind == "fraction_of":
        frac = value(re.search(r"\d+/\d+", q)[0])
        return frac * value(re.search(r"(?<![/\d])(\d+)(?![/\d])", q)[1])
    if kind == "convert":
        for big, (small, factor) in CONVERT.items():
            m = re.search(rf"({NUM}) ({plural(big)}|{plural(small)})\b", q)
            if m and (f"How many {plural(small)}" in q or f"to {plural(small)}" in q) and m[2] == plural(big):
                return value(m[1]) * factor
            if m and m[2] == plural(small) and plural(big) in q.replace(m[0], ""):
                return value(m[1]) / factor
        raise AssertionError(question)
    if kind == "average":
        listed = re.search(r"(?:scored|got) ((?:\d+(?:, | and )?)+)", q)[1]
        scores = [value(x) for x in re.findall(r"\d+", listed)]
        return sum(scores, Fraction(0)) / len(scores)
    if kind == "savings":
        weekly, weeks, spent = money[0], plain[0], money[1]
        return weekly * weeks - spent
    if kind == "savings_goal":
        goal, start, weekly = money
        return (goal - start) / weekly
    if kind == "shopping":
        items = re.findall(r"(\d+) [a-z ]+? at \$(" + NUM + ") each", q)
        total = sum((value(k) * value(p) for k, p in items), Fraction(0))
        paid = re.search(r"(?:with|over) \$(\d+)", q)
        return value(paid[1]) - total if paid else total
    if kind == "discount":
        price, pct = money[0], value(re.search(r"(\d+)%", q)[1])
        count = value(re.search(r"(?:for|buys) (\d+)", q)[1])
        return price * (1 - pct / 100) * count
    if kind == "production":
        r1, h1, r2, h2, order = plain[:5]
        return order - r1 * h1 - r2 * h2
    if kind == "trip":
        h1, s1, minutes, s2 = plain[:4]
        return s1 * h1 + s2 * minutes / 60
    if kind == "recipe":
        serves, amount, want = plain[:3]
        return amount / serves * want
    if kind == "split_groups":
        whole, pct = plain[0], value(re.search(r"(\d+)%", q)[1])
        part = {"Half": 2, "A quarter": 4, "A fifth": 5}[re.search(r"(Half|A quarter|A fifth)", q)[1]]
        rest = whole - whole / part
        return rest - rest * pct / 100
    if kind == "convert_compare":
        m = re.search(rf"measures ({NUM}) (\w+) and \w+ measures ({NUM}) (\w+)", q)
        factor = next(f for big, (small, f) in CONVERT.items() if plural(big) == m[2])
        return value(m[1]) * factor - value(m[3])
    if kind == "story_chain":
        have = plain[0]
        for sentence in re.split(r"(?<=\.) ", q)[1:]:
            n = [value(x) for x in re.findall(r"\d+", sentence)]
            if re.search(r"more\.|another", sentence):
                have += n[0]
            elif re.search(r"gives \d+ to|get lost|sells", sentence):
                have -= n[0]
            elif re.search(r"doubles|as many again", sentence):
                have *= 2
            elif re.search(r"piles|equally among", sentence):
                have /= n[0]
            elif m := re.search(r"(half|a third|a quarter)", sentence, re.IGNORECASE):
                have -= have / {"half": 2, "a third": 3, "a quarter": 4}[m[1].lower()]
        return have
    return None


def check_claims(text: str) -> list[bool]:
    """Truth of every arithmetic claim in a step, re-executed left to right (chains are one precedence level)."""
    out = []
    for m in CLAIM.finditer(text):
        parts = [m[1], *re.findall(rf"(plus|minus|times|divided by) ({NUM})", m[2])]
        ops = {p[0] for p in parts[1:]}
        assert ops <= {"plus", "minus"} or ops <= {"times", "divided by"}, f"mixed precedence in {m[0]!r}"
        total = value(parts[0])
        for op, operand in parts[1:]:
            total = evaluate([str(total), WORD_OPS[op], operand]) if "/" not in str(total) else \
                {"plus": total + value(operand), "minus": total - value(operand), "times": total * value(operand),
                 "divided by": total / value(operand)}[op]
        out.append(total == value(m[3]))
    for m in PERCENT_OF.finditer(text):
        out.append(value(m[2]) * value(m[1]) / 100 == value(m[3]))
    for m in FRACTION_OF.finditer(text):
        out.append(value(m[1]) * value(m[2]) == value(m[3]))
    return out


@pytest.fixture(scope="module")
def corpus() -> list[dict]:
    return rows(1500, journey_share=0.3)


def test_every_category_and_many_kinds(corpus: list[dict]) -> None:
    assert {r["category"] for r in corpus} == {"arith_short", "arith_long", "single_step", "multi_step"}
    assert len({r["kind"] for r in corpus}) >= 30
    assert len({r["question"] for r in corpus}) > 0.97 * len(corpus)


def test_answers_recomputed_from_the_written_question(corpus: list[dict]) -> None:
    checked = 0
    for r in corpus:
        expected = solve_arithmetic(r["question"]) if r["category"].startswith("arith") else solve_word(
            r["kind"], r["question"])
        if expected is None:
            continue
        assert value(r["answer"]) == expected, (r["kind"], r["question"], r["answer"])
        checked += 1
    assert checked > 0.97 * len(corpus)


def test_traces_re_executed_step_by_step(corpus: list[dict]) -> None:
    claims = slips = 0
    for r in corpus:
        steps = r["reasoning"]
        for i, step in enumerate(steps):
            truth = check_claims(step)
            if i + 1 < len(steps) and steps[i + 1].startswith("Wait, let me check."):
                assert truth and not any(truth), f"slip step must state a wrong claim: {step!r}"
                slips += 1
            else:
                assert all(truth), (r["kind"], step)
                claims += len(truth)
        last = re.findall(NUM, steps[-1])
        assert value(last[-1]) == value(r["answer"]), (r["kind"], steps[-1], r["answer"])
    assert claims > 3 * len(corpus)
    assert slips == sum(r["journey"] for r in corpus) > 0.2 * len(corpus)


def test_column_addition_digits_rebuild_the_sum(corpus: list[dict]) -> None:
    added = [r for r in corpus if r["kind"] == "long_add"]
    for r in added:
        steps = r["reasoning"]  # slip steps write no digits; their corrections do
        written = [re.search(r"write (\d)", s)[1] for s in steps if re.search(r"write (\d)", s)]
        carry = [re.search(r"carry of (\d)", s)[1] for s in steps if "last carry" in s]
        places = sum(1 for s in steps if re.match(r"(Wait, let me check\. )?(Hundredths|Tenths):", s))
        assert Fraction(int("".join(reversed(written + carry))), 10**places) == value(r["answer"])
    assert len(added) > 50


def test_reasoning_and_response_are_plain_speakable_text(corpus: list[dict]) -> None:
    for r in corpus:
        for text in (*r["reasoning"], *r["response"]):
            assert not re.search(r"[\\^=$%×÷*{}_<>]", text), text
        assert not re.search(r"\d", r["question_spoken"]), r["question_spoken"]
        words = len(" ".join(r["response"]).split())
        assert 12 <= words <= 40, r["response"]
        assert r["response"][-1].endswith(f"The answer is {r['answer']}.")
        assert r["licenses"][0] == -1 and not re.search(r"\d", r["response"][0])
        assert all(-1 <= lic < len(r["reasoning"]) for lic in r["licenses"])
        assert r["licenses"][-1] == len(r["reasoning"]) - 1


def test_answers_are_canonical(corpus: list[dict]) -> None:
    for r in corpus:
        assert re.fullmatch(r"-?\d+(\.\d*[1-9])?|-?\d+/\d+", r["answer"]), r["answer"]


def test_make_problem_rejects_unknown_category() -> None:
    with pytest.raises(ValueError, match="category must be one of"):
        make_problem(sample_rng(0, 0), "algebra")


@pytest.mark.parametrize(("field", "bad"), [("p", 0), ("q", "8"), ("journey_share", 1.5), ("valid_share", -0.1),
                                            ("categories", {"algebra": 1.0}), ("categories", {"arith_short": 0.0})])
def test_config_rejects_bad_values(field: str, bad: object) -> None:
    with pytest.raises(ValueError, match=field if field != "categories" else "categories"):
        MathConfig(**{field: bad})


def test_category_weights_are_followed() -> None:
    only = rows(60, categories={"arith_long": 1.0})
    assert {r["category"] for r in only} == {"arith_long"}
