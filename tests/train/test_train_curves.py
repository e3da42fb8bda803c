"""Loss-curve records of a run directory."""

from __future__ import annotations

from thinkspeak.train.curves import stage_records


def test_curves_keep_the_surviving_trajectory_of_restarted_stages():
    recs = [{"stage": "a", "step": s} for s in (1, 10, 20, 30)] + [{"stage": "b", "step": 1}]
    recs += [{"stage": "a", "step": s, "resumed": True} for s in (21, 30, 40)]
    got = stage_records(recs)
    assert [r["step"] for r in got["a"]] == [1, 10, 20, 21, 30, 40] and "resumed" in got["a"][-1]
    assert [r["step"] for r in got["b"]] == [1]
