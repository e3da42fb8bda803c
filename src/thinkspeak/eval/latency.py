"""Turn latency report from per-turn stage timestamps (the server benchmark's JSONL).

Each line is one user turn with monotonic timestamps in seconds (missing or null when a stage did not
happen): ``end_of_speech`` (the user stopped talking), ``speech_stopped`` (the server's VAD decided so),
``transcript`` (the user's words were recognised), ``first_say_token`` (the Thinker's first spoken token),
``first_audio_byte`` (the first system audio left the server). Following the convention of the
full-duplex literature (end of user speech -> first system audio, endpointing included), every stage is
measured from ``end_of_speech``; p50 and p90 use linear interpolation between order statistics.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

ORIGIN = "end_of_speech"
STAGES = ("speech_stopped", "transcript", "first_say_token", "first_audio_byte")


@dataclass(frozen=True)
class StageLatency:
    stage: str
    count: int
    p50: float
    p90: float
    mean: float


def load_turns(path: str | Path) -> list[dict[str, Any]]:
    """The turns of a latency JSONL file (blank lines skipped)."""
    turns = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            turn = json.loads(line)
            if not isinstance(turn, dict):
                raise ValueError(f"{path}:{number} must be a JSON object, got {line[:60]!r}")
            turns.append(turn)
    return turns


def stage_latencies(turns: list[dict[str, Any]]) -> dict[str, list[float]]:
    """Seconds from ``end_of_speech`` to each stage, per stage, over the turns that reached it."""
    result: dict[str, list[float]] = {stage: [] for stage in STAGES}
    for index, turn in enumerate(turns):
        origin = turn.get(ORIGIN)
        if origin is None:
            raise ValueError(f"turn {index} has no {ORIGIN!r} timestamp: {turn}")
        for stage in STAGES:
            if turn.get(stage) is not None:
                result[stage].append(float(turn[stage]) - float(origin))
    return result


def latency_summary(turns: list[dict[str, Any]]) -> list[StageLatency]:
    """p50/p90/mean per stage (stages no turn reached are left out)."""
    summary = []
    for stage, values in stage_latencies(turns).items():
        if values:
            data = np.asarray(values)
            summary.append(StageLatency(stage, len(values), float(np.percentile(data, 50)),
                                        float(np.percentile(data, 90)), float(data.mean())))
    return summary
