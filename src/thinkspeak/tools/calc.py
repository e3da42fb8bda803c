"""``calc``: exact rational arithmetic for the reasoning stream (GSM8K calculator annotations; issue 12).

The expression is read, never evaluated by Python: number words become digits
(:func:`thinkspeak.text.numbers.words_to_digits`), operator words become symbols, and a small Pratt parser
evaluates ``+ - * / ^ %`` and parentheses over :class:`fractions.Fraction`, so ``1/3 + 1/6`` is exactly
``1/2``. Limits keep a call cheap: at most :data:`MAX_CHARS` characters, :data:`MAX_DIGITS` digits in any
number or intermediate value, integer exponents up to :data:`MAX_EXPONENT`; division by zero, an unknown
word or a malformed expression raise :class:`~thinkspeak.tools.base.ToolError`.
"""

from __future__ import annotations

import re
from fractions import Fraction

from thinkspeak.data.math.problem import apply as apply_operation
from thinkspeak.text.reading import canonical_number, words_to_digits
from thinkspeak.tools.base import ToolError, ToolSpec

MAX_CHARS = 200
MAX_DIGITS = 60
MAX_EXPONENT = 64
MAX_DEPTH = 40

# Longest phrases first; each becomes an operator symbol.
_WORDS = (
    ("to the power of", "^"), ("multiplied by", "*"), ("divided by", "/"), ("raised to", "^"),
    ("squared", "^2"), ("cubed", "^3"), ("percent", "%"), ("plus", "+"), ("minus", "-"), ("times", "*"),
    ("over", "/"), ("of", "*"), ("x", "*"), ("×", "*"), ("÷", "/"), ("**", "^"), ("−", "-"),
)
_FILLER = re.compile(r"\b(what is|what's|how much is|calculate|compute|equals?|the value of)\b|[?=$]")
_TOKEN = re.compile(r"\s*(?:(\d+(?:\.\d+)?)|([-+*/^%()]))")
_BINARY = {"+": 10, "-": 10, "*": 20, "/": 20, "^": 40}
_UNARY = 30
_POSTFIX = 50


def _normalise(text: str) -> str:
    text = words_to_digits(text.lower())
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)
    text = _FILLER.sub(" ", text)
    for word, symbol in _WORDS:
        pattern = rf"\b{re.escape(word)}\b" if word[0].isalpha() else re.escape(word)
        text = re.sub(pattern, f" {symbol} ", text)
    return text


def _tokens(text: str) -> list[str]:
    out, pos = [], 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            bad = text[pos:].split()[0]
            raise ToolError(f"calc cannot read {bad!r}")
        out.append(m.group(1) or m.group(2))
        pos = m.end()
    if not out:
        raise ToolError("calc got no expression")
    return out


def _check(value: Fraction) -> Fraction:
    if max(len(str(abs(value.numerator))), len(str(value.denominator))) > MAX_DIGITS:
        raise ToolError(f"number too large (more than {MAX_DIGITS} digits)")
    return value


def _power(base: Fraction, exponent: Fraction) -> Fraction:
    if exponent.denominator != 1:
        raise ToolError("exponent must be a whole number")
    if abs(exponent) > MAX_EXPONENT:
        raise ToolError(f"exponent too large (at most {MAX_EXPONENT})")
    if base == 0 and exponent < 0:
        raise ToolError("division by zero")
    size = max(abs(base.numerator), base.denominator).bit_length() * abs(int(exponent))
    if size > MAX_DIGITS * 3.33:
        raise ToolError(f"number too large (more than {MAX_DIGITS} digits)")
    return base ** int(exponent)


class _Parser:
    """Pratt parser over the token list, evaluating as it goes."""

    def __init__(self, tokens: list[str]):
        self.tokens, self.pos, self.depth = tokens, 0, 0

    def peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> str:
        token = self.peek()
        if token is None:
            raise ToolError("expression ends too early")
        self.pos += 1
        return token

    def expression(self, min_power: int = 0) -> Fraction:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ToolError(f"expression nested deeper than {MAX_DEPTH}")
        left = self.prefix(self.take())
        while True:
            op = self.peek()
            if op == "%" and _POSTFIX >= min_power:
                self.take()
                left = left / 100
                continue
            power = _BINARY.get(op or "")
            if power is None or power < min_power or (power == min_power and op != "^"):
                break
            self.take()
            right = self.expression(power if op == "^" else power + 1)
            left = _check(self.apply(left, op, right))
        self.depth -= 1
        return left

    def prefix(self, token: str) -> Fraction:
        if token == "(":
            value = self.expression()
            if self.peek() != ")":
                raise ToolError("missing ')'")
            self.take()
            return value
        if token in "+-":
            value = self.expression(_UNARY)
            return -value if token == "-" else value
        if token[0].isdigit():
            if len(token.replace(".", "")) > MAX_DIGITS:
                raise ToolError(f"number too large (more than {MAX_DIGITS} digits)")
            return Fraction(token)
        raise ToolError(f"unexpected {token!r}")

    @staticmethod
    def apply(a: Fraction, op: str, b: Fraction) -> Fraction:
        """The corpus's exact ``+ - * /`` (one rule for data and tool) and ``^``; errors become tool errors."""
        if op == "^":
            return _power(a, b)
        if op == "/" and b == 0:
            raise ToolError("division by zero")
        return apply_operation(a, op, b)


def evaluate(expression: str) -> Fraction:
    """The exact value of an arithmetic expression in symbols or words; ToolError when it cannot be read."""
    if not isinstance(expression, str):
        raise ToolError(f"expression must be text, got {type(expression).__name__}")
    if len(expression) > MAX_CHARS:
        raise ToolError(f"expression longer than {MAX_CHARS} characters")
    parser = _Parser(_tokens(_normalise(expression)))
    value = _check(parser.expression())
    if parser.peek() is not None:
        raise ToolError(f"unexpected {parser.peek()!r}")
    return value


class Calculator:
    """The ``calc`` tool: ``"23 + 19" -> "42"``, ``"1 / 3" -> "1/3"``, ``"2.5 * 4" -> "10"``."""

    spec = ToolSpec("calc", "Exact arithmetic: + - * / ^ % and parentheses, digits or number words.",
                    {"type": "object", "properties": {"expression": {"type": "string"}}, "required": ["expression"]})

    def __call__(self, arguments: str) -> str:
        return canonical_number(evaluate(arguments))
