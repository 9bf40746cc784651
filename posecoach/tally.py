"""What a session amounts to, accumulated frame by frame: :class:`SessionTally`.

Every :class:`~posecoach.session.CoachSession` feeds its tally each coached frame
(``update(result)``, on the frame loop's thread); when the person chooses to keep the session
(or asks for a report), :meth:`SessionTally.record` turns it into a
:class:`~posecoach.records.SessionRecord`. It keeps a few numbers per second and per look and
one downscaled frame per look (the best), so it costs microseconds per frame and a bounded
amount of memory whatever the session's length. Nothing here writes anything.

Definitions (see :class:`~posecoach.records.StepRecord` for every field):

* a **blink** is the eyes state (:class:`~posecoach.results.EyeState`, the person's
  calibrated one when calibrated) going from open (or looking down) to ``closed`` and back
  within :data:`BLINK_MAX_S`, with the face in view and the eyes not covered throughout;
  the blink rate is blinks per minute of face in view;
* **steadiness** is the median, over the seconds holding at least
  :data:`STEADY_MIN_FRAMES` scored frames, of the score's standard deviation within the
  second, in score points;
* **time to first hold** counts only the time spent practising that look (switching to
  another look and back does not count the time away; pauses over :data:`MAX_GAP_S` do not
  count).
"""

from __future__ import annotations

import math
import random
import threading
from datetime import datetime
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np

from posecoach.records import Band, BestSide, SessionRecord, StepRecord, TimelinePoint, step_details, step_from_details
from posecoach.results import EyeState, FrameResult

if TYPE_CHECKING:  # pragma: no cover - typing only
    from posecoach.targets import Target

#: The longest eye closure counted as a blink. Spontaneous blinks last about 0.1-0.4 s;
#: a longer closure is the person closing their eyes (a drill, a rest), not a blink.
BLINK_MAX_S = 0.5
#: A pause between frames longer than this (STOP/START, a stall) does not count as practising.
MAX_GAP_S = 1.0
#: Seconds with at least this many scored frames count toward steadiness.
STEADY_MIN_FRAMES = 5
#: Timeline bins: one per second; sessions shorter than FINE_UNTIL_S get 0.1 s bins, so a
#: short clip's report still shows its shape (a blink, a smile coming).
TIMELINE_STEP_S = 1.0
FINE_STEP_S = 0.1
FINE_UNTIL_S = 30.0
#: A look's best frame is kept at most this size on its long side (what a report shows).
KEEP_MAX_SIDE = 960
KEEP_JPEG_QUALITY = 88
#: Bounds that keep a long session's tally small.
MAX_CUE_CHANGES = 2000
MAX_HOLD_TIMES = 1000
MAX_BAND_SAMPLES = 5000
#: Metrics whose range in the look is kept (the hand-off card's smile, chin and turn).
BAND_METRICS = ("smile", "pitch", "yaw", "squinch")


def _now_iso() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")


def _small_copy(image: np.ndarray) -> np.ndarray:
    """A copy of ``image`` no larger than :data:`KEEP_MAX_SIDE` on its long side."""
    h, w = image.shape[:2]
    if max(h, w) <= KEEP_MAX_SIDE:
        return image.copy()
    scale = KEEP_MAX_SIDE / max(h, w)
    return cv2.resize(image, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)


class _Step:
    """The running totals of one look (mutable; only the tally touches it, under its lock)."""

    def __init__(self, target: str, title: str, threshold: float | None, aim: tuple, label: str,
                 time_limit_s: float | None) -> None:  # fmt: skip
        self.target, self.title, self.threshold, self.aim = target, title, threshold, aim
        self.label, self.time_limit_s, self.ended_by = label, time_limit_s, ""
        self.first_t_ms: float | None = None  # set by its first frame
        self.practised_ms = self.face_ms = self.in_look_ms = 0.0
        self.frames = 0
        self.best_score: float | None = None
        self.best_t_ms = 0.0
        self.best_held = False
        self.best_metrics: tuple[tuple[str, float], ...] = ()
        self.best_image: np.ndarray | None = None
        self.holds = 0
        self.hold_times_ms: list[float] = []
        self.first_hold_ms: float | None = None
        self.blinks = 0
        # bin index -> [frames scored, sum, sum of squares, held]
        self.coarse: dict[int, list[float]] = {}
        self.fine: dict[int, list[float]] = {}
        self.cue = None  # the cue text shown last (None before the first frame)
        self.cue_changes: list[tuple[float, str]] = []
        self.cue_ms: dict[str, float] = {}
        self.samples: list[tuple[float, ...]] = []
        self.samples_seen = 0


