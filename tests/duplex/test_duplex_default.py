"""The shipped full-duplex Thinker: hash-verified, matches the packaged unit model, small, no machine paths,
and runs a live session."""

from __future__ import annotations

import re

import numpy as np
import pytest

from thinkspeak.decode.duplex_session import DuplexSession
from thinkspeak.model.duplex import DEFAULT_DIR, DuplexModel
from thinkspeak.units import load_unit_model


def test_shipped_duplex_model_loads_with_the_packaged_units_and_is_small():
    units = load_unit_model()
    model = DuplexModel.load(unit_model=units)
    assert model.units.n_units == units.n_units and model.units.unit_digest == units.digest
    assert sum(p.stat().st_size for p in DEFAULT_DIR.iterdir()) < 30 * 2**20
    for path in DEFAULT_DIR.iterdir():
        if path.suffix in (".json", ".md"):
            assert not re.search(r"(^|[\s\"'`(])/(work|tmp|home|root|Users)/", path.read_text()), path.name
    session = DuplexSession(model, units)
    session.push_user(np.zeros(16000, np.float32))
    assert session.decoder.written == 1 + 16000 // 2560


def test_a_tampered_file_is_refused(tmp_path):
    import shutil

    copy = tmp_path / "duplex-default"
    shutil.copytree(DEFAULT_DIR, copy)
    (copy / "duplex.json").write_text((copy / "duplex.json").read_text() + " ")
    from thinkspeak.model.duplex import verify_sha256sums

    with pytest.raises(ValueError, match="does not match its SHA-256"):
        verify_sha256sums(copy)
