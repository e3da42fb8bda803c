"""Suite-wide test settings.

Hypothesis: no per-example deadline (CI machines are shared and noisy; speed belongs in benchmarks/).
Torch, when a test imports it, uses one thread so parallel engines and tests do not oversubscribe 2 cores.
"""

import os

from hypothesis import settings

os.environ.setdefault("OMP_NUM_THREADS", "1")
settings.register_profile("thinkspeak", deadline=None, max_examples=100)
settings.load_profile("thinkspeak")
