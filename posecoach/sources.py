"""Frames from an image, a video file or a camera, with clear one-line errors.

Every source yields :class:`Frame` values (a BGR uint8 image, its 0-based index and its time
in milliseconds). Videos are decoded strictly sequentially: seeking by frame number lands on
the wrong frame in some containers.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

# OpenCV's FFmpeg backend reads these when it first loads; they keep its native warnings
# ("moov atom not found", ...) out of the one-line errors we promise.
os.environ.setdefault("OPENCV_LOG_LEVEL", "ERROR")
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")

import cv2  # noqa: E402
import numpy as np  # noqa: E402

IMAGE_EXTENSIONS = frozenset(
    {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff", ".jp2", ".pgm", ".ppm", ".pbm", ".pnm", ".sr", ".ras"}
)
#: Images larger than this many pixels are decoded at reduced size (bounded memory).
MAX_IMAGE_PIXELS = 4096 * 4096


class SourceError(ValueError):
    """A file or camera posecoach cannot read. The message is one line naming it and why."""


@dataclass(frozen=True, eq=False)
class Frame:
    """One frame: ``image`` BGR uint8 ``(H, W, 3)``, ``index`` 0-based, ``t_ms`` milliseconds."""

    image: np.ndarray
    index: int
    t_ms: float


def _check_file(path: Path) -> None:
    if not path.exists():
        raise SourceError(f"{path}: file not found")
    if path.is_dir():
        raise SourceError(f"{path}: is a directory, not an image or video file")
    try:
        size = path.stat().st_size
        with path.open("rb") as f:
            f.read(1)
    except OSError as e:
        raise SourceError(f"{path}: cannot read file ({e.strerror})") from None
    if size == 0:
        raise SourceError(f"{path}: empty file (0 bytes)")


def read_image(path: str | os.PathLike[str]) -> np.ndarray:
    """Read a photo as upright BGR uint8 (EXIF orientation applied, alpha dropped).

    Very large images are downscaled to at most :data:`MAX_IMAGE_PIXELS` right after decoding.

    Raises:
        SourceError: missing, empty, unreadable or not an image.
    """
    path = Path(path)
    _check_file(path)
    return decode_image(np.fromfile(path, dtype=np.uint8), str(path))


def decode_image(data: bytes | np.ndarray, name: str) -> np.ndarray:
    """A photo file's bytes (an upload, a browser snapshot) decoded as :func:`read_image` does;
    ``name`` names the photo in errors.

    Raises:
        SourceError: empty, or not an image.
    """
    buf = data if isinstance(data, np.ndarray) else np.frombuffer(data, np.uint8)
    if buf.size == 0:
        raise SourceError(f"{name}: empty file (0 bytes)")
    try:
        image = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    except cv2.error:
        image = None
    if image is None or image.size == 0:
        raise SourceError(f"{name}: not an image posecoach can read (corrupt, truncated or unsupported format)")
    h, w = image.shape[:2]
    if h * w > MAX_IMAGE_PIXELS:
        # Keep what flows downstream bounded; the tracker downscales further for inference.
        scale = math.sqrt(MAX_IMAGE_PIXELS / (h * w))
        image = cv2.resize(image, (max(1, int(w * scale)), max(1, int(h * scale))), interpolation=cv2.INTER_AREA)
    return image


class ImageSource:
    """A single photo as a one-frame source."""

    is_image = True
    fps = None
    n_frames = 1

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.name = str(path)
        self.image = read_image(path)

    def __iter__(self) -> Iterator[Frame]:
        yield Frame(self.image, 0, 0.0)

    def close(self) -> None:
        pass


class VideoFileSource:
    """A video file decoded sequentially with OpenCV.

    ``t_ms`` comes from the container's timestamps when they increase, otherwise from the
    frame index and the nominal frame rate (broken or variable timestamps are repaired).
    """

    is_image = False

    def __init__(self, path: str | os.PathLike[str]) -> None:
        path = Path(path)
        _check_file(path)
        self.name = str(path)
        self._cap = cv2.VideoCapture(str(path))
        if not self._cap.isOpened():
            self._cap.release()
            raise SourceError(f"{path}: not a video or image posecoach can read (corrupt, truncated or unsupported format)")
        fps = self._cap.get(cv2.CAP_PROP_FPS)
        self.fps = float(fps) if math.isfinite(fps) and 1.0 <= fps <= 1000.0 else None
        count = int(self._cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        self.n_frames = count if count > 0 else None
        ok, first = self._cap.read()
        if not ok or first is None or first.size == 0:
            self._cap.release()
            raise SourceError(f"{path}: video has no readable frames (corrupt or truncated)")
        self._first: np.ndarray | None = first
        self._first_ms = self._cap.get(cv2.CAP_PROP_POS_MSEC)
        self.decoded = 0

    @property
    def ended_early(self) -> bool:
        """After iterating: the container promised clearly more frames than could be decoded
        (a truncated file). Frame counts in headers are approximate, hence the 10% slack."""
        return self.n_frames is not None and self.decoded < 0.9 * self.n_frames

    def __iter__(self) -> Iterator[Frame]:
        step = 1000.0 / (self.fps or 30.0)
        last_t = -math.inf
        index = 0
        frame, pos = self._first, self._first_ms
        self._first = None
        while frame is not None:
            t = pos if math.isfinite(pos) and pos > last_t and (index == 0 or pos > 0) else max(index * step, last_t + step)
            last_t = t
            yield Frame(frame, index, t)
            index += 1
            self.decoded = index
            ok, frame = self._cap.read()
            if not ok or frame is None or frame.size == 0:
                break
            pos = self._cap.get(cv2.CAP_PROP_POS_MSEC)

    def close(self) -> None:
        self._cap.release()


def open_source(path: str | os.PathLike[str]) -> ImageSource | VideoFileSource:
    """Open an image or a video file, choosing by extension and falling back by content.

    Raises:
        SourceError: with one line naming the file and the reason.
    """
    p = Path(path)
    _check_file(p)
    if p.suffix.lower() in IMAGE_EXTENSIONS:
        return ImageSource(p)
    try:
        return VideoFileSource(p)
    except SourceError as video_error:
        try:
            return ImageSource(p)
        except SourceError:
            raise video_error from None


class CameraSource:
    """A local camera through OpenCV. Iterating yields a :class:`Frame`, or None when a read
    fails (unplugged, laptop asleep): the caller keeps its state and tries again.

    ``t_ms`` is wall-clock time since the source opened.
    """

    is_image = False
    n_frames = None

    def __init__(self, index: int = 0, *, retry_s: float = 0.5) -> None:
        self.name = f"camera {index}"
        self.index = index
        self.retry_s = retry_s
        self._cap = cv2.VideoCapture(index)
        if not self._cap.isOpened():
            self._cap.release()
            raise SourceError(f"camera {index}: not available (no camera, in use by another program, or permission denied)")
        fps = self._cap.get(cv2.CAP_PROP_FPS)
        self.fps = float(fps) if math.isfinite(fps) and fps > 0 else None
        self._closed = False

    def __iter__(self) -> Iterator[Frame | None]:
        import time

        start = time.monotonic()
        index = 0
        while not self._closed:
            try:
                ok, image = self._cap.read()
            except cv2.error:  # a driver error is a hiccup like any other failed read
                ok, image = False, None
            if not ok or image is None or image.size == 0:
                yield None
                time.sleep(self.retry_s)
                if not self._cap.isOpened():
                    self._cap.open(self.index)
                continue
            yield Frame(image, index, (time.monotonic() - start) * 1000.0)
            index += 1

    def close(self) -> None:
        self._closed = True
        self._cap.release()
