"""Synthetic values shared by the unit tests (no model involved)."""

from __future__ import annotations

from posecoach.results import EyeState, Metrics

#: A relaxed, straight-on face: no smile, eyes open, looking near the lens, centred.
NEUTRAL = Metrics(
    yaw=0.0, pitch=0.0, roll=0.0, smile=0.0, mouth_open=0.0, eye_open_left=0.8, eye_open_right=0.8,
    eyes=EyeState.OPEN, squinch=0.0, genuine_smile=0.0, gaze_on_lens=0.9, brow_raise=0.0,
    face_x=0.5, face_y=0.45, face_height=0.4,
)  # fmt: skip


def metrics(**changes: float | EyeState) -> Metrics:
    """:data:`NEUTRAL` with some fields changed."""
    return NEUTRAL.replace(**changes)
