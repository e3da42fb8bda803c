"""Held-out evaluation items built from the corpus generator (thinkspeak.eval.held_out)."""

import pytest

from parts import needs_flite
from thinkspeak.data.math import MathConfig
from thinkspeak.data.shards import stable_split
from thinkspeak.eval.held_out import held_out_items, held_out_rows


def test_rows_are_the_first_test_split_rows_of_each_category_in_generator_order():
    rows = held_out_rows(3, seed=5, categories=("arith_short", "multi_step"))
    config = MathConfig()
    assert [r["category"] for r in rows].count("arith_short") == 3
    assert [r["category"] for r in rows].count("multi_step") == 3
    assert all(stable_split(r["question"], config.valid_share, config.test_share) == "test" for r in rows)
    indices = [r["index"] for r in rows]
    assert indices == sorted(indices)
    # a larger request extends the smaller one: the model tests' subset is a prefix of the benchmark's items
    more = held_out_rows(5, seed=5, categories=("arith_short", "multi_step"))
    for category in ("arith_short", "multi_step"):
        assert [r["id"] for r in rows if r["category"] == category] == \
            [r["id"] for r in more if r["category"] == category][:3]


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"per_category": 0}, "per_category"),
    ({"per_category": 2, "categories": ("algebra",)}, "categories"),
    ({"per_category": 2, "categories": ()}, "categories"),
])
def test_bad_arguments_are_value_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        held_out_rows(**kwargs)


@needs_flite
@pytest.mark.slow
def test_spoken_items_are_read_by_the_held_out_engine():
    from thinkspeak.data.math.speech import SpeechOptions

    items = held_out_items(1, categories=("single_step",), speech=SpeechOptions(response_audio=False))
    assert len(items) == 1 and items[0].audio is not None and items[0].audio.size > 16000 * 0.5
    assert all(v.startswith("flite") for v in SpeechOptions().voices_for("test"))
