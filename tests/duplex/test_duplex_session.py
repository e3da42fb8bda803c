"""DuplexSession: PCM in, one model chunk per 160 ms user chunk out, bad audio and unit models refused (the
packaged unit model; a tiny randomly initialised duplex model built for its vocabulary)."""

from __future__ import annotations

import numpy as np
import pytest
from duplex_fixtures import tiny_duplex

from thinkspeak.decode.duplex_session import DuplexSession, FloorChange
from thinkspeak.decode.events import SayToken, ThinkToken
from thinkspeak.units import load_unit_model


@pytest.fixture(scope="module")
def units():
    return load_unit_model()


def test_push_user_writes_one_chunk_per_user_chunk(units):
    session = DuplexSession(tiny_duplex(n_units=units.n_units, digest=units.digest), units)
    rng = np.random.default_rng(0)
    events = []
    pushed = 0
    for size in (1000, 7000, 320, 16000, 5):  # arbitrary packet sizes
        events += session.push_user((rng.normal(0, 0.1, size)).astype(np.float32))
        pushed += size
    chunks = pushed // (4 * 640)
    assert session.decoder.written == 1 + chunks  # chunk 0 written at the start, then one per user chunk
    assert sum(c.real for c in session.decoder.chunks) == chunks
    assert all(isinstance(e, SayToken | ThinkToken | FloorChange) for e in events)
    assert all(0 <= e.step <= chunks for e in events if not isinstance(e, FloorChange))
    assert 0.0 <= session.end_of_turn_probability <= 1.0
    more = session.push_user((rng.normal(0, 0.1, 2560) * 32767).astype(np.int16))
    assert session.decoder.written == 2 + chunks and isinstance(more, list)


def test_bad_audio_and_unit_model_are_refused(units):
    session = DuplexSession(tiny_duplex(n_units=units.n_units, digest=units.digest), units)
    with pytest.raises(ValueError, match="sample_rate must be 16000"):
        session.push_user(np.zeros(160, np.float32), 8000)
    with pytest.raises(ValueError, match="pcm must be a 1-D numpy array"):
        session.push_user(np.zeros((2, 160), np.float32))
    with pytest.raises(ValueError, match="pcm must be float32 in \\[-1, 1\\] or int16"):
        session.push_user(np.zeros(160, np.int32))
    with pytest.raises(ValueError, match=f"trained on 24 units .* the unit model has {units.n_units} units"):
        DuplexSession(tiny_duplex(), units)
