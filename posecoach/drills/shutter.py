"""The shutter drill: a simulated photographer shoots at random moments; each shot is judged.

:class:`ShutterDrill` is a pure state machine: ``update(result) -> ShutterState`` with every
coached :class:`~posecoach.results.FrameResult` (a clip's or the live camera's). When a shot
time of its :class:`~posecoach.drills.schedule.ShotSchedule` comes, the frame at that moment is
the shot, judged as a photographer would (:func:`judge`):

* on the look: the target score at or above the target's threshold;
* eyes open: a blink at the click is a lost frame (the unsmoothed eye state of that frame);
* into the lens: ``gaze_on_lens`` of that frame (unsmoothed: the picture, not the trend) at or
  above 0.6, the reading's validated band (README, "What the numbers mean");
* head steady: the head angles moved less than :attr:`KeeperRules.steady_deg` over the last
  :attr:`KeeperRules.steady_ms` (a moving head blurs and the pose is not the one practised).

Between shots it measures how the look fades once reached (:class:`FadeMeter`) and how long a
blink costs (:class:`BlinkMeter`); :meth:`ShutterDrill.summary` gives keepers out of shots,
why the others were lost, and the one habit to work on.
"""

from __future__ import annotations

import enum
import statistics
from collections import Counter, deque
from dataclasses import dataclass
from typing import Any

from posecoach.drills.schedule import ShotSchedule
from posecoach.results import EyeState, FrameResult

#: ``gaze_on_lens`` at or above this is looking into the lens (README: 0.6 at 12 degrees aside).
GAZE_ON_LENS = 0.6


class Miss(str, enum.Enum):
    """Why a shot is not a keeper, in the photographer's words (most serious first)."""

    NO_FACE = "no face in the picture"
    COVERED = "face covered"
    BLINK = "blink at the click"
    EYES_DOWN = "eyes looking down"
    OFF_LENS = "eyes off the lens"
    MOVING = "head moving"
    OFF_LOOK = "off the look"


@dataclass(frozen=True)
class KeeperRules:
    """What a keeper needs. ``min_score`` None: the target's own threshold (0..100).

    ``steady_deg``: the largest change of yaw, pitch or roll (degrees, raw readings) allowed
    within the ``steady_ms`` milliseconds before the click. A still head reads within ~1 degree
    over 150 ms on single_face.mp4 (the smile coming on moved pitch 1.8 degrees in 70 ms).
    """

    min_score: float | None = None
    gaze_min: float = GAZE_ON_LENS
    steady_deg: float = 4.0
    steady_ms: float = 150.0


@dataclass(frozen=True)
class Shot:
    """One click. ``frame``/``t_ms`` of the picture taken (ms since the source started);
    ``score`` 0..100, ``eyes`` as :class:`~posecoach.results.EyeState` values (``"none"``
    without a face), ``gaze_on_lens`` 0..1, ``head_moved_deg`` the head's movement over the
    rule's window; None without a face. ``misses`` empty for a keeper."""

    index: int
    frame: int
    t_ms: float
    score: float | None
    eyes: str
    gaze_on_lens: float | None
    head_moved_deg: float | None
    misses: tuple[Miss, ...]

    @property
    def keeper(self) -> bool:
        return not self.misses

    @property
    def why(self) -> str:
        """Why it is not a keeper ("" for a keeper): ``"blink at the click; eyes off the lens"``."""
        return "; ".join(m.value for m in self.misses)

    def to_json(self) -> dict[str, Any]:
        r = lambda v, d: None if v is None else round(float(v), d)  # noqa: E731
        return {"frame": self.frame, "t_ms": round(self.t_ms), "score": r(self.score, 1), "eyes": self.eyes,
                "gaze_on_lens": r(self.gaze_on_lens, 2), "keeper": self.keeper, "why": self.why}  # fmt: skip


