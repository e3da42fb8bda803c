"""Tool calls inside the reasoning ("think") stream of thinking-in-speaking (issue 12; docs/tools.md).

A call, its result and the wait between them are written with six special tokens::

    <|call|>calc<|args|>23 + 19<|call_end|><|tool_wait|><|result|>42<|result_end|>

* the model writes ``<|call|> NAME <|args|> ARGUMENTS <|call_end|>`` in think slots;
* the decoder runs the tool off the decode thread; while it runs every think slot is ``<|tool_wait|>``
  (say slots keep flowing, so the tool's latency is never heard);
* the result goes into the following think slots as ``<|result|> VALUE <|result_end|>``; a failed call's
  value starts with ``error:`` ("error: division by zero"), after which the trace works it out by hand.

GSM8K's calculator annotations (``<<48/2=24>>``) are the precedent: the model writes the expression and a tool
computes the value. This module is the pure text side: the token strings, rendering and a parser that never
raises on model output (a malformed call becomes a :class:`Malformed` piece, which the decoder answers with an
error result). No torch, no numpy.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

CALL = "<|call|>"
ARGS = "<|args|>"
CALL_END = "<|call_end|>"
RESULT = "<|result|>"
RESULT_END = "<|result_end|>"
TOOL_WAIT = "<|tool_wait|>"

TOOL_TOKENS: tuple[str, ...] = (CALL, ARGS, CALL_END, RESULT, RESULT_END, TOOL_WAIT)

# Plain-word meanings that initialise the new embedding rows (thinkspeak.model.vocab_extension).
TOOL_DESCRIPTIONS: dict[str, str] = {
    CALL: "use a tool",
    ARGS: "with the input",
    CALL_END: "end of the tool input",
    RESULT: "the tool says",
    RESULT_END: "end of what the tool says",
    TOOL_WAIT: "waiting for the tool",
}

ERROR_PREFIX = "error:"
NAME_PATTERN = re.compile(r"[a-z][a-z0-9_]{0,31}")
MAX_ARGUMENTS = 400  # characters; a longer argument text is a malformed call


@dataclass(frozen=True)
class Call:
    """A tool call as the model wrote it: the tool's ``name`` and its ``arguments`` (free text)."""

    name: str
    arguments: str


@dataclass(frozen=True)
class Result:
    """A tool's answer; ``error`` results are rendered ``error: <message>``."""

    value: str
    error: bool = False

    @property
    def text(self) -> str:
        return f"{ERROR_PREFIX} {self.value}" if self.error else self.value


@dataclass(frozen=True)
class Malformed:
    """A piece of a trace that looks like a call or result but does not parse; ``reason`` says why."""

    text: str
    reason: str


Piece = str | Call | Result | Malformed


