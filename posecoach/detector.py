"""The only module that imports MediaPipe: frames in, :class:`FaceFrame` out.

The tracker wraps MediaPipe Tasks' ``FaceLandmarker`` (478 landmarks, 52 blendshapes, the
facial transformation matrix). It accepts frames of any size and layout (BGR, BGRA,
grayscale, 16-bit), downscales large frames before inference so cost stays bounded, and
guarantees the strictly increasing timestamps MediaPipe's VIDEO mode demands, whatever the
source gives it. The model file is found and checked in :mod:`posecoach.model_file`.
"""

from __future__ import annotations

import contextlib
import ctypes
import enum
import gc
import itertools
import os
import threading
from collections.abc import Iterator
from operator import attrgetter
from typing import Any

import cv2
import numpy as np

from posecoach.model_file import ModelError, checked_model_path, model_fix
from posecoach.native import keep_native_code_offline, matplotlib_cache_outside_home, native_stderr_silenced
from posecoach.results import N_LANDMARKS, FaceFrame

#: Frames whose long side exceeds this many pixels are downscaled before inference.
DEFAULT_MAX_SIDE = 1280


class TrackerMode(str, enum.Enum):
    """How the landmarker is run.

    ``IMAGE``: every frame is independent (photos). ``VIDEO``: the face is tracked between
    frames, which is faster and steadier; used for files *and* live cameras (synchronous,
    so the result is ready to draw on the same frame).
    """

    IMAGE = "image"
    VIDEO = "video"


def to_rgb_uint8(frame: np.ndarray, max_side: int = DEFAULT_MAX_SIDE, *, bgr: bool = True) -> np.ndarray:
    """Convert any supported frame to a C-contiguous RGB uint8 image, long side <= ``max_side``.

    Accepts ``(H, W)``, ``(H, W, 1)``, ``(H, W, 3)`` and ``(H, W, 4)`` arrays of uint8,
    uint16 or float (0..1). Colour frames are BGR(A) (OpenCV order) unless ``bgr=False``.
    Downscaling happens before colour conversion so the conversion runs on fewer pixels.

    Downscaling is bilinear: ~2 ms for a 1080p frame where ``INTER_AREA`` costs ~9 ms
    (OpenCV's fast area path covers exact halving only), and the landmarks it yields are as
    close to the full-size ones as area-filtered ones (0.7% / 1.4% of the interocular
    distance at 2x / 3x reduction on the shared faces). For a reduction by an odd whole
    factor (2160p -> 720p is 3x) bilinear sampling lands exactly on source pixel centres,
    and ``INTER_NEAREST_EXACT`` returns the identical image in less than half the time.

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
        k = w // size[0]
        odd_whole = k % 2 == 1 and w == k * size[0] and h == k * size[1]
        frame = cv2.resize(frame, size, interpolation=cv2.INTER_NEAREST_EXACT if odd_whole else cv2.INTER_LINEAR)
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
        path = checked_model_path(model)
        keep_native_code_offline()  # before MediaPipe loads: its native uploader must reach nothing
        with native_stderr_silenced(not verbose):
            with matplotlib_cache_outside_home():
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
                with _gc_paused():
                    self._landmarker = FaceLandmarker.create_from_options(options)
            except Exception as e:  # MediaPipe raises RuntimeError/ValueError with long text
                first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
                raise ModelError(f"cannot load model {path}: {first} ({model_fix(model)})") from None
        self._mp = mp
        self._native = _NativeResults.create(self._landmarker)
        self.mode = mode
        self.max_side = max_side
        self._last_ts = -1
        self._closed = False

    # -- lifecycle ---------------------------------------------------------------------
    def close(self) -> None:
        if not self._closed:
            self._closed = True
            if _pool_lock_held():
                # Called by a finalizer that garbage collection ran inside some
                # ThreadPoolExecutor.submit (seen in Streamlit's AppTest): that thread holds
                # concurrent.futures' global lock, and MediaPipe's close would wait for it on
                # this very thread forever. Close from a helper thread once the lock is free.
                threading.Thread(target=self._close_landmarker, name="posecoach-close", daemon=True).start()
                return
            self._close_landmarker()

    def _close_landmarker(self) -> None:
        with _gc_paused():
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
        video = self.mode is TrackerMode.VIDEO
        with _gc_paused():
            if self._native is not None:
                return self._native.detect(image, ts, image_wh, video=video)
            result = self._landmarker.detect_for_video(image, ts) if video else self._landmarker.detect(image)
        return face_frame_from_result(result, image_wh, ts)

    def process_all(self, frame: np.ndarray, t_ms: float | None = None, *, bgr: bool = True) -> list[FaceFrame]:
        """Every face the landmarker finds in one frame (up to its ``max_faces``), for
        workshop mode; each :class:`FaceFrame` describes one face (``n_faces`` = how many)."""
        rgb = self.prepare(frame, bgr=bgr)
        ts = self.next_timestamp(t_ms)
        image = self._mp.Image(image_format=self._mp.ImageFormat.SRGB, data=rgb)
        with _gc_paused():
            if self.mode is TrackerMode.VIDEO:
                result = self._landmarker.detect_for_video(image, ts)
            else:
                result = self._landmarker.detect(image)
        return all_faces_from_result(result, (frame.shape[1], frame.shape[0]), ts)


def _pool_lock_held() -> bool:
    """Whether some thread holds ``concurrent.futures``' global shutdown lock right now."""
    import concurrent.futures.thread as cft

    lock = getattr(cft, "_global_shutdown_lock", None)
    return bool(lock is not None and lock.locked())


