"""What a test needs that pip may not provide, and what happens when it is missing.

Locally a missing part skips the test with its reason. In required-parts mode — ``CI=true`` or
``THINKSPEAK_REQUIRE_PARTS=1`` (``.ci/run`` sets it) — a missing Debian engine (espeak-ng, flite,
festival, chromium), a Python extra that ``make test`` installs (piper-tts, openai, playwright) or a
Whisper part is a failure: tests/conftest.py turns every skip whose reason starts with
:data:`MISSING` into an error, so CI cannot go green with the engines, the server or the browser untested.
Genuinely optional conditions skip with their own reason and are not affected.
"""

from __future__ import annotations

import importlib.util
import os
import shutil

import pytest

REQUIRE_ENV = "THINKSPEAK_REQUIRE_PARTS"
MISSING = "missing required part: "


def required_mode() -> bool:
    """True in CI (``CI=true``) or with ``THINKSPEAK_REQUIRE_PARTS=1``."""
    return os.environ.get(REQUIRE_ENV, "") == "1" or os.environ.get("CI", "").lower() == "true"


def missing(reason: str) -> None:
    """Skip (locally) or fail (required-parts mode) because a required part is missing."""
    pytest.skip(MISSING + reason)


def program_missing(name: str) -> bool:
    return shutil.which(name) is None


def module_missing(name: str) -> bool:
    return importlib.util.find_spec(name) is None


def needs_program(*names: str) -> pytest.MarkDecorator:
    """A Debian engine binary the test runs (``apt-get install``; ``make sysdeps`` installs it)."""
    absent = [n for n in names if program_missing(n)]
    return pytest.mark.skipif(bool(absent), reason=f"{MISSING}{', '.join(absent)} not installed "
                                                   f"(apt-get install {' '.join(absent)}; make sysdeps)")


def needs_module(name: str, extra: str) -> pytest.MarkDecorator:
    """A Python package of an extra that ``make test`` installs (``pip install -e '.[EXTRA]'``)."""
    return pytest.mark.skipif(module_missing(name),
                              reason=f"{MISSING}Python package {name} not installed (pip install -e '.[{extra}]')")


def require_program(name: str) -> None:
    """In a fixture or test body: skip/fail now unless ``name`` is on PATH."""
    if program_missing(name):
        missing(f"{name} not installed (apt-get install {name}; make sysdeps)")


needs_espeak = needs_program("espeak-ng")
needs_flite = needs_program("flite")
needs_festival = needs_program("festival")
needs_piper = needs_module("piper", "piper")


def require_module(name: str, extra: str) -> None:
    """In a fixture or test body: skip/fail now unless the Python package ``name`` imports."""
    if module_missing(name):
        missing(f"Python package {name} not installed (pip install -e '.[{extra}]')")
