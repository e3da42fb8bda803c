"""Shard specs, per-sample randomness, stable splits and file plans (thinkspeak.data.shards)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from thinkspeak.data.shards import ShardSpec, file_ranges, files_of_shard, sample_rng, stable_split


def test_parse_shard() -> None:
    assert ShardSpec.parse("2/8") == ShardSpec(2, 8)
    assert str(ShardSpec.parse(" 0/1")) == "0/1"


@pytest.mark.parametrize("bad", ["3/2", "1", "a/b", "-1/4", "0/0", "1/2/3", ""])
def test_parse_shard_rejects(bad: str) -> None:
    with pytest.raises(ValueError, match="shard must"):
        ShardSpec.parse(bad)


def test_sample_rng_depends_only_on_seed_index_stream() -> None:
    draws = [sample_rng(7, 3, "math").random() for _ in range(2)]
    assert draws[0] == draws[1]
    assert sample_rng(7, 3, "math").random() != sample_rng(7, 4, "math").random()
    assert sample_rng(7, 3, "math").random() != sample_rng(8, 3, "math").random()
    assert sample_rng(7, 3, "math").random() != sample_rng(7, 3, "audio").random()
    with pytest.raises(ValueError, match="seed must be"):
        sample_rng(-1, 0)
    with pytest.raises(ValueError, match="index must be"):
        sample_rng(0, -2)


def test_stable_split_is_a_function_of_the_key_with_the_requested_shares() -> None:
    keys = [f"question {i}" for i in range(20000)]
    splits = [stable_split(k, 0.1, 0.05) for k in keys]
    assert splits == [stable_split(k, 0.1, 0.05) for k in keys]
    assert abs(splits.count("valid") / len(keys) - 0.1) < 0.01
    assert abs(splits.count("test") / len(keys) - 0.05) < 0.01
    assert stable_split("What is 2 plus 2?", 0.1, 0.1) == stable_split("  what is 2 plus 2?", 0.1, 0.1)


@given(st.integers(min_value=1, max_value=5000), st.integers(min_value=1, max_value=700),
       st.integers(min_value=1, max_value=9))
def test_shards_partition_the_files(n: int, rows_per_file: int, jobs: int) -> None:
    ranges = file_ranges(n, rows_per_file)
    assert [i for r in ranges for i in r] == list(range(n))
    owned = sorted(k for j in range(jobs) for k in files_of_shard(len(ranges), ShardSpec(j, jobs)))
    assert owned == list(range(len(ranges)))


def test_file_ranges_rejects() -> None:
    with pytest.raises(ValueError, match="n must be"):
        file_ranges(0, 10)
    with pytest.raises(ValueError, match="rows_per_file must be"):
        file_ranges(10, 0)
