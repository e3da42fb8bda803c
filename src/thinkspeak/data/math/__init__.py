"""Spoken-math corpus with thinking-in-speaking targets (Mini-Omni-Reasoner §3.3; issue 3).

problem generators (:mod:`.arithmetic`, :mod:`.word_single`, :mod:`.word_multi`, digit-level traces in
:mod:`.columns`) -> journey traces (:mod:`.journey`) -> licensed responses (:mod:`.responses`) -> p:q
interleave and drift check (:mod:`.sample`, :mod:`.drift`) -> speech (:mod:`.speech`) -> shards
(:mod:`.pipeline`, :mod:`thinkspeak.data.shards`).
"""

from thinkspeak.data.math.drift import DriftVerdict, check_stream, check_words
from thinkspeak.data.math.pipeline import generate_math
from thinkspeak.data.math.sample import MathConfig, build_sample

__all__ = ["DriftVerdict", "MathConfig", "build_sample", "check_stream", "check_words", "generate_math"]
