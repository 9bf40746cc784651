"""Scoring metrics against a target: the curve, directions, weights, strictness and speed."""

from __future__ import annotations

import math

import pytest

from posecoach.scoring import range_score, score_metrics
from posecoach.targets import MetricRange, Target

from factories import NEUTRAL, metrics


def target(*ranges: MetricRange) -> Target:
    return Target("t", "T", "", tuple(ranges))


COS_QUARTER = 0.5 * (1 + math.cos(math.pi / 4))  # d = tolerance / 4


@pytest.mark.parametrize(
    ("value", "score", "direction"),
    [
        (15.0, 1.0, 0),  # inside
        (10.0, 1.0, 0),  # on the low edge
        (20.0, 1.0, 0),  # on the high edge
        (9.9999, 1.0, 1),  # just outside: continuous, no jump
        (8.0, 0.5, 1),  # half the tolerance below
        (9.0, COS_QUARTER, 1),
        (6.0, 0.0, 1),  # exactly one tolerance below
        (-40.0, 0.0, 1),  # far below
        (22.0, 0.5, -1),  # half the tolerance above
        (21.0, COS_QUARTER, -1),
        (24.0, 0.0, -1),
        (1e9, 0.0, -1),
        (math.inf, 0.0, -1),
        (-math.inf, 0.0, 1),
        (math.nan, 0.0, 0),  # says nothing: no direction
    ],
)

def test_range_score_curve(value: float, score: float, direction: int) -> None:
    s, d = range_score(value, 10.0, 20.0, 4.0)
    assert s == pytest.approx(score, abs=1e-6)
    assert d == direction


def test_curve_is_monotonic_and_smooth_at_both_edges() -> None:
    xs = [20.0 + 4.0 * i / 400 for i in range(401)]
    ys = [range_score(x, 10.0, 20.0, 4.0)[0] for x in xs]
    assert all(a >= b for a, b in zip(ys, ys[1:]))
    # Zero slope at the range edge and at the tolerance edge (cosine), steepest in the middle.
    step = xs[1] - xs[0]
    assert (ys[0] - ys[1]) / step < 0.01 and (ys[-2] - ys[-1]) / step < 0.01
    assert (ys[199] - ys[201]) / (2 * step) == pytest.approx(math.pi / 8, rel=1e-3)


@pytest.mark.parametrize(("value", "score"), [(0.3, 1.0), (0.3001, 0.0), (0.1, 1.0)])
def test_zero_tolerance_is_a_hard_edge(value: float, score: float) -> None:
    assert range_score(value, 0.1, 0.3, 0.0)[0] == score


@pytest.mark.parametrize(
    ("strictness", "score"),
    [(1.0, 0.5), (2.0, 0.0), (0.5, COS_QUARTER), (1.5, 0.5 * (1 + math.cos(math.pi * 0.75)))],
)
def test_strictness_scales_the_tolerance(strictness: float, score: float) -> None:
    t = target(MetricRange("yaw", 10.0, 20.0, 6.0))
    s = score_metrics(metrics(yaw=23.0), t, strictness)
    assert s.metrics[0].score == pytest.approx(score)
    assert s.score == pytest.approx(100 * score)


@pytest.mark.parametrize("strictness", [0.0, -1.0, math.nan, math.inf])
def test_bad_strictness_is_refused(strictness: float) -> None:
    with pytest.raises(ValueError, match="strictness"):
        score_metrics(NEUTRAL, target(MetricRange("yaw", -5, 5, 5)), strictness)


def test_weighted_mean_directions_and_order() -> None:
    t = target(
        MetricRange("smile", 0.2, 0.4, 0.1, weight=3.0),
        MetricRange("pitch", -8.0, -2.0, 5.0, weight=1.0),
        MetricRange("yaw", 10.0, 20.0, 6.0, weight=2.0),
    )
    s = score_metrics(metrics(smile=0.3, pitch=10.0, yaw=17.0), t)
    assert s.target == "t"
    assert [(m.name, m.score, m.direction, m.weight) for m in s.metrics] == [
        ("smile", 1.0, 0, 3.0),
        ("pitch", 0.0, -1, 1.0),  # chin too high: must fall
        ("yaw", 1.0, 0, 2.0),
    ]
    assert s.score == pytest.approx(100 * 5 / 6)
    assert s.metric("pitch").shortfall == 1.0 and s.metric("squinch") is None
    low = score_metrics(metrics(smile=0.0, pitch=-5.0, yaw=17.0), t)
    assert low.metric("smile").direction == +1 and low.metric("smile").value == 0.0
    assert low.score == pytest.approx(100 * 3 / 6)


def test_eye_open_is_the_mean_of_both_eyes() -> None:
    t = target(MetricRange("eye_open", 0.5, 1.0, 0.2))
    s = score_metrics(metrics(eye_open_left=0.2, eye_open_right=0.6), t)  # mean 0.4: half the tolerance short
    assert s.metrics[0].value == pytest.approx(0.4)
    assert s.metrics[0].score == pytest.approx(0.5) and s.metrics[0].direction == 1


def test_all_zero_weights_score_100_and_nan_metrics_score_0() -> None:
    assert score_metrics(NEUTRAL, target(MetricRange("yaw", 10, 20, 5, weight=0.0))).score == 100.0
    s = score_metrics(metrics(smile=math.nan), target(MetricRange("smile", 0.2, 0.4, 0.1)))
    assert s.score == 0.0 and s.metrics[0].direction == 0


