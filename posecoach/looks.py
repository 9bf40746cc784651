"""A target from a look a person likes: measured on a photo (or their own live view), with
tolerances a person can hit.

The flow (one home, used by ``posecoach target from-photo`` and the app):

1. :func:`measure_photo` / :func:`measure_photo_bytes` coach the photo through the core's
   photo flow (:func:`posecoach.runs.run_source` / :class:`~posecoach.runs.PhotoCoach`) and
   :func:`look_from_result` checks it can be a target: one face, large enough, not turned
   too far, eyes open, nothing covering it (:class:`LookRefused` says why in one line).
   :func:`look_from_live` takes the live coach's latest result instead.
2. :func:`draft_target` makes the target: every metric of :data:`LOOK_METRICS` gets a range
   centred on the measured value (or on a value the person adjusted), half-width
   ``BAND_SIGMAS * spread`` and tolerance ``TOLERANCE_SIGMAS * spread``, where the spread
   combines the measurement's noise and a person's repeatability (:data:`SPREAD`). Weights,
   hold time, threshold, hold cue and (where the look agrees with it) cue phrasing come from
   the nearest library target: the one that scores the look highest.
3. :func:`posecoach.user_targets.save_user_target` writes it.

Framing (``face_x``, ``face_y``, ``face_height``) is never part of such a target: a photo's
crop says nothing about where a person sits in front of their webcam.
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from posecoach.geometry import plausible_geometry
from posecoach.results import EyeState, FrameResult, Metrics
from posecoach.scoring import score_metrics
from posecoach.targets import METRIC_DOMAIN, CueOverride, MetricRange, Target

#: The metrics a target made from a look constrains (expression and head pose).
LOOK_METRICS: tuple[str, ...] = (
    "yaw", "pitch", "roll", "smile", "mouth_open", "eye_open", "squinch", "genuine_smile", "gaze_on_lens", "brow_raise",
)  # fmt: skip
ANGLES = ("yaw", "pitch", "roll")


@dataclass(frozen=True)
class Spread:
    """How far a metric's value can honestly move for the same look (its unit: degrees or 0..1).

    ``photo``: the reading's noise on a photo: the standard deviation over perturbed copies
    of real photos. ``live``: the frame-to-frame noise of a still face on a webcam.
    ``person``: how closely a person re-creates a look (their repeatability).
    """

    photo: float
    live: float
    person: float

    @property
    def total(self) -> float:
        """The three combined as independent errors (root of the sum of squares)."""
        return math.sqrt(self.photo**2 + self.live**2 + self.person**2)


# How these were measured (reproduce: .venv/bin/python benchmarks/look_noise.py, ~1 min):
# * photo: 40 GENKI-4K training faces (64 px crops prepared as the truth harness does: 4x,
#   grey border) in 12 perturbed copies each: scale 0.7-1.3, rotation +-4 degrees (subtracted
#   from roll), shift +-4 %, brightness x0.8-1.2 +-20, Gaussian noise sd 3, JPEG quality 55-95.
#   Root mean square of the per-face standard deviations. The three full-size photos of
#   ../shared/media read the same or less (yaw 1.1, pitch 1.2, smile 0.008, eye_open 0.015).
#   gaze_on_lens is the exception: median 0.000 but rms 0.16, from a few faces near the 0.6
#   edge of the reading, which swing on or off the lens whatever is done; 0.05 is used, so
#   those few do not widen every target's gaze band by +-0.25.
# * live: single_face.mp4 in VIDEO mode, the standard deviation over its steady segments
#   (frames 2-17 relaxed, 32-68 a held broad smile), the larger of the two.
# * person: a person re-creating a look, from what is known: re-adopting a natural head
#   position has a standard deviation of about 2-3 degrees (cephalometric studies of natural
#   head position: ~2 degrees within a session), a turn held at a mirror about 3; a posed
#   expression comes back within about a millimetre at the lip corners and lids, which on
#   these scales (smile 0..1 spans ~15 % of the eye distance of corner lift; eye_open 0..1
#   spans ~36 % of the eye width) is 0.05-0.08.
# The bands that come out (smile +-0.10, tolerance 0.14; yaw +-4.9 degrees, tolerance 6.5) are
# about the widths the library's hand-made looks use.
SPREAD: Mapping[str, Spread] = {
    "yaw": Spread(photo=1.21, live=0.34, person=3.0),
    "pitch": Spread(photo=1.27, live=0.43, person=3.0),
    "roll": Spread(photo=0.35, live=0.24, person=2.0),
    "smile": Spread(photo=0.027, live=0.021, person=0.06),
    "mouth_open": Spread(photo=0.035, live=0.015, person=0.05),
    "eye_open": Spread(photo=0.028, live=0.013, person=0.06),
    "squinch": Spread(photo=0.039, live=0.032, person=0.08),
    "genuine_smile": Spread(photo=0.025, live=0.026, person=0.08),
    "gaze_on_lens": Spread(photo=0.050, live=0.015, person=0.08),
    "brow_raise": Spread(photo=0.041, live=0.054, person=0.08),
}
#: The ideal band is the centre +- this many spreads: a person who re-creates the look is
#: inside it about 87 % of the time (a normal error), so holding it is possible.
BAND_SIGMAS = 1.5
#: Outside the band the metric's score falls to 0 across this many spreads.
TOLERANCE_SIGMAS = 2.0
#: Single-camera head pose is good to about +-5 degrees: no angle tolerance below it.
MIN_ANGLE_TOLERANCE = 5.0
#: A metric the nearest library look does not constrain still counts, lightly.
EXTRA_WEIGHT = 0.5
#: A blink is never a hold: eye_open always weighs at least this much (as in the library).
EYE_OPEN_WEIGHT = 1.5
#: Weights at or above this define a look (the library's convention).
DEFINING_WEIGHT = 1.5
MAX_THRESHOLD = 95.0

# -- what a photo must be ----------------------------------------------------------------------
#: Fewer pixels between the eyes than this and the eye readings drift: downscaling three real
#: photos, eye_open and squinch stayed within 0.11 of full size down to 22 px and moved
#: 0.12-0.67 at 14-18 px (gaze flipped at 14).
MIN_INTEROCULAR_PX = 24.0
#: Beyond these the readings are not a look a person can copy: MediaPipe under-reads strong
#: turns (GENKI faces labelled 42-46 degrees read 24-32) and the far eye's aperture collapses.
MAX_ABS_ANGLE: Mapping[str, float] = {"yaw": 40.0, "pitch": 30.0, "roll": 40.0}


#: What to do about a refused photo, and about a refused live frame.
_PHOTO_ADVICE = {
    "unclear": "choose a clearer photo",
    "none": "choose a photo where one face is clearly visible",
    "several": "crop the photo to the one face whose look you want",
    "small": "use a larger photo or crop closer to the face",
    "angle": "choose a photo closer to facing the camera",
    "closed": "choose a photo with open eyes",
    "covered": "choose a photo where the whole face shows",
}
_LIVE_ADVICE = {
    "unclear": "face the camera in good light",
    "none": "press START and face the camera",
    "several": "be alone in the frame",
    "small": "come closer to the camera",
    "angle": "face the camera more",
    "closed": "open your eyes and save again",
    "covered": "uncover your face",
}


class LookRefused(ValueError):
    """A photo (or a live frame) that cannot become a target; the message is one line."""

    def __init__(self, source: str, reason: str) -> None:
        self.source = source
        self.reason = reason
        super().__init__(f"{source}: {reason}" if source else reason)


@dataclass(frozen=True)
class MeasuredLook:
    """A look measured once: ``values`` of :data:`LOOK_METRICS` (degrees, 0..1), the full
    ``metrics`` they came from, where from (``source``: a file name or "the live view") and
    the eye distance in pixels (None when not measured)."""

    values: Mapping[str, float]
    metrics: Metrics
    source: str
    interocular_px: float | None = None
    from_photo: bool = True
    profile: str | None = None


def look_from_result(result: FrameResult | None, source: str, *, from_photo: bool = True,
                     profile: str | None = None, shown_as: str | None = None) -> MeasuredLook:  # fmt: skip
    """Check that a coached frame can be a target and take its look.

    ``source`` names it in refusals (a path as typed); ``shown_as`` in the target's title and
    description (default: ``source``).

    A photo's look is its raw (uncalibrated) metrics, on the scale that means the same for
    everyone; a live look is what the coach saw (calibrated for ``profile`` if any, smoothed).

    Raises:
        LookRefused: no face, several faces, a tiny face, an extreme angle, closed eyes or a
            covered face (the reason names it and what to do).
    """
    def refuse(problem: str, key: str) -> LookRefused:
        return LookRefused(source, f"{problem}: {(_PHOTO_ADVICE if from_photo else _LIVE_ADVICE)[key]}")

    if result is None or not result.has_face:
        if result is not None and result.n_faces:
            raise refuse("the face found does not look like a real face", "unclear")
        raise refuse("no face found", "none")
    if result.n_faces > 1:
        raise refuse(f"{result.n_faces} faces found", "several")
    geom = plausible_geometry(result.face)
    io = geom.interocular_px if geom is not None else None
    if io is not None and io < MIN_INTEROCULAR_PX:
        raise refuse(f"the face is too small ({io:.0f} px between the eyes, at least {MIN_INTEROCULAR_PX:.0f} needed)",
                     "small")  # fmt: skip
    metrics = result.raw_metrics if from_photo else result.metrics
    assert metrics is not None  # has_face
    for angle, limit in MAX_ABS_ANGLE.items():
        v = metrics.value(angle)
        if abs(v) > limit:
            what = {"yaw": "turned", "pitch": "tipped up or down", "roll": "tilted"}[angle]
            raise refuse(f"the head is {what} {abs(v):.0f} degrees (at most {limit:.0f}): the readings are not "
                         "reliable that far", "angle")  # fmt: skip
    if metrics.eyes is EyeState.CLOSED:
        raise refuse("the eyes are closed (a blink)", "closed")
    if result.occluded:
        parts = " and ".join(result.occluded)
        raise refuse(f"the {parts} {'is' if len(result.occluded) == 1 else 'are'} covered", "covered")
    values = {m: metrics.value(m) for m in LOOK_METRICS}
    return MeasuredLook(values, metrics, shown_as or source, io, from_photo, profile)


def look_from_live(result: FrameResult | None, profile: str | None = None) -> MeasuredLook:
    """The live coach's latest result as a look (see :func:`look_from_result`)."""
    return look_from_result(result, "the live view", from_photo=False, profile=profile)


