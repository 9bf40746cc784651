"""One coaching cue at a time, and the hold timer.

:class:`Coach` turns a :class:`TargetScore` into one :class:`Cue`: the metric with the largest
weighted shortfall, phrased for a person watching a MIRROR image of themselves. It does not
flicker: a new cue must beat the current one's shortfall by a margin and keep doing so for a
debounce time (~0.5 s) before it replaces it. :class:`HoldTracker` times how long the score
stays at or above the target's threshold.

Sign derivation (all metric signs are defined in the RAW, un-mirrored camera image; see
:class:`~posecoach.results.Metrics`):

* The camera faces the subject, so the raw image is what someone facing them sees: the
  subject's own LEFT side appears on the raw image's RIGHT. (The mirror display flips that
  back, which is why cues speak of the subject's own left/right: it is what they feel and
  what they see on the same side in the mirror.)
* ``yaw`` > 0: the nose points toward the raw image's right edge = toward the subject's own
  left. So yaw must rise (+1) -> "turn your head to your LEFT"; must fall (-1) -> RIGHT.
* ``pitch`` > 0: chin up. +1 -> "lift your chin"; -1 -> "lower your chin".
* ``roll`` > 0: the eye on the raw image's right (the subject's LEFT eye) is higher, i.e.
  the head is tipped toward the subject's RIGHT shoulder (counter-clockwise in the raw
  image: the top of the head moves toward the image's left = the subject's right).
  So roll must rise (+1) -> "tilt your head toward your RIGHT shoulder"; -1 -> LEFT shoulder.
  When the target range contains 0 (a level head), the cue is simply "level your head":
  in a mirror a tilt is obvious and "level" is what people understand.
* ``eye_open_left`` is the eye on the raw image's left = the subject's RIGHT eye (and
  ``eye_open_right`` their left eye).
* ``face_x`` grows toward the raw image's right = the subject's own left: +1 -> "move to your
  left". ``face_y`` grows downward (the mirror flips only left-right): +1 -> "move lower in
  the frame". ``face_height`` grows as the face comes closer: +1 -> "come closer".
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass

from posecoach.results import Cue, HoldState, MetricScore, TargetScore
from posecoach.targets import Target

HOLD_TEXT = "Hold it there"
NO_FACE_TEXT = "Move into the frame"
OCCLUDED_TEXT = "Move your hand away from your face"
EYES_HIDDEN_TEXT = "Uncover your eyes: hand or sunglasses away"


@dataclass(frozen=True)
class Phrase:
    """A cue for one metric and direction, for a small and a large shortfall."""

    small: str
    large: str


#: (metric, direction) -> phrasing. Direction +1: the value must rise; -1: it must fall.
#: The single place where cue wording lives (targets may override it per metric).
PHRASES: dict[tuple[str, int], Phrase] = {
    ("yaw", +1): Phrase("Turn your head a little to your left", "Turn your head to your left"),
    ("yaw", -1): Phrase("Turn your head a little to your right", "Turn your head to your right"),
    ("pitch", +1): Phrase("Lift your chin slightly", "Lift your chin"),
    ("pitch", -1): Phrase("Lower your chin slightly", "Bring your chin down"),
    ("roll", +1): Phrase(
        "Tilt your head a little toward your right shoulder", "Tilt your head toward your right shoulder"
    ),
    ("roll", -1): Phrase(
        "Tilt your head a little toward your left shoulder", "Tilt your head toward your left shoulder"
    ),
    ("smile", +1): Phrase("Smile a little more", "Smile more"),
    ("smile", -1): Phrase("Soften the smile a little", "Soften the smile"),
    ("mouth_open", +1): Phrase("Part your lips a little", "Open your mouth more"),
    ("mouth_open", -1): Phrase("Close your mouth a little", "Close your lips"),
    ("eye_open", +1): Phrase("Open your eyes a little more", "Open your eyes"),
    ("eye_open", -1): Phrase("Relax your eyelids a little", "Narrow your eyes"),
    ("eye_open_left", +1): Phrase("Open your right eye a little more", "Open your right eye"),
    ("eye_open_left", -1): Phrase("Relax your right eyelid a little", "Narrow your right eye"),
    ("eye_open_right", +1): Phrase("Open your left eye a little more", "Open your left eye"),
    ("eye_open_right", -1): Phrase("Relax your left eyelid a little", "Narrow your left eye"),
    ("squinch", +1): Phrase("Lift your lower eyelids a touch", "Squinch: lift your lower eyelids"),
    ("squinch", -1): Phrase("Ease the squinch a little", "Relax your lower eyelids"),
    ("genuine_smile", +1): Phrase("Let the smile reach your eyes", "Think of something funny: smile with your eyes"),
    ("genuine_smile", -1): Phrase("Relax your cheeks a little", "Relax your cheeks and eyes"),
    ("gaze_on_lens", +1): Phrase("Eyes to the lens", "Look into the lens"),
    ("gaze_on_lens", -1): Phrase("Look a little off the lens", "Look away from the lens"),
    ("brow_raise", +1): Phrase("Raise your eyebrows a little", "Raise your eyebrows"),
    ("brow_raise", -1): Phrase("Relax your eyebrows a little", "Relax your forehead"),
    ("face_x", +1): Phrase("Move a little to your left", "Move to your left"),
    ("face_x", -1): Phrase("Move a little to your right", "Move to your right"),
    ("face_y", +1): Phrase("Move a little lower in the frame", "Move lower in the frame"),
    ("face_y", -1): Phrase("Move a little higher in the frame", "Move higher in the frame"),
    ("face_height", +1): Phrase("Come a little closer", "Come closer to the camera"),
    ("face_height", -1): Phrase("Move back a little", "Move back from the camera"),
}
#: Roll toward a range that contains 0: the goal is a level head.
LEVEL_HEAD = Phrase("Level your head a touch", "Level your head")

# Magnitude: "small" while the metric's own score is >= 0.5 (less than half the tolerance
# away). The band keeps the wording from flickering when the score sits near 0.5.
_SMALL_ABOVE = 0.6
_LARGE_BELOW = 0.4


class Size(enum.Enum):
    """How far off a metric is, for the magnitude words of a cue."""

    SMALL = "small"
    LARGE = "large"


def phrase(metric: str, direction: int, size: Size = Size.SMALL, target: Target | None = None) -> str:
    """The cue text for moving ``metric`` in ``direction`` (+1 rise, -1 fall).

    A target's own phrasing wins; roll toward a range containing 0 says "level your head".
    """
    if target is not None:
        override = target.cue_for(metric, direction)
        if override:
            return override
        r = target.range(metric)
        if metric == "roll" and r is not None and r.low <= 0.0 <= r.high:
            p = LEVEL_HEAD
            return p.small if size is Size.SMALL else p.large
    p = PHRASES.get((metric, direction))
    if p is None:
        return ""
    return p.small if size is Size.SMALL else p.large


class CoachMode(enum.Enum):
    """What the coach is saying."""

    IDLE = "idle"  # nothing seen yet (or after reset)
    NO_FACE = "no_face"  # "Move into the frame"
    HIDDEN = "hidden"  # part of the face is covered: "Move your hand away from your face"
    CUE = "cue"  # a metric correction
    HOLD = "hold"  # the look is hit: "Hold it there"


_Key = tuple[str, int]
_HOLD: _Key = ("", 0)  # cues about no metric: "hold" (also the key while idle or faceless)


class Coach:
    """Pick one cue per frame, without flicker.

    Args:
        target: the look being coached (its threshold, ranges and phrasing).
        margin: weighted shortfall by which a new metric must beat the current cue's metric
            before it may replace it (shortfall = weight * (1 - score), see MetricScore).
        debounce_ms: how long a replacement must keep winning before the cue switches.
        grace_ms: how long a lost face keeps the last cue before "Move into the frame".
        hold_band: score points below the threshold a held look may dip before the coach
            leaves "Hold it there" (entering needs the full threshold).
        drop_band: a score this far below the threshold for ``drop_ms`` leaves "Hold it there"
            without the full debounce: the look is clearly lost, and "hold it" would tell the
            person the wrong thing. ``drop_ms`` outlasts a blink (100-300 ms), which is no
            reason to change the cue.

    ``update(score, t_ms)`` takes the frame's :class:`TargetScore` (None = no face) and its
    time in milliseconds, and returns the :class:`Cue` to show:

    * score >= the target's threshold: "Hold it there" (or the target's ``hold_cue``), at
      once, kept until the score falls below ``threshold - hold_band`` for ``debounce_ms``;
    * otherwise the (metric, direction) with the largest weighted shortfall. It replaces the
      current cue only if it beats the current metric's shortfall by ``margin`` (or the
      current metric is already fixed) continuously for ``debounce_ms``;
    * no face for ``grace_ms``: "Move into the frame"; a face coming back is cued at once.

    Example::

        coach = Coach(target)
        cue = coach.update(score_metrics(metrics, target), t_ms)
        print(cue.text)  # "Lift your chin slightly"
    """

    def __init__(
        self,
        target: Target,
        *,
        margin: float = 0.1,
        debounce_ms: float = 500.0,
        grace_ms: float = 500.0,
        hold_band: float = 5.0,
        drop_band: float = 15.0,
        drop_ms: float = 300.0,
    ) -> None:
        self.target = target
        self.margin = margin
        self.debounce_ms = debounce_ms
        self.grace_ms = grace_ms
        self.hold_band = hold_band
        self.drop_band = drop_band
        self.drop_ms = drop_ms
        self._hold_cue = Cue(target.hold_cue or HOLD_TEXT)
        self._no_face_cue = Cue(NO_FACE_TEXT)
        self._hidden_cue = Cue(OCCLUDED_TEXT, "occluded")
        self._eyes_hidden_cue = Cue(EYES_HIDDEN_TEXT, "occluded")
        self.reset()

    @property
    def mode(self) -> CoachMode:
        return self._mode

    def reset(self) -> None:
        """Start over: no cue, no pending switch."""
        self._mode = CoachMode.IDLE
        self._key: _Key = _HOLD
        self._size = Size.SMALL
        self._cue = Cue.none()
        self._candidate: _Key | None = None
        self._candidate_since = 0.0
        self._lost_since: float | None = None
        self._drop_since: float | None = None

    def update(self, score: TargetScore | None, t_ms: float) -> Cue:
        """The cue for this frame."""
        if score is None:
            return self._face_lost(t_ms)
        self._lost_since = None
        desired = self._desired(score)
        lost_look = self._lost_look(score, t_ms)
        if (
            self._mode in (CoachMode.IDLE, CoachMode.NO_FACE, CoachMode.HIDDEN)
            or (desired == _HOLD and self._mode is CoachMode.CUE)
            or (lost_look and desired != _HOLD)
        ):
            # A face (re)appearing gets its cue at once; so does hitting the look (the hold
            # timer starts now, and the score band below keeps "hold" from flickering).
            self._switch(desired, score)
        elif desired == self._key:
            self._candidate = None
        elif self._may_switch(desired, score):
            if self._candidate != desired or t_ms < self._candidate_since:
                self._candidate, self._candidate_since = desired, t_ms
            if t_ms - self._candidate_since >= self.debounce_ms:
                self._switch(desired, score)
        else:
            self._candidate = None
        if self._mode is CoachMode.CUE:
            self._update_size(score)
        return self._cue

    def hidden(self, t_ms: float, parts: tuple[str, ...] = ("mouth",)) -> Cue:  # noqa: ARG002 - shape of update
        """The cue for a frame whose face is partly covered (``parts``: ``"mouth"``, ``"eyes"``):
        uncover it, at once (no debounce: nothing else can be coached while the readings are
        guesses)."""
        self._candidate = None
        self._lost_since = None
        cue = self._eyes_hidden_cue if parts == ("eyes",) else self._hidden_cue
        self._mode, self._key, self._cue = CoachMode.HIDDEN, _HOLD, cue
        return self._cue

    # -- internals -----------------------------------------------------------------------
    def _lost_look(self, score: TargetScore, t_ms: float) -> bool:
        """True once a held look has been far below the threshold for ``drop_ms``."""
        if self._mode is not CoachMode.HOLD or score.score >= self.target.threshold - self.drop_band:
            self._drop_since = None
            return False
        if self._drop_since is None or t_ms < self._drop_since:
            self._drop_since = t_ms
        return t_ms - self._drop_since >= self.drop_ms

    def _face_lost(self, t_ms: float) -> Cue:
        self._candidate = None
        if self._lost_since is None or t_ms < self._lost_since:
            self._lost_since = t_ms
        if t_ms - self._lost_since >= self.grace_ms and self._mode is not CoachMode.NO_FACE:
            self._mode, self._key, self._cue = CoachMode.NO_FACE, _HOLD, self._no_face_cue
        return self._cue

    def _desired(self, score: TargetScore) -> _Key:
        """_HOLD for "hold", else (metric, direction) of the largest weighted shortfall."""
        threshold = self.target.threshold
        if self._mode is CoachMode.HOLD:
            threshold -= self.hold_band
        if score.score >= threshold:
            return _HOLD
        worst: MetricScore | None = None
        for m in score.metrics:
            if m.direction != 0 and m.shortfall > 0 and (worst is None or m.shortfall > worst.shortfall):
                worst = m
        return _HOLD if worst is None else (worst.name, worst.direction)

    def _may_switch(self, desired: _Key, score: TargetScore) -> bool:
        if self._mode is not CoachMode.CUE or desired == _HOLD:
            return True  # leaving "hold" (score fell below the band): debounce only
        current = _shortfall(score, self._key)
        if current <= 0.0:
            return True  # the current cue is done: move on after the debounce
        return _shortfall(score, desired) > current + self.margin

    def _switch(self, key: _Key, score: TargetScore) -> None:
        self._candidate = None
        if key == _HOLD:
            self._mode, self._key, self._cue = CoachMode.HOLD, key, self._hold_cue
            return
        m = score.metric(key[0])
        self._mode, self._key = CoachMode.CUE, key
        self._size = Size.SMALL if m is not None and m.score >= 0.5 else Size.LARGE
        self._cue = Cue(phrase(key[0], key[1], self._size, self.target), key[0], key[1])

    def _update_size(self, score: TargetScore) -> None:
        m = score.metric(self._key[0])
        if m is None or m.direction != self._key[1]:
            return  # satisfied (or overshot): keep the words until the cue changes
        size = self._size
        if size is Size.SMALL and m.score < _LARGE_BELOW:
            size = Size.LARGE
        elif size is Size.LARGE and m.score > _SMALL_ABOVE:
            size = Size.SMALL
        if size is not self._size:
            self._size = size
            self._cue = Cue(phrase(self._key[0], self._key[1], size, self.target), self._key[0], self._key[1])


def _shortfall(score: TargetScore, key: _Key) -> float:
    """The weighted shortfall of ``key``'s metric, counted only while it points the same way."""
    m = score.metric(key[0])
    return m.shortfall if m is not None and m.direction == key[1] else 0.0


