"""The only module that imports MediaPipe: frames in, :class:`FaceFrame` out.

The tracker wraps MediaPipe Tasks' ``FaceLandmarker`` (478 landmarks, 52 blendshapes, the
facial transformation matrix). It accepts frames of any size and layout (BGR, BGRA,
grayscale, 16-bit), downscales large frames before inference so cost stays bounded, and
guarantees the strictly increasing timestamps MediaPipe's VIDEO mode demands, whatever the
source gives it.
"""

from __future__ import annotations

import contextlib
import enum
import hashlib
import os
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from posecoach.results import N_LANDMARKS, FaceFrame

#: sha256 of the official MediaPipe Face Landmarker v1 float16 bundle shipped in assets/models/.
MODEL_SHA256 = "64184e229b263107bc2b804c6625db1341ff2bb731874b0bcc2fe6544e0bc9ff"
#: Where the bundled model lives (repository layout; the package is installed editable).
DEFAULT_MODEL_PATH = Path(__file__).resolve().parent.parent / "assets" / "models" / "face_landmarker.task"
#: Frames whose long side exceeds this many pixels are downscaled before inference.
DEFAULT_MAX_SIDE = 1280


class ModelError(RuntimeError):
    """The landmarker model is missing, unreadable or not the expected file."""


class TrackerMode(str, enum.Enum):
    """How the landmarker is run.

    ``IMAGE``: every frame is independent (photos). ``VIDEO``: the face is tracked between
    frames, which is faster and steadier; used for files *and* live cameras (synchronous,
    so the result is ready to draw on the same frame).
    """

    IMAGE = "image"
    VIDEO = "video"


_verified: dict[tuple[str, int, int], str] = {}
_verified_lock = threading.Lock()


def resolve_model_path(model: str | os.PathLike[str] | None = None) -> Path:
    """The model to load: ``model`` if given, else ``$POSECOACH_MODEL``, else the bundled file."""
    if model:
        return Path(model)
    env = os.environ.get("POSECOACH_MODEL")
    if env:
        return Path(env)
    return DEFAULT_MODEL_PATH


def verify_model(path: Path, expected_sha256: str | None = MODEL_SHA256) -> Path:
    """Check that ``path`` is a readable model file; its sha256 is checked once per process.

    A file given explicitly (``--model`` or ``$POSECOACH_MODEL``) may be another model build:
    pass ``expected_sha256=None`` to only check it is a readable, non-empty file.

    Raises:
        ModelError: with one line naming the file and what to do.
    """
    fix = "restore assets/models/face_landmarker.task from the repository or pass --model PATH"
    try:
        st = path.stat()
    except FileNotFoundError:
        raise ModelError(f"model file not found: {path} ({fix})") from None
    except OSError as e:
        raise ModelError(f"model file unreadable: {path}: {e.strerror} ({fix})") from None
    if not path.is_file() or st.st_size == 0:
        raise ModelError(f"model file is empty or not a file: {path} ({fix})")
    if expected_sha256 is None:
        return path
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    with _verified_lock:
        digest = _verified.get(key)
        if digest is None:
            h = hashlib.sha256()
            try:
                with path.open("rb") as f:
                    for chunk in iter(lambda: f.read(1 << 20), b""):
                        h.update(chunk)
            except OSError as e:
                raise ModelError(f"model file unreadable: {path}: {e.strerror} ({fix})") from None
            digest = h.hexdigest()
            _verified[key] = digest
    if digest != expected_sha256:
        raise ModelError(f"model file is corrupt (sha256 mismatch): {path} ({fix})")
    return path


