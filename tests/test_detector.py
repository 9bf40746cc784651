"""The MediaPipe boundary: model checks, frame layouts, timestamps, a real face and no face."""

from __future__ import annotations

import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
from skimage import data as skdata

from posecoach.detector import FaceTracker, TrackerMode, to_rgb_uint8
from posecoach.model_file import DEFAULT_MODEL_PATH, ModelError, resolve_model_path, verify_model


@pytest.fixture(scope="module")
def astronaut_bgr() -> np.ndarray:
    return cv2.cvtColor(skdata.astronaut(), cv2.COLOR_RGB2BGR)


def test_bundled_model_verifies() -> None:
    assert verify_model(DEFAULT_MODEL_PATH) == DEFAULT_MODEL_PATH


def test_missing_model_is_one_clear_line(tmp_path: Path) -> None:
    missing = tmp_path / "nope.task"
    with pytest.raises(ModelError) as e:
        FaceTracker(missing)
    assert str(e.value) == f"model file not found: {missing} {_FIX}"


def test_corrupt_bundled_model_fails_sha256(tmp_path: Path) -> None:
    bad = tmp_path / "face_landmarker.task"
    shutil.copy(DEFAULT_MODEL_PATH, bad)
    with bad.open("r+b") as f:
        f.seek(1000)
        f.write(b"\x00" * 16)
    with pytest.raises(ModelError, match=r"^model file is corrupt \(sha256 mismatch\): "):
        verify_model(bad)


def test_garbage_model_file_cannot_load(tmp_path: Path) -> None:
    bad = tmp_path / "garbage.task"
    bad.write_bytes(b"this is not a model" * 100)
    with pytest.raises(ModelError, match=r"^cannot load model .*garbage\.task: "):
        FaceTracker(bad)


#: What to do about a model named explicitly (as --model does), and one named by POSECOACH_MODEL.
_FIX = "(check the file given by --model, or leave --model out to use the bundled model)"
_ENV_FIX = "(check the file POSECOACH_MODEL names, or unset POSECOACH_MODEL to use the bundled face_landmarker.task)"


def _flipped(tmp_path: Path, offset: int, n: int = 20_000) -> Path:
    """The bundled model with ``n`` bytes inverted from ``offset`` (negative: from the end)."""
    data = bytearray(DEFAULT_MODEL_PATH.read_bytes())
    start = offset % len(data)
    data[start : start + n] = bytes(b ^ 0xFF for b in data[start : start + n])
    path = tmp_path / f"flipped{offset}.task"
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize(
    ("offset", "member"),
    [(0, "face_detector.tflite"), (50_000, "face_detector.tflite"), (1_000_000, "face_landmarks_detector.tflite"),
     (3_000_000, "face_blendshapes.tflite")],
)  # fmt: skip
def test_a_corrupt_named_model_fails_at_load_naming_the_file(tmp_path: Path, offset: int, member: str) -> None:
    """Flipped bytes in the landmarks model found no face in any frame; in the blendshapes
    model they gave wrong expressions; both silently."""
    bad = _flipped(tmp_path, offset)
    with pytest.raises(ModelError) as e:
        FaceTracker(bad)
    assert str(e.value) == f"model file is corrupt ({member} fails its checksum): {bad} {_FIX}"


def test_a_model_with_a_broken_zip_directory_or_the_wrong_members_fails_at_load(tmp_path: Path) -> None:
    import zipfile

    bad = _flipped(tmp_path, -20_000)
    with pytest.raises(ModelError) as e:
        FaceTracker(bad)
    assert str(e.value) == f"cannot load model {bad}: not a model bundle (a .task file is a zip archive) or corrupt {_FIX}"
    other = tmp_path / "hand.task"
    with zipfile.ZipFile(other, "w") as z:
        z.writestr("hand_detector.tflite", b"x" * 100)
    with pytest.raises(ModelError) as e:
        FaceTracker(other)
    assert str(e.value) == (f"cannot load model {other}: not a face landmarker bundle (missing face_detector.tflite, "
                            f"face_landmarks_detector.tflite, face_blendshapes.tflite) {_FIX}")  # fmt: skip


def test_a_model_path_that_is_not_a_regular_file_is_one_line(tmp_path: Path) -> None:
    import os

    os.mkfifo(tmp_path / "pipe.task")
    with pytest.raises(ModelError) as e:
        FaceTracker(tmp_path / "pipe.task")
    assert str(e.value) == f"model file unusable: {tmp_path / 'pipe.task'}: is a named pipe (FIFO), not a model file (.task) {_FIX}"


