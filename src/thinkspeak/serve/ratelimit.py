"""Token buckets for flood control: messages per second and seconds of audio per second, per connection."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class TokenBucket:
    """``rate`` tokens per second up to ``burst``; :meth:`take` says whether ``amount`` fits at time ``now``."""

    rate: float
    burst: float
    _tokens: float = field(default=-1.0, init=False)
    _last: float | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        if self.rate <= 0 or self.burst <= 0:
            raise ValueError(f"rate and burst must be > 0, got rate={self.rate}, burst={self.burst}")
        self._tokens = self.burst

    def take(self, amount: float, now: float) -> bool:
        """Spend ``amount`` tokens if available (refilled since the last call); False leaves the bucket as is.
        An amount over the burst is let through only from a full bucket, which it leaves in debt."""
        if self._last is not None:
            self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
        self._last = now
        if amount > self._tokens and self._tokens < self.burst:
            return False
        self._tokens -= amount
        return True


@dataclass
class ErrorWindow:
    """Counts client errors in a sliding window; :meth:`add` returns True once the client counts as abusive."""

    limit: int
    window_s: float
    _times: list[float] = field(default_factory=list, init=False)

    def add(self, now: float) -> bool:
        self._times = [t for t in self._times if now - t < self.window_s]
        self._times.append(now)
        return len(self._times) > self.limit
