"""Shared fixtures: the real-face media in ../shared/media, decoded and tracked once per session."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from posecoach.results import FaceFrame

#: ../shared/media relative to the project root (never copied into the repository).
MEDIA_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "media"


@pytest.fixture(scope="session")
def shared_media() -> Path:
    """Path to ../shared/media; skips the test when the real-face media are absent."""
    if not MEDIA_DIR.is_dir():
        pytest.skip("../shared/media not found: real-face clips are needed for this test")
    return MEDIA_DIR


@pytest.fixture(scope="session")
def media_labels(shared_media: Path) -> dict:
    """The human labels of the shared media (``labels.json``, see its ``schema``)."""
    return json.loads((shared_media / "labels.json").read_text())["media"]


def iter_frames(path: Path) -> Iterator[tuple[np.ndarray, float]]:
    """``(frame_bgr, fps)`` in sequential OpenCV decode order (the order labels.json uses)."""
    import cv2

    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        raise FileNotFoundError(f"cannot open video: {path}")
    fps = cap.get(cv2.CAP_PROP_FPS) or 30.0
    try:
        while True:
            ok, frame = cap.read()
            if not ok:
                return
            yield frame, fps
    finally:
        cap.release()


@pytest.fixture(scope="session")
def decode_clip(shared_media: Path) -> Callable[[str], list[np.ndarray]]:
    """``decode_clip(name) -> list of BGR frames``, decoded once per session per clip.

    Decoded frames are large (a 960x540 clip of 169 frames is ~260 MB): tests that only
    need the tracker's output should use :func:`tracked_clip`, which keeps no frames.
    """
    cache: dict[str, list[np.ndarray]] = {}

    def decode(name: str) -> list[np.ndarray]:
        if name not in cache:
            cache[name] = [frame for frame, _ in iter_frames(shared_media / name)]
        return cache[name]

    return decode


@pytest.fixture(scope="session")
def tracked_clip(shared_media: Path) -> Callable[[str], list[FaceFrame]]:
    """``tracked_clip(name) -> list of FaceFrame``, one per decoded frame, VIDEO mode.

    Each clip is tracked once per session with a fresh tracker, timestamps from the clip's
    frame rate.
    """
    from posecoach.detector import FaceTracker, TrackerMode

    cache: dict[str, list[FaceFrame]] = {}

    def track(name: str) -> list[FaceFrame]:
        if name not in cache:
            with FaceTracker(mode=TrackerMode.VIDEO) as tracker:
                cache[name] = [
                    tracker.process(frame, i * 1000.0 / fps)
                    for i, (frame, fps) in enumerate(iter_frames(shared_media / name))
                ]
        return cache[name]

    return track


@pytest.fixture(scope="session")
def image_tracker() -> Iterator[object]:
    """One IMAGE-mode :class:`~posecoach.detector.FaceTracker` for the whole session."""
    from posecoach.detector import FaceTracker, TrackerMode

    with FaceTracker(mode=TrackerMode.IMAGE) as tracker:
        yield tracker
