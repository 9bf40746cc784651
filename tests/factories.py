"""Synthetic values shared by the unit tests (no model involved)."""

from __future__ import annotations

import dataclasses
from collections import deque
from collections.abc import Iterable, Iterator

import numpy as np

from posecoach.calibration import CalibrationProfile, PhaseSamples, build_profile
from posecoach.results import EyeState, FaceFrame, Metrics
from posecoach.targets import MetricRange, Target

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


#: The creation time of the synthetic profiles (a fixed value: files compare equal).
CREATED = "2026-01-01T00:00:00+00:00"


def synthetic_profile(name: str) -> CalibrationProfile:
    """A valid profile learned from synthetic phases (resting smile 0.1, broad smile 0.85)."""
    neutral = PhaseSamples(tuple(metrics(smile=0.1, pitch=12.0) for _ in range(20)), (120.0,) * 20)
    smile = PhaseSamples(tuple(metrics(smile=0.85, pitch=12.0) for _ in range(20)), (120.0,) * 20)
    return build_profile(name, neutral, smile, None, created=CREATED)


def simulated_camera(
    frames: list[np.ndarray], fps: float = 15.0, seconds: float = 16.0
) -> Iterator[tuple[float, np.ndarray]]:
    """``(t_ms, frame)``: a camera showing single_face.mp4's person (its decoded ``frames``)
    following the default prompts (2 s countdowns): neutral until 5.5 s, a big smile until
    12 s, then eyes shut (the blink frames 26-27)."""
    for i in range(int(seconds * fps)):
        t = i / fps
        pool = range(0, 16) if t < 5.5 else (range(36, 66) if t < 12.0 else (26, 27))
        yield t * 1000.0, frames[pool[i % len(pool)]]


#: Frame spacing of replayed observations (30 fps), in milliseconds.
FRAME_MS = 1000.0 / 30.0


def easy_target(hold_s: float = 0.5) -> Target:
    """A look the smiling astronaut already has: any head angle, a smile."""
    return Target("easy", "Easy", "", (MetricRange("smile", 0.5, 1.0, 0.2), MetricRange("yaw", -40, 40, 10)),
                  hold_s=hold_s, threshold=90.0)


def replay(face: FaceFrame, pattern: str) -> list[FaceFrame]:
    """``F`` = the face, ``.`` = no face, one frame each at 30 fps."""
    return [
        dataclasses.replace(face, t_ms=int(i * FRAME_MS)) if c == "F" else FaceFrame.empty(face.image_wh, int(i * FRAME_MS))
        for i, c in enumerate(pattern)
    ]


def gif(frames: int, side: int = 256) -> bytes:
    """The astronaut as a GIF: animated (slightly turning) with ``frames`` > 1, else still."""
    import io

    from PIL import Image
    from skimage import data as skdata

    face = Image.fromarray(skdata.astronaut()).resize((side, side))
    shots = [face.rotate(2 * i) for i in range(frames)]
    buf = io.BytesIO()
    shots[0].save(buf, "GIF", save_all=frames > 1, append_images=shots[1:], duration=100, loop=0)
    return buf.getvalue()
