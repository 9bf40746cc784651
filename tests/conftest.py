"""Shared fixtures: the real-face media in ../shared/media, decoded and tracked once per session."""

from __future__ import annotations

import ipaddress
import json
import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from posecoach.results import FaceFrame

#: ../shared/media relative to the project root (never copied into the repository).
MEDIA_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "media"


@pytest.fixture(autouse=True)
def _private_user_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test keeps what it saves (user targets, history) in a fresh folder, never in HOME."""
    folder = tmp_path_factory.mktemp("user")
    monkeypatch.setenv("POSECOACH_USER_DIR", str(folder))
    return folder


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


@pytest.fixture(scope="session")
def astronaut_face(image_tracker) -> FaceFrame:  # noqa: ANN001
    """The smiling astronaut (skimage), tracked once: a real observation to replay."""
    import cv2
    from skimage import data as skdata

    return image_tracker.process(cv2.cvtColor(skdata.astronaut(), cv2.COLOR_RGB2BGR))


# -- network guard (privacy tests) ---------------------------------------------------------
def is_loopback(address: object) -> bool:
    if isinstance(address, (str, bytes)):  # AF_UNIX paths
        return True
    host = address[0] if isinstance(address, tuple) else address
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        return False


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Fail any connection attempt (or name lookup) that would leave this machine; records
    every attempt."""
    attempts: list[object] = []
    real_connect, real_connect_ex, real_sendto = socket.socket.connect, socket.socket.connect_ex, socket.socket.sendto
    real_getaddrinfo = socket.getaddrinfo

    def guard(address: object) -> None:
        attempts.append(address)
        if not is_loopback(address):
            raise AssertionError(f"network connection attempted to {address!r}")

    def connect(self: socket.socket, address: object) -> None:
        guard(address)
        return real_connect(self, address)

    def connect_ex(self: socket.socket, address: object) -> int:
        guard(address)
        return real_connect_ex(self, address)

    def sendto(self: socket.socket, data: bytes, *args: object) -> int:
        guard(args[-1])
        return real_sendto(self, data, *args)

    def getaddrinfo(host: object, *args: object, **kwargs: object) -> list:
        guard((host, 0))
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    monkeypatch.setattr(socket.socket, "sendto", sendto)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return attempts
