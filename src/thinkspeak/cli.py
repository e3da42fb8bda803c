"""The single ``thinkspeak`` command.

Each sub-command lives in ``thinkspeak.commands.<name>`` and exposes ``register(subparsers)``; the
module must import only light things at import time (heavy imports go inside the handler), so
``thinkspeak --help`` stays fast and works without the optional extras.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from thinkspeak import __version__

COMMANDS = ("layout", "data", "train", "ask", "speak", "serve", "eval", "index", "units")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="thinkspeak",
        description="Real-time spoken dialogue models that think while they speak.",
    )
    parser.add_argument("--version", action="version", version=f"thinkspeak {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"thinkspeak.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"thinkspeak.commands.{name}":
                continue
            raise
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except ValueError as exc:
        print(f"thinkspeak {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
