"""One frame in, one :class:`FrameResult` out.

detector -> metrics -> plausibility/persistence -> calibration -> smoothing -> scoring ->
coaching -> hold. The stages downstream of the detector live in :meth:`Pipeline.process_face`
so they can be tested with synthetic :class:`FaceFrame` values and no model.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from posecoach.coaching import Coach, HoldTracker
from posecoach.detector import FaceTracker
from posecoach.lighting import LightCoach, classify, light_cue, read_light
from posecoach.metrics import compute_metrics, plausible_geometry
from posecoach.occlusion import occlusion
from posecoach.results import Cue, EyeState, FaceFrame, FrameResult, Lighting, LightReading, Metrics
from posecoach.scoring import score_metrics
from posecoach.smoothing import MetricsSmoother, NoSmoother
from posecoach.targets import Target
from posecoach.timing import StageTimer


class MetricsCalibration(Protocol):
    """A person's calibration: maps raw metrics to metrics relative to their own face."""

    def apply(self, metrics: Metrics) -> Metrics: ...


@dataclass(frozen=True)
class PipelineOptions:
    """How the per-frame loop behaves.

    Attributes:
        strictness: >1 narrows every tolerance (harder), <1 widens it.
        hold_s: seconds the score must stay at or above the threshold; None = the target's.
        smoothing: One Euro smoothing of the metrics (off for single photos and tests).
        min_face_frames: frames a face must persist before it is coached when it appears
            mid-stream: MediaPipe sometimes "finds" a face for a frame or two in a cartoon
            (a cut, a title). A face in the stream's first frame is coached at once, as in a
            photo: nothing came before it to flicker from, and a clip shorter than this (one
            frame) must still report its face. A face the caller saw last to the stream's end
            (``process_face(..., persists=True)``, the file loop looking ahead) is coached
            too: the end of a clip cannot hide it. 1 for single photos.
        blink_ms: a dip below the hold threshold shorter than this (a blink) keeps the hold.
        occlusion_every: look for a covered mouth or eyes every this many frames (a hand
            takes longer than that to come up; the finding holds in between). 0 = never.
        light_every: read the light on the face every this many frames (light changes
            slowly; the reading holds in between). 0 = never.
        light_persist_ms: how long a light problem lasts before it is said (see
            :class:`~posecoach.lighting.LightCoach`); 0 for single photos.
    """

    strictness: float = 1.0
    hold_s: float | None = None
    smoothing: bool = True
    min_face_frames: int = 3
    blink_ms: float = 250.0
    occlusion_every: int = 3
    light_every: int = 10
    light_persist_ms: float = 2000.0


