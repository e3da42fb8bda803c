"""Hypothesis settings for the layout property tests: no per-example deadline (CI machines are shared)."""

from hypothesis import settings

settings.register_profile("layouts", deadline=None, max_examples=100)
settings.load_profile("layouts")
