"""One Euro filter (the paper's scalar reference, tests/one_euro.py) and the metrics smoother."""

from __future__ import annotations

import math
import time
from dataclasses import fields

import numpy as np
import pytest

from posecoach.results import NUMERIC_METRICS, EyeState, Metrics
from posecoach.smoothing import (
    ANGLE_PARAMS,
    DEFAULT_PARAMS,
    SCORE_PARAMS,
    MetricsSmoother,
    NoSmoother,
    OneEuroParams,
)

from factories import NEUTRAL, metrics
from one_euro import OneEuroFilter

FPS = 30.0
def _filter(p: OneEuroParams) -> OneEuroFilter:
    return OneEuroFilter(p.min_cutoff, p.beta, p.d_cutoff)


def _run(f: OneEuroFilter, xs: np.ndarray) -> np.ndarray:
    return np.array([f.update(float(x), i / FPS) for i, x in enumerate(xs)])


@pytest.mark.parametrize(("params", "sigma", "level"), [(ANGLE_PARAMS, 1.0, 15.0), (SCORE_PARAMS, 0.03, 0.4)])
def test_reduces_jitter_on_a_noisy_constant(params: OneEuroParams, sigma: float, level: float) -> None:
    rng = np.random.default_rng(1)
    xs = level + rng.normal(0.0, sigma, 300)
    ys = _run(_filter(params), xs)[30:]  # after a 1 s warm-up
    assert ys.std() < 0.5 * xs[30:].std()
    assert abs(ys.mean() - level) < 0.2 * sigma


@pytest.mark.parametrize(("params", "step"), [(ANGLE_PARAMS, 15.0), (SCORE_PARAMS, 0.5)])
def test_follows_a_step_with_small_lag(params: OneEuroParams, step: float) -> None:
    xs = np.where(np.arange(90) < 30, 0.0, step)
    ys = _run(_filter(params), xs)
    assert ys[29] == 0.0
    first_90 = int(np.argmax(ys >= 0.9 * step)) - 30
    assert 0 < first_90 <= 3  # within 100 ms at 30 fps
    assert ys[-1] == pytest.approx(step, rel=1e-3)
    # beta is what buys the speed: without it the same cutoff lags far more.
    slow = _run(OneEuroFilter(params.min_cutoff, 0.0, params.d_cutoff), xs)
    assert int(np.argmax(slow >= 0.9 * step)) - 30 >= 3 * first_90


def test_first_sample_passes_reset_and_stalled_time() -> None:
    f = OneEuroFilter(1.0, 0.0)
    assert f.update(5.0, 0.0) == 5.0
    y = f.update(10.0, 1 / 30)
    assert 5.0 < y < 10.0
    assert f.update(100.0, 1 / 30) == y  # no time passed: no new estimate
    assert f.update(100.0, 0.0) == y  # time went backwards
    f.reset()
    assert f.update(-3.0, 5.0) == -3.0


@pytest.mark.parametrize(("min_cutoff", "beta", "d_cutoff"), [(0.0, 0.0, 1.0), (1.0, -0.1, 1.0), (1.0, 0.0, 0.0),
                                                               (math.nan, 0.0, 1.0), (1.0, math.inf, 1.0)])  # fmt: skip
def test_bad_parameters_are_refused(min_cutoff: float, beta: float, d_cutoff: float) -> None:
    with pytest.raises(ValueError, match="OneEuroFilter"):
        OneEuroFilter(min_cutoff, beta, d_cutoff)


def test_every_numeric_metric_has_tuning() -> None:
    assert set(DEFAULT_PARAMS) == set(NUMERIC_METRICS)
    # Angles (degrees) move ~100x faster in number than 0..1 scores: their beta must be smaller.
    assert ANGLE_PARAMS.beta < SCORE_PARAMS.beta / 10


