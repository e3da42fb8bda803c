"""Suite-wide test settings.

Hypothesis: no per-example deadline (CI machines are shared and noisy; speed belongs in benchmarks/).
Torch, when a test imports it, uses one thread so parallel engines and tests do not oversubscribe 2 cores.
Required-parts mode (tests/parts.py): in CI a skip for a missing required part is reported as an error.
"""

import os

import pytest
from hypothesis import settings

from parts import MISSING, REQUIRE_ENV, required_mode

os.environ.setdefault("OMP_NUM_THREADS", "1")
settings.register_profile("thinkspeak", deadline=None, max_examples=100)
settings.load_profile("thinkspeak")


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    return longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Required-parts mode: a test skipped because a required part is missing fails instead."""
    outcome = yield
    report = outcome.get_result()
    if report.skipped and required_mode() and MISSING in _skip_reason(report):
        report.outcome = "failed"
        reason = _skip_reason(report).removeprefix("Skipped: ")
        report.longrepr = (f"FAILED, not skipped: {reason}\n(required-parts mode: CI=true or {REQUIRE_ENV}=1 "
                           "— install it with `make sysdeps` / `make venv`)")


def pytest_report_header(config):
    return f"required-parts mode: {'on' if required_mode() else 'off'} (CI=true or {REQUIRE_ENV}=1)"
