"""Full-duplex behaviour metrics: Full-Duplex-Bench v1 and OmniFlatten turn-taking accuracy.

Full-Duplex-Bench v1 (Lin et al. 2025, arXiv 2503.04721; its ``evaluation/eval_smooth_turn_taking.py`` and
``eval_backchannel.py``), from the system's output channel described by time-aligned words (and, for
backchannels, VAD speech segments):

* Take-over rate: a sample's TOR is 0 when the output has no words, or when its words span less than
  1 s (first word start to last word end) and number at most 3; otherwise 1. The task's TOR is the mean.
  Smooth turn-taking wants 1, pause handling wants 0.
* Response latency: start of the first output word minus the end of the user's turn, clipped at 0, averaged
  over samples with TOR = 1.
* Backchannels: output speech segments are read in time order. A segment longer than 3 s means the system
  took the turn (TOR 1) and ends the scan. A shorter one is a backchannel when it lasts < 1 s and overlaps
  at most 2 words; any other segment also counts as taking the turn and discards the backchannels found
  so far (the benchmark's rule). Frequency = backchannels per second of recording. JSD compares the
  0.2 s-bin histogram of backchannel times (a backchannel counts in every bin from its start's to its
  end's; 1e-10 added, normalised) with the reference histogram linearly resized to the same length, via
  ``scipy.spatial.distance.jensenshannon`` (natural log; the square root of the divergence, as reported).
  A sample without backchannels scores 1.

OmniFlatten (Zhang et al. 2024, arXiv 2410.17799, turn-taking evaluation), on the assistant's speech-token stream (one token per step, silence
tokens while it is quiet): assistant turn-taking Acc@K = share of user-turn ends after which the assistant
emits a non-silence token at the K-th step; user turn-taking Acc@K = share of user barge-ins after which it
emits silence at the K-th step.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from thinkspeak.eval.segments import Segment, Timed, sorted_spans

TAKE_OVER_MIN_SPAN_S = 1.0
TAKE_OVER_MAX_SHORT_WORDS = 3
LONG_TURN_S = 3.0
BACKCHANNEL_MAX_S = 1.0
BACKCHANNEL_MAX_WORDS = 2
BIN_S = 0.2
EPSILON = 1e-10


@dataclass(frozen=True)
class TurnTakingSample:
    """One sample's take-over verdict and, when it took over, its response latency in seconds."""

    tor: int
    latency: float | None


@dataclass(frozen=True)
class TakeOverScore:
    samples: int
    tor: float
    latency: float | None


def take_over(words: Iterable[Timed]) -> int:
    """Full-Duplex-Bench TOR of one output channel from its time-aligned words (0 or 1)."""
    ordered = sorted_spans(words, "words")
    if not ordered:
        return 0
    span = ordered[-1].end - ordered[0].start
    return 0 if span < TAKE_OVER_MIN_SPAN_S and len(ordered) <= TAKE_OVER_MAX_SHORT_WORDS else 1


def turn_taking_sample(output_words: Iterable[Timed], user_turn_end: float) -> TurnTakingSample:
    """TOR and latency (first output word start - ``user_turn_end``, clipped at 0) of one sample."""
    ordered = sorted_spans(output_words, "output_words")
    tor = take_over(ordered)
    latency = max(0.0, ordered[0].start - user_turn_end) if tor else None
    return TurnTakingSample(tor=tor, latency=latency)


def take_over_score(samples: Sequence[TurnTakingSample]) -> TakeOverScore:
    """Mean TOR over samples and mean latency over the samples that took over."""
    if not samples:
        raise ValueError("samples must be non-empty")
    latencies = [s.latency for s in samples if s.tor and s.latency is not None]
    return TakeOverScore(samples=len(samples), tor=sum(s.tor for s in samples) / len(samples),
                         latency=sum(latencies) / len(latencies) if latencies else None)


def words_in(segment: Timed, words: Iterable[Timed]) -> int:
    """Words overlapping ``segment``: inside it, or crossing its start or its end (the benchmark's test)."""
    s, e = segment.start, segment.end
    return sum(1 for w in words if (s <= w.start and w.end <= e) or (w.start <= e < w.end)
               or (w.start <= s < w.end))


@dataclass(frozen=True)
class BackchannelSample:
    tor: int
    backchannels: list[Segment] = field(default_factory=list)
    duration: float = 0.0

    @property
    def frequency(self) -> float:
        """Backchannels per second of recording."""
        return len(self.backchannels) / self.duration if self.duration > 0 else 0.0


