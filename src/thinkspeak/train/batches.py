"""Per-epoch example plans, length-bucketed batches and collation.

Length bucketing keeps CPU throughput high without cross-sample attention: examples are shuffled, cut
into pools of ~50 batches, sorted by length inside a pool, and grouped so that ``batch x longest`` stays
under ``batch_tokens``; the batch order is then shuffled. Everything is a pure function of
``(seed, epoch)``, so a resumed run sees exactly the batches it would have seen.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch

from thinkspeak.model.tokens import SpecialIds
from thinkspeak.train.examples import EncodedSample, Example, build_example, history_turn, sample_rng


class EpochPlan:
    """The examples of one epoch: each sample's draws are made once, examples are rebuilt on demand.

    Per sample: a mode drawn from ``modes`` (weights), a spoken question with probability ``audio`` (samples
    without cached features stay typed), an earlier turn (another sample) as history with ``history_prob``.
    Only the draws and the lengths are kept, so memory does not grow with the examples' size.
    """

    def __init__(
        self,
        encoded: Sequence[EncodedSample],
        ids: SpecialIds,
        *,
        modes: dict[str, float],
        audio: float,
        seed: int,
        epoch: int,
        p: int,
        q: int,
        pad_weight: float,
        history_prob: float,
        audio_positions: dict[str, int] | None = None,
    ):
        self.encoded, self.ids = encoded, ids
        self.p, self.q, self.pad_weight = p, q, pad_weight
        names = list(modes)
        weights = [modes[m] for m in names]
        positions = audio_positions or {}
        n = len(encoded)
        self.draws: list[tuple[str, int, int]] = []  # (mode, audio positions or 0, history sample or -1)
        for i, enc in enumerate(encoded):
            rng = sample_rng(seed, epoch, i)
            mode = rng.choices(names, weights)[0]
            n_audio = positions.get(enc.id, 0) if audio > 0 and rng.random() < audio else 0
            history = -1
            if history_prob > 0 and rng.random() < history_prob and n > 1:
                history = (i + 1 + rng.randrange(n - 1)) % n
            self.draws.append((mode, n_audio, history))
        self.lengths = [len(self.example(i)) for i in range(n)]

    def __len__(self) -> int:
        return len(self.encoded)

    def example(self, i: int) -> Example:
        mode, n_audio, history = self.draws[i]
        turn = history_turn(self.encoded[history], self.ids) if history >= 0 else ()
        return build_example(self.encoded[i], mode, self.ids, p=self.p, q=self.q, pad_weight=self.pad_weight,
                             n_audio=n_audio, history=turn)


def plan_examples(encoded: Sequence[EncodedSample], ids: SpecialIds, **kwargs) -> list[Example]:
    """All examples of an :class:`EpochPlan` (same keyword arguments), built at once."""
    plan = EpochPlan(encoded, ids, **kwargs)
    return [plan.example(i) for i in range(len(plan))]


def bucket_batches(lengths: Sequence[int], batch_tokens: int, max_batch: int, seed: int,
                   epoch: int) -> list[list[int]]:
    """Group example indices into batches of similar length with ``len(batch) * longest <= batch_tokens``."""
    if batch_tokens < 1 or max_batch < 1:
        raise ValueError(f"batch_tokens and max_batch must be >= 1, got {batch_tokens}, {max_batch}")
    rng = random.Random(f"batches/{seed}/{epoch}")
    order = list(range(len(lengths)))
    rng.shuffle(order)
    pool = max(1, 50 * max_batch)
    batches: list[list[int]] = []
    for start in range(0, len(order), pool):
        chunk = sorted(order[start:start + pool], key=lambda i: lengths[i])
        batch: list[int] = []
        longest = 0
        for i in chunk:
            new_longest = max(longest, lengths[i])
            if batch and (len(batch) + 1 > max_batch or (len(batch) + 1) * new_longest > batch_tokens):
                batches.append(batch)
                batch, new_longest = [], lengths[i]
            batch.append(i)
            longest = new_longest
        if batch:
            batches.append(batch)
    rng.shuffle(batches)
    return batches


@dataclass
class Batch:
    input_ids: torch.Tensor  # [B, L]
    attention_mask: torch.Tensor  # [B, L]
    weights: torch.Tensor  # [B, L] weight of predicting input_ids[:, i]
    features: list[torch.Tensor]  # one [T, D] per audio example, in row order

    @property
    def tokens(self) -> int:
        return int(self.attention_mask.sum())

    def to(self, device) -> Batch:
        return Batch(self.input_ids.to(device), self.attention_mask.to(device), self.weights.to(device),
                     [f.to(device) for f in self.features])

    def inputs(self) -> tuple:
        """The loss module's arguments."""
        return (self.input_ids, self.attention_mask, self.weights, self.features)


def collate(examples: Sequence[Example], pad_id: int,
            load_features: Callable[[str], torch.Tensor] | None = None) -> Batch:
    """Right-pad a list of examples into tensors; load each audio example's features."""
    longest = max(len(e) for e in examples)
    ids = torch.full((len(examples), longest), pad_id, dtype=torch.long)
    mask = torch.zeros((len(examples), longest), dtype=torch.long)
    weights = torch.zeros((len(examples), longest), dtype=torch.float32)
    features = []
    for row, e in enumerate(examples):
        n = len(e)
        ids[row, :n] = torch.tensor(e.input_ids)
        mask[row, :n] = 1
        weights[row, :n] = torch.tensor(e.weights)
        if e.audio_id is not None:
            if load_features is None:
                raise ValueError(f"example {e.audio_id!r} needs audio features but no feature store was given")
            features.append(load_features(e.audio_id))
    return Batch(ids, mask, weights, features)