def _track(rng: np.random.Generator, n: int) -> list[Metrics]:
    out = []
    for i in range(n):
        values = {name: getattr(NEUTRAL, name) for name in NUMERIC_METRICS}
        values["yaw"] = 20.0 * math.sin(i / 10) + rng.normal(0, 1)
        values["smile"] = 0.5 + 0.4 * math.sin(i / 7) + rng.normal(0, 0.03)
        values["face_x"] = 0.5 + rng.normal(0, 0.01)
        out.append(Metrics(eyes=EyeState.CLOSED if i % 9 == 0 else EyeState.OPEN, **values))
    return out


def test_smoother_equals_one_scalar_filter_per_field() -> None:
    frames = _track(np.random.default_rng(2), 60)
    smoother = MetricsSmoother()
    refs = {name: _filter(DEFAULT_PARAMS[name]) for name in NUMERIC_METRICS}
    for i, m in enumerate(frames):
        t_ms = i * 1000 / FPS
        out = smoother.update(m, t_ms)
        assert out is not None
        for name in NUMERIC_METRICS:
            assert getattr(out, name) == pytest.approx(refs[name].update(getattr(m, name), t_ms / 1000), abs=1e-9)
        assert out.eyes is m.eyes  # never smoothed: a blink must show on its own frame


def test_smoother_resets_when_the_face_is_lost() -> None:
    s = MetricsSmoother()
    s.update(metrics(yaw=0.0), 0)
    s.update(metrics(yaw=0.0), 33)
    assert s.update(metrics(yaw=30.0), 67).yaw < 30.0  # smoothed
    assert s.update(None, 100) is None
    back = metrics(yaw=-25.0, smile=0.9)
    assert s.update(back, 133) == back  # a returning face starts fresh, no glide from the old one


def test_smoother_holds_non_finite_values_and_stalled_time() -> None:
    s = MetricsSmoother()
    s.update(metrics(smile=0.4), 0)
    out = s.update(metrics(smile=math.nan, yaw=5.0), 33)
    assert out.smile == pytest.approx(0.4) and 0.0 < out.yaw < 5.0
    again = s.update(metrics(smile=0.9, yaw=50.0, eyes=EyeState.CLOSED), 33)  # same timestamp
    assert (again.smile, again.yaw) == (out.smile, out.yaw) and again.eyes is EyeState.CLOSED


def test_smoother_tuning_overrides() -> None:
    s = MetricsSmoother({"yaw": OneEuroParams(min_cutoff=1000.0, beta=0.0)})  # ~no smoothing on yaw
    s.update(metrics(yaw=0.0, smile=0.0), 0)
    out = s.update(metrics(yaw=10.0, smile=0.5), 33)
    assert out.yaw == pytest.approx(10.0, abs=0.1) and out.smile < 0.45
    with pytest.raises(ValueError, match="unknown metric fields"):
        MetricsSmoother({"eye_open": OneEuroParams()})


def test_no_smoother_passes_through() -> None:
    s = NoSmoother()
    m = metrics(yaw=3.0)
    assert s.update(m, 0) is m and s.update(None, 33) is None
    s.reset()
    assert [f.name for f in fields(Metrics) if f.name != "eyes"] == list(NUMERIC_METRICS)


def test_smoother_is_fast() -> None:
    frames = _track(np.random.default_rng(3), 200)
    s = MetricsSmoother()
    best = math.inf
    for rep in range(3):
        t0 = time.perf_counter()
        for i, m in enumerate(frames):
            s.update(m, (rep * 200 + i) * 33.3)
        best = min(best, (time.perf_counter() - t0) / len(frames))
    assert best < 50e-6, f"{best * 1e6:.1f} us per frame"


@pytest.mark.parametrize("bad", [OneEuroParams(min_cutoff=0.0), OneEuroParams(d_cutoff=0.0), OneEuroParams(beta=-1.0),
                                 OneEuroParams(min_cutoff=math.inf)])  # fmt: skip
def test_metrics_smoother_rejects_bad_tuning_at_the_door(bad: OneEuroParams) -> None:
    with pytest.raises(ValueError, match="^MetricsSmoother: yaw: expected"):
        MetricsSmoother({"yaw": bad})
