"""Digit-level written arithmetic as reasoning steps: column addition and subtraction with carries and
borrows, long multiplication by partial products, long division.

Mini-Omni-Reasoner's long-digit arithmetic (Spoken-MQA "arithmetic long") is where reasoning pays off most
(66.1 vs 48.0 for the base model, §4.2); the trace spells out every column the way a person works on paper,
so each step is a small fact a model can learn and a test can re-check. All values are exact (``Fraction``);
decimals are handled by scaling to whole hundredths, tenths, ... and naming the places.
"""

from __future__ import annotations

import random
from fractions import Fraction

from thinkspeak.data.math.problem import Step, claim, num

PLACE_NAMES = ("thousandths", "hundredths", "tenths", "ones", "tens", "hundreds", "thousands", "ten thousands",
               "hundred thousands", "millions", "ten millions", "hundred millions", "billions")
ONES = 3  # index of "ones" in PLACE_NAMES


def decimal_places(value: Fraction) -> int:
    """Number of decimal places of a terminating value (at most 3 here)."""
    for places in range(4):
        if (value * 10**places).denominator == 1:
            return places
    raise ValueError(f"value must have at most 3 decimal places, got {value}")


def _place(column: int, places: int) -> str:
    index = ONES - places + column
    if not 0 <= index < len(PLACE_NAMES):
        raise ValueError(f"column {column} with {places} decimal places has no place name")
    return PLACE_NAMES[index]


def _digits(n: int) -> list[int]:
    """Digits of a non-negative int, least significant first."""
    return [int(c) for c in reversed(str(n))]


def _chain(values: list[int], verb_rng: random.Random) -> str:
    """``'7 plus 5 plus 1 is 13'`` for a column sum."""
    words = " plus ".join(str(v) for v in values)
    return f"{words} {verb_rng.choice(('is', 'makes', 'gives'))} {sum(values)}"


def column_addition(rng: random.Random, operands: list[Fraction]) -> list[Step]:
    """Add non-negative operands column by column, right to left, carrying into the next column."""
    if len(operands) < 2 or any(v < 0 for v in operands):
        raise ValueError(f"operands must be at least two non-negative numbers, got {operands}")
    places = max(decimal_places(v) for v in operands)
    scaled = [int(v * 10**places) for v in operands]
    digits = [_digits(v) for v in scaled]
    width = max(len(d) for d in digits)
    steps = [Step(rng.choice((
        "Line the numbers up by place value and add column by column from the right.",
        "Write them one under the other and add each column, starting on the right.",
        "Add in columns from the right, carrying when a column goes past 9.",
    )))]
    carry = 0
    for col in range(width):
        column = [d[col] for d in digits if col < len(d)]
        terms = column + ([carry] if carry else [])
        place = _place(col, places).capitalize()
        total = sum(terms)
        if len(terms) == 1:
            steps.append(Step(f"{place}: only {total} there, so write {total}."))
        else:
            text = f"{place}: {_chain(terms, rng)}"
            text += f", write {total % 10} and carry {total // 10}." if total >= 10 else f", write {total}."
            steps.append(Step(text))
        carry = total // 10
    if carry:
        steps.append(Step(f"The last carry of {carry} goes in front."))
    result = sum(operands, Fraction(0))
    joined = " plus ".join(num(v) for v in operands)
    steps.append(Step(f"So {joined} is {num(result)}."))
    return steps