# -- measuring a photo (the core's photo flow) ---------------------------------------------------
#: The photo flow needs a target to coach against; measuring uses only the metrics.
_MEASURE = Target("measure", "Measure", "", (MetricRange("smile", 0.0, 1.0, 0.1),))


def measure_photo(path: str | os.PathLike[str], *, model: str | None = None, verbose: bool = False) -> MeasuredLook:
    """Measure a photo file through :func:`posecoach.runs.run_source`.

    Raises:
        SourceError: not a photo posecoach can read.
        LookRefused: a video, or a photo that cannot be a target.
        ModelError: the model is missing or broken.
    """
    from posecoach.runs import CoachSettings, run_source
    from posecoach.sources import open_source

    name = os.fspath(path)
    source = open_source(path)
    with contextlib.closing(source):
        if not source.is_image:
            raise LookRefused(name, "is a video: a target is made from a photo (a still image)")
        run = run_source(source, _MEASURE, CoachSettings(_MEASURE.name), model=model, verbose=verbose)
    return look_from_result(run.session.snapshot().result, name, shown_as=Path(name).name)


def measure_photo_bytes(data: bytes, name: str, coach: object) -> tuple[MeasuredLook, object]:
    """Measure an uploaded photo with a page's :class:`~posecoach.runs.PhotoCoach`; returns the
    look and the :class:`~posecoach.runs.PhotoRun` (its annotated preview).

    Raises:
        SourceError: not a photo posecoach can read.
        LookRefused: a photo that cannot be a target.
    """
    from posecoach.runs import CoachSettings

    run = coach.run(data, name, _MEASURE, CoachSettings(_MEASURE.name))  # type: ignore[attr-defined]
    return look_from_result(run.result, name), run


