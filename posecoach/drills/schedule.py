"""When the simulated photographer presses the shutter: seeded random intervals.

A :class:`ShotSchedule` hands out shot times (milliseconds from the start of the drill) spaced
by intervals drawn uniformly from ``[lo_s, hi_s]`` seconds with :class:`random.Random` seeded
by the person (the same seed gives the same shots, on a clip or live). ``--every 2:4`` is
parsed by :func:`parse_every` with one-line errors.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

#: The shortest interval a drill accepts (seconds): a motor drive's burst is ~0.1 s, but the
#: drill is about the person, and a shot every few frames is no longer a surprise.
MIN_INTERVAL_S = 0.2
#: The longest (seconds): a photographer who waits longer than this is not shooting.
MAX_INTERVAL_S = 60.0
#: ``--every`` when the person does not say.
DEFAULT_EVERY = (2.0, 4.0)


class DrillError(ValueError):
    """A drill option the person can fix; the message is one line."""


@dataclass(frozen=True)
class Every:
    """Shots come every ``lo_s`` to ``hi_s`` seconds (uniformly at random)."""

    lo_s: float = DEFAULT_EVERY[0]
    hi_s: float = DEFAULT_EVERY[1]

    def __post_init__(self) -> None:
        lo, hi = self.lo_s, self.hi_s
        if not (math.isfinite(lo) and math.isfinite(hi)):
            raise DrillError(f"shot interval must be finite seconds, got {lo:g}:{hi:g}")
        if not MIN_INTERVAL_S <= lo <= hi <= MAX_INTERVAL_S:
            raise DrillError(
                f"shot interval must be LO:HI seconds with {MIN_INTERVAL_S:g} <= LO <= HI <= {MAX_INTERVAL_S:g}, "
                f"got {lo:g}:{hi:g}"
            )

    def __str__(self) -> str:
        return f"{self.lo_s:g}:{self.hi_s:g}"


def parse_every(text: str) -> Every:
    """``"2:4"`` -> ``Every(2, 4)``; ``"3"`` -> ``Every(3, 3)`` (a steady photographer).

    Raises:
        DrillError: not ``LO:HI`` seconds within the accepted range (one line).
    """
    lo_text, sep, hi_text = text.strip().partition(":")
    try:
        lo = float(lo_text)
        hi = float(hi_text) if sep else lo
    except ValueError:
        raise DrillError(f"expected --every LO:HI in seconds (e.g. 2:4), got {text!r}") from None
    return Every(lo, hi)


def check_seed(value: int) -> int:
    """A seed the person typed: a non-negative integer below 2**63.

    Raises:
        DrillError: out of range.
    """
    if not 0 <= value < 2**63:
        raise DrillError(f"expected a seed from 0 to {2**63 - 1}, got {value}")
    return value


class ShotSchedule:
    """Shot times in milliseconds after the drill's start, drawn as they are needed.

    ``ShotSchedule(Every(2, 4), seed=7)`` gives the same times every time; :meth:`at` gives
    fixed times (tests, a photographer's own rhythm).
    """

    def __init__(self, every: Every = Every(), seed: int = 0) -> None:
        self.every = every
        self.seed = check_seed(seed)
        self._rng = random.Random(seed)
        self._fixed: list[float] | None = None
        self._times: list[float] = []

    @classmethod
    def at(cls, times_ms: list[float]) -> ShotSchedule:
        """A schedule with these shot times (ms after the start, increasing) and no others."""
        schedule = cls()
        schedule._fixed = sorted(float(t) for t in times_ms)
        return schedule

    def time(self, i: int) -> float:
        """The ``i``-th shot time (0-based), ms after the start; ``inf`` past a fixed list."""
        if self._fixed is not None:
            return self._fixed[i] if i < len(self._fixed) else math.inf
        while len(self._times) <= i:
            last = self._times[-1] if self._times else 0.0
            self._times.append(last + 1000.0 * self._rng.uniform(self.every.lo_s, self.every.hi_s))
        return self._times[i]

    def times_until(self, end_ms: float) -> list[float]:
        """Every shot time up to ``end_ms`` (inclusive)."""
        out, i = [], 0
        while (t := self.time(i)) <= end_ms:
            out.append(t)
            i += 1
        return out