class SessionTally:
    """Accumulates a session's frame results into what a person may keep (see the module).

    Thread-safe: :meth:`update` runs on the frame loop's thread (the video callback's worker
    in the app) while the page calls :meth:`record`.

    Example::

        tally = SessionTally()
        for result in results:
            tally.update(result, target=target, image=frame)
        record = tally.record(source="clip.mp4")
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rng = random.Random(0)  # deterministic band samples
        self.restart()

    def restart(self) -> None:
        """Forget everything: the next frame starts a new session."""
        with self._lock:
            self._steps: dict[Any, _Step] = {}
            self._current: _Step | None = None
            self._explicit = False
            self._t0: float | None = None
            self._prev_t: float | None = None
            self._frame_ms = 0.0
            self._frames = 0
            self._started = ""
            self._eyes: EyeState | None = None
            self._closed_since: float | None = None

    @property
    def frames(self) -> int:
        """Frames tallied since the start (or the last :meth:`restart`)."""
        with self._lock:
            return self._frames

    # -- steps ---------------------------------------------------------------------------
    def begin_step(self, target: Target | str, *, label: str = "", time_limit_s: float | None = None) -> None:
        """Start a new step now (a routine's next step): from here on every frame counts toward
        it, whatever its target, until the next :meth:`begin_step`. Without it (free
        practice) a step is a target, and coming back to a target continues its step."""
        with self._lock:
            self._explicit = True
            key = ("step", len(self._steps))
            self._current = self._steps[key] = self._new_step(target, label, time_limit_s)

    def end_step(self, ended_by: str) -> None:
        """Say why the current step ended (a routine's ``"hold"`` or ``"time"``)."""
        with self._lock:
            if self._current is not None:
                self._current.ended_by = ended_by

    def _new_step(self, target: Target | str | None, label: str = "", time_limit_s: float | None = None) -> _Step:
        if target is None or isinstance(target, str):
            return _Step(target or "", target or "", None, (), label, time_limit_s)
        aim = tuple((r.metric, float(r.low), float(r.high)) for r in target.ranges)
        return _Step(target.name, target.title, float(target.threshold), aim, label, time_limit_s)

    def _step_for(self, result: FrameResult, target: Target | str | None) -> _Step:
        if self._explicit and self._current is not None:
            return self._current
        if target is None and result.score is not None:
            target = result.score.target
        if target is None:
            if self._current is not None:
                return self._current
            target = ""
        key = target if isinstance(target, str) else target.name
        step = self._steps.get(key)
        if step is None:
            step = self._steps[key] = self._new_step(target)
        self._current = step
        return step

    # -- the hot path ----------------------------------------------------------------------
    def update(self, result: FrameResult, *, target: Target | str | None = None, image: np.ndarray | None = None) -> None:
        """Count one coached frame.

        ``target``: the look being practised (a :class:`~posecoach.targets.Target` gives the
        title, threshold and ranges; default the scored target's name); ``image``: the raw
        BGR frame, copied (downscaled) only when it is the look's best so far.
        """
        with self._lock:
            t = float(result.t_ms)
            if self._t0 is None:
                self._t0, self._started = t, _now_iso()
            dt = 0.0 if self._prev_t is None else max(t - self._prev_t, 0.0)
            if dt > MAX_GAP_S * 1000.0:  # a pause (camera stopped, a stall): not practising
                dt = 0.0
            if dt > 0:
                self._frame_ms = dt
            self._prev_t = t if self._prev_t is None else max(self._prev_t, t)
            self._frames += 1
            step = self._step_for(result, target)
            self._count(step, result, t, dt, image)

    def _count(self, s: _Step, result: FrameResult, t: float, dt: float, image: np.ndarray | None) -> None:
        if s.first_t_ms is None:
            s.first_t_ms = t
        s.frames += 1
        s.practised_ms += dt
        m = result.metrics
        if m is not None:
            s.face_ms += dt
        score = result.score.score if result.score is not None else None
        held = result.hold.held
        rel = t - self._t0
        bins = [(s.coarse, int(rel // (TIMELINE_STEP_S * 1000.0)))]
        if rel < FINE_UNTIL_S * 1000.0:
            bins.append((s.fine, int(rel // (FINE_STEP_S * 1000.0))))
        for table, index in bins:
            b = table.get(index)
            if b is None:
                b = table[index] = [0, 0.0, 0.0, 0]
            if score is not None:
                b[0] += 1
                b[1] += score
                b[2] += score * score
            if held:
                b[3] = 1
        # The best frame: the highest score, and at an equal score a frame in a hold (a look held,
        # not a look passing by; at most one more copy per look).
        if score is not None and (s.best_score is None or (score, held) > (s.best_score, s.best_held)):
            s.best_score, s.best_t_ms, s.best_held = score, t, held
            s.best_metrics = tuple((name, round(m.value(name), 4)) for name in _BEST_METRICS) if m else ()
            if image is not None and isinstance(image, np.ndarray) and image.size:
                s.best_image = _small_copy(image)
        if result.hold.just_completed:
            s.holds += 1
            if len(s.hold_times_ms) < MAX_HOLD_TIMES:
                s.hold_times_ms.append(t)
            if s.first_hold_ms is None:
                s.first_hold_ms = s.practised_ms
        if score is not None and m is not None and s.threshold is not None and score >= s.threshold:
            s.in_look_ms += dt
            self._sample(s, tuple(float(getattr(m, name)) for name in BAND_METRICS))
        self._blink(s, result, t)
        text = result.cue.text
        if text != s.cue:
            s.cue = text
            if len(s.cue_changes) < MAX_CUE_CHANGES:
                s.cue_changes.append((t, text))
        if text:
            s.cue_ms[text] = s.cue_ms.get(text, 0.0) + dt

    def _sample(self, s: _Step, values: tuple[float, ...]) -> None:
        """Reservoir sampling: a uniform sample of the in-look frames, bounded in size."""
        s.samples_seen += 1
        if len(s.samples) < MAX_BAND_SAMPLES:
            s.samples.append(values)
        else:
            j = self._rng.randrange(s.samples_seen)
            if j < MAX_BAND_SAMPLES:
                s.samples[j] = values

    def _blink(self, s: _Step, result: FrameResult, t: float) -> None:
        m = result.metrics
        eyes = m.eyes if (m is not None and "eyes" not in result.occluded) else None
        if eyes is None:  # no face or covered eyes: whatever was going on is not a blink we saw
            self._closed_since = None
        elif eyes is EyeState.CLOSED:
            if self._closed_since is None and self._eyes not in (None, EyeState.CLOSED):
                self._closed_since = t
        elif self._closed_since is not None:
            if t - self._closed_since <= BLINK_MAX_S * 1000.0:
                s.blinks += 1
            self._closed_since = None
        self._eyes = eyes

    # -- the page side ---------------------------------------------------------------------
    def record(
        self,
        *,
        source: str,
        profile: dict[str, Any] | None = None,
        kind: str = "practice",
        routine: str = "",
        best_side: BestSide | None = None,
        pictures: bool = True,
        restart: bool = False,
    ) -> SessionRecord:
        """The session so far as a :class:`~posecoach.records.SessionRecord`.

        ``pictures``: include each look's best frame as JPEG; ``restart``: start a new
        session from the next frame on (in the same step as taking the record, so no frame
        is counted twice or lost).
        """
        with self._lock:
            steps = list(self._steps.values())
            t0, last, frame_ms, frames, started = self._t0, self._prev_t, self._frame_ms, self._frames, self._started
            frozen = [(s, self._freeze(s, t0 or 0.0)) for s in steps]
        if restart:
            self.restart()
        duration = ((last - t0) + frame_ms) / 1000.0 if t0 is not None and last is not None else 0.0
        fine = duration < FINE_UNTIL_S
        out = []
        for s, values in frozen:
            image = values.pop("best_image")
            values["timeline"] = _timeline(values.pop("fine" if fine else "coarse"), FINE_STEP_S if fine else TIMELINE_STEP_S)
            values.pop("coarse" if fine else "fine")
            values["timeline_step_s"] = FINE_STEP_S if fine else TIMELINE_STEP_S
            jpeg = _jpeg(image) if (pictures and image is not None) else None
            # Rounded as the history keeps it: a kept session reads back equal to this record.
            out.append(step_from_details(step_details(StepRecord(**values)), jpeg))
        return SessionRecord(
            started=started or _now_iso(), source=source, steps=tuple(out), duration_s=round(duration, 3),
            frames=frames, kind=kind, routine=routine, profile=profile, best_side=best_side,
        )  # fmt: skip

    @staticmethod
    def _freeze(s: _Step, t0: float) -> dict[str, Any]:
        """A step's values (taken under the lock; the JPEG is encoded outside it)."""
        sec = 1000.0
        cue_seconds = sorted(((k, v / sec) for k, v in s.cue_ms.items() if k), key=lambda kv: -kv[1])
        return {
            "target": s.target, "title": s.title, "label": s.label, "threshold": s.threshold, "aim": s.aim,
            "time_limit_s": s.time_limit_s, "ended_by": s.ended_by,
            "started_s": max(0.0, ((s.first_t_ms if s.first_t_ms is not None else t0) - t0) / sec), "practised_s": s.practised_ms / sec,
            "frames": s.frames, "face_s": s.face_ms / sec, "best_score": s.best_score,
            "best_t_s": (s.best_t_ms - t0) / sec if s.best_score is not None else None,
            "best_metrics": s.best_metrics, "best_image": s.best_image, "holds": s.holds,
            "hold_times_s": tuple((h - t0) / sec for h in s.hold_times_ms),
            "time_to_first_hold_s": s.first_hold_ms / sec if s.first_hold_ms is not None else None,
            "steadiness_pts": _steadiness(s.coarse.values()), "blinks": s.blinks,
            "fine": dict(s.fine), "coarse": dict(s.coarse),
            "cues": tuple(((c - t0) / sec, text) for c, text in s.cue_changes),
            "cue_seconds": tuple(cue_seconds), "bands": _bands(s.samples), "in_look_s": s.in_look_ms / sec,
        }  # fmt: skip


#: The metrics kept with a look's best frame.
_BEST_METRICS = ("yaw", "pitch", "roll", "smile", "mouth_open", "eye_open", "squinch", "genuine_smile", "gaze_on_lens")


def _timeline(bins: dict[int, list[float]], step_s: float) -> tuple[TimelinePoint, ...]:
    return tuple(
        TimelinePoint(round(i * step_s, 3), (b[1] / b[0]) if b[0] else None, bool(b[3]))
        for i, b in sorted(bins.items())
    )


def _steadiness(bins: Any) -> float | None:
    sds = []
    for n, total, squares, _ in bins:
        if n >= STEADY_MIN_FRAMES:
            mean = total / n
            sds.append(math.sqrt(max(0.0, squares / n - mean * mean)))
    return float(np.median(sds)) if sds else None


def _bands(samples: list[tuple[float, ...]]) -> tuple[Band, ...]:
    if not samples:
        return ()
    p10, p50, p90 = np.percentile(np.asarray(samples, np.float64), (10, 50, 90), axis=0)
    return tuple(Band(name, float(p10[i]), float(p50[i]), float(p90[i])) for i, name in enumerate(BAND_METRICS))


def _jpeg(image: np.ndarray) -> bytes | None:
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, KEEP_JPEG_QUALITY])
    return buf.tobytes() if ok else None
