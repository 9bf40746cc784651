"""Synthetic values shared by the unit tests (no model involved)."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

import numpy as np

from posecoach.results import EyeState, FaceFrame, Metrics

#: A relaxed, straight-on face: no smile, eyes open, looking near the lens, centred.
NEUTRAL = Metrics(
    yaw=0.0, pitch=0.0, roll=0.0, smile=0.0, mouth_open=0.0, eye_open_left=0.8, eye_open_right=0.8,
    eyes=EyeState.OPEN, squinch=0.0, genuine_smile=0.0, gaze_on_lens=0.9, brow_raise=0.0,
    face_x=0.5, face_y=0.45, face_height=0.4,
)  # fmt: skip


def metrics(**changes: float | EyeState) -> Metrics:
    """:data:`NEUTRAL` with some fields changed."""
    return NEUTRAL.replace(**changes)


class ReplayTracker:
    """Stands in for :class:`~posecoach.detector.FaceTracker`: hands out prepared
    :class:`FaceFrame` values in order, whatever the image (the loop downstream of the
    detector, with no model). Give them up front or ``queue.append`` them as you go."""

    def __init__(self, faces: Iterable[FaceFrame] = ()) -> None:
        self.queue: deque[FaceFrame] = deque(faces)

    def process(self, image: np.ndarray, t_ms: float | None = None, *, bgr: bool = True) -> FaceFrame:  # noqa: ARG002
        return self.queue.popleft()

    def close(self) -> None:
        """Nothing to release."""