def backchannel_sample(segments: Iterable[Timed], words: Iterable[Timed], duration: float) -> BackchannelSample:
    """Classify the output channel's speech ``segments`` (see module docstring) in a ``duration`` s clip."""
    if duration <= 0:
        raise ValueError(f"duration must be > 0 seconds, got {duration}")
    words = sorted_spans(words, "words")
    tor = 0
    found: list[Segment] = []
    for segment in sorted_spans(segments, "segments"):
        length = segment.end - segment.start
        if length > LONG_TURN_S:
            tor = 1
            break
        if length < BACKCHANNEL_MAX_S and words_in(segment, words) <= BACKCHANNEL_MAX_WORDS:
            tor = 0
            found.append(Segment(segment.start, segment.end))
        else:
            tor = 1
            found = []
    return BackchannelSample(tor=tor, backchannels=found, duration=duration)


def backchannel_histogram(intervals: Iterable[Timed], duration: float, bin_s: float = BIN_S) -> np.ndarray:
    """Normalised histogram of backchannel times over ``int(duration / bin_s) + 1`` bins."""
    if duration <= 0 or bin_s <= 0:
        raise ValueError(f"duration and bin_s must be > 0, got duration={duration}, bin_s={bin_s}")
    bins = np.zeros(int(duration / bin_s) + 1)
    for interval in intervals:
        first, last = int(interval.start / bin_s), int(interval.end / bin_s)
        if last >= len(bins):
            raise ValueError(f"interval {interval!r} ends after duration={duration}")
        bins[first:last + 1] += 1
    bins += EPSILON
    return bins / bins.sum()


def backchannel_jsd(sample: BackchannelSample, reference: Sequence[float]) -> float:
    """Jensen-Shannon distance between the sample's backchannel histogram and ``reference`` (1 if none)."""
    from scipy.spatial.distance import jensenshannon

    if not sample.backchannels:
        return 1.0
    reference = np.asarray(reference, dtype=float)
    if reference.ndim != 1 or reference.size == 0 or (reference < 0).any():
        raise ValueError(f"reference must be a non-empty 1-D histogram of counts >= 0, got {reference!r}")
    predicted = backchannel_histogram(sample.backchannels, sample.duration)
    resized = np.interp(np.linspace(0, 1, predicted.size), np.linspace(0, 1, reference.size), reference)
    return float(jensenshannon(predicted, resized))


@dataclass(frozen=True)
class BackchannelScore:
    samples: int
    tor: float
    frequency: float
    jsd: float


def backchannel_score(samples: Sequence[BackchannelSample], references: Sequence[Sequence[float]]) -> BackchannelScore:
    """Means over samples of TOR, frequency and JSD against each sample's reference histogram."""
    if not samples or len(samples) != len(references):
        raise ValueError(f"need one reference per sample, got {len(samples)} samples, {len(references)} references")
    n = len(samples)
    return BackchannelScore(
        samples=n,
        tor=sum(s.tor for s in samples) / n,
        frequency=sum(s.frequency for s in samples) / n,
        jsd=sum(backchannel_jsd(s, r) for s, r in zip(samples, references, strict=True)) / n,
    )


def turn_taking_accuracy(assistant: Sequence[int], silence: int | Collection[int], events: Sequence[int],
                         k: int, *, expect_speech: bool) -> float:
    """Share of ``events`` (step indices) whose K-th following assistant step is speech (``expect_speech``)
    or silence. Steps past the end of the stream count as silence."""
    if not isinstance(k, int) or k < 1:
        raise ValueError(f"k must be an int >= 1, got {k!r}")
    if not events:
        raise ValueError("events must be non-empty")
    silent = {silence} if isinstance(silence, int) else set(silence)
    hits = 0
    for step in events:
        if not 0 <= step < len(assistant):
            raise ValueError(f"event step must be in [0, {len(assistant)}), got {step}")
        at = step + k
        speaking = at < len(assistant) and assistant[at] not in silent
        hits += speaking == expect_speech
    return hits / len(events)


def assistant_turn_acc(assistant: Sequence[int], silence: int | Collection[int], user_turn_ends: Sequence[int],
                       k: int) -> float:
    """OmniFlatten assistant turn-taking Acc@K: speaking K steps after each user-turn end step."""
    return turn_taking_accuracy(assistant, silence, user_turn_ends, k, expect_speech=True)


def user_turn_acc(assistant: Sequence[int], silence: int | Collection[int], barge_ins: Sequence[int],
                  k: int) -> float:
    """OmniFlatten user turn-taking Acc@K: silent K steps after each user barge-in step."""
    return turn_taking_accuracy(assistant, silence, barge_ins, k, expect_speech=False)
