"""What a kept session holds, as values: a :class:`SessionRecord` of :class:`StepRecord` s.

A *step* is one look practised in a session: a target in free practice (switching back to a
target continues its step), or one step of a routine (issue 12: the same target twice in a
routine is two steps). Reports, the hand-off card and the history database read only these
values, so anything that produces them can be reported and kept:

* :class:`~posecoach.tally.SessionTally` builds them from a session's frame results;
* a routine run can build them from its per-step results (``label``, ``time_limit_s`` and
  ``ended_by`` are there for it), and a best-side check fills :class:`BestSide`.

Units: times in seconds from the session's first frame; scores 0..100; angles in degrees with
the signs of :class:`~posecoach.results.Metrics` (yaw > 0: the subject's own left; pitch > 0:
chin up); the other metrics 0..1. Nothing here reads or writes files.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

#: What a session was: free practice (one step per target) or a routine (one step per step).
KINDS = ("practice", "routine")


@dataclass(frozen=True)
class TimelinePoint:
    """The score over one bin of the timeline: ``t_s`` its start, ``score`` the mean score of
    the scored frames in it (None: no scored face), ``held`` True when a hold was on in it."""

    t_s: float
    score: float | None
    held: bool = False


@dataclass(frozen=True)
class Band:
    """Where one metric sat while the person was in the look (score at or above the
    threshold): the 10th, 50th and 90th percentiles over those frames."""

    metric: str
    p10: float
    p50: float
    p90: float


@dataclass(frozen=True)
class BestSide:
    """Which side of the face to show the camera, when measured (issue 12's best-side check).

    ``side`` is ``"left"`` or ``"right"`` (the subject's own side to turn toward the camera)
    or ``"none"`` (no clear difference); ``confidence`` 0..1 when the check gives one;
    ``detail`` one line of the numbers behind it.
    """

    side: str
    confidence: float | None = None
    detail: str = ""


@dataclass(frozen=True)
class StepRecord:
    """One look practised: its stats, timeline, cues and best frame.

    Attributes:
        target: the target's name (``--target``); ``title`` its human name.
        label: a routine step's own name ("" in free practice).
        threshold: the score that counts toward a hold (None if unknown).
        aim: ``(metric, low, high)`` of the target's ranges (what it asked for).
        time_limit_s, ended_by: a routine step's time limit and why it ended ("hold", "time",
            or a routine runner's own words such as "unfinished"); None and "" in free practice.
        started_s: when the step was first practised (seconds from the session's start).
        practised_s: seconds spent on it (pauses over a second are not counted).
        frames: frames coached; ``face_s`` seconds with a face in view.
        best_score, best_t_s, best_metrics: the best score, when, and the frame's metrics.
        best_jpeg: that frame (raw, un-mirrored) as JPEG, or None (pictures not kept).
        holds: holds achieved; ``hold_times_s`` when each was achieved.
        time_to_first_hold_s: practising seconds before the first hold was achieved, the hold
            time itself included (None: never held).
        steadiness_pts: the typical wobble of the score, in score points: the median, over the
            seconds with at least 5 scored frames, of the score's standard deviation within
            that second. Lower is steadier (about 1 is a held look; 10 and more is searching).
        blinks: eye closures of at most :data:`posecoach.tally.BLINK_MAX_S` seconds, seen
            as the eyes state going open -> closed -> open with the face in view.
        timeline_step_s: the timeline's bin width (1 s; 0.1 s for sessions under 30 s).
        timeline: the score per bin, in time order (bins without frames left out).
        cues: ``(t_s, text)`` each time the cue changed ("" = no cue shown).
        cue_seconds: ``(text, seconds shown)``, most shown first (the empty cue left out).
        bands: where smile, chin (pitch), turn (yaw) and squinch sat in the look.
        in_look_s: seconds at or above the threshold.
    """

    target: str
    title: str
    label: str = ""
    threshold: float | None = None
    aim: tuple[tuple[str, float, float], ...] = ()
    time_limit_s: float | None = None
    ended_by: str = ""
    started_s: float = 0.0
    practised_s: float = 0.0
    frames: int = 0
    face_s: float = 0.0
    best_score: float | None = None
    best_t_s: float | None = None
    best_metrics: tuple[tuple[str, float], ...] = ()
    best_jpeg: bytes | None = field(default=None, repr=False)
    holds: int = 0
    hold_times_s: tuple[float, ...] = ()
    time_to_first_hold_s: float | None = None
    steadiness_pts: float | None = None
    blinks: int = 0
    timeline_step_s: float = 1.0
    timeline: tuple[TimelinePoint, ...] = ()
    cues: tuple[tuple[float, str], ...] = ()
    cue_seconds: tuple[tuple[str, float], ...] = ()
    bands: tuple[Band, ...] = ()
    in_look_s: float = 0.0

    @property
    def name(self) -> str:
        """What to call the step: its routine label, else the target's title."""
        return self.label or self.title or self.target

    @property
    def blink_rate_per_min(self) -> float | None:
        """Blinks per minute of face in view (None without a face)."""
        return self.blinks * 60.0 / self.face_s if self.face_s > 0 else None

    def band(self, metric: str) -> Band | None:
        return next((b for b in self.bands if b.metric == metric), None)

    def aim_for(self, metric: str) -> tuple[float, float] | None:
        return next(((lo, hi) for m, lo, hi in self.aim if m == metric), None)

    def metric(self, name: str) -> float | None:
        """A metric of the best frame, by name."""
        return next((v for m, v in self.best_metrics if m == name), None)


@dataclass(frozen=True)
class SessionRecord:
    """A session as kept: where it came from and its steps.

    Attributes:
        started: local time of the first frame, ISO 8601 with its UTC offset.
        source: what was coached ("live camera", a file name, "upload: clip.mp4").
        steps: the looks practised, in the order first practised.
        duration_s: first frame to last (plus one frame), seconds.
        frames: frames coached.
        kind: ``"practice"`` or ``"routine"``; ``routine`` the routine's title.
        profile: the calibration profile in use, as its file's JSON object (numbers only),
            or None (uncalibrated).
        best_side: the best-side verdict when measured.
        id: the history's id once kept (None before).
    """

    started: str
    source: str
    steps: tuple[StepRecord, ...]
    duration_s: float = 0.0
    frames: int = 0
    kind: str = "practice"
    routine: str = ""
    profile: dict[str, Any] | None = None
    best_side: BestSide | None = None
    id: int | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"session kind must be one of {KINDS}, got {self.kind!r}")

    @property
    def best_score(self) -> float | None:
        scores = [s.best_score for s in self.steps if s.best_score is not None]
        return max(scores) if scores else None

    @property
    def targets(self) -> tuple[str, ...]:
        """Target names practised, each once, in order."""
        return tuple(dict.fromkeys(s.target for s in self.steps))

    @property
    def blinks(self) -> int:
        return sum(s.blinks for s in self.steps)

    @property
    def face_s(self) -> float:
        return sum(s.face_s for s in self.steps)

    @property
    def blink_rate_per_min(self) -> float | None:
        face = self.face_s
        return self.blinks * 60.0 / face if face > 0 else None

    @property
    def has_pictures(self) -> bool:
        return any(s.best_jpeg for s in self.steps)

    @property
    def profile_name(self) -> str:
        return str(self.profile.get("name", "")) if self.profile else ""

    def without_pictures(self) -> SessionRecord:
        return replace(self, steps=tuple(replace(s, best_jpeg=None) for s in self.steps))


# -- JSON (the history database keeps a step's details as JSON) ---------------------------------
def _finite(x: float | None, digits: int) -> float | None:
    return round(float(x), digits) if x is not None and math.isfinite(x) else None


def step_details(step: StepRecord) -> dict[str, Any]:
    """Everything of a step but its picture, as JSON-ready values (numbers rounded)."""
    out: dict[str, Any] = {}
    for f in fields(StepRecord):
        if f.name == "best_jpeg":
            continue
        v = getattr(step, f.name)
        if f.name == "timeline":
            v = [[round(p.t_s, 2), _finite(p.score, 1), int(p.held)] for p in v]
        elif f.name == "bands":
            v = [[b.metric, round(b.p10, 3), round(b.p50, 3), round(b.p90, 3)] for b in v]
        elif f.name in ("aim", "best_metrics", "cues", "cue_seconds"):
            v = [list(item) for item in v]
        elif f.name == "hold_times_s":
            v = [round(t, 3) for t in v]
        elif isinstance(v, float):
            v = _finite(v, 3)
        out[f.name] = v
    return out


def step_from_details(data: dict[str, Any], best_jpeg: bytes | None = None) -> StepRecord:
    """The inverse of :func:`step_details` (unknown keys are ignored: newer writers)."""
    known = {f.name for f in fields(StepRecord)}
    values = {k: v for k, v in data.items() if k in known}
    values["timeline"] = tuple(TimelinePoint(t, s, bool(h)) for t, s, h in data.get("timeline", ()))
    values["bands"] = tuple(Band(*b) for b in data.get("bands", ()))
    for name in ("aim", "best_metrics", "cues", "cue_seconds"):
        values[name] = tuple(tuple(item) for item in data.get(name, ()))
    values["hold_times_s"] = tuple(data.get("hold_times_s", ()))
    return StepRecord(**values, best_jpeg=best_jpeg)


def best_side_to_dict(side: BestSide | None) -> dict[str, Any] | None:
    return asdict(side) if side is not None else None


def best_side_from_dict(data: dict[str, Any] | None) -> BestSide | None:
    if not data:
        return None
    return BestSide(str(data.get("side", "none")), data.get("confidence"), str(data.get("detail", "")))
