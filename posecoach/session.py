"""A coaching session: the pipeline plus what a person keeps from it.

:class:`CoachSession` is what the live paths (Streamlit's video callback, ``posecoach live``)
and ``posecoach analyze`` drive. It adds to the :class:`~posecoach.pipeline.Pipeline`:

* a lock-guarded latest result the UI thread can poll (the video callback runs on a
  worker thread and must never touch the page);
* the best frame of every achieved hold (a :class:`Capture`), within a byte budget whatever
  the camera size;
* a score timeline of the last ``timeline_s`` seconds;
* "camera lost" bookkeeping: a source that stops, raises or returns empty frames does not end
  the session; its state (scores, captures, calibration) is kept until frames return;
* a :class:`~posecoach.tally.SessionTally` of every coached frame: what the person may choose
  to keep (per look: best score and frame, holds, steadiness, blinks, timeline, cues).

Nothing here writes to disk.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import cv2
import numpy as np

from posecoach.pipeline import Pipeline
from posecoach.results import FaceFrame, FrameResult, Metrics
from posecoach.tally import SessionTally

log = logging.getLogger(__name__)


#: Captures are kept at most this many pixels on their long side (a 4K frame is stored at
#: 1920x1080): the size the page shows and downloads them at.
CAPTURE_MAX_SIDE = 1920
#: JPEG quality of a stored capture (at 92 a face shows no visible loss).
CAPTURE_JPEG_QUALITY = 92
#: The gallery drops its oldest captures beyond this many bytes, whatever the camera size
#: (50 captures of a 1080p face take ~15-25 MiB as JPEG; the raw 4K frames took 1.2 GB).
GALLERY_BUDGET_BYTES = 64 * 2**20


def fit_for_capture(image: np.ndarray) -> np.ndarray:
    """A copy of ``image`` no larger than :data:`CAPTURE_MAX_SIDE` on its long side."""
    h, w = image.shape[:2]
    if max(h, w) <= CAPTURE_MAX_SIDE:
        return image.copy()
    scale = CAPTURE_MAX_SIDE / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


@dataclass(frozen=True, eq=False, init=False)
class Capture:
    """The best frame of one achieved hold.

    ``image`` is the raw (un-mirrored) BGR frame, ``jpeg`` the same as JPEG bytes; ``t_ms``
    its time; ``score`` 0..100. A capture holds either the pixels (while its hold may still
    improve) or only the JPEG (once the hold is over, see :meth:`compressed`); ``image``
    decodes the JPEG on each call, so keep the array if you need it more than once.
    """

    t_ms: float
    frame: int
    score: float
    target: str
    metrics: Metrics
    _pixels: np.ndarray | None = field(repr=False)
    _jpeg: bytes | None = field(repr=False)

    def __init__(self, image: np.ndarray | bytes, t_ms: float, frame: int, score: float, target: str,
                 metrics: Metrics) -> None:  # fmt: skip
        """``image``: a BGR frame (kept as given: see :func:`fit_for_capture`) or JPEG bytes."""
        pixels = image if isinstance(image, np.ndarray) else None
        for name, value in (("_pixels", pixels), ("_jpeg", None if pixels is not None else bytes(image)),
                            ("t_ms", t_ms), ("frame", frame), ("score", score), ("target", target),
                            ("metrics", metrics)):  # fmt: skip
            object.__setattr__(self, name, value)

    @property
    def image(self) -> np.ndarray:
        """The frame as a BGR uint8 array."""
        if self._pixels is not None:
            return self._pixels
        return cv2.imdecode(np.frombuffer(self._jpeg, np.uint8), cv2.IMREAD_COLOR)

    @property
    def jpeg(self) -> bytes:
        """The frame as JPEG bytes (quality :data:`CAPTURE_JPEG_QUALITY`)."""
        if self._jpeg is not None:
            return self._jpeg
        ok, buf = cv2.imencode(".jpg", self._pixels, [cv2.IMWRITE_JPEG_QUALITY, CAPTURE_JPEG_QUALITY])
        if not ok:
            raise ValueError("JPEG encoding failed")
        return buf.tobytes()

    @property
    def nbytes(self) -> int:
        """Memory the stored frame takes."""
        return self._pixels.nbytes if self._pixels is not None else len(self._jpeg)

    def compressed(self) -> Capture:
        """The same capture holding only its JPEG (itself if it already does)."""
        if self._pixels is None:
            return self
        return Capture(self.jpeg, self.t_ms, self.frame, self.score, self.target, self.metrics)


@dataclass(frozen=True)
class SessionSnapshot:
    """What the page shows, read in one piece under the lock."""

    result: FrameResult | None
    timeline: tuple[tuple[float, float | None], ...]
    captures: tuple[Capture, ...]
    frames: int
    camera_lost: bool
    last_error: str
    #: The session's tally (to keep the session or report on it; see :meth:`SessionTally.record`).
    tally: SessionTally | None = None


class CoachSession:
    """Drive a :class:`Pipeline` frame by frame and keep what the person will want.

    Args:
        pipeline: the coaching loop (owns its tracker or not; the caller closes it).
        timeline_s: seconds of score history to keep.
        max_captures: the gallery keeps the newest this many holds (and at most
            :data:`GALLERY_BUDGET_BYTES` of them).
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
        self.tally = SessionTally()
        #: Called on the processing thread with every coached frame's result and picture (a
        #: routine runner, a best-side check); must be quick. An error in it is logged, not raised.
        self.listener: Callable[[FrameResult, np.ndarray], None] | None = None

    # -- the hot path (worker thread) --------------------------------------------------
    def process(
        self,
        image: np.ndarray | None,
        t_ms: float | None = None,
        *,
        bgr: bool = True,
        face: FaceFrame | None = None,
        persists: bool = False,
    ) -> FrameResult | None:
        """Process one raw frame; a None/empty/broken frame marks a camera hiccup, never raises.

        ``face``: the tracker's observation of this frame when the caller already has it
        (:meth:`detect`, looking ahead), with ``persists`` as in
        :meth:`~posecoach.pipeline.Pipeline.process_face`.
        """
        if image is None or not isinstance(image, np.ndarray) or image.size == 0:
            self.frame_missing("empty frame")
            return None
        try:
            if face is not None:
                result = self.pipeline.process_face(face, image if bgr else None, persists=persists)
            else:
                result = self.pipeline.process(image, t_ms, bgr=bgr)
        except Exception as e:  # noqa: BLE001 - the stream must live on
            log.warning("frame skipped: %s", e)
            self.frame_missing(str(e))
            return None
        self._record(result, image)
        listener = self.listener
        if listener is not None:
            try:
                listener(result, image)
            except Exception as e:  # noqa: BLE001 - the stream must live on
                log.warning("result listener failed: %s", e)
        return result

    def detect(self, image: np.ndarray, t_ms: float | None = None) -> FaceFrame | None:
        """The tracker's observation of a raw BGR frame, to be passed to :meth:`process`
        (None when the tracker could not take it: :meth:`process` then sees it again)."""
        try:
            return self.pipeline.detect(image, t_ms)
        except Exception as e:  # noqa: BLE001 - the stream must live on
            log.warning("frame skipped: %s", e)
            return None

    def frame_missing(self, reason: str = "no frame") -> None:
        """The source delivered nothing this time (camera unplugged, read error...)."""
        with self._lock:
            self._last_error = reason

    def _record(self, result: FrameResult, image: np.ndarray | None) -> None:
        score = result.score.score if result.score is not None else None
        was_captured = self._run_captured
        capture_done = self._update_best(result, score, image)
        finished = done = None
        if was_captured and not self._run_captured:
            # The hold whose best frame was kept is over: keep that frame as JPEG from now on.
            with self._lock:
                finished = self._captures[-1] if self._captures else None
            done = finished.compressed() if finished is not None else None  # encoded outside the lock
        with self._lock:
            self._latest = result
            self._frames += 1
            self._last_frame_wall = time.monotonic()
            self._last_error = ""
            self._timeline.append((result.t_ms, score))
            horizon = result.t_ms - self.timeline_s * 1000.0
            while self._timeline and self._timeline[0][0] < horizon:
                self._timeline.popleft()
            if finished is not None and self._captures and self._captures[-1] is finished:
                self._captures[-1] = done
            if capture_done is not None:
                if self._run_captured and self._captures:
                    self._captures[-1] = capture_done  # a better frame in the same hold
                else:
                    self._captures.append(capture_done)
                self._run_captured = True
                while len(self._captures) > 1 and sum(c.nbytes for c in self._captures) > GALLERY_BUDGET_BYTES:
                    self._captures.popleft()
        self.tally.update(result, target=self.pipeline.target, image=image)

    def _update_best(self, result: FrameResult, score: float | None, image: np.ndarray | None) -> Capture | None:
        """Track the best frame of the current run; return a capture to store, if any."""
        threshold = self.pipeline.target.threshold
        if score is None or score < threshold or result.metrics is None:
            self._best = None
            self._run_captured = False
            return None
        improved = self._best is None or score > self._best.score
        if improved and image is not None:
            # Copy (at most display size) only when the run's best improves: bounded, and the
            # caller may reuse its buffer.
            frame = fit_for_capture(image)
            self._best = Capture(frame, result.t_ms, result.frame, score, self.pipeline.target.name, result.metrics)
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
                tally=self.tally,
            )

    @property
    def captures(self) -> tuple[Capture, ...]:
        with self._lock:
            return tuple(self._captures)

    def clear_captures(self) -> None:
        with self._lock:
            self._captures.clear()
            self._run_captured = False
