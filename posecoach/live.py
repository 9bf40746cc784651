"""The live-stream coach the page runs, without Streamlit: frame in, annotated frame out.

:class:`LiveCoach` is one browser session's coaching: one landmarker, one
:class:`~posecoach.session.CoachSession`, and the video callback streamlit-webrtc calls on its
worker thread. The page (:mod:`posecoach.ui.camera`) only reads the plain values it hands out.

Threading: the callback runs on a worker thread, one frame at a time. The page thread only
reads :meth:`LiveCoach.stats` and the session's snapshot (both lock-guarded) and swaps in new
settings with :meth:`LiveCoach.configure` (an atomic reference swap the worker picks up on
its next frame). Nothing in the callback touches Streamlit.

Calibration: the page hands :meth:`LiveCoach.start_calibration` a
:class:`~posecoach.calibration.CalibrationRecorder`; while it runs, the callback feeds it
every frame's raw metrics (instead of coaching: no holds or captures are made of a
calibration) and draws its prompt and countdown on the picture. The page polls the
recorder's immutable ``state`` (and restarts it while the camera is stopped).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from posecoach.calibration import CalibrationRecorder, frame_luma
from posecoach.closing import tie_tracker
from posecoach.detector import FaceTracker
from posecoach.overlay import Annotator, CalibrationBand
from posecoach.results import FrameResult
from posecoach.runs import CoachSettings, open_tracker
from posecoach.session import CoachSession
from posecoach.targets import Target
from posecoach.timing import StageTimer

log = logging.getLogger(__name__)

#: A pause in the frames longer than this (STOP/START, a camera hiccup) starts the face over.
RESTART_GAP_MS = 1000.0
#: Queued camera frames coached per callback at most (older ones are skipped).
MAX_CATCH_UP = 4
#: Set (to anything) to log the callback's per-stage times every :data:`PROFILE_EVERY` frames:
#: where a frame's milliseconds go on the real page (README, "Performance").
PROFILE_ENV = "POSECOACH_LIVE_PROFILE"
PROFILE_EVERY = 300


@dataclass(frozen=True)
class LiveStats:
    """How the live loop is keeping up: frames processed, frames per second over the last
    couple of seconds, the median time per frame in milliseconds (decode + coaching +
    overlay) and of the overlay alone, and frames skipped because too many were queued."""

    frames: int = 0
    fps: float = 0.0
    process_ms: float = 0.0
    overlay_ms: float = 0.0
    skipped: int = 0


@dataclass(frozen=True)
class _View:
    """Everything the callback reads per frame, swapped as one reference."""

    session: CoachSession
    annotator: Annotator
    target: Target
    mirror: bool
    settings: CoachSettings


class LiveCoach:
    """One browser session's live coaching: one landmarker, one session, the video callback.

    Create it once per browser session (it loads the model: ~0.2 s) and pass its
    :meth:`recv_queued` as ``queued_video_frames_callback`` (or the instance itself as
    ``video_frame_callback``). It survives STOP/START: timestamps fed to MediaPipe
    are wall-clock milliseconds since creation (the browser's pts restart at every START),
    and the tracker repairs any that would not strictly increase.

    Args:
        target: the look to practise.
        settings: the controls' values.
        tracker: a VIDEO-mode tracker to use (owned by this object from now on); default a
            new one from ``$POSECOACH_MODEL`` or the bundled model.

    Raises:
        ModelError: the model file is missing or broken (message for the person).
    """

    def __init__(self, target: Target, settings: CoachSettings, *, tracker: FaceTracker | None = None) -> None:
        self.tracker = tracker if tracker is not None else open_tracker()
        # Close the landmarker when the browser session goes away.
        self._finalizer = tie_tracker(self, self.tracker)
        session = CoachSession(settings.pipeline(target, self.tracker))
        self._view = _View(session, Annotator(detail=settings.detail), target, settings.mirror, settings)
        self._calibration: CalibrationRecorder | None = None
        self._band = CalibrationBand()
        self._t0 = time.monotonic()
        self._lock = threading.Lock()
        self._frames = 0
        self._times: deque[float] = deque(maxlen=90)
        self._process_s: deque[float] = deque(maxlen=90)
        self._overlay_s: deque[float] = deque(maxlen=90)
        self._last_t_ms = -1e18
        self._errors = 0
        self._skipped = 0
        self._profile: StageTimer | None = None
        self._min_lag = float("inf")  # see _queued_s
        if os.environ.get(PROFILE_ENV):
            self._profile = session.pipeline.timer = StageTimer()
        #: Replaces the picture shown when it returns one (a drill hiding the mirror); given
        #: the picture as shown (mirrored if chosen), called on the worker thread.
        self.screen: Callable[[np.ndarray], np.ndarray | None] | None = None

    @property
    def session(self) -> CoachSession:
        return self._view.session

    @property
    def target(self) -> Target:
        return self._view.target

    def configure(self, target: Target, settings: CoachSettings) -> None:
        """Apply the controls. Only what changed is rebuilt; captures and the timeline stay.

        A new target, strictness, hold time or calibration profile gets a new pipeline (sharing the landmarker),
        swapped in by reference: the worker thread picks it up on its next frame and never
        sees a half-changed pipeline.
        """
        view = self._view
        old = view.settings
        session = view.session
        if (
            target != view.target
            or settings.strictness != old.strictness
            or settings.hold_s != old.hold_s
            or settings.profile != old.profile
        ):
            session.pipeline = settings.pipeline(target, self.tracker, timer=self._profile)
        annotator = view.annotator if settings.detail == old.detail else Annotator(detail=settings.detail)
        self._view = _View(session, annotator, target, settings.mirror, settings)

    def close(self) -> None:
        if self._finalizer.detach() is not None:
            self.tracker.close()

    # -- calibration (page thread) -------------------------------------------------------
    def start_calibration(self, recorder: CalibrationRecorder) -> CalibrationRecorder:
        """Feed the coming frames to ``recorder`` (a new one, or restarted) until it finishes.

        While it runs, frames are measured but not coached: no score timeline, holds or
        captures are made of the calibration. Returns ``recorder``.
        """
        self._calibration = recorder
        return recorder

    def stop_calibration(self) -> None:
        """Forget the calibration (finished or not); the next frame is coached again."""
        self._calibration = None

    @property
    def calibration(self) -> CalibrationRecorder | None:
        """The recorder handed to :meth:`start_calibration` (until :meth:`stop_calibration`)."""
        return self._calibration

    @property
    def calibrating(self) -> bool:
        """True while a calibration is recording (the callback feeds it instead of coaching)."""
        cal = self._calibration
        return cal is not None and not cal.state.finished

    # -- worker thread -----------------------------------------------------------------
    async def recv_queued(self, frames: list[Any]) -> list[Any]:
        """streamlit-webrtc's ``queued_video_frames_callback``.

        Every frame that arrived since the last call is coached, so scores, holds and the
        timeline run at the camera's rate even when frames arrive in bursts (the plain
        ``video_frame_callback`` silently keeps only the newest of a burst). Only the newest
        is annotated and sent back. Past :data:`MAX_CATCH_UP` queued frames the oldest are
        skipped, so a slow machine falls behind in rate, not in latency.
        """
        if self._profile is not None:
            self._profile.add("batch", len(frames) / 1000.0)  # shown as frames per call
            self._profile.add("queued", self._queued_s(frames[0]))
        if len(frames) > MAX_CATCH_UP:
            with self._lock:
                self._skipped += len(frames) - MAX_CATCH_UP
            frames = frames[-MAX_CATCH_UP:]
        t0 = time.perf_counter()
        now_ms = self._now_ms()
        newest = frames[-1]
        for frame in frames[:-1]:
            # Wall-clock time, spaced by the frames' own timestamps within the burst.
            self._coach_frame(frame, now_ms - _age_ms(frame, newest), show=False)
        out = [self._coach_frame(newest, now_ms, show=True)]
        if self._profile is not None:
            self._profile.add("callback", time.perf_counter() - t0)
        return out

    def __call__(self, frame: Any) -> Any:
        """streamlit-webrtc's ``video_frame_callback``: ``av.VideoFrame`` in, annotated out."""
        return self._coach_frame(frame, self._now_ms(), show=True)

    def _now_ms(self) -> float:
        return (time.monotonic() - self._t0) * 1000.0

    def _coach_frame(self, frame: Any, t_ms: float, *, show: bool) -> Any:
        import av

        t_start = time.perf_counter()
        image = frame.to_ndarray(format="bgr24")
        prof = self._profile
        if prof is not None:
            prof.add("frame_in", time.perf_counter() - t_start)
        view = self.process_array(image, t_ms=t_ms, annotate=show, t_start=t_start)
        if not show:
            return None
        t_out = time.perf_counter()
        out = _video_frame(av, view)
        if frame.time_base is not None:
            out.pts, out.time_base = frame.pts, frame.time_base
        if prof is not None:
            prof.add("frame_out", time.perf_counter() - t_out)
            self._log_profile(prof)
        return out

    def _queued_s(self, frame: Any) -> float:
        """How much longer than the least-delayed frame so far ``frame`` took to get here (s):
        the wait in the queues before the callback (the pts clock's offset is unknown)."""
        try:
            lag = time.monotonic() - float(frame.pts * frame.time_base)
        except (TypeError, AttributeError):
            return 0.0
        self._min_lag = min(self._min_lag, lag)
        return lag - self._min_lag

    def _log_profile(self, prof: StageTimer) -> None:
        """Log the stages' medians every :data:`PROFILE_EVERY` frames, then start afresh."""
        stats = {s.stage: s for s in prof.stats()}
        if stats["frame_in"].count < PROFILE_EVERY:
            return
        parts = [f"{s.stage} {s.median_ms:.2f}/{s.p95_ms:.2f}" for s in stats.values()]
        log.info("live profile, median/p95 ms over %d frames (batch: frames per call): %s",
                 stats["frame_in"].count, ", ".join(parts))  # fmt: skip
        self._profile = self._view.session.pipeline.timer = StageTimer()

    def process_array(
        self, image: np.ndarray, *, t_ms: float | None = None, annotate: bool = True, t_start: float | None = None
    ) -> np.ndarray:
        """Coach one raw BGR frame and return the picture to show (mirrored if chosen).

        ``t_ms`` defaults to wall-clock milliseconds since this object was created.
        With ``annotate=False`` the frame is only coached and returned as it came. Never
        raises: a frame that cannot be processed is shown as it came.
        """
        t_start = time.perf_counter() if t_start is None else t_start
        v = self._view
        if t_ms is None:
            t_ms = self._now_ms()
        cal = self._calibration
        calibrating = cal is not None and not cal.state.finished
        if t_ms - self._last_t_ms > RESTART_GAP_MS:
            # A new stream (STOP/START) or a long hiccup: forget the old face's smoothing
            # and hold; keep scores, captures and the profile. A calibration under way
            # carries on (its clock jumps with the frames'); the page starts it over when the
            # person stops the camera.
            v.session.pipeline.reset()
            self._min_lag = float("inf")  # the new stream's clock has another offset
            log.info("live frames (re)started at %.1f s", t_ms / 1000.0)
        self._last_t_ms = max(self._last_t_ms, t_ms)
        t_overlay = None
        shown = image
        try:
            t_coach = time.perf_counter()
            if calibrating:
                result = self._calibrate_frame(cal, v, image, t_ms)
            else:
                result = v.session.process(image, t_ms)
            t_mirror = time.perf_counter()
            if annotate:
                shown = cv2.flip(image, 1) if (v.mirror and image.size) else image
                t_overlay = time.perf_counter()
                screen = self.screen
                cover = screen(shown) if (screen is not None and not calibrating and shown.size) else None
                if cover is not None:
                    shown = cover
                elif calibrating:
                    shown = self._band.annotate(shown, cal.state)
                elif result is not None:
                    shown = v.annotator.annotate(shown, result, mirrored=v.mirror, target=v.target)
            prof = self._profile
            if prof is not None:
                prof.add("session", t_mirror - t_coach)
                if t_overlay is not None:
                    prof.add("mirror", t_overlay - t_mirror)
                    prof.add("overlay", time.perf_counter() - t_overlay)
        except Exception:  # noqa: BLE001 - the stream must live on
            self._errors += 1
            if self._errors <= 3 or self._errors % 100 == 0:
                log.exception("live frame failed (%d so far); showing it unannotated", self._errors)
            shown = image
        t_end = time.perf_counter()
        with self._lock:
            self._frames += 1
            self._times.append(t_end)
            self._process_s.append(t_end - t_start)
            if t_overlay is not None:
                self._overlay_s.append(t_end - t_overlay)
        return shown

    @staticmethod
    def _calibrate_frame(cal: CalibrationRecorder, v: _View, image: np.ndarray, t_ms: float) -> FrameResult | None:
        """One calibration frame: measured by the pipeline (raw metrics), fed to the recorder.

        A frame that cannot be measured still advances the recorder's clock (no face).
        """
        result = None
        luma = None
        if isinstance(image, np.ndarray) and image.size:
            luma = frame_luma(image)
            try:
                result = v.session.pipeline.process(image, t_ms)
            except Exception as e:  # noqa: BLE001 - the stream must live on
                log.warning("calibration frame not measured: %s", e)
        cal.update(result, t_ms, luma=luma)
        return result

    # -- page thread -------------------------------------------------------------------
    def stats(self) -> LiveStats:
        """Frames processed so far, recent frames per second and median milliseconds."""
        with self._lock:
            frames = self._frames
            skipped = self._skipped
            times = list(self._times)
            proc = list(self._process_s)
            over = list(self._overlay_s)
        now = time.perf_counter()
        recent = [t for t in times if now - t <= 2.0]
        fps = (len(recent) - 1) / (recent[-1] - recent[0]) if len(recent) >= 2 and recent[-1] > recent[0] else 0.0
        return LiveStats(
            frames=frames,
            fps=fps,
            process_ms=float(np.median(proc)) * 1000.0 if proc else 0.0,
            overlay_ms=float(np.median(over)) * 1000.0 if over else 0.0,
            skipped=skipped,
        )


def _video_frame(av: Any, image: np.ndarray) -> Any:
    """``image`` (BGR) as the ``av.VideoFrame`` to send back, in yuv420p, the video encoders'
    format. Converted here with OpenCV (~0.3 ms at 640x360): handed a bgr24 frame, aiortc's
    encoder converts it with PyAV's ``reformat``, which sets up a new scaler for every frame
    (~1.6 ms, on the thread that encodes). Odd sizes (no 4:2:0 layout) go as bgr24."""
    h, w = image.shape[:2]
    if image.ndim == 3 and image.shape[2] == 3 and h % 2 == 0 and w % 2 == 0:
        return av.VideoFrame.from_ndarray(cv2.cvtColor(image, cv2.COLOR_BGR2YUV_I420), format="yuv420p")
    return av.VideoFrame.from_ndarray(image, format="bgr24")


def _age_ms(frame: Any, newest: Any) -> float:
    """How much older ``frame`` is than ``newest``, from their timestamps (0 if unknown)."""
    try:
        return max(0.0, float((newest.pts - frame.pts) * newest.time_base) * 1000.0)
    except (TypeError, AttributeError):
        return 0.0
