"""Chunk-clock decoding: one assistant chunk per tick, slot constraints, SyncLLM latency replacement, bounded
context (a tiny randomly initialised model built by the test)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from duplex_fixtures import N_UNITS, tiny_duplex

from thinkspeak.decode.duplex import ChunkClockDecoder
from thinkspeak.layouts import duplex as layout


def _check_slots(model, slots):
    m, clock = model.markers, model.clock
    specials = set(model.ids.all())
    if slots[0] == m.silence:
        assert list(slots) == [m.silence] * clock.slots
        return
    for j, tok in enumerate(slots):
        assert tok != m.silence and not model.units.is_unit(tok) and tok < model.units.text_size
        allowed = m.say_pad if j < clock.say_slots else m.think_pad
        assert tok not in specials or tok == allowed


@pytest.mark.parametrize("layout_name", layout.LAYOUTS)
def test_one_chunk_out_per_chunk_in_and_slots_obey_the_layout(layout_name):
    model = tiny_duplex(layout_name)
    decoder = ChunkClockDecoder(model)
    units = np.random.default_rng(1).integers(0, N_UNITS, 4 * 12).tolist()
    for t in range(12):
        if t:
            decoder.receive(t - 1, units[4 * (t - 1):4 * t])
        out = decoder.tick()
        assert out.chunk == t and len(out.slots) == model.clock.slots and 0.0 <= out.p_speak <= 1.0
        assert out.speaking == (out.slots[0] != model.markers.silence)
        _check_slots(model, out.slots)
    assert decoder.written == 12


@pytest.mark.parametrize("layout_name", layout.LAYOUTS)
def test_real_chunks_replace_estimates_and_the_cache_matches_a_fresh_pass(layout_name):
    model = tiny_duplex(layout_name)
    decoder = ChunkClockDecoder(model)
    units = np.random.default_rng(2).integers(0, N_UNITS, 4 * 10).tolist()
    lag = 2
    for t in range(10):
        j = t - 1 - lag
        if j >= 0:
            decoder.receive(j, units[4 * j:4 * j + 4])
        decoder.tick()
    received = [c for c in decoder.chunks if c.real]
    assert len(received) == 10 - 1 - lag and not any(c.real for c in decoder.chunks[10 - 1 - lag:])
    for j, chunk in enumerate(received):
        assert chunk.user == [model.units.unit(u) for u in layout.user_chunk(units[4 * j:4 * j + 4], model.clock)]
    # the incremental cache (cut back and refed at every replacement) gives the logits a fresh pass gives
    decoder._sync(decoder._context(decoder.written))
    with torch.no_grad():
        fresh = model.model(torch.tensor([decoder.fed])).logits[0, -1]
    assert decoder.fed == decoder._context(decoder.written)
    assert torch.allclose(decoder.logits, fresh, atol=1e-4)


def test_context_is_bounded_and_refed_from_position_zero():
    model = tiny_duplex()
    decoder = ChunkClockDecoder(model, context_chunks=6, keep_chunks=3)
    for t in range(20):
        if t:
            decoder.receive(t - 1, [t % N_UNITS] * 4)
        decoder.tick()
        assert decoder.written - decoder.first <= 6
    assert decoder.first > 0 and len(decoder.fed) <= 7 * (4 + 2 + model.clock.slots)


def test_bad_user_chunks_are_refused():
    decoder = ChunkClockDecoder(tiny_duplex())
    with pytest.raises(ValueError, match="must hold 4 units"):
        decoder.receive(0, [1, 2])
    with pytest.raises(ValueError, match=f"units must be in \\[0, {N_UNITS}\\)"):
        decoder.receive(0, [1, 2, 3, N_UNITS])
    with pytest.raises(ValueError, match="arrived before chunk 0"):
        decoder.receive(3, [1, 2, 3, 4])