# -- making the target ---------------------------------------------------------------------------
def look_metrics(values: Mapping[str, float], base: Metrics) -> Metrics:
    """``base`` with the look's values in (``eye_open`` sets both eyes)."""
    changes: dict[str, float] = {k: v for k, v in values.items() if k != "eye_open"}
    if "eye_open" in values:
        changes["eye_open_left"] = changes["eye_open_right"] = values["eye_open"]
    return base.replace(**changes)


def nearest_library_target(metrics: Metrics, library: Mapping[str, Target]) -> tuple[Target, float]:
    """The library target that scores ``metrics`` highest, and that score.

    Several looks often score a face 100 (it is inside all their ranges); among equal scores
    (to 0.1) the one whose range middles are closest wins: the weighted mean of each
    metric's distance from its range's middle over (half the range + the tolerance).
    """

    def closeness(name: str) -> tuple[float, float, str]:
        t = library[name]
        far = total = 0.0
        for r in t.ranges:
            half = 0.5 * (r.high - r.low) + r.tolerance
            far += r.weight * ((metrics.value(r.metric) - 0.5 * (r.low + r.high)) / (half or 1.0)) ** 2
            total += r.weight
        return round(score_metrics(metrics, t).score, 1), -far / (total or 1.0), name

    best = max(library, key=closeness)
    return library[best], score_metrics(metrics, library[best]).score


