"""Reports on runs, pure: results in; text, tables and files out.

* :class:`Summary`: the end-of-run summary of a coached photo or video, with what to work on
  (:class:`WorkOn`: the cues that held longest);
* :func:`calibration_lines`: what a calibration measured and learned;
* :func:`before_after_medians`: a person's metrics before and after their calibration;
* :func:`no_face_seconds`: how long a session has been without a face;
* the best holds as files: :func:`capture_jpeg`, :func:`captures_zip` (with their numbers
  in ``captures.json``).

Nothing here computes a metric, a score or a cue, and nothing is written to disk.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

from posecoach.calibration import CalibrationProfile, PhaseStats, Window
from posecoach.results import TARGET_METRICS, FrameResult, Metrics, MetricScore
from posecoach.session import Capture
from posecoach.targets import Target

_ANGLES = ("yaw", "pitch", "roll")


# -- a coached run ---------------------------------------------------------------------------
@dataclass(frozen=True)
class WorkOn:
    """One thing to work on: a cue and how long it was shown.

    ``cue`` is the wording shown longest for this ``metric`` and ``direction`` (+1 more, -1
    less; the wording varies with how far off the face is); ``seconds`` how long it was the
    cue; ``share`` that time over the time with a coached face (0..1).
    """

    cue: str
    metric: str
    direction: int
    seconds: float
    share: float


def metric_text(metric: str, value: float) -> str:
    """A metric's value as the rows and the gauges give it: ``+12.0°`` for an angle, ``0.42``."""
    return f"{value:+.1f}°" if metric in _ANGLES else f"{value:.2f}"


def misses(result: FrameResult, target: Target) -> list[str]:
    """The metrics of a coached frame that miss their range, worst first:
    ``smile 0.62 (aim 0.20 to 0.45)``. Values as scored (calibrated and smoothed)."""
    if result.score is None:
        return []
    missed: list[MetricScore] = sorted(
        (m for m in result.score.metrics if m.direction != 0), key=lambda m: m.shortfall, reverse=True
    )
    out = []
    for m in missed:
        r = target.range(m.name)
        aim = f" (aim {metric_text(m.name, r.low)} to {metric_text(m.name, r.high)})" if r is not None else ""
        out.append(f"{m.name} {metric_text(m.name, m.value)}{aim}")
    return out


