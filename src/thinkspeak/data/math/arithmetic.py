"""Arithmetic problems (Spoken-MQA "arithmetic short-digit" and "long-digit"), exact, with traces.

* ``arith_short``: 2-3 operands of one or two digits (sometimes a simple decimal), + - x /; mixed
  operations follow the usual precedence and the trace says so ("first multiply").
* ``arith_long``: 3-6 digit operands; addition of 2-4 numbers and subtraction (also with decimals and
  negative results) column by column, long multiplication, exact long division (:mod:`.columns`).

The question is written with symbols or with words and in several phrasings ("the sum of ...", "subtract
b from a"), so the model sees the same operation said many ways.
"""

from __future__ import annotations

import random
from fractions import Fraction

from thinkspeak.data.math.columns import (
    column_addition,
    column_subtraction,
    long_division,
    long_multiplication,
)
from thinkspeak.data.math.problem import OPERATION_WORDS, Problem, Say, Step, apply, claim, num

SYMBOLS = {"+": ("+", "plus"), "-": ("-", "minus"), "*": ("×", "x", "times", "multiplied by", "*"),
           "/": ("÷", "divided by", "/")}
ASK = (
    "What is {e}?", "Calculate {e}.", "Can you work out {e}?", "What do you get for {e}?", "{e} equals what?",
    "Quick one: {e}?", "Please compute {e}.", "How much is {e}?", "Work out {e} for me.", "What's {e}?",
    "I need the value of {e}.", "Solve {e}.",
)


def _expression(rng: random.Random, operands: list[Fraction], ops: list[str]) -> str:
    """Operands and operators as a written expression, one surface per operator drawn at random."""
    words = rng.random() < 0.5
    parts = [num(operands[0])]
    for op, value in zip(ops, operands[1:], strict=True):
        forms = SYMBOLS[op]
        symbol = rng.choice([f for f in forms if f.isalpha() or " " in f]) if words else rng.choice(
            [f for f in forms if not (f.isalpha() or " " in f)])
        parts += [symbol, num(value)]
    return " ".join(parts)


def calc_expression(operands: list[Fraction], ops: list[str]) -> str:
    """The question as the ``calc`` tool reads it: ``'23 + 19 * 2'`` (usual precedence)."""
    parts = [num(operands[0])]
    for op, value in zip(ops, operands[1:], strict=True):
        parts += [op, num(value)]
    return " ".join(parts)


def _phrase(rng: random.Random, operands: list[Fraction], ops: list[str]) -> str:
    """The question: a template around the expression, or a named operation ("the sum of 3, 4 and 5")."""
    same = len(set(ops)) == 1
    listed = ", ".join(num(v) for v in operands[:-1]) + f" and {num(operands[-1])}"
    if same and ops[0] == "+" and rng.random() < 0.3:
        return rng.choice(("What is the sum of {l}?", "Add {l}.", "Find the total of {l}.")).format(l=listed)
    if same and ops[0] == "*" and rng.random() < 0.3:
        return rng.choice(("What is the product of {l}?", "Multiply {l}.")).format(l=listed)
    if len(ops) == 1 and ops[0] == "-" and rng.random() < 0.3:
        a, b = operands
        return rng.choice(("Subtract {b} from {a}.", "Take {b} away from {a}. What is left?")).format(
            a=num(a), b=num(b))
    if len(ops) == 1 and ops[0] == "/" and rng.random() < 0.25:
        a, b = operands
        return f"How many times does {num(b)} go into {num(a)}?"
    return rng.choice(ASK).format(e=_expression(rng, operands, ops))


def _evaluate_steps(rng: random.Random, operands: list[Fraction], ops: list[str]) -> tuple[Fraction, list[Step]]:
    """Evaluate with precedence (x and / first, left to right), one claim per step."""
    values, pending = list(operands), list(ops)
    steps: list[Step] = []
    mixed = any(o in "*/" for o in ops) and any(o in "+-" for o in ops)
    for level in ("*/", "+-"):
        i = 0
        while i < len(pending):
            if pending[i] in level:
                a, op, b = values[i], pending[i], values[i + 1]
                result = apply(a, op, b)
                lead = ""
                if mixed and level == "*/" and not steps:
                    lead = rng.choice(("Multiplication and division come first: ", "First the "
                                       f"{'product' if op == '*' else 'division'}: "))
                elif steps:
                    lead = rng.choice(("Then ", "Next, ", "Now ", ""))
                sentence = claim(rng, a, op, b)
                steps.append(Step(lead + (sentence[0].lower() if lead else sentence[0].upper()) + sentence[1:] + "."))
                values[i:i + 2] = [result]
                del pending[i]
            else:
                i += 1
    return values[0], steps