_gc_lock = threading.Lock()
_gc_pauses = 0
_gc_was_enabled = False


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """No automatic garbage collection while a MediaPipe call runs (any thread).

    MediaPipe sends every call through a ``ThreadPoolExecutor``, whose ``submit`` holds the
    process-wide ``concurrent.futures`` shutdown lock while it allocates. Were the garbage
    collector to run right there and collect something whose finalizer closes a landmarker
    (a ``weakref.finalize`` closing a dropped tracker, or MediaPipe's own ``__del__``), that
    close would wait for the same lock on the same thread, forever. Collection resumes as
    soon as the last call in flight returns; explicit ``gc.collect()`` is not affected.
    """
    global _gc_pauses, _gc_was_enabled
    with _gc_lock:
        if _gc_pauses == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_pauses += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_pauses -= 1
            if _gc_pauses == 0 and _gc_was_enabled:
                gc.enable()


_xyz = attrgetter("x", "y", "z")


def face_frame_from_result(result: object, image_wh: tuple[int, int], t_ms: int) -> FaceFrame:
    """Convert a MediaPipe ``FaceLandmarkerResult`` to our :class:`FaceFrame` (largest face)."""
    faces = result.face_landmarks  # type: ignore[attr-defined]
    if not faces:
        return FaceFrame.empty(image_wh, t_ms)
    chain = itertools.chain.from_iterable
    arrays = [np.fromiter(chain(map(_xyz, lms)), np.float32, count=3 * len(lms)).reshape(-1, 3) for lms in faces]
    best = _largest_face(arrays, image_wh)
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
    return _face_frame(arrays[best], blend, matrix, image_wh, len(faces), t_ms)


def all_faces_from_result(result: object, image_wh: tuple[int, int], t_ms: int) -> list[FaceFrame]:
    """Every face of a MediaPipe ``FaceLandmarkerResult`` as a :class:`FaceFrame`, in its order."""
    faces = result.face_landmarks  # type: ignore[attr-defined]
    shapes = result.face_blendshapes  # type: ignore[attr-defined]
    mats = result.facial_transformation_matrixes  # type: ignore[attr-defined]
    out = []
    for i, lms in enumerate(faces or ()):
        arr = np.fromiter(itertools.chain.from_iterable(map(_xyz, lms)), np.float32, count=3 * len(lms)).reshape(-1, 3)
        blend = np.array([c.score for c in shapes[i]], np.float32) if shapes and len(shapes) > i else np.zeros(52, np.float32)
        matrix = np.asarray(mats[i], np.float32).reshape(4, 4) if mats is not None and len(mats) > i else np.eye(4, dtype=np.float32)
        face = _face_frame(arr, blend, matrix, image_wh, len(faces), t_ms)
        if face.has_face:
            out.append(face)
    return out