@contextlib.contextmanager
def _quiet_native_stderr(enabled: bool) -> Iterator[None]:
    """Keep MediaPipe's native log lines (written straight to fd 2) out of the user's way."""
    if not enabled:
        yield
        return
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):
        yield
        return
    try:
        with open(os.devnull, "wb") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def to_rgb_uint8(frame: np.ndarray, max_side: int = DEFAULT_MAX_SIDE, *, bgr: bool = True) -> np.ndarray:
    """Convert any supported frame to a C-contiguous RGB uint8 image, long side <= ``max_side``.

    Accepts ``(H, W)``, ``(H, W, 1)``, ``(H, W, 3)`` and ``(H, W, 4)`` arrays of uint8,
    uint16 or float (0..1). Colour frames are BGR(A) (OpenCV order) unless ``bgr=False``.
    Downscaling happens before colour conversion so the conversion runs on fewer pixels.

    Raises:
        ValueError: for an array that is not an image.
    """
    if not isinstance(frame, np.ndarray) or frame.ndim not in (2, 3) or frame.size == 0:
        raise ValueError(f"not an image: array of shape {getattr(frame, 'shape', None)}")
    if frame.ndim == 3 and frame.shape[2] not in (1, 3, 4):
        raise ValueError(f"not an image: {frame.shape[2]} channels")
    if frame.dtype != np.uint8:
        if frame.dtype == np.uint16:
            frame = (frame >> 8).astype(np.uint8)
        elif np.issubdtype(frame.dtype, np.floating):
            frame = np.clip(np.nan_to_num(frame) * 255.0 + 0.5, 0, 255).astype(np.uint8)
        else:
            raise ValueError(f"not an image: unsupported pixel type {frame.dtype}")
    h, w = frame.shape[:2]
    long_side = max(h, w)
    if long_side > max_side:
        scale = max_side / long_side
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        frame = cv2.resize(frame, size, interpolation=cv2.INTER_AREA)
    if frame.ndim == 3 and frame.shape[2] == 1:
        frame = frame[:, :, 0]
    if frame.ndim == 2:
        return cv2.cvtColor(frame, cv2.COLOR_GRAY2RGB)
    if frame.shape[2] == 4:
        return cv2.cvtColor(frame, cv2.COLOR_BGRA2RGB if bgr else cv2.COLOR_RGBA2RGB)
    if bgr:
        return cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
    return np.ascontiguousarray(frame)