def band(metric: str, centre: float, ease: float = 1.0) -> MetricRange:
    """The range for ``metric`` centred on ``centre`` (weight 1); ``ease`` > 1 widens it."""
    s = SPREAD[metric].total * ease
    lo, hi = METRIC_DOMAIN[metric]
    tol = TOLERANCE_SIGMAS * s
    if metric in ANGLES:
        tol = max(tol, MIN_ANGLE_TOLERANCE)
    c = min(hi, max(lo, centre))
    return MetricRange(metric, max(lo, c - BAND_SIGMAS * s), min(hi, c + BAND_SIGMAS * s), min(tol, hi - lo))


def describe(values: Mapping[str, float]) -> str:
    """The look in a few words a client understands ("a big smile with teeth, a squinch, ...")."""
    s, mouth = values.get("smile", 0.0), values.get("mouth_open", 0.0)
    if s < 0.2:
        parts = ["no smile" + (", lips apart" if mouth >= 0.15 else "")]
    else:
        kind = "a hint of a smile" if s < 0.35 else "a soft smile" if s < 0.65 else "a clear smile" if s < 0.85 else "a big smile"
        parts = [kind + (" with teeth" if mouth >= 0.15 else ", lips closed")]
    if values.get("squinch", 0.0) >= 0.45:
        parts.append("a squinch")
    parts.append("eyes on the lens" if values.get("gaze_on_lens", 0.0) >= 0.6 else "eyes off the lens")
    yaw = values.get("yaw", 0.0)
    if abs(yaw) < 5:
        parts.append("facing the camera")
    else:  # yaw > 0: the nose toward the raw image's right = the subject's own left
        parts.append(f"head turned {abs(yaw):.0f}° to the {'left' if yaw > 0 else 'right'}")
    pitch = values.get("pitch", 0.0)
    if pitch <= -4:
        parts.append("chin down")
    elif pitch >= 4:
        parts.append("chin up")
    return ", ".join(parts)


@dataclass(frozen=True)
class DraftTarget:
    """A target made from a look, not saved yet: the :class:`Target`, the nearest library
    target it inherits from (``nearest``, with the score the look gets there), the look
    itself, the centres used (measured or adjusted) and a header ``comment`` for its file."""

    target: Target
    nearest: Target
    nearest_score: float
    look: MeasuredLook
    centres: Mapping[str, float]
    comment: str = field(default="", repr=False)

    def lines(self) -> list[str]:
        """What was measured and the ranges made of it, one metric per line."""
        out = [f"measured on {self.look.source}: {describe(self.look.values)}"]
        for r in self.target.ranges:
            unit = "°" if r.metric in ANGLES else ""
            fmt = "{:+.1f}" if r.metric in ANGLES else "{:.2f}"
            measured = fmt.format(self.look.values[r.metric])
            adjusted = "" if math.isclose(self.centres[r.metric], self.look.values[r.metric], abs_tol=1e-9) else (
                f" -> {fmt.format(self.centres[r.metric])}")  # fmt: skip
            out.append(
                f"  {r.metric:<14} {measured}{unit}{adjusted}  range {fmt.format(r.low)}..{fmt.format(r.high)}{unit}"
                f"  tolerance {r.tolerance:.2f}  weight {r.weight:g}"
            )
        out.append(f"closest library look: {self.nearest.title} ({self.nearest.name}, scores it {self.nearest_score:.0f})")
        out.append(f"hold {self.target.hold_s:g} s at a score of {self.target.threshold:.0f} or more")
        return out