def judge(result: FrameResult, threshold: float, head_moved_deg: float | None, rules: KeeperRules = KeeperRules()) -> tuple[Miss, ...]:
    """Why the picture of ``result`` would not be a keeper (empty: it is one).

    ``threshold``: the target's score threshold (``rules.min_score`` overrides it);
    ``head_moved_deg``: from :class:`HeadMotion`.
    """
    if result.metrics is None or result.raw_metrics is None:
        return (Miss.NO_FACE,)
    misses = []
    if result.occluded:
        misses.append(Miss.COVERED)
    raw = result.raw_metrics
    if raw.eyes is EyeState.CLOSED:
        misses.append(Miss.BLINK)
    elif raw.eyes is EyeState.LOOKING_DOWN:
        misses.append(Miss.EYES_DOWN)
    elif raw.gaze_on_lens < rules.gaze_min:
        misses.append(Miss.OFF_LENS)
    if head_moved_deg is not None and head_moved_deg > rules.steady_deg:
        misses.append(Miss.MOVING)
    limit = threshold if rules.min_score is None else rules.min_score
    if result.score is None or result.score.score < limit:
        if Miss.COVERED not in misses:  # a covered face has no score: said once
            misses.append(Miss.OFF_LOOK)
    return tuple(misses)


class HeadMotion:
    """How far the head moved over the last ``window_ms``: ``update(result) -> degrees``
    (the largest range of yaw, pitch or roll among the raw readings in the window, this
    frame's included; None without a face, and a face that just appeared has moved 0)."""

    def __init__(self, window_ms: float = KeeperRules.steady_ms) -> None:
        self.window_ms = window_ms
        self._angles: deque[tuple[float, float, float, float]] = deque()

    def update(self, result: FrameResult) -> float | None:
        raw = result.raw_metrics
        if raw is None:
            self._angles.clear()
            return None
        self._angles.append((result.t_ms, raw.yaw, raw.pitch, raw.roll))
        while self._angles[0][0] < result.t_ms - self.window_ms:
            self._angles.popleft()
        return max(max(a[i] for a in self._angles) - min(a[i] for a in self._angles) for i in (1, 2, 3))


#: What fades, in words, by the metric furthest from its range when the look is lost.
FADE_WORDS = {"smile": "smile", "genuine_smile": "smile", "mouth_open": "smile", "squinch": "squinch",
              "gaze_on_lens": "eye contact", "eye_open": "eyes", "brow_raise": "brows"}  # fmt: skip
#: Score points under the threshold before a look counts as lost (no flicker at the edge).
FADE_HYSTERESIS = 5.0
#: A look held less than this (ms) is a flicker, not a refresh that faded.
MIN_LOOK_MS = 500.0


@dataclass(frozen=True)
class Fade:
    """A look reached (a refresh) and lost again with the eyes open: held ``held_ms``; ``what`` faded."""

    start_ms: float
    held_ms: float
    what: str


class FadeMeter:
    """Expression decay between shots: ``update(result)`` returns a :class:`Fade` on the frame a
    look reached is lost again. A blink or a lost face ends a look without a fade (that is the
    blink's cost, measured by :class:`BlinkMeter`)."""

    def __init__(self, threshold: float) -> None:
        self.threshold = threshold
        self._start: float | None = None

    def update(self, result: FrameResult) -> Fade | None:
        score = result.score.score if result.score is not None else None
        eyes = result.raw_metrics.eyes if result.raw_metrics is not None else None
        if score is None or eyes is not EyeState.OPEN:
            self._start = None
            return None
        if self._start is None:
            if score >= self.threshold:
                self._start = result.t_ms
            return None
        if score >= self.threshold - FADE_HYSTERESIS:
            return None
        held = result.t_ms - self._start
        self._start = None
        if held < MIN_LOOK_MS:
            return None
        worst = max(result.score.metrics, key=lambda m: m.shortfall, default=None)
        return Fade(result.t_ms - held, held, FADE_WORDS.get(worst.name, "look") if worst is not None else "look")