class HoldTracker:
    """Time how long the score stays at or above a threshold.

    Args:
        threshold: score 0..100 that counts as "in the look".
        hold_s: seconds the score must stay there for a hold (>= 0).
        dip_ms: a dip below the threshold shorter than this does not break the run (a natural
            blink lasts 100-300 ms and should not cost the person their hold); 0 = strict.

    ``update(score, t_ms)`` takes the frame's score (None = no face) and time in ms. A frame
    without a face, or a dip below the threshold longer than ``dip_ms``, restarts the timer. A hold completes on the
    first frame at least ``hold_s`` after the run's first frame; ``just_completed`` is True on
    that frame only, and ``holds`` counts completed holds (one per unbroken run).
    """

    # Frame times are sums of 1000/fps steps; forgive float rounding at the finish line.
    _EPS_MS = 1e-6

    def __init__(self, threshold: float, hold_s: float, *, dip_ms: float = 0.0) -> None:
        if not (math.isfinite(threshold) and math.isfinite(hold_s) and hold_s >= 0):
            raise ValueError(f"HoldTracker: expected a finite threshold and hold_s >= 0, got {threshold!r}, {hold_s!r}")
        self.threshold = threshold
        self.hold_ms = hold_s * 1000.0
        self.dip_ms = dip_ms
        self._holds = 0
        self.reset()

    @property
    def holds(self) -> int:
        return self._holds

    def reset(self, *, keep_count: bool = False) -> None:
        """Drop the current run (and the hold count unless ``keep_count``)."""
        self._start: float | None = None
        self._dip_since: float | None = None
        self._held = False
        if not keep_count:
            self._holds = 0

    def update(self, score: float | None, t_ms: float) -> HoldState:
        """The hold state after this frame."""
        if score is not None and math.isfinite(score) and score < self.threshold and self._start is not None:
            if self._dip_since is None:
                self._dip_since = t_ms
            if t_ms - self._dip_since < self.dip_ms:  # a short dip: the run goes on
                progress = 1.0 if self._held else min(1.0, (self._dip_since - self._start) / self.hold_ms)
                return HoldState(progress, self._held, self._holds, False)
        if score is None or not score >= self.threshold:  # `not >=` also catches NaN
            self._start, self._dip_since, self._held = None, None, False
            return HoldState(0.0, False, self._holds, False)
        self._dip_since = None
        if self._start is None or t_ms < self._start:
            self._start = t_ms
        elapsed = t_ms - self._start
        done = elapsed + self._EPS_MS >= self.hold_ms
        just = done and not self._held
        if just:
            self._held = True
            self._holds += 1
        return HoldState(1.0 if done else elapsed / self.hold_ms, self._held, self._holds, just)