def draft_target(
    look: MeasuredLook,
    name: str,
    library: Mapping[str, Target],
    *,
    centres: Mapping[str, float] | None = None,
    ease: float = 1.0,
    title: str | None = None,
    today: date | None = None,
) -> DraftTarget:
    """Make a target named ``name`` from ``look``.

    ``centres``: values the person adjusted (by metric; the rest stay as measured).
    ``ease``: > 1 widens every band and tolerance (easier), < 1 narrows them.
    ``library``: the library targets (the nearest one lends weights, hold, threshold, cues).
    The name is not checked here (see :func:`posecoach.user_targets.check_name`).
    """
    if not (ease > 0 and math.isfinite(ease)):
        raise ValueError(f"ease: expected a finite number > 0, got {ease!r}")
    chosen = {m: float((centres or {}).get(m, look.values[m])) for m in LOOK_METRICS}
    metrics = look_metrics(chosen, look.metrics)
    nearest, nearest_score = nearest_library_target(metrics, library)
    ranges = []
    for m in LOOK_METRICS:
        r = band(m, chosen[m], ease)
        theirs = nearest.range(m)
        weight = theirs.weight if theirs is not None else EXTRA_WEIGHT
        if m == "eye_open":
            weight = max(weight, EYE_OPEN_WEIGHT)
        ranges.append(MetricRange(m, round(r.low, 4), round(r.high, 4), round(r.tolerance, 4), weight))
    cues = tuple(
        CueOverride(c.metric, c.up, c.down)
        for c in nearest.cues
        # A genre's phrasing fits only where the look agrees with the genre on that metric.
        if c.metric in chosen and (r := nearest.range(c.metric)) is not None and r.low <= chosen[c.metric] <= r.high
    )
    total = sum(r.weight for r in ranges)
    lightest_defining = min(r.weight for r in ranges if r.weight >= DEFINING_WEIGHT)
    # The library's convention: missing any one defining metric completely keeps the score
    # below the threshold (so a look without its smile, or with a blink, is never a hold).
    needed = math.floor(100.0 * (1.0 - lightest_defining / total)) + 1.0
    threshold = min(MAX_THRESHOLD, max(nearest.threshold, needed))
    when = (today or date.today()).isoformat()
    words = describe(chosen)
    if look.from_photo:
        origin = f"photo {look.source}"
        title_text = title or f"{_pretty(name)} (from {_short(look.source)})"
    else:
        origin = "the live view" + (f", calibrated for {look.profile}" if look.profile else "")
        title_text = title or f"{_pretty(name)} (my look, {when})"
    description = f"Made from {_short(origin, 60)} on {when}: {words}. Closest library look: {nearest.title}."
    target = Target(
        name=name,
        title=title_text.strip()[:80],
        description=description,
        ranges=tuple(ranges),
        hold_s=nearest.hold_s,
        threshold=float(threshold),
        cues=cues,
        hold_cue=nearest.hold_cue,
        max_ratio_stops=nearest.max_ratio_stops,
    )
    comment = (
        f"Made by posecoach from {origin} on {when}.\n"
        f"Ranges are centred on the measured values; half-width {BAND_SIGMAS:g} and tolerance "
        f"{TOLERANCE_SIGMAS:g} spreads (measurement noise + a person's repeatability), ease {ease:g}.\n"
        f"Weights, hold, threshold and cues come from the closest library look, {nearest.name}.\n"
        "Edit it like any target file; `posecoach target delete NAME` removes it."
    )
    return DraftTarget(target, nearest, nearest_score, look, chosen, comment)


def _pretty(name: str) -> str:
    return name.replace("_", " ").replace("-", " ").strip().capitalize() or name


def _short(text: str, n: int = 40) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"
