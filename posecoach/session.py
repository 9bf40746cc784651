"""A coaching session: the pipeline plus what a person keeps from it.

:class:`CoachSession` is what the live paths (Streamlit's video callback, ``posecoach live``)
and ``posecoach analyze`` drive. It adds to the :class:`~posecoach.pipeline.Pipeline`:

* a lock-guarded latest result the UI thread can poll (the video callback runs on a
  worker thread and must never touch the page);
* the best frame of every achieved hold (a :class:`Capture`);
* a score timeline of the last ``timeline_s`` seconds;
* "camera lost" bookkeeping: a source that stops, raises or returns empty frames does not end
  the session; its state (scores, captures, calibration) is kept until frames return.

Nothing here writes to disk.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from dataclasses import dataclass

import numpy as np

from posecoach.pipeline import Pipeline
from posecoach.results import FrameResult, Metrics

log = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class Capture:
    """The best frame of one achieved hold.

    ``image`` is the raw (un-mirrored) BGR frame; ``t_ms`` its time; ``score`` 0..100.
    """

    image: np.ndarray
    t_ms: float
    frame: int
    score: float
    target: str
    metrics: Metrics


@dataclass(frozen=True)
class SessionSnapshot:
    """What the page shows, read in one piece under the lock."""

    result: FrameResult | None
    timeline: tuple[tuple[float, float | None], ...]
    captures: tuple[Capture, ...]
    frames: int
    camera_lost: bool
    last_error: str


class CoachSession:
    """Drive a :class:`Pipeline` frame by frame and keep what the person will want.

    Args:
        pipeline: the coaching loop (owns its tracker or not; the caller closes it).
        timeline_s: seconds of score history to keep.
        max_captures: the gallery keeps the newest this many holds.
        lost_after_s: without a frame for this long the camera counts as lost.
    """

    def __init__(
        self,
        pipeline: Pipeline,
        *,
        timeline_s: float = 30.0,
        max_captures: int = 50,
        lost_after_s: float = 2.0,
    ) -> None:
        self.pipeline = pipeline
        self.timeline_s = timeline_s
        self.lost_after_s = lost_after_s
        self._lock = threading.Lock()
        self._latest: FrameResult | None = None
        self._timeline: deque[tuple[float, float | None]] = deque()
        self._captures: deque[Capture] = deque(maxlen=max_captures)
        self._frames = 0
        self._last_frame_wall = time.monotonic()
        self._last_error = ""
        # Best frame of the current above-threshold run (candidate for the next capture).
        self._best: Capture | None = None
        self._run_captured = False

    # -- the hot path (worker thread) --------------------------------------------------
    def process(self, image: np.ndarray | None, t_ms: float | None = None, *, bgr: bool = True) -> FrameResult | None:
        """Process one raw frame; a None/empty/broken frame marks a camera hiccup, never raises."""
        if image is None or not isinstance(image, np.ndarray) or image.size == 0:
            self.frame_missing("empty frame")
            return None
        try:
            result = self.pipeline.process(image, t_ms, bgr=bgr)
        except Exception as e:  # noqa: BLE001 - the stream must live on
            log.warning("frame skipped: %s", e)
            self.frame_missing(str(e))
            return None
        self._record(result, image)
        return result

    def frame_missing(self, reason: str = "no frame") -> None:
        """The source delivered nothing this time (camera unplugged, read error...)."""
        with self._lock:
            self._last_error = reason

    def _record(self, result: FrameResult, image: np.ndarray | None) -> None:
        score = result.score.score if result.score is not None else None
        capture_done = self._update_best(result, score, image)
        with self._lock:
            self._latest = result
            self._frames += 1
            self._last_frame_wall = time.monotonic()
            self._last_error = ""
            self._timeline.append((result.t_ms, score))
            horizon = result.t_ms - self.timeline_s * 1000.0
            while self._timeline and self._timeline[0][0] < horizon:
                self._timeline.popleft()
            if capture_done is not None:
                if self._run_captured and self._captures:
                    self._captures[-1] = capture_done  # a better frame in the same hold
                else:
                    self._captures.append(capture_done)
                self._run_captured = True

    def _update_best(self, result: FrameResult, score: float | None, image: np.ndarray | None) -> Capture | None:
        """Track the best frame of the current run; return a capture to store, if any."""
        threshold = self.pipeline.target.threshold
        if score is None or score < threshold or result.metrics is None:
            self._best = None
            self._run_captured = False
            return None
        improved = self._best is None or score > self._best.score
        if improved and image is not None:
            # Copy only when the run's best improves: bounded, and the caller may reuse its buffer.
            self._best = Capture(image.copy(), result.t_ms, result.frame, score, self.pipeline.target.name, result.metrics)
        if result.hold.held and (result.hold.just_completed or (improved and self._run_captured)):
            return self._best
        return None

    # -- the page side (UI thread) -----------------------------------------------------
    def snapshot(self) -> SessionSnapshot:
        with self._lock:
            lost = bool(self._last_error) or (time.monotonic() - self._last_frame_wall > self.lost_after_s)
            return SessionSnapshot(
                result=self._latest,
                timeline=tuple(self._timeline),
                captures=tuple(self._captures),
                frames=self._frames,
                camera_lost=lost and self._frames > 0,
                last_error=self._last_error,
            )

    @property
    def captures(self) -> tuple[Capture, ...]:
        with self._lock:
            return tuple(self._captures)

    def clear_captures(self) -> None:
        with self._lock:
            self._captures.clear()
            self._run_captured = False
