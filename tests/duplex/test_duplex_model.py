"""The full-duplex Thinker's table, save/load, and the refusal of a unit model it was not trained on."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import torch
from duplex_fixtures import DIGEST, N_UNITS, tiny_duplex

from thinkspeak.model.duplex import DuplexModel


@dataclass(frozen=True)
class UnitModelInfo:
    """What the load-time check reads of a unit model: its size and centroid digest."""

    n_units: int
    digest: str


def test_table_keeps_the_thinker_text_rows_and_appends_units_and_tags():
    model = tiny_duplex()
    u = model.units
    assert model.model.config.vocab_size == u.size == u.text_size + N_UNITS + 3
    assert (u.unit(0), u.user_tag, u.assistant_tag, u.silence) == (u.text_size, u.text_size + N_UNITS,
                                                                    u.text_size + N_UNITS + 1, u.text_size + N_UNITS + 2)
    from thinker_fixtures import tiny_thinker

    text = tiny_thinker().model.get_input_embeddings().weight
    assert torch.equal(model.model.get_input_embeddings().weight[:u.text_size], text)
    assert model.model.get_output_embeddings().weight is model.model.get_input_embeddings().weight


def test_save_load_round_trip_and_unit_model_refusal(tmp_path):
    model = tiny_duplex()
    model.save(tmp_path / "m")
    back = DuplexModel.load(tmp_path / "m", unit_model=UnitModelInfo(N_UNITS, DIGEST))
    assert back.config.to_dict() == model.config.to_dict()
    ids = torch.tensor([[back.units.user_tag, back.units.unit(3), back.units.assistant_tag]])
    assert torch.allclose(back.model(ids).logits, model.model.eval()(ids).logits, atol=1e-5)
    with pytest.raises(ValueError, match=f"trained on {N_UNITS} units .* the unit model has 500 units"):
        DuplexModel.load(tmp_path / "m", unit_model=UnitModelInfo(500, DIGEST))
    with pytest.raises(ValueError, match="does not match the duplex model"):
        DuplexModel.load(tmp_path / "m", unit_model=UnitModelInfo(N_UNITS, "cd" * 32))
    with pytest.raises(ValueError, match="must be a duplex model folder"):
        DuplexModel.load(tmp_path)
