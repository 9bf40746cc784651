"""Temporal smoothing of metrics: the One Euro filter.

The One Euro filter (Casiez, Roussel & Vogel, "1€ Filter: A Simple Speed-based Low-pass
Filter for Noisy Input in Interactive Systems", CHI 2012) is a first-order low-pass filter
whose cutoff rises with the signal's speed: at rest the cutoff is ``min_cutoff`` (little
jitter), while moving it is ``min_cutoff + beta * |speed|`` (little lag). Tuning, per the
paper: set ``beta = 0``, lower ``min_cutoff`` until the jitter at rest is gone, then raise
``beta`` until fast moves no longer lag.

:class:`MetricsSmoother` runs one filter per numeric metric, all fields in one loop (the
per-frame path is hot); ``tests/one_euro.py`` keeps the paper's scalar filter as the reference
it is checked against. ``eyes`` (an :class:`EyeState`) is passed through
unsmoothed: a blink lasts 100-300 ms and must not be smeared away.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from operator import attrgetter
from typing import Mapping

from posecoach.results import NUMERIC_METRICS, Metrics

_TWO_PI = 2.0 * math.pi


@dataclass(frozen=True)
class OneEuroParams:
    """Tuning of one One Euro filter.

    Attributes:
        min_cutoff: cutoff frequency at rest, Hz. Lower = less jitter, more lag.
        beta: cutoff increase per unit of speed, Hz per (unit/s). Its scale depends on the
            signal's unit: degrees move ~100x faster in number than 0..1 scores.
        d_cutoff: cutoff of the speed estimate's own low-pass filter, Hz.
    """

    min_cutoff: float = 1.0
    beta: float = 0.0
    d_cutoff: float = 1.0


# Why these numbers: at 30 fps, head-pose jitter is ~0.5-1 deg and expression jitter ~0.02-0.04.
# Angles: a deliberate head turn runs ~30-100 deg/s, so beta 0.05 lifts the cutoff to ~2.5-6 Hz
# while turning and keeps 1 Hz at rest. 0..1 scores change ~1-3 /s during a smile onset, so they
# need a beta ~30x larger for the same effect. Eye openness is filtered more lightly than the
# rest so a closing eye shows up within a frame or two (the EyeState is never smoothed anyway).
ANGLE_PARAMS = OneEuroParams(min_cutoff=1.0, beta=0.05, d_cutoff=1.0)
SCORE_PARAMS = OneEuroParams(min_cutoff=1.5, beta=1.5, d_cutoff=1.0)
EYE_PARAMS = OneEuroParams(min_cutoff=3.0, beta=3.0, d_cutoff=1.0)
FRAMING_PARAMS = OneEuroParams(min_cutoff=1.0, beta=2.0, d_cutoff=1.0)

#: Default tuning for every numeric metric field.
DEFAULT_PARAMS: Mapping[str, OneEuroParams] = {
    "yaw": ANGLE_PARAMS,
    "pitch": ANGLE_PARAMS,
    "roll": ANGLE_PARAMS,
    "smile": SCORE_PARAMS,
    "mouth_open": SCORE_PARAMS,
    "eye_open_left": EYE_PARAMS,
    "eye_open_right": EYE_PARAMS,
    "squinch": SCORE_PARAMS,
    "genuine_smile": SCORE_PARAMS,
    "gaze_on_lens": SCORE_PARAMS,
    "brow_raise": SCORE_PARAMS,
    "face_x": FRAMING_PARAMS,
    "face_y": FRAMING_PARAMS,
    "face_height": FRAMING_PARAMS,
}


_get_numeric = attrgetter(*NUMERIC_METRICS)


class MetricsSmoother:
    """One Euro filters over every numeric field of :class:`Metrics`.

    ``update(metrics, t_ms)`` returns the smoothed metrics; ``None`` (no face) resets every
    filter and returns ``None``, so a returning face starts fresh instead of gliding in from
    where the last one left. ``eyes`` is copied through unsmoothed. A non-finite input value
    holds that field at its previous smoothed value (nothing raises in the frame loop).

    The fields are filtered as plain floats in one loop: for 14 values numpy's per-call
    overhead outweighs the arithmetic, and the first ufunc calls after the landmarker has
    run (cold caches) cost ~20 us each.

    Args:
        params: per-field tuning overriding :data:`DEFAULT_PARAMS` (field name -> params).
    """

    def __init__(self, params: Mapping[str, OneEuroParams] | None = None) -> None:
        merged = dict(DEFAULT_PARAMS)
        if params:
            unknown = sorted(set(params) - set(NUMERIC_METRICS))
            if unknown:
                raise ValueError(f"MetricsSmoother: unknown metric fields {unknown}; expected {NUMERIC_METRICS}")
            merged.update(params)
        for name in NUMERIC_METRICS:
            q = merged[name]
            if not (q.min_cutoff > 0 and q.d_cutoff > 0 and q.beta >= 0) or not all(
                math.isfinite(v) for v in (q.min_cutoff, q.beta, q.d_cutoff)
            ):
                raise ValueError(
                    f"MetricsSmoother: {name}: expected min_cutoff > 0, d_cutoff > 0, beta >= 0, got {q!r}"
                )
        # Per field: (min_cutoff, beta, tau of the constant d_cutoff = 1 / (2 pi d_cutoff)).
        self._params = tuple(
            (q.min_cutoff, q.beta, 1.0 / (_TWO_PI * q.d_cutoff)) for q in (merged[name] for name in NUMERIC_METRICS)
        )
        self.reset()

    def reset(self) -> None:
        """Forget the face: the next metrics pass through unchanged."""
        self._x: list[float] | None = None
        self._dx = [0.0] * len(NUMERIC_METRICS)
        self._t_s = 0.0
        self._last: Metrics | None = None

    def update(self, metrics: Metrics | None, t_ms: float) -> Metrics | None:
        """Smooth one frame's metrics taken at ``t_ms`` (milliseconds); None resets."""
        if metrics is None:
            self.reset()
            return None
        t_s = t_ms * 1e-3
        values = _get_numeric(metrics)
        prev = self._x
        if prev is None:
            if not all(math.isfinite(v) for v in values):
                return metrics  # nothing to hold yet; start once the values are sane
            self._x, self._t_s = [float(v) for v in values], t_s
            self._last = metrics
            return metrics
        dt = t_s - self._t_s
        if dt <= 0:  # repeated or backwards timestamp: no speed to estimate
            return self._with_eyes(metrics)
        rate = _TWO_PI * dt
        dxs = self._dx
        for i, ((min_cutoff, beta, d_tau), v, x0, dx0) in enumerate(zip(self._params, values, prev, dxs)):
            x = float(v) if math.isfinite(v) else x0
            dx = dx0 + ((x - x0) / dt - dx0) / (1.0 + d_tau / dt)
            cutoff = min_cutoff + beta * abs(dx)
            prev[i] = x0 + (x - x0) / (1.0 + 1.0 / (rate * cutoff))
            dxs[i] = dx
        self._t_s = t_s
        self._last = Metrics(**dict(zip(NUMERIC_METRICS, prev)), eyes=metrics.eyes)
        return self._last

    def _with_eyes(self, metrics: Metrics) -> Metrics:
        last = self._last
        assert last is not None
        return last if last.eyes == metrics.eyes else last.replace(eyes=metrics.eyes)


class NoSmoother:
    """The same shape as :class:`MetricsSmoother`, passing metrics through (tests, photos)."""

    def reset(self) -> None:
        """Nothing to forget."""

    def update(self, metrics: Metrics | None, t_ms: float) -> Metrics | None:  # noqa: ARG002
        """Return ``metrics`` unchanged."""
        return metrics
