"""Per-stage wall-clock timings of the coaching loop (``posecoach analyze --timings``)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class StageStats:
    """Median and 95th percentile of one stage, in milliseconds per frame."""

    stage: str
    median_ms: float
    p95_ms: float
    count: int


class StageTimer:
    """Collects durations (seconds) per named stage; summarises them in milliseconds."""

    def __init__(self) -> None:
        self._samples: dict[str, list[float]] = {}

    def add(self, stage: str, seconds: float) -> None:
        self._samples.setdefault(stage, []).append(seconds)

    def stats(self) -> list[StageStats]:
        out = []
        for stage, values in self._samples.items():
            ms = np.asarray(values) * 1000.0
            out.append(StageStats(stage, float(np.median(ms)), float(np.percentile(ms, 95)), len(values)))
        return out