def _short_operand(rng: random.Random) -> Fraction:
    if rng.random() < 0.12:
        return Fraction(rng.randint(1, 99), rng.choice((2, 4, 10)))
    return Fraction(rng.randint(1, 99) if rng.random() < 0.7 else rng.randint(1, 9))


def arith_short(rng: random.Random) -> Problem:
    """Short-digit arithmetic: exact answers, divisions chosen to come out whole."""
    n_ops = rng.choice((1, 1, 2))
    ops = [rng.choice("+-*/") for _ in range(n_ops)]
    if ops == ["/", "/"]:  # a chain of divisions rarely comes out whole; make the second a product
        ops[1] = "*"
    operands = [_short_operand(rng)]
    for op in ops:
        if op == "/":  # make the running left operand divisible: choose the divisor from its factors
            divisor = Fraction(rng.randint(2, 12))
            operands[-1] = divisor * Fraction(rng.randint(1, 12))
            operands.append(divisor)
        elif op == "*":
            operands.append(Fraction(rng.randint(2, 12)))
        else:
            operands.append(_short_operand(rng))
    answer, steps = _evaluate_steps(rng, operands, ops)
    body = _restate(rng, operands, ops, answer, steps)
    return Problem("arith_short", "expr_" + "".join({"+": "add", "-": "sub", "*": "mul", "/": "div"}[o] for o in ops),
                   _phrase(rng, operands, ops), answer, steps, body, expression=calc_expression(operands, ops))


def _restate(rng: random.Random, operands: list[Fraction], ops: list[str], answer: Fraction,
             steps: list[Step]) -> list[Say]:
    """Response body for short arithmetic: the last operation restated colloquially."""
    if len(steps) == 1:
        a, op, b = operands[0], ops[0], operands[1]
        text = rng.choice((
            "{a} {o} {b} comes to {r}.", "So that's {a} {o} {b}, which is {r}.", "{a} {o} {b} gives us {r}.",
        )).format(a=num(a), o=OPERATION_WORDS[op], b=num(b), r=num(answer))
        return [Say(text, steps[0])]
    return [Say(rng.choice(("Doing it in order, I get {r}.", "Working it through, that comes to {r}.",
                            "Step by step, it comes out to {r}.")).format(r=num(answer)), steps[-1])]


def arith_long(rng: random.Random) -> Problem:
    """Long-digit arithmetic with digit-level traces (columns, partial products, long division)."""
    kind = rng.choice(("add", "add", "sub", "sub", "mul", "div"))
    if kind == "add":
        decimals = rng.random() < 0.25
        operands = [Fraction(rng.randint(100, 99999), 100 if decimals else 1) for _ in range(rng.choice((2, 2, 3, 4)))]
        steps = column_addition(rng, operands)
        ops = ["+"] * (len(operands) - 1)
        body = rng.choice(("Adding column by column with the carries, I get {r}.",
                           "Going column by column, the total comes to {r}."))
    elif kind == "sub":
        decimals = rng.random() < 0.25
        a, b = (Fraction(rng.randint(1000, 999999), 100 if decimals else 1) for _ in range(2))
        if rng.random() < 0.8 and a < b:
            a, b = b, a
        operands, ops = [a, b], ["-"]
        steps = column_subtraction(rng, a, b)
        body = rng.choice(("Subtracting column by column with borrowing, I get {r}.",
                           "Taking it column by column, that leaves {r}."))
    elif kind == "mul":
        a, b = rng.randint(12, 999), rng.randint(12, 999 if rng.random() < 0.3 else 99)
        operands, ops = [Fraction(a), Fraction(b)], ["*"]
        steps = long_multiplication(rng, a, b)
        body = rng.choice(("Adding up the partial products gives {r}.", "Multiplying it out, I get {r}."))
    else:
        divisor = rng.randint(3, 99)
        quotient = rng.randint(12, 9999)
        operands, ops = [Fraction(divisor * quotient), Fraction(divisor)], ["/"]
        steps = long_division(rng, divisor * quotient, divisor)
        body = rng.choice(("Doing the long division, it comes out to exactly {r}.",
                           "Dividing it out step by step gives {r}."))
    answer = operands[0]
    for op, value in zip(ops, operands[1:], strict=True):
        answer = apply(answer, op, value)
    says = [Say(body.format(r=num(answer)), steps[-1])]
    return Problem("arith_long", f"long_{kind}", _phrase(rng, operands, ops), answer, steps, says,
                   expression=calc_expression(operands, ops))


__all__ = ["arith_long", "arith_short"]