def column_subtraction(rng: random.Random, a: Fraction, b: Fraction) -> list[Step]:
    """``a - b`` column by column with borrows (across zeros too); a negative result is found as
    ``-(b - a)``."""
    if a < 0 or b < 0:
        raise ValueError(f"a and b must be non-negative, got {a} and {b}")
    if a < b:
        steps = [Step(f"{num(b)} is bigger than {num(a)}, so the result is negative: work out {num(b)} minus "
                      f"{num(a)} and put a minus sign in front.")]
        steps += column_subtraction(rng, b, a)[:-1]
        steps.append(Step(f"{claim(rng, b, '-', a)}, so {claim(rng, a, '-', b)}."))
        return steps
    places = max(decimal_places(a), decimal_places(b))
    top = _digits(int(a * 10**places))
    bottom = _digits(int(b * 10**places))
    steps = [Step(rng.choice((
        "Subtract column by column from the right, borrowing when the top digit is too small.",
        "Write the smaller number under the bigger one and subtract each column from the right.",
    )))]
    for col in range(len(top)):
        place = _place(col, places).capitalize()
        low = bottom[col] if col < len(bottom) else None
        if low is None:
            if any(top[col + 1:]) or top[col]:
                steps.append(Step(f"{place}: nothing to take away, so write {top[col]}."))
            continue
        if top[col] >= low:
            steps.append(Step(f"{place}: {claim(rng, top[col], '-', low)}."))
            continue
        lender = col + 1
        while top[lender] == 0:
            lender += 1
        changes = [f"the {_place(lender, places)} digit {top[lender]} becomes {top[lender] - 1}"]
        top[lender] -= 1
        for k in range(col + 1, lender):
            top[k] = 9
            changes.append(f"the 0 in the {_place(k, places)} becomes 9")
        borrowed = top[col] + 10
        steps.append(Step(f"{place}: {top[col]} is less than {low}, so borrow: {', '.join(changes)}, and "
                          f"{claim(rng, borrowed, '-', low)}."))
        top[col] = borrowed
    steps.append(Step(f"So {claim(rng, a, '-', b)}."))
    return steps


def long_multiplication(rng: random.Random, a: int, b: int) -> list[Step]:
    """``a * b`` by partial products: ``a`` times each digit of ``b`` (digit by digit with carries), shifted
    by its place, then the partial products added."""
    if a < 0 or b < 0:
        raise ValueError(f"a and b must be non-negative ints, got {a} and {b}")
    steps = [Step(rng.choice((
        f"Multiply {a} by each digit of {b}, then add the partial products.",
        f"Break {b} into its digits, multiply {a} by each one, and add the results.",
    )))]
    partials: list[int] = []
    for power, digit in enumerate(_digits(b)):
        if digit == 0:
            continue
        parts: list[str] = []
        carry = 0
        for d in _digits(a):
            product = d * digit
            fact = f"{d} times {digit} is {product}"
            if carry:
                fact += f", plus {carry} carried: {product} plus {carry} is {product + carry}"
            product += carry
            carry = product // 10
            parts.append(fact)
        partial = a * digit
        shift = 10**power
        body = "; ".join(parts)
        if shift == 1:
            steps.append(Step(f"{a} times {digit}: {body}. So {a} times {digit} is {partial}."))
        else:
            steps.append(Step(f"{a} times {digit} {_place(power, 0)}: {body}. So {a} times {digit} is "
                              f"{partial}, and {partial} times {shift} is {partial * shift}."))
        partials.append(partial * shift)
    if len(partials) > 1:
        steps.append(Step(f"Add the partial products: {' plus '.join(map(str, partials))} is {sum(partials)}."))
    steps.append(Step(f"So {a} times {b} is {a * b}."))
    return steps


def long_division(rng: random.Random, dividend: int, divisor: int) -> list[Step]:
    """Exact long division ``dividend / divisor`` digit by digit: how many times, multiply, subtract, bring
    down the next digit."""
    if divisor <= 0 or dividend < 0 or dividend % divisor:
        raise ValueError(f"dividend must be a non-negative multiple of divisor >= 1, got {dividend} and {divisor}")
    digits = [int(c) for c in str(dividend)]
    steps = [Step(rng.choice((
        f"Long division: divide {dividend} by {divisor} from the left, one digit at a time.",
        f"Work through {dividend} from the left and see how many times {divisor} fits at each step.",
    )))]
    current, k = 0, 0
    while k < len(digits):
        current, k = current * 10 + digits[k], k + 1
        if current >= divisor:
            break
    quotient = ""
    while True:
        times = current // divisor
        taken = times * divisor
        rest = current - taken
        fact = (f"{divisor} goes into {current} {times} times: {times} times {divisor} is {taken}, and "
                f"{current} minus {taken} is {rest}")
        quotient += str(times)
        if k < len(digits):
            fact += f". Bring down the {digits[k]} to make {rest * 10 + digits[k]}."
            current = rest * 10 + digits[k]
            k += 1
            steps.append(Step(fact))
        else:
            steps.append(Step(fact + "."))
            break
    steps.append(Step(f"So {dividend} divided by {divisor} is {int(quotient)}."))
    return steps
