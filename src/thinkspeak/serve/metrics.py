"""Latency instrumentation: one :class:`TurnTimeline` per answered turn, exported to Prometheus and the log.

Stages are measured from the true end of user speech (the end of the last voiced VAD frame, taken at the
wall time that audio arrived): ``speech_stopped`` (endpointing), ``transcript`` (hearing), ``first_token``
(first spoken token from the Thinker), ``first_audio`` (first audio byte sent). This is the latency
convention of REFERENCE.md ("end of user speech -> first system audio, includes endpointing").
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

log = logging.getLogger("thinkspeak.serve")

STAGES = ("speech_stopped", "transcript", "first_token", "first_audio")
_BUCKETS = (0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0)


@dataclass
class TurnTimeline:
    """Monotonic timestamps of one turn; ``speech_end`` is the anchor every stage is measured from."""

    response_id: str
    speech_end: float | None = None
    marks: dict[str, float] = field(default_factory=dict)

    def mark(self, stage: str, t: float) -> None:
        """Record the first time ``stage`` happened (later calls are ignored)."""
        if stage not in STAGES:
            raise ValueError(f"stage must be one of {STAGES}, got {stage!r}")
        self.marks.setdefault(stage, t)

    def latencies_ms(self) -> dict[str, float]:
        """Milliseconds from the end of speech to each stage reached (empty without an anchor)."""
        if self.speech_end is None:
            return {}
        return {s: round((self.marks[s] - self.speech_end) * 1000.0, 1) for s in STAGES if s in self.marks}


class ServerMetrics:
    """The Prometheus metrics of one app, in its own registry (so several apps can live in one process)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.latency = Histogram(
            "thinkspeak_turn_latency_seconds", "Time from the true end of user speech to each stage of a turn",
            ["stage"], registry=self.registry, buckets=_BUCKETS,
        )
        self.sessions = Gauge("thinkspeak_sessions_active", "Open Realtime sessions", registry=self.registry)
        self.turns = Counter("thinkspeak_responses_total", "Responses by final status", ["status"],
                             registry=self.registry)
        self.errors = Counter("thinkspeak_client_errors_total", "error events sent, by code", ["code"],
                              registry=self.registry)
        self.barge_ins = Counter("thinkspeak_barge_ins_total", "User interruptions by outcome", ["outcome"],
                                 registry=self.registry)
        self.speculation = Counter("thinkspeak_speculative_decodes_total", "Speculative decodes by outcome",
                                   ["outcome"], registry=self.registry)
        self.audio_out = Counter("thinkspeak_audio_out_seconds_total", "Seconds of assistant audio sent",
                                 registry=self.registry)

    def observe_turn(self, timeline: TurnTimeline) -> dict[str, float]:
        """Export one finished turn's latencies to the histograms and the log; return them (ms)."""
        latencies = timeline.latencies_ms()
        for stage, ms in latencies.items():
            self.latency.labels(stage).observe(ms / 1000.0)
        if latencies:
            parts = " ".join(f"{stage}={ms:.0f}ms" for stage, ms in latencies.items())
            log.info("turn %s latency from end of speech: %s", timeline.response_id, parts)
        return latencies
