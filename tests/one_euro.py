"""The One Euro filter as the paper writes it, one scalar at a time: the reference that
:class:`posecoach.smoothing.MetricsSmoother` (all fields in one loop) is checked against."""

from __future__ import annotations

import math

_TWO_PI = 2.0 * math.pi


def _alpha(cutoff_hz: float, dt_s: float) -> float:
    """Smoothing factor of an exponential low-pass with this cutoff and sample period."""
    tau = 1.0 / (_TWO_PI * cutoff_hz)
    return 1.0 / (1.0 + tau / dt_s)


class OneEuroFilter:
    """A scalar One Euro filter.

    Args:
        min_cutoff: cutoff at rest, Hz (> 0).
        beta: speed coefficient, Hz per (unit/s) (>= 0).
        d_cutoff: cutoff for the speed estimate, Hz (> 0).

    Example::

        f = OneEuroFilter(min_cutoff=1.0, beta=0.05)
        smoothed = [f.update(x, t) for x, t in zip(values, times_s)]

    A sample whose time does not advance (``t_s`` <= the previous time) returns the previous
    output unchanged: there is no way to estimate a speed from it.
    """

    def __init__(self, min_cutoff: float = 1.0, beta: float = 0.0, d_cutoff: float = 1.0) -> None:
        if not (min_cutoff > 0 and d_cutoff > 0 and beta >= 0) or not all(
            math.isfinite(v) for v in (min_cutoff, beta, d_cutoff)
        ):
            raise ValueError(
                f"OneEuroFilter: expected min_cutoff > 0, d_cutoff > 0, beta >= 0, "
                f"got {min_cutoff!r}, {d_cutoff!r}, {beta!r}"
            )
        self.min_cutoff = min_cutoff
        self.beta = beta
        self.d_cutoff = d_cutoff
        self.reset()

    def reset(self) -> None:
        """Forget the past: the next sample passes through unchanged."""
        self._x: float | None = None
        self._dx = 0.0
        self._t = 0.0

    def update(self, x: float, t_s: float) -> float:
        """Filter one sample ``x`` taken at time ``t_s`` (seconds); returns the smoothed value."""
        if self._x is None:
            self._x, self._dx, self._t = float(x), 0.0, t_s
            return self._x
        dt = t_s - self._t
        if dt <= 0:
            return self._x
        # The speed is taken against the previous *filtered* value, as in the reference code.
        dx = (x - self._x) / dt
        self._dx += _alpha(self.d_cutoff, dt) * (dx - self._dx)
        cutoff = self.min_cutoff + self.beta * abs(self._dx)
        self._x += _alpha(cutoff, dt) * (x - self._x)
        self._t = t_s
        return self._x
