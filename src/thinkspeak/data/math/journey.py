"""Journey traces (O1 Journey Learning, cited by Mini-Omni-Reasoner §3.3): a plausible wrong step, then
"Wait, let me check." and the correction, so a model learns to notice and repair its own slips.

The slip restates the first arithmetic claim of a chosen step with a typical error: a dropped or extra
carry (off by 10), an off-by-one, one group too many or too few in a product. The original step then
follows, prefixed with "Wait, let me check.", so the trace still reaches the exact answer and every
response licence stays valid (licences point at step objects, not positions).
"""

from __future__ import annotations

import random
import re
from dataclasses import replace
from fractions import Fraction

from thinkspeak.data.math.problem import OPERATION_WORDS, Problem, Step, apply, num

CHECK = "Wait, let me check."
_NUMBER = r"-?\d+(?:\.\d+)?(?:/\d+)?"
_CLAIM = re.compile(rf"(?<!plus )(?<!minus )(?<!times )(?<!by )({_NUMBER}) (plus|minus|times|divided by) ({_NUMBER}) (is|equals|gives|makes) ({_NUMBER})")
_OPS = {w: o for o, w in OPERATION_WORDS.items()}


def _wrong(rng: random.Random, a: Fraction, op: str, b: Fraction, right: Fraction) -> Fraction:
    if op == "*" and rng.random() < 0.5:
        candidates = [right + a, right - a, right + b, right - b]
    elif op in "+-" and abs(right) >= 10:
        candidates = [right + 10, right - 10, right + 1, right - 1]
    else:
        candidates = [right + 1, right - 1, right + 2]
    if right.denominator != 1:
        candidates += [right + Fraction(1, 10), right - Fraction(1, 10)]
    good = [c for c in candidates if c != right and (c >= 0 or right < 0)]
    return rng.choice(good)


def add_journey(rng: random.Random, problem: Problem) -> Problem | None:
    """A copy of ``problem`` with one slip-and-correction inserted, or None when no step has a claim."""
    choices = [(i, m) for i, s in enumerate(problem.steps) for m in [_CLAIM.search(s.text)] if m is not None]
    if not choices:
        return None
    i, m = rng.choice(choices)
    a, op, b = Fraction(m[1]), _OPS[m[2]], Fraction(m[3])
    right = apply(a, op, b)
    wrong = _wrong(rng, a, op, b, right)
    slip = Step(rng.choice(("{c}.", "So {c}.", "Quickly: {c}.")).format(
        c=f"{m[1]} {m[2]} {m[3]} {m[4]} {num(wrong)}"), slip=True)
    original = problem.steps[i]
    corrected = Step(f"{CHECK} {original.text}")
    steps = [*problem.steps[:i], slip, corrected, *problem.steps[i + 1:]]
    says = [replace(s, step=corrected if s.step is original else s.step) for s in problem.says]
    return replace(problem, steps=steps, says=says)