class BlinkMeter:
    """Blink recovery: ``update(result)`` returns the milliseconds from a blink (eyes shut while
    on the look) to the first frame ready for a click again (on the look, eyes open, into the
    lens), on that frame; None otherwise."""

    def __init__(self, threshold: float, gaze_min: float = GAZE_ON_LENS) -> None:
        self.threshold = threshold
        self.gaze_min = gaze_min
        self._ready = False
        self._blink_at: float | None = None

    def ready(self, result: FrameResult) -> bool:
        raw = result.raw_metrics
        return (result.score is not None and result.score.score >= self.threshold and raw is not None
                and raw.eyes is EyeState.OPEN and raw.gaze_on_lens >= self.gaze_min)  # fmt: skip

    def update(self, result: FrameResult) -> float | None:
        raw = result.raw_metrics
        if raw is None:
            self._blink_at = None
            self._ready = False
            return None
        if raw.eyes is EyeState.CLOSED:
            if self._ready and self._blink_at is None:
                self._blink_at = result.t_ms
            self._ready = False
            return None
        self._ready = self.ready(result)
        if self._ready and self._blink_at is not None:
            took, self._blink_at = result.t_ms - self._blink_at, None
            return took
        return None


@dataclass(frozen=True)
class ShutterState:
    """The drill after one frame. ``shot`` is this frame's shot (None between shots);
    ``shots`` all so far; ``elapsed_ms`` since the drill's first frame; ``next_in_ms`` until the
    next click; ``ready`` the frame would be a keeper (the page's "nice, hold that")."""

    shots: tuple[Shot, ...] = ()
    shot: Shot | None = None
    elapsed_ms: float = 0.0
    next_in_ms: float = 0.0
    ready: bool = False

    @property
    def keepers(self) -> int:
        return sum(s.keeper for s in self.shots)


class ShutterDrill:
    """The shutter drill on a stream of results (see the module docstring).

    Args:
        threshold: the target's score threshold (0..100).
        schedule: when the shutter fires (ms after the first frame).
        rules: what a keeper needs.
    """

    def __init__(self, threshold: float, schedule: ShotSchedule, rules: KeeperRules = KeeperRules()) -> None:
        self.threshold = threshold
        self.schedule = schedule
        self.rules = rules
        self._motion = HeadMotion(rules.steady_ms)
        self._fades = FadeMeter(threshold)
        self._blinks = BlinkMeter(threshold, rules.gaze_min)
        self._t0: float | None = None
        self._next = 0
        self._fade_list: list[Fade] = []
        self._recoveries: list[float] = []
        self._n_blinks = 0
        self._was_closed = False
        self.state = ShutterState()

    def update(self, result: FrameResult) -> ShutterState:
        """Take one coached frame (in time order); returns the new state."""
        if self._t0 is None:
            self._t0 = result.t_ms
        elapsed = result.t_ms - self._t0
        moved = self._motion.update(result)
        if (fade := self._fades.update(result)) is not None:
            self._fade_list.append(fade)
        if (took := self._blinks.update(result)) is not None:
            self._recoveries.append(took)
        closed = result.raw_metrics is not None and result.raw_metrics.eyes is EyeState.CLOSED
        self._n_blinks += closed and not self._was_closed
        self._was_closed = closed
        shots = self.state.shots
        shot = None
        if elapsed >= self.schedule.time(self._next):
            misses = judge(result, self.threshold, moved, self.rules)
            m, raw = result.metrics, result.raw_metrics
            shot = Shot(len(shots), result.frame, result.t_ms, result.score.score if result.score is not None else None,
                        raw.eyes.value if raw is not None else "none", raw.gaze_on_lens if raw is not None else None,
                        moved if m is not None else None, misses)  # fmt: skip
            shots = shots + (shot,)
            while elapsed >= self.schedule.time(self._next):  # frames dropped past several clicks: one shot
                self._next += 1
        ready = not judge(result, self.threshold, moved, self.rules)
        self.state = ShutterState(shots, shot, elapsed, self.schedule.time(self._next) - elapsed, ready)
        return self.state

    def summary(self) -> ShutterSummary:
        """Keepers out of shots, why the others were lost, fades, blinks and the habit."""
        shots = self.state.shots
        counts = Counter(m for s in shots for m in s.misses)
        misses = tuple(sorted(counts.items(), key=lambda kv: (-kv[1], list(Miss).index(kv[0]))))
        fade_s = statistics.median(f.held_ms for f in self._fade_list) / 1000.0 if self._fade_list else None
        what = Counter(f.what for f in self._fade_list).most_common(1)[0][0] if self._fade_list else ""
        recovery = statistics.median(self._recoveries) / 1000.0 if self._recoveries else None
        summary = ShutterSummary(shots, misses, fade_s, what, len(self._fade_list), self._n_blinks, recovery, "")
        return ShutterSummary(**{**summary.__dict__, "habit": habit(summary)})


