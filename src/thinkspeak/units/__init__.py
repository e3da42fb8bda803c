"""Speech units: discrete units at 25 Hz from streaming features + k-means (SyncLLM §3.1; issue 13).

``load_unit_model()`` loads the packaged ``assets/units-default`` (hash checked); ``model.encode(pcm, sr)``
gives one int64 unit per 40 ms, ``model.stream()`` the same units live. ``thinkspeak units fit|encode``.
"""

from thinkspeak.units.features import FEATURES, FeatureConfig
from thinkspeak.units.model import DEFAULT_DIR, UnitModel, UnitStream, load_unit_model

__all__ = ["DEFAULT_DIR", "FEATURES", "FeatureConfig", "UnitModel", "UnitStream", "load_unit_model"]
