"""Score metrics against a target look.

Each constrained metric scores 1.0 inside its ``[low, high]`` range and falls to 0.0 along a
half cosine across the tolerance band outside it::

    d = distance outside the range (0 inside), tol = tolerance / strictness
    score = 1                              if d == 0
          = 0.5 * (1 + cos(pi * d / tol))  if 0 < d < tol      (0.5 at d = tol / 2)
          = 0                              if d >= tol

The cosine has zero slope at both ends, so a value drifting across the range edge or the
tolerance edge does not make the score jump. The target score is the weighted mean of the
metric scores, scaled to 0..100.
"""

from __future__ import annotations

import math

from posecoach.results import MetricScore, Metrics, TargetScore
from posecoach.targets import Target


def range_score(value: float, low: float, high: float, tolerance: float) -> tuple[float, int]:
    """``(score 0..1, direction)`` of one value against ``[low, high]`` with ``tolerance``.

    ``direction`` is +1 if the value must rise to reach the range, -1 if it must fall, 0 inside.
    A zero tolerance is a hard edge. A non-finite value scores 0 with direction 0 (it says
    nothing about which way to go).
    """
    if value < low:
        d, direction = low - value, 1
    elif value > high:
        d, direction = value - high, -1
    elif low <= value:  # inside (a NaN fails every comparison and falls through)
        return 1.0, 0
    else:
        return 0.0, 0
    if d >= tolerance:
        return 0.0, direction
    return 0.5 * (1.0 + math.cos(math.pi * d / tolerance)), direction


def score_metrics(metrics: Metrics, target: Target, strictness: float = 1.0) -> TargetScore:
    """Score ``metrics`` against ``target``.

    Args:
        metrics: the (calibrated, smoothed) metrics of one frame.
        target: the look.
        strictness: divides every tolerance: >1 is stricter (narrower bands), <1 more lenient.
            Must be finite and > 0.

    Returns:
        A :class:`TargetScore` with one :class:`MetricScore` per target range, in the target's
        order, and the overall weighted mean 0..100 (100 for a target whose weights are all 0).

    Example::

        s = score_metrics(m, find_target("corporate_headshot"))
        s.score            # 0..100
        s.metric("smile")  # MetricScore(name='smile', value=..., score=..., direction=..., weight=...)
    """
    if not (strictness > 0 and math.isfinite(strictness)):
        raise ValueError(f"strictness: expected a finite number > 0, got {strictness!r}")
    scale = 1.0 / strictness
    scores = []
    total = weighted = 0.0
    for r in target.ranges:
        value = float(getattr(metrics, r.metric))
        s, direction = range_score(value, r.low, r.high, r.tolerance * scale)
        scores.append(MetricScore(r.metric, value, s, direction, r.weight))
        total += r.weight
        weighted += r.weight * s
    overall = 100.0 * weighted / total if total > 0 else 100.0
    return TargetScore(target.name, overall, tuple(scores))
