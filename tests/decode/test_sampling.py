"""Token choice: greedy, top-k and nucleus (top-p) sampling keep to their sets; masked tokens never come out."""

import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from thinkspeak.decode.sampling import SamplingParams, choose


def nucleus(logits: torch.Tensor, top_p: float) -> set[int]:
    """The smallest set of most likely tokens whose probability reaches top_p."""
    probs, order = logits.softmax(-1).sort(descending=True)
    keep = int((probs.cumsum(-1) < top_p).sum()) + 1
    return set(order[:keep].tolist())


@settings(deadline=None, max_examples=40)
@given(seed=st.integers(0, 10_000), top_p=st.floats(0.05, 0.95), top_k=st.integers(1, 6))
def test_samples_stay_in_the_top_k_and_in_the_nucleus(seed, top_p, top_k):
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(1, 30, generator=g) * 2
    logits[0, :5] = float("-inf")  # masked tokens
    draws = [int(choose(logits, SamplingParams(1.0, 0, top_p), g)) for _ in range(60)]
    assert set(draws) <= nucleus(logits[0], top_p)
    draws = [int(choose(logits, SamplingParams(1.0, top_k, 1.0), g)) for _ in range(60)]
    assert set(draws) <= set(logits[0].topk(top_k).indices.tolist())
    assert all(d >= 5 for d in draws)


def test_greedy_is_the_argmax_of_every_row_and_temperature_spreads_choices():
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(4, 50, generator=g)
    assert choose(logits, SamplingParams()).tolist() == logits.argmax(-1).tolist()
    flat = torch.zeros(1, 50)
    draws = {int(choose(flat, SamplingParams(1.0), g)) for _ in range(200)}
    assert len(draws) > 30  # a uniform distribution really is sampled