def _clean(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{what} must be a str, got {type(value).__name__}")
    for token in TOOL_TOKENS:
        if token in value:
            raise ValueError(f"{what} must not contain the tool token {token!r}, got {value!r}")
    return value


def render_call(call: Call) -> str:
    """``<|call|>name<|args|>arguments<|call_end|>``; ValueError if the call could not be parsed back."""
    if not isinstance(call.name, str) or not NAME_PATTERN.fullmatch(call.name):
        raise ValueError(f"call.name must match {NAME_PATTERN.pattern!r}, got {call.name!r}")
    args = _clean(call.arguments, "call.arguments")
    if len(args) > MAX_ARGUMENTS or args != args.strip() or not args:
        raise ValueError(f"call.arguments must be 1-{MAX_ARGUMENTS} characters without surrounding spaces, "
                         f"got {args!r}")
    return f"{CALL}{call.name}{ARGS}{args}{CALL_END}"


def render_result(result: Result) -> str:
    """``<|result|>value<|result_end|>`` (``error: message`` for an error)."""
    value = _clean(result.value, "result.value")
    if value != value.strip() or not value:
        raise ValueError(f"result.value must be non-empty without surrounding spaces, got {value!r}")
    if not result.error and value.startswith(ERROR_PREFIX):
        raise ValueError(f"result.value of a successful result must not start with {ERROR_PREFIX!r}, got {value!r}")
    return f"{RESULT}{result.text}{RESULT_END}"


def render(pieces: list[Piece]) -> str:
    """A trace from its pieces (text, calls, results); the inverse of :func:`parse`."""
    out = []
    for piece in pieces:
        if isinstance(piece, Call):
            out.append(render_call(piece))
        elif isinstance(piece, Result):
            out.append(render_result(piece))
        elif isinstance(piece, str):
            out.append(_clean(piece, "text piece"))
        else:
            raise ValueError(f"pieces must be str, Call or Result, got {piece!r}")
    return "".join(out)


def parse_call(body: str) -> Call | Malformed:
    """The call written between ``<|call|>`` and ``<|call_end|>`` (``name<|args|>arguments``)."""
    name, sep, args = body.partition(ARGS)
    name, args = name.strip(), args.strip()
    if not sep:
        return Malformed(body, f"no {ARGS} between the tool name and its arguments")
    if not NAME_PATTERN.fullmatch(name):
        return Malformed(body, f"tool name {name!r} is not a lower-case identifier")
    if any(t in args for t in TOOL_TOKENS):
        return Malformed(body, "the arguments hold a tool token")
    if not args:
        return Malformed(body, "no arguments")
    if len(args) > MAX_ARGUMENTS:
        return Malformed(body, f"arguments longer than {MAX_ARGUMENTS} characters")
    return Call(name, args)


def parse_result(body: str) -> Result | Malformed:
    """The result written between ``<|result|>`` and ``<|result_end|>``."""
    value = body.strip()
    if any(t in value for t in TOOL_TOKENS) or not value:
        return Malformed(body, "a result must be non-empty text without tool tokens")
    if value.startswith(ERROR_PREFIX):
        return Result(value[len(ERROR_PREFIX):].strip() or "unknown", error=True)
    return Result(value)


_SEGMENT = re.compile(
    "|".join(re.escape(t) for t in (CALL, CALL_END, RESULT, RESULT_END, ARGS, TOOL_WAIT))
)


def parse(text: str) -> list[Piece]:
    """Split a reasoning text into plain text, calls, results and malformed pieces; never raises on a str.

    ``<|tool_wait|>`` tokens are dropped (they carry no content). An unclosed call or result at the end, a
    stray ``<|args|>``/end token, or a call/result whose body does not parse becomes :class:`Malformed`.
    """
    if not isinstance(text, str):
        raise ValueError(f"text must be a str, got {type(text).__name__}")
    text = text.replace(TOOL_WAIT, "")
    pieces: list[Piece] = []
    pos = 0
    plain: list[str] = []

    def flush() -> None:
        if plain:
            pieces.append("".join(plain))
            plain.clear()

    while pos < len(text):
        m = _SEGMENT.search(text, pos)
        if m is None:
            plain.append(text[pos:])
            break
        plain.append(text[pos:m.start()])
        token = m.group()
        if token in (CALL, RESULT):
            close = CALL_END if token == CALL else RESULT_END
            end = text.find(close, m.end())
            opener = text.find(token, m.end())
            if end < 0 or 0 <= opener < end:
                stop = len(text) if opener < 0 else opener
                flush()
                pieces.append(Malformed(text[m.start():stop], f"{token} without {close}"))
                pos = stop
                continue
            body = text[m.end():end]
            flush()
            pieces.append(parse_call(body) if token == CALL else parse_result(body))
            if isinstance(pieces[-1], Malformed):
                pieces[-1] = Malformed(text[m.start():end + len(close)], pieces[-1].reason)
            pos = end + len(close)
        else:
            flush()
            pieces.append(Malformed(token, f"stray {token}"))
            pos = m.end()
    flush()
    return [p for p in pieces if p != ""]


def calls_and_results(text: str) -> list[Call | Result | Malformed]:
    """Only the tool pieces of a trace, in order."""
    return [p for p in parse(text) if not isinstance(p, str)]