@dataclass
class Summary:
    """Running totals for the end-of-run summary (feed it every result, in order)."""

    frames: int = 0
    with_face: int = 0
    scored: int = 0
    score_sum: float = 0.0
    best_score: float | None = None
    best_frame: int = -1
    best_t_ms: float = 0.0
    holds: int = 0
    multi_face_frames: int = 0
    hold_times: list[float] = field(default_factory=list)
    #: The last result with a face (a photo's only one).
    last_face: FrameResult | None = None
    #: Milliseconds each corrective cue was shown, by (metric, direction), then by wording.
    cue_ms: dict[tuple[str, int], dict[str, float]] = field(default_factory=dict)
    #: Milliseconds with a coached face (up to the last frame).
    face_ms: float = 0.0
    _prev: FrameResult | None = field(default=None, repr=False)
    _step_ms: float = field(default=0.0, repr=False)

    def add(self, result: FrameResult) -> None:
        self.frames += 1
        prev = self._prev
        if prev is not None:
            # The time until this frame belongs to the previous frame's cue.
            step = max(0.0, float(result.t_ms) - float(prev.t_ms))
            self._step_ms = step
            self.face_ms += self._credit(prev, step)
        self._prev = result
        if result.metrics is not None:
            self.with_face += 1
            self.last_face = result
            if result.n_faces > 1:
                self.multi_face_frames += 1
        if result.score is not None:
            s = result.score.score
            self.scored += 1
            self.score_sum += s
            if self.best_score is None or s > self.best_score:
                self.best_score, self.best_frame, self.best_t_ms = s, result.frame, result.t_ms
        if result.hold.just_completed:
            self.holds += 1
            self.hold_times.append(result.t_ms)

    def _credit(self, result: FrameResult, ms: float, into: dict | None = None) -> float:
        if result.metrics is None:
            return 0.0
        cue = result.cue
        if cue.metric and cue.text:
            by_text = (self.cue_ms if into is None else into).setdefault((cue.metric, cue.direction), {})
            by_text[cue.text] = by_text.get(cue.text, 0.0) + ms
        return ms

    def work_on(self, limit: int = 3) -> tuple[WorkOn, ...]:
        """The cues that held longest (the last frame counts for one frame step), at most
        ``limit``, longest first: what to work on."""
        totals = {key: dict(texts) for key, texts in self.cue_ms.items()}
        face_ms = self.face_ms
        if self._prev is not None:
            face_ms += self._credit(self._prev, self._step_ms, totals)
        ranked = sorted(totals.items(), key=lambda kv: sum(kv[1].values()), reverse=True)
        out = []
        for (metric, direction), texts in ranked[:limit]:
            ms = sum(texts.values())
            if ms <= 0.0:
                continue
            text = max(texts.items(), key=lambda kv: kv[1])[0]
            out.append(WorkOn(text, metric, direction, ms / 1000.0, min(1.0, ms / face_ms) if face_ms > 0 else 0.0))
        return tuple(out)

    def lines(self, target: Target, is_image: bool) -> list[str]:
        """The summary a person reads after ``posecoach analyze``: frames, face, score, holds,
        and what to change (a photo: the one cue and the metrics that miss their range; a
        video: the cues that held longest)."""
        pct = 100.0 * self.with_face / self.frames if self.frames else 0.0
        out = [f"target: {target.title}", f"frames: {self.frames}, with a face: {self.with_face} ({pct:.0f}%)"]
        if not self.with_face:
            out.append("no face found: check the lighting and that the face is in the frame")
            return out
        if self.best_score is None:
            out.append("score: none (the face is covered: not scored)")
        elif is_image:
            out.append(f"score: {self.best_score:.0f}/100")
        else:
            mean = self.score_sum / self.scored
            out.append(
                f"score: mean {mean:.0f}/100, best {self.best_score:.0f}/100 "
                f"at {self.best_t_ms / 1000:.2f} s (frame {self.best_frame})"
            )
            when = ", ".join(f"{t / 1000:.1f} s" for t in self.hold_times[:10])
            out.append(f"holds: {self.holds}" + (f" (at {when})" if self.holds else ""))
        if self.multi_face_frames:
            out.append(f"several faces in {self.multi_face_frames} frames: the largest was coached")
        if is_image and self.last_face is not None:
            cue = self.last_face.cue
            out.append(f"to change: {cue.text}" if cue.metric and cue.text else "to change: nothing, the look is there")
            missed = misses(self.last_face, target)
            if missed:
                out.append("off target: " + ", ".join(missed))
        elif not is_image:
            cues = self.work_on()
            if cues:
                out.append("cues that held longest: " + ", ".join(f'"{w.cue}" {w.seconds:.1f} s' for w in cues))
            else:
                out.append("cues that held longest: none, the look held throughout")
        return out


# -- calibration -------------------------------------------------------------------------------
def phase_line(stats: PhaseStats, window: Window | None = None) -> str:
    """One line on what a calibration phase measured (frames, face, light, its key numbers)."""
    m = stats.median
    where = f" ({window})" if window is not None else ""
    light = f", brightness {stats.luma:.0f}/255" if stats.luma is not None else ""
    head = (
        f"{stats.phase + ':':<8} {stats.frames} frames{where}, "
        f"face in {stats.with_face} ({stats.face_fraction:.0%}){light}"
    )
    if stats.phase == "neutral":
        return (
            f"{head}; yaw {m['yaw']:+.1f}°, pitch {m['pitch']:+.1f}°, roll {m['roll']:+.1f}°, "
            f"smile {m['smile']:.2f}, eyes {m['eye_open_left']:.2f}/{m['eye_open_right']:.2f}"
        )
    if stats.phase == "smile":
        return f"{head}; smile {m['smile']:.2f}"
    return f"{head}; eyes {m['eye_open_left']:.2f}/{m['eye_open_right']:.2f}"