def test_a_corrupt_model_from_the_environment_is_exit_2_naming_it(tmp_path: Path, astronaut_bgr: np.ndarray) -> None:
    import os
    import subprocess
    import sys

    bad = _flipped(tmp_path, 1_000_000)
    photo = tmp_path / "photo.png"
    cv2.imwrite(str(photo), astronaut_bgr)
    proc = subprocess.run([sys.executable, "-m", "posecoach", "analyze", str(photo)], capture_output=True, text=True,
                          env={**os.environ, "POSECOACH_MODEL": str(bad)}, timeout=120)  # fmt: skip
    assert (proc.returncode, proc.stdout) == (2, "")
    assert proc.stderr == f"posecoach: error: model file is corrupt (face_landmarks_detector.tflite fails its checksum): {bad} {_ENV_FIX}\n"


def test_env_var_overrides_model(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("POSECOACH_MODEL", str(tmp_path / "m.task"))
    assert resolve_model_path() == tmp_path / "m.task"
    assert resolve_model_path("x.task") == Path("x.task")
    monkeypatch.delenv("POSECOACH_MODEL")
    assert resolve_model_path() == DEFAULT_MODEL_PATH


@pytest.mark.parametrize(
    ("shape", "dtype"),
    [((20, 30), np.uint8), ((20, 30, 1), np.uint8), ((20, 30, 3), np.uint8), ((20, 30, 4), np.uint8),
     ((20, 30, 3), np.uint16), ((20, 30, 3), np.float32)],
)
def test_any_layout_becomes_rgb_uint8(shape: tuple[int, ...], dtype: type) -> None:
    frame = np.full(shape, 1.0 if dtype is np.float32 else np.iinfo(dtype).max, dtype)
    rgb = to_rgb_uint8(frame)
    assert rgb.shape == (20, 30, 3) and rgb.dtype == np.uint8 and rgb.flags.c_contiguous
    assert int(rgb.min()) == 255


def test_bgr_is_swapped_to_rgb() -> None:
    frame = np.zeros((4, 4, 3), np.uint8)
    frame[..., 0] = 200  # blue in OpenCV order
    assert to_rgb_uint8(frame)[0, 0].tolist() == [0, 0, 200]


def test_large_frames_are_downscaled() -> None:
    rgb = to_rgb_uint8(np.zeros((2160, 3840, 3), np.uint8), max_side=1280)
    assert rgb.shape == (720, 1280, 3)


@pytest.mark.parametrize("wh", [(3840, 2160), (1920, 1080), (1600, 900), (2560, 1440), (1281, 721), (721, 1281)])
def test_downscaling_is_bilinear_whatever_the_shortcut(wh: tuple[int, int]) -> None:
    """An odd whole-factor reduction takes a cheaper path that gives the very same pixels."""
    frame = np.random.default_rng(0).integers(0, 256, (wh[1], wh[0], 3), dtype=np.uint8)
    rgb = to_rgb_uint8(frame, max_side=1280)
    scale = 1280 / max(wh)
    size = (max(1, round(wh[0] * scale)), max(1, round(wh[1] * scale)))
    expected = cv2.cvtColor(cv2.resize(frame, size, interpolation=cv2.INTER_LINEAR), cv2.COLOR_BGR2RGB)
    assert np.array_equal(rgb, expected)


@pytest.mark.parametrize("bad", [np.zeros((0, 0, 3), np.uint8), np.zeros((4, 4, 5), np.uint8), np.zeros(7, np.uint8)])
def test_non_images_are_rejected(bad: np.ndarray) -> None:
    with pytest.raises(ValueError, match="^not an image"):
        to_rgb_uint8(bad)


def test_timestamps_strictly_increase_whatever_the_source_says(astronaut_bgr: np.ndarray) -> None:
    small = cv2.resize(astronaut_bgr, (256, 256))
    with FaceTracker(mode=TrackerMode.VIDEO) as tracker:
        stamps = [tracker.process(small, t).t_ms for t in (100, 100, 50, None, float("nan"), 101, 500)]
    assert stamps == [100, 101, 102, 103, 104, 105, 500]


def test_real_face_gives_a_full_observation(astronaut_bgr: np.ndarray) -> None:
    with FaceTracker(mode=TrackerMode.IMAGE) as tracker:
        face = tracker.process(astronaut_bgr)
    assert face.has_face and face.n_faces == 1
    assert face.landmarks.shape == (478, 3) and face.landmarks.dtype == np.float32
    assert face.blendshapes.shape == (52,)
    assert face.image_wh == (512, 512)
    # The astronaut's face is in the upper middle of the picture.
    cx, cy = face.landmarks[:, :2].mean(axis=0)
    assert 0.35 < cx < 0.6 and 0.15 < cy < 0.45
    assert face.matrix[3].tolist() == [0, 0, 0, 1]


def test_downscaled_inference_keeps_landmarks_in_original_coordinates(astronaut_bgr: np.ndarray) -> None:
    big = cv2.resize(astronaut_bgr, (2048, 2048), interpolation=cv2.INTER_CUBIC)
    with FaceTracker(mode=TrackerMode.IMAGE) as tracker:
        small_face = tracker.process(astronaut_bgr)
        big_face = tracker.process(big)
    assert big_face.image_wh == (2048, 2048)
    assert np.abs(big_face.landmarks[:, :2] - small_face.landmarks[:, :2]).max() < 0.01


@pytest.mark.parametrize("value", [0, 255])
def test_blank_frames_have_no_face(value: int) -> None:
    with FaceTracker(mode=TrackerMode.VIDEO) as tracker:
        face = tracker.process(np.full((360, 640, 3), value, np.uint8), 0)
    assert not face.has_face and face.n_faces == 0 and face.landmarks.shape == (0, 3)



@pytest.mark.parametrize("mode", [TrackerMode.VIDEO, TrackerMode.IMAGE])
def test_native_results_match_mediapipes_own_objects(
    shared_media: Path, decode_clip, mode: TrackerMode  # noqa: ANN001
) -> None:
    """The fast path reading MediaPipe's C result structs gives exactly what its Python API gives:
    one face, several faces (the largest is kept) and none."""
    group = cv2.imread(str(shared_media / "multi_face.jpg"))
    frames = [*decode_clip("single_face.mp4")[:20], group, np.zeros((360, 640, 3), np.uint8)]
    with FaceTracker(mode=mode) as fast, FaceTracker(mode=mode) as public:
        if fast._native is None:
            pytest.skip("this mediapipe has no C result structs: the public API is used")
        public._native = None
        seen = []
        for i, frame in enumerate(frames):
            a, b = fast.process(frame, i * 33.3), public.process(frame, i * 33.3)
            assert (a.t_ms, a.n_faces, a.image_wh) == (b.t_ms, b.n_faces, b.image_wh)
            for name in ("landmarks", "blendshapes", "matrix"):
                x, y = getattr(a, name), getattr(b, name)
                assert x.dtype == y.dtype and x.shape == y.shape and np.array_equal(x, y), (name, i)
            seen.append(a.n_faces)
    assert seen[0] == 1 and seen[-2] > 1 and seen[-1] == 0



@pytest.mark.parametrize("native", [True, False])
def test_no_garbage_collection_inside_mediapipe_calls(native: bool) -> None:
    """MediaPipe's dispatcher holds concurrent.futures' process-wide lock while it allocates. A
    collection there that ran a finalizer closing another landmarker (the live page's LiveCoach
    closes its tracker from a weakref.finalize) deadlocked the test suite once, so automatic
    collection is paused for the length of every landmarker call and resumes after."""
    import gc

    frame = np.zeros((360, 640, 3), np.uint8)
    with FaceTracker(mode=TrackerMode.VIDEO) as tracker:
        if not native:
            tracker._native = None
        lib = tracker._landmarker._lib
        seen: list[bool] = []
        for name in ("MpFaceLandmarkerDetectForVideo", "MpFaceLandmarkerClose"):
            real = getattr(lib, name)
            setattr(lib, name, lambda *a, _real=real: (seen.append(gc.isenabled()), _real(*a))[1])
        assert gc.isenabled()
        tracker.process(frame, 0)
        assert seen == [False] and gc.isenabled()
    assert seen == [False, False] and gc.isenabled()


def test_a_tracker_closed_inside_a_thread_pool_submit_does_not_deadlock() -> None:
    """Garbage collection can run a finalizer that closes a dropped tracker while this thread
    is inside ThreadPoolExecutor.submit (it holds concurrent.futures' global lock); MediaPipe's
    close needs that lock. The close must not wait for it on this thread."""
    import concurrent.futures.thread as cft
    import threading

    tracker = FaceTracker(mode=TrackerMode.IMAGE)
    with cft._global_shutdown_lock:
        tracker.close()  # returned at once (deadlocked here before)
    helpers = [t for t in threading.enumerate() if t.name == "posecoach-close"]
    for t in helpers:
        t.join(timeout=30)
    assert helpers and not any(t.is_alive() for t in helpers)
