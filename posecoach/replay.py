"""A coached clip kept for playing back: annotated frames at display size, each with its result.

:class:`ReplayRecorder` is fed every coached frame of a clip (:func:`posecoach.runs.run_clip`
does) and keeps it annotated, at display size (long side :data:`REPLAY_MAX_SIDE`), as JPEG,
with the :class:`~posecoach.results.FrameResult` the panel shows beside it. Memory stays
within :data:`REPLAY_BUDGET_BYTES` whatever the clip's length or size: past the budget every
other kept frame is dropped and from then on only every 2nd (4th, ...) frame is kept, so a long
clip plays back at a lower frame rate, never with a gap.

:meth:`ClipReplay.snapshot` gives the panel's view of the session *at* a kept frame (the
frame's cue, score, hold and gauges, the score timeline up to it, the holds achieved by then),
so the page's panel follows the picture shown. Nothing here draws on the page.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from posecoach.results import FrameResult
from posecoach.session import Capture, SessionSnapshot

#: Kept frames are at most this many pixels on their long side (the page shows them smaller).
REPLAY_MAX_SIDE = 640
#: JPEG quality of a kept frame.
REPLAY_JPEG_QUALITY = 80
#: The kept frames of one clip take at most this many bytes (~700 frames at 640x360).
REPLAY_BUDGET_BYTES = 32 * 2**20
#: Seconds of score history the panel's timeline shows (as the live session keeps).
TIMELINE_S = 30.0


@dataclass(frozen=True, eq=False)
class ReplayFrame:
    """One kept frame: its index in the clip, its time (ms), the annotated picture as JPEG
    and the result the coach gave it."""

    index: int
    t_ms: float
    jpeg: bytes
    result: FrameResult


def display_size(image: np.ndarray, max_side: int = REPLAY_MAX_SIDE) -> np.ndarray:
    """``image`` no larger than ``max_side`` on its long side (a copy when it is resized)."""
    h, w = image.shape[:2]
    if max(h, w) <= max_side:
        return image
    scale = max_side / max(h, w)
    return cv2.resize(image, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)


class ReplayRecorder:
    """Keeps a clip's frames, annotated, within a byte budget (see the module docstring).

    Args:
        annotate: ``annotate(image, result) -> image``: draws the coaching on a raw frame at
            display size (mirrored if the person chose so).
        budget_bytes: what the kept JPEGs may take together.
        max_side: display size (long side, pixels).
    """

    def __init__(
        self,
        annotate: Callable[[np.ndarray, FrameResult], np.ndarray],
        *,
        budget_bytes: int = REPLAY_BUDGET_BYTES,
        max_side: int = REPLAY_MAX_SIDE,
    ) -> None:
        self.annotate = annotate
        self.budget_bytes = budget_bytes
        self.max_side = max_side
        self.stride = 1
        self._frames: list[ReplayFrame] = []
        self._bytes = 0
        self._timeline: list[tuple[float, float | None]] = []
        self._seen = 0

    def add(self, index: int, t_ms: float, image: np.ndarray, result: FrameResult) -> None:
        """One coached frame (raw BGR, any size) and its result, in clip order."""
        self._timeline.append((float(t_ms), result.score.score if result.score is not None else None))
        n, self._seen = self._seen, self._seen + 1
        if n % self.stride:
            return
        view = self.annotate(display_size(image, self.max_side), result)
        ok, buf = cv2.imencode(".jpg", view, [cv2.IMWRITE_JPEG_QUALITY, REPLAY_JPEG_QUALITY])
        if not ok:
            return
        self._frames.append(ReplayFrame(index, float(t_ms), buf.tobytes(), result))
        self._bytes += len(buf)
        while self._bytes > self.budget_bytes and len(self._frames) > 1:
            # Over budget: keep every other frame (by position in the clip) and from now on
            # only every (2 * stride)-th one.
            self.stride *= 2
            kept = self._frames[::2]
            self._bytes = sum(len(f.jpeg) for f in kept)
            self._frames = kept

    def replay(self, captures: tuple[Capture, ...] = ()) -> ClipReplay:
        """What was kept, with the clip's best holds (to show those achieved by each frame)."""
        return ClipReplay(tuple(self._frames), tuple(self._timeline), captures, self.stride)


@dataclass(frozen=True, eq=False)
class ClipReplay:
    """A coached clip to play back or scrub.

    ``frames`` are the kept frames in clip order (every ``stride``-th frame); ``timeline``
    the score of every coached frame ``(t_ms, score or None)``; ``captures`` the clip's best
    holds.
    """

    frames: tuple[ReplayFrame, ...]
    timeline: tuple[tuple[float, float | None], ...]
    captures: tuple[Capture, ...]
    stride: int = 1

    @property
    def nbytes(self) -> int:
        """Memory the kept pictures take."""
        return sum(len(f.jpeg) for f in self.frames)

    def position_of(self, frame_index: int) -> int:
        """The position of the kept frame nearest to clip frame ``frame_index``."""
        if not self.frames:
            return 0
        return min(range(len(self.frames)), key=lambda i: abs(self.frames[i].index - frame_index))

    def snapshot(self, position: int) -> SessionSnapshot:
        """The session as it was at kept frame ``position``: its result, the last
        :data:`TIMELINE_S` seconds of scores, and the holds achieved by then (a hold's best
        frame may come before the moment the hold is complete: counted from then on)."""
        frame = self.frames[position]
        t = frame.t_ms
        timeline = tuple(p for p in self.timeline if t - TIMELINE_S * 1000.0 <= p[0] <= t)
        captures = self.captures[: min(len(self.captures), frame.result.hold.holds)]
        return SessionSnapshot(frame.result, timeline, captures, frame.index + 1, camera_lost=False, last_error="")