@dataclass(frozen=True)
class ShutterSummary:
    """The end of a shutter drill.

    ``misses``: (reason, shots lost to it), most frequent first; ``fade_s``: median seconds a
    look reached was held before it faded (None: no fade seen), ``fade_what`` what faded
    ("smile"...), ``fades`` how many; ``blinks`` blinks seen; ``recovery_s`` median seconds
    from a blink on the look back to a frame ready for a click (None: none seen);
    ``habit`` the one thing to work on.
    """

    shots: tuple[Shot, ...]
    misses: tuple[tuple[Miss, int], ...]
    fade_s: float | None
    fade_what: str
    fades: int
    blinks: int
    recovery_s: float | None
    habit: str

    @property
    def keepers(self) -> int:
        return sum(s.keeper for s in self.shots)

    def fade_text(self) -> str:
        if self.fade_s is None:
            return "no fade seen: the look held between shots"
        return f"your {self.fade_what} fades after {self.fade_s:.1f} s: refresh it between shots"

    def lines(self) -> list[str]:
        n = len(self.shots)
        out = [f"keepers: {self.keepers} of {n} shot{'s' if n != 1 else ''}"]
        for miss, count in self.misses:
            out.append(f"  {miss.value}: {count}")
        out.append(self.fade_text())
        if self.blinks:
            back = f", back on the look {self.recovery_s:.2f} s after closing" if self.recovery_s is not None else ""
            out.append(f"blinks: {self.blinks}{back}")
        out.append(f"work on: {self.habit}")
        return out

    def to_json(self) -> dict[str, Any]:
        r = lambda v: None if v is None else round(v, 2)  # noqa: E731
        return {"shots": len(self.shots), "keepers": self.keepers, "why": {m.value: c for m, c in self.misses},
                "fade_s": r(self.fade_s), "fade_what": self.fade_what or None, "blinks": self.blinks,
                "blink_recovery_s": r(self.recovery_s), "habit": self.habit}  # fmt: skip


def habit(s: ShutterSummary) -> str:
    """The one habit to work on, from the reason most shots were lost to."""
    n = len(s.shots)
    if n == 0:
        return "no shot was taken: the drill ended before the first click"
    if not s.misses:
        if s.fade_s is not None:
            return f"every shot a keeper; {s.fade_text()}"
        return "every shot a keeper: keep doing exactly that"
    miss, count = s.misses[0]
    of = f"{count} of {n} shot{'s' if n != 1 else ''}"
    return {
        Miss.NO_FACE: f"stay in the frame: {of} had no face in it",
        Miss.COVERED: f"keep your hands away from your face: {of} had it covered",
        Miss.BLINK: f"blinks cost you {of}: blink right after a click, then keep your eyes soft and open",
        Miss.EYES_DOWN: f"keep your eyes up on the lens: {of} caught them looking down",
        Miss.OFF_LENS: f"look into the lens, not at the screen: {of} caught your eyes off the lens",
        Miss.MOVING: f"settle before the click: {of} caught your head moving",
        Miss.OFF_LOOK: s.fade_text() if s.fade_s is not None else f"hold the look between shots: {of} were off it",
    }[miss]
