"""Per-stage wall-clock timings of the coaching loop (``posecoach analyze --timings``)."""

from __future__ import annotations

from array import array
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
    """Collects durations (seconds) per named stage; summarises them in milliseconds.

    Samples are kept as C doubles (8 bytes each, not a Python float object), so timing an
    hours-long file costs a few MB and the statistics stay exact.
    """

    def __init__(self) -> None:
        self._samples: dict[str, array] = {}

    def add(self, stage: str, seconds: float) -> None:
        samples = self._samples.get(stage)
        if samples is None:
            samples = self._samples[stage] = array("d")
        samples.append(seconds)

    def stats(self) -> list[StageStats]:
        out = []
        for stage, values in self._samples.items():
            ms = np.array(values, dtype=np.float64) * 1000.0  # a copy: the timer may keep adding
            out.append(StageStats(stage, float(np.median(ms)), float(np.percentile(ms, 95)), len(values)))
        return out