class FaceTracker:
    """MediaPipe FaceLandmarker behind posecoach's own types.

    Use as a context manager (MediaPipe prints a traceback at exit for a landmarker left to
    the garbage collector)::

        with FaceTracker() as tracker:
            face = tracker.process(frame_bgr, t_ms=0)

    Args:
        model: model path; default ``$POSECOACH_MODEL`` or the bundled model.
        mode: :class:`TrackerMode` (VIDEO for files and cameras, IMAGE for photos).
        max_faces: how many faces MediaPipe looks for; the largest is coached and the count
            is reported as ``FaceFrame.n_faces``.
        max_side: long-side bound in pixels for the image given to MediaPipe.
        verbose: show MediaPipe's native log lines.
    """

    def __init__(
        self,
        model: str | os.PathLike[str] | None = None,
        mode: TrackerMode = TrackerMode.VIDEO,
        *,
        max_faces: int = 4,
        max_side: int = DEFAULT_MAX_SIDE,
        verbose: bool = False,
    ) -> None:
        path = resolve_model_path(model)
        verify_model(path, MODEL_SHA256 if path == DEFAULT_MODEL_PATH else None)
        with _quiet_native_stderr(not verbose):
            import mediapipe as mp
            from mediapipe.tasks.python import BaseOptions
            from mediapipe.tasks.python.vision import FaceLandmarker, FaceLandmarkerOptions, RunningMode

            options = FaceLandmarkerOptions(
                base_options=BaseOptions(model_asset_path=str(path)),
                running_mode=RunningMode.VIDEO if mode is TrackerMode.VIDEO else RunningMode.IMAGE,
                num_faces=max_faces,
                output_face_blendshapes=True,
                output_facial_transformation_matrixes=True,
            )
            try:
                self._landmarker = FaceLandmarker.create_from_options(options)
            except Exception as e:  # MediaPipe raises RuntimeError/ValueError with long text
                first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
                raise ModelError(f"cannot load model {path}: {first}") from None
        self._mp = mp
        self.mode = mode
        self.max_side = max_side
        self._last_ts = -1
        self._closed = False

    # -- lifecycle ---------------------------------------------------------------------
    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._landmarker.close()

    def __enter__(self) -> FaceTracker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- inference ---------------------------------------------------------------------
    def next_timestamp(self, t_ms: float | None) -> int:
        """A strictly increasing integer timestamp no smaller than ``t_ms`` (ms)."""
        ts = self._last_ts + 1 if t_ms is None or not np.isfinite(t_ms) else int(t_ms)
        if ts <= self._last_ts:
            ts = self._last_ts + 1
        self._last_ts = ts
        return ts

    def process(self, frame: np.ndarray, t_ms: float | None = None, *, bgr: bool = True) -> FaceFrame:
        """Track the face in one frame.

        Args:
            frame: the raw (un-mirrored) frame, see :func:`to_rgb_uint8` for layouts.
            t_ms: the frame's time in milliseconds; repaired to be strictly increasing.
            bgr: colour frames are BGR(A) (OpenCV, the default) or RGB(A).

        Raises:
            ValueError: the array is not an image.
        """
        return self.infer(self.prepare(frame, bgr=bgr), (frame.shape[1], frame.shape[0]), t_ms)

    def prepare(self, frame: np.ndarray, *, bgr: bool = True) -> np.ndarray:
        """The RGB uint8 image MediaPipe will see (downscaled, colour converted)."""
        return to_rgb_uint8(frame, self.max_side, bgr=bgr)

    def infer(self, rgb: np.ndarray, image_wh: tuple[int, int], t_ms: float | None = None) -> FaceFrame:
        """Run the landmarker on a :meth:`prepare`-d image of an ``image_wh`` (w, h) frame."""
        ts = self.next_timestamp(t_ms)
        image = self._mp.Image(image_format=self._mp.ImageFormat.SRGB, data=rgb)
        if self.mode is TrackerMode.VIDEO:
            result = self._landmarker.detect_for_video(image, ts)
        else:
            result = self._landmarker.detect(image)
        return face_frame_from_result(result, image_wh, ts)


def face_frame_from_result(result: object, image_wh: tuple[int, int], t_ms: int) -> FaceFrame:
    """Convert a MediaPipe ``FaceLandmarkerResult`` to our :class:`FaceFrame` (largest face)."""
    faces = result.face_landmarks  # type: ignore[attr-defined]
    if not faces:
        return FaceFrame.empty(image_wh, t_ms)
    best, best_area = 0, -1.0
    arrays = []
    for i, lms in enumerate(faces):
        a = np.array([(p.x, p.y, p.z) for p in lms], dtype=np.float32)
        arrays.append(a)
        if len(faces) > 1:
            # Area in pixels, so the aspect ratio of the frame does not bias the choice.
            span = (a[:, :2].max(axis=0) - a[:, :2].min(axis=0)) * image_wh
            area = float(span[0] * span[1])
            if area > best_area:
                best, best_area = i, area
    landmarks = arrays[best]
    if landmarks.shape[0] != N_LANDMARKS:
        return FaceFrame.empty(image_wh, t_ms)
    shapes = result.face_blendshapes  # type: ignore[attr-defined]
    blend = (
        np.array([c.score for c in shapes[best]], dtype=np.float32)
        if shapes and len(shapes) > best
        else np.zeros((52,), np.float32)
    )
    mats = result.facial_transformation_matrixes  # type: ignore[attr-defined]
    matrix = (
        np.asarray(mats[best], dtype=np.float32).reshape(4, 4)
        if mats is not None and len(mats) > best
        else np.eye(4, dtype=np.float32)
    )
    return FaceFrame(landmarks, blend, matrix, image_wh, len(faces), t_ms)