def calibration_lines(
    profile: CalibrationProfile, stats: Iterable[PhaseStats], windows: Mapping[str, Window] | None = None
) -> list[str]:
    """What a calibration measured, phase by phase (with each phase's time window in a video
    when given), and what it learned."""
    lines = [phase_line(st, windows[st.phase] if windows else None) for st in stats]
    if not profile.closed_measured:
        lines.append("closed:  skipped; closed eyes default to a fraction of open")
    return lines + [f"  {line}" for line in profile.summary_lines()]


def before_after_medians(
    profile: CalibrationProfile, observations: Iterable[Metrics | FrameResult | None]
) -> dict[str, tuple[float, float]]:
    """``metric -> (uncalibrated, calibrated)``: the medians over the observations with a face.

    Observations are raw metrics (or FrameResults, whose ``raw_metrics`` are used); the
    metrics are :data:`~posecoach.calibration.BEFORE_AFTER_METRICS` (angles in degrees, the
    rest 0..1). Empty when no observation has a face.
    """
    raws = [o.raw_metrics if isinstance(o, FrameResult) else o for o in observations]
    rows = [profile.before_after(m) for m in raws if isinstance(m, Metrics)]
    if not rows:
        return {}
    names = [name for name, _, _ in rows[0]]
    values = np.array([[(b, a) for _, b, a in row] for row in rows], dtype=np.float64)
    med = np.median(values, axis=0)
    return {name: (float(med[i, 0]), float(med[i, 1])) for i, name in enumerate(names)}


# -- a session ---------------------------------------------------------------------------------
def no_face_seconds(timeline: tuple[tuple[float, float | None], ...]) -> float:
    """How long (s) the newest stretch of the timeline has had no coached face."""
    if not timeline or timeline[-1][1] is not None:
        return 0.0
    end = timeline[-1][0]
    start = end
    for t, score in reversed(timeline):
        if score is not None:
            break
        start = t
    return (end - start) / 1000.0


# -- the best holds as files -------------------------------------------------------------------
def capture_name(capture: Capture, index: int) -> str:
    """A file name for one capture: ``hold-01-corporate_headshot-87.jpg``."""
    return f"hold-{index:02d}-{capture.target}-{capture.score:.0f}.jpg"


def capture_jpeg(capture: Capture, *, quality: int | None = None, max_side: int | None = None) -> bytes:
    """The capture (raw, un-mirrored frame) as JPEG bytes: the JPEG it is stored as, untouched
    (no second encoding, no further loss), unless a thumbnail is asked for (``max_side``
    and/or another ``quality``)."""
    if quality is None and max_side is None:
        return capture.jpeg
    image = capture.image
    if max_side is not None and max(image.shape[:2]) > max_side:
        scale = max_side / max(image.shape[:2])
        image = cv2.resize(image, (round(image.shape[1] * scale), round(image.shape[0] * scale)), interpolation=cv2.INTER_AREA)
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality or 92])
    if not ok:
        raise ValueError("JPEG encoding failed")
    return buf.tobytes()


def capture_record(capture: Capture, index: int) -> dict[str, Any]:
    """Score and metrics of one capture, as JSON-ready values."""
    metrics = {name: round(capture.metrics.value(name), 4) for name in TARGET_METRICS}
    metrics["eyes"] = capture.metrics.eyes.value
    return {
        "file": capture_name(capture, index),
        "target": capture.target,
        "score": round(capture.score, 1),
        "t_ms": round(float(capture.t_ms), 1),
        "frame": capture.frame,
        "metrics": metrics,
    }


def captures_zip(captures: tuple[Capture, ...]) -> bytes:
    """All captures as JPEGs plus ``captures.json`` (scores and metrics), zipped in memory."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        records = []
        for i, capture in enumerate(captures, 1):
            z.writestr(capture_name(capture, i), capture_jpeg(capture))
            records.append(capture_record(capture, i))
        z.writestr("captures.json", json.dumps(records, indent=1))
    return buf.getvalue()