class Pipeline:
    """The coaching loop for one person and one target.

    Args:
        target: the look being practised.
        tracker: a :class:`FaceTracker` (owned by the caller); None for :meth:`process_face` only.
        profile: the person's calibration, or None to coach uncalibrated.
        options: :class:`PipelineOptions`.
        timer: collects per-stage timings when given (``--timings``).
    """

    def __init__(
        self,
        target: Target,
        tracker: FaceTracker | None = None,
        *,
        profile: MetricsCalibration | None = None,
        options: PipelineOptions = PipelineOptions(),
        timer: StageTimer | None = None,
    ) -> None:
        self.tracker = tracker
        self.profile = profile
        self.options = options
        self.timer = timer
        self._frame = 0
        self._face_run = 0
        self._stream_start = 0  # index of the first frame since the last reset
        self._run_from_start = False  # the current face run began on the stream's first frame
        self._occluded: tuple[str, ...] = ()
        self._occlusion_due = 0  # frames until the next look for a covered mouth or eyes
        self._light: tuple[LightReading | None, Lighting | None, str] | None = None  # reading, verdict, cue
        self._light_due = 0  # frames until the next light reading
        self._light_coach = LightCoach(persist_ms=options.light_persist_ms)
        self.target = target
        self._smoother = MetricsSmoother() if options.smoothing else NoSmoother()
        self._coach = Coach(target)
        self._hold = self._hold_tracker(target)

    def _hold_tracker(self, target: Target) -> HoldTracker:
        hold_s = self.options.hold_s if self.options.hold_s is not None else target.hold_s
        return HoldTracker(target.threshold, hold_s, dip_ms=self.options.blink_ms)

    def reset(self) -> None:
        """Forget the face (smoothing, persistence, cue, hold progress); keep the target."""
        self._face_run = 0
        self._stream_start = self._frame
        self._occluded, self._occlusion_due = (), 0
        self._light, self._light_due = None, 0
        self._light_coach.reset()
        self._smoother.reset()
        self._coach.reset()
        self._hold.reset()

    def process(self, image: np.ndarray, t_ms: float | None = None, *, bgr: bool = True) -> FrameResult:
        """Run the whole loop on one raw (un-mirrored) frame."""
        return self.process_face(self.detect(image, t_ms, bgr=bgr), image if bgr else None)

    def detect(self, image: np.ndarray, t_ms: float | None = None, *, bgr: bool = True) -> FaceFrame:
        """The tracker's observation of one raw frame (timed as preprocess and inference)."""
        if self.tracker is None:
            raise RuntimeError("Pipeline.process needs a tracker; use process_face for FaceFrames")
        timer = self.timer
        if timer is None:
            return self.tracker.process(image, t_ms, bgr=bgr)
        t0 = time.perf_counter()
        rgb = self.tracker.prepare(image, bgr=bgr)
        t1 = time.perf_counter()
        face = self.tracker.infer(rgb, (image.shape[1], image.shape[0]), t_ms)
        timer.add("preprocess", t1 - t0)
        timer.add("inference", time.perf_counter() - t1)
        return face

    @staticmethod
    def coachable(face: FaceFrame) -> bool:
        """True when ``face`` holds a face the loop would coach once it persists (plausible
        geometry): what a caller looking ahead checks."""
        return face.has_face and plausible_geometry(face) is not None

    def _read_light(
        self, coached: bool, face: FaceFrame, image: np.ndarray | None
    ) -> tuple[LightReading | None, Lighting | None, str]:
        """The light on a coached face, its verdict and what to do about it: read every
        ``light_every`` frames, held in between."""
        every = self.options.light_every
        if not coached or image is None or every <= 0:
            self._light, self._light_due = None, 0
            return None, None, ""
        if self._light_due <= 0 or self._light is None:
            reading = read_light(image, face)
            verdict = classify(reading, self.target.max_ratio_stops)
            cue = light_cue(reading, verdict) if reading is not None and verdict is not None else ""
            self._light, self._light_due = (reading, verdict, cue), every
        self._light_due -= 1
        return self._light

    def process_face(self, face: FaceFrame, image: np.ndarray | None = None, *, persists: bool = False) -> FrameResult:
        """Everything downstream of the detector, for one observation.

        ``image``: the raw BGR frame the face was tracked in, to look for a covered mouth or
        eyes (see :mod:`posecoach.occlusion`); None skips that check. ``persists``: the caller
        has seen this face in every frame from here to the end of the stream, which ends
        before ``min_face_frames`` could be reached: coach it (see :class:`PipelineOptions`).
        """
        timer = self.timer
        t0 = time.perf_counter() if timer else 0.0
        index = self._frame
        self._frame += 1
        geom = plausible_geometry(face) if face.has_face else None
        raw = compute_metrics(face, geom) if geom is not None else None
        self._face_run = self._face_run + 1 if raw is not None else 0
        if self._face_run == 1:
            self._run_from_start = index == self._stream_start
        if self._face_run < self.options.min_face_frames and not (self._run_from_start or persists):
            raw = None
        every = self.options.occlusion_every
        if raw is None or image is None or every <= 0:
            self._occluded, self._occlusion_due = (), 0
        elif self._occlusion_due <= 0:  # a face just coached is checked at once
            self._occluded, self._occlusion_due = occlusion(image, face, raw.eyes is EyeState.OPEN), every
        self._occlusion_due -= 1
        light, lighting, light_problem = self._read_light(raw is not None, face, image)
        calibrated = self.profile.apply(raw) if (raw is not None and self.profile is not None) else raw
        metrics = self._smoother.update(calibrated, face.t_ms)
        if self._occluded and metrics is not None:
            # Hidden parts are guessed by the tracker: never scored, held or kept as a best frame.
            score = None
            cue = self._coach.hidden(face.t_ms, self._occluded)
            hold = self._hold.update(None, face.t_ms)
        else:
            score = score_metrics(metrics, self.target, self.options.strictness) if metrics is not None else None
            cue = self._coach.update(score, face.t_ms)
            hold = self._hold.update(score.score if score is not None else None, face.t_ms)
            if light is not None:
                said = self._light_coach.update(light_problem, face.t_ms)
                # The light before expression details; "Hold it there" is not interrupted.
                if said and (cue.metric or not cue):
                    cue = Cue(said, "light")
        if raw is None and face.has_face:
            # An implausible or not-yet-persistent face is not coached and not reported.
            face = FaceFrame.empty(face.image_wh, face.t_ms)
        result = FrameResult(
            index, face.t_ms, face, metrics, raw, score, cue, hold, self._occluded if metrics else (), light, lighting
        )
        if timer:
            timer.add("metrics+scoring+cues", time.perf_counter() - t0)
        return result