def _largest_face(arrays: list[np.ndarray], image_wh: tuple[int, int]) -> int:
    """Index of the face with the largest landmark bounding box, in pixels (so the frame's
    aspect ratio does not bias the choice)."""
    if len(arrays) == 1:
        return 0
    best, best_area = 0, -1.0
    for i, a in enumerate(arrays):
        if a.shape[0] == 0:
            continue
        span = (a[:, :2].max(axis=0) - a[:, :2].min(axis=0)) * image_wh
        area = float(span[0] * span[1])
        if area > best_area:
            best, best_area = i, area
    return best


def _face_frame(
    landmarks: np.ndarray, blend: np.ndarray, matrix: np.ndarray, image_wh: tuple[int, int], n_faces: int, t_ms: int
) -> FaceFrame:
    if landmarks.shape[0] != N_LANDMARKS:
        return FaceFrame.empty(image_wh, t_ms)
    return FaceFrame(landmarks, blend, matrix, image_wh, n_faces, t_ms)


class _NativeResults:
    """Read the landmarker's result straight from MediaPipe's C structs into arrays.

    MediaPipe's Python wrapper (``FaceLandmarkerResult.from_ctypes``) builds one Python
    ``NormalizedLandmark`` object per landmark, 478 per face, and a ``Category`` per
    blendshape: ~0.8 ms per frame, more than everything posecoach does with them. This
    calls the same C functions through the landmarker's own (thread-serialising)
    dispatcher and copies the numbers out with numpy before MediaPipe frees them.

    It depends on the ctypes layout of the MediaPipe C API (mediapipe 1.x); :meth:`create`
    checks that layout and returns None when it differs or is absent (older mediapipe
    releases), and the public API is used instead. ``tests/test_detector.py`` checks that
    both paths give identical observations.
    """

    def __init__(self, landmarker: Any, result_type: type, lm_cols: np.ndarray, lm_stride: int,
                 score_col: int, cat_stride: int) -> None:  # fmt: skip
        self._landmarker = landmarker
        self._result_type = result_type
        self._lm_cols = lm_cols
        self._lm_stride = lm_stride
        self._score_col = score_col
        self._cat_stride = cat_stride

    @classmethod
    def create(cls, landmarker: Any) -> _NativeResults | None:
        """A reader for ``landmarker``, or None when the installed MediaPipe does not fit."""
        if os.environ.get("POSECOACH_MP_PYTHON_RESULTS"):
            return None  # escape hatch: force MediaPipe's own result objects
        try:
            from mediapipe.tasks.python.components.containers import category_c, landmark_c, matrix_c
            from mediapipe.tasks.python.vision import face_landmarker as fl

            result_type = fl.MpFaceLandmarkerResultC
            lib = landmarker._lib
            calls = ("MpFaceLandmarkerDetectForVideo", "MpFaceLandmarkerDetectImage", "MpFaceLandmarkerCloseResult")
            if not all(callable(getattr(lib, name)) for name in calls):
                return None
            if not hasattr(landmarker, "_handle"):
                return None
            f32 = ctypes.c_float
            result_fields = dict(result_type._fields_)
            expected = {
                "face_landmarks": ctypes.POINTER(landmark_c.MpNormalizedLandmarksC),
                "face_landmarks_count": ctypes.c_uint32,
                "face_blendshapes": ctypes.POINTER(category_c.MpCategoriesC),
                "face_blendshapes_count": ctypes.c_uint32,
                "facial_transformation_matrixes": ctypes.POINTER(matrix_c.MpMatrixC),
                "facial_transformation_matrixes_count": ctypes.c_uint32,
            }
            if any(result_fields.get(k) is not v for k, v in expected.items()):
                return None
            lm_t, cat_t = landmark_c.MpNormalizedLandmarkC, category_c.MpCategoryC
            lm_fields, cat_fields = dict(lm_t._fields_), dict(cat_t._fields_)
            mat_fields = dict(matrix_c.MpMatrixC._fields_)
            list_fields = dict(landmark_c.MpNormalizedLandmarksC._fields_)
            cats_fields = dict(category_c.MpCategoriesC._fields_)
            if (
                any(lm_fields.get(k) is not f32 for k in "xyz")
                or cat_fields.get("score") is not f32
                or mat_fields.get("rows") is not ctypes.c_uint32
                or mat_fields.get("cols") is not ctypes.c_uint32
                or mat_fields.get("data") is not ctypes.POINTER(f32)
                or list_fields.get("landmarks") is not ctypes.POINTER(lm_t)
                or list_fields.get("landmarks_count") is not ctypes.c_uint32
                or cats_fields.get("categories") is not ctypes.POINTER(cat_t)
                or cats_fields.get("categories_count") is not ctypes.c_uint32
            ):
                return None
            offsets = [getattr(lm_t, k).offset for k in "xyz"] + [cat_t.score.offset]
            sizes = (ctypes.sizeof(lm_t), ctypes.sizeof(cat_t))
            if any(o % 4 for o in offsets) or any(s % 4 for s in sizes):
                return None
        except (ImportError, AttributeError, TypeError, ValueError):
            return None
        lm_cols = np.array([o // 4 for o in offsets[:3]], dtype=np.intp)
        return cls(landmarker, result_type, lm_cols, sizes[0] // 4, offsets[3] // 4, sizes[1] // 4)

    def detect(self, image: Any, ts: int, image_wh: tuple[int, int], *, video: bool) -> FaceFrame:
        """Run the landmarker on an ``mp.Image``: ``detect_for_video`` at ``ts`` or ``detect``."""
        lm = self._landmarker
        lib = lm._lib
        res = self._result_type()
        ref = ctypes.byref(res)
        if video:
            lib.MpFaceLandmarkerDetectForVideo(lm._handle, image._image_ptr, None, ts, ref)
        else:
            lib.MpFaceLandmarkerDetectImage(lm._handle, image._image_ptr, None, ref)
        try:
            return self._read(res, image_wh, ts)
        finally:
            lib.MpFaceLandmarkerCloseResult(ref)

    def _read(self, res: Any, image_wh: tuple[int, int], t_ms: int) -> FaceFrame:
        n_faces = int(res.face_landmarks_count)
        if n_faces == 0 or not res.face_landmarks:
            return FaceFrame.empty(image_wh, t_ms)
        arrays = []
        for i in range(n_faces):
            lms = res.face_landmarks[i]
            n = int(lms.landmarks_count)
            if n == 0 or not lms.landmarks:
                arrays.append(np.zeros((0, 3), np.float32))
                continue
            raw = _floats(lms.landmarks, n * self._lm_stride).reshape(n, self._lm_stride)
            arrays.append(raw[:, self._lm_cols])  # fancy indexing: a copy, safe after close
        best = _largest_face(arrays, image_wh)
        blend = np.zeros((52,), np.float32)
        if best < int(res.face_blendshapes_count) and res.face_blendshapes:
            cats = res.face_blendshapes[best]
            n = int(cats.categories_count)
            if n and cats.categories:
                scores = _floats(cats.categories, n * self._cat_stride).reshape(n, self._cat_stride)
                blend = scores[:, self._score_col].copy()
        matrix = np.eye(4, dtype=np.float32)
        if best < int(res.facial_transformation_matrixes_count) and res.facial_transformation_matrixes:
            m = res.facial_transformation_matrixes[best]
            if m.rows == 4 and m.cols == 4 and m.data:
                matrix = np.ascontiguousarray(_floats(m.data, 16).reshape(4, 4).T)  # column-major in C
        return _face_frame(arrays[best], blend, matrix, image_wh, n_faces, t_ms)


def _floats(pointer: Any, count: int) -> np.ndarray:
    """A float32 view of ``count`` floats at ``pointer`` (no copy: copy before MediaPipe frees it)."""
    address = ctypes.cast(pointer, ctypes.c_void_p).value
    return np.frombuffer((ctypes.c_float * count).from_address(address), dtype=np.float32)
