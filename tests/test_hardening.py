"""Bad input, camera faults, long sessions and privacy: what a person pointing posecoach at
whatever they have must see."""

from __future__ import annotations

import dataclasses
import io
import json
import os
import socket
import subprocess
import sys
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image
from skimage import data as skdata

from posecoach.cli import main
from posecoach.detector import FaceTracker, TrackerMode
from posecoach.metrics import compute_metrics
from posecoach.pipeline import Pipeline, PipelineOptions
from posecoach.runs import run_live
from posecoach.session import CoachSession
from posecoach.sources import Frame, read_image
from posecoach.targets import find_target

from factories import ReplayTracker


@pytest.fixture(scope="module")
def astronaut_bgr() -> np.ndarray:
    return cv2.cvtColor(skdata.astronaut(), cv2.COLOR_RGB2BGR)


# -- network: the `no_network` guard lives in conftest.py ------------------------------------
def test_the_guard_catches_an_outside_connection(no_network: list[object]) -> None:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    with pytest.raises(AssertionError, match="network connection attempted"):
        s.connect(("192.0.2.1", 80))  # TEST-NET-1: never actually reached
    s.close()


def test_analyze_opens_no_connection_and_writes_nothing(
    no_network: list[object], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, astronaut_bgr: np.ndarray,
    capsys: pytest.CaptureFixture[str],
) -> None:
    clip = tmp_path / "in" / "clip.avi"
    clip.parent.mkdir()
    writer = cv2.VideoWriter(str(clip), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (512, 512))
    for _ in range(12):
        writer.write(astronaut_bgr)
    writer.release()
    work, home = tmp_path / "work", tmp_path / "home"
    work.mkdir()
    home.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("HOME", str(home))
    assert main(["analyze", str(clip), "--timings"]) == 0
    assert "with a face: 12 (100%)" in capsys.readouterr().out
    assert no_network == [] and list(work.iterdir()) == [] and list(home.iterdir()) == []


def test_the_cli_writes_nothing_to_home_or_the_temporary_folder(tmp_path: Path, astronaut_bgr: np.ndarray) -> None:
    """MediaPipe imports matplotlib, which would build its font list in ~/.cache/matplotlib."""
    photo = tmp_path / "in" / "photo.png"
    photo.parent.mkdir()
    cv2.imwrite(str(photo), astronaut_bgr)
    work, home, tmp = tmp_path / "work", tmp_path / "home", tmp_path / "tmp"
    for folder in (work, home, tmp):
        folder.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("MPLCONFIGDIR", "XDG_CACHE_HOME", "XDG_CONFIG_HOME")}
    env.update(HOME=str(home), TMPDIR=str(tmp))
    proc = subprocess.run([sys.executable, "-m", "posecoach", "analyze", str(photo)], cwd=work, env=env,
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert proc.returncode == 0 and "with a face: 1 (100%)" in proc.stdout, proc.stderr
    assert [p for p in tmp_path.rglob("*") if p.parent != tmp_path and p.parent.name != "in"] == []


# -- bad files ------------------------------------------------------------------------------
@pytest.mark.media
@pytest.mark.parametrize("fraction", [0.01, 0.25, 0.5, 0.75, 0.99])
def test_a_truncated_shared_clip_is_one_line(
    fraction: float, shared_media: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = (shared_media / "single_face.mp4").read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: int(len(data) * fraction)])
    assert main(["analyze", str(cut)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err == (
        f"posecoach: error: {cut}: not a video or image posecoach can read (corrupt, truncated or unsupported format)\n"
    )


def test_a_video_cut_mid_stream_keeps_what_was_decoded(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    full = tmp_path / "full.avi"
    writer = cv2.VideoWriter(str(full), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (160, 120))
    for i in range(30):
        writer.write(np.full((120, 160, 3), i * 8, np.uint8))
    writer.release()
    cut = tmp_path / "cut.avi"
    cut.write_bytes(full.read_bytes()[: int(full.stat().st_size * 0.6)])
    assert main(["analyze", str(cut), "--out", str(tmp_path / "rows.jsonl")]) == 0
    out, err = capsys.readouterr()
    assert err == f"posecoach: warning: {cut}: video ended early (decoded 12 of 30 frames; the file may be truncated)\n"
    assert len((tmp_path / "rows.jsonl").read_text().splitlines()) == 12


def cli(*args: str, timeout: float = 120) -> tuple[int, str, str]:
    """``posecoach ARGS`` in a subprocess: exit status, stdout, stderr."""
    proc = subprocess.run([sys.executable, "-m", "posecoach", *args], capture_output=True, text=True, timeout=timeout)
    return proc.returncode, proc.stdout, proc.stderr


@pytest.mark.media
@pytest.mark.parametrize("name", ["smile.jfif", "smile.heic", "smile"])
def test_a_renamed_photo_is_coached_as_a_photo(shared_media: Path, tmp_path: Path, name: str) -> None:
    """FFmpeg opened these as one-frame videos and the persistence rule hid the face (exit 0)."""
    path = tmp_path / name
    path.write_bytes((shared_media / "single_face.jpg").read_bytes())
    code, out, err = cli("analyze", str(path))
    assert code == 0 and "frames: 1, with a face: 1 (100%)" in out and "score: " in out, err


def test_a_one_frame_video_reports_its_face(tmp_path: Path, astronaut_bgr: np.ndarray) -> None:
    clip = tmp_path / "one.avi"
    writer = cv2.VideoWriter(str(clip), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (512, 512))
    writer.write(astronaut_bgr)
    writer.release()
    code, out, err = cli("analyze", str(clip), "--out", "-")
    assert code == 0 and "frames: 1, with a face: 1 (100%)" in err
    assert json.loads(out)["face"] is True


@pytest.mark.media
def test_the_cartoon_phantoms_stay_hidden(shared_media: Path) -> None:
    """MediaPipe "finds" a face in the cartoon title (face_noface.mov 163, noface_face.mov 90)."""
    rows = {}
    for clip in ("face_noface.mov", "noface_face.mov"):
        code, out, _ = cli("analyze", str(shared_media / clip), "--out", "-")
        assert code == 0
        rows[clip] = [json.loads(line)["face"] for line in out.splitlines()]
    assert all(rows["face_noface.mov"][:72]) and not any(rows["face_noface.mov"][72:])
    # The man appears mid-stream at 96: two frames to persist, then coached.
    assert not any(rows["noface_face.mov"][:98]) and all(rows["noface_face.mov"][98:168])


@pytest.mark.parametrize("late", [1, 2])
def test_a_face_in_the_last_frames_of_a_clip_is_reported(tmp_path: Path, astronaut_bgr: np.ndarray, late: int) -> None:
    """The 3-frame persistence rule hid a face that appears in the last one or two frames."""
    clip = tmp_path / "late.avi"
    writer = cv2.VideoWriter(str(clip), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (512, 512))
    for _ in range(20):
        writer.write(np.full((512, 512, 3), 100, np.uint8))
    for _ in range(late):
        writer.write(astronaut_bgr)
    writer.release()
    code, out, err = cli("analyze", str(clip), "--out", "-")
    assert code == 0 and f"frames: {20 + late}, with a face: {late} " in err
    assert [json.loads(line)["face"] for line in out.splitlines()] == [False] * 20 + [True] * late


@pytest.mark.media
@pytest.mark.parametrize("last", [96, 97])
def test_the_man_entering_at_the_end_of_a_cut_clip_is_reported(shared_media: Path, tmp_path: Path, last: int) -> None:
    """noface_face.mov cut right after the man appears (frame 96): his one or two frames count,
    while the cartoon's phantom at frame 90 stays hidden."""
    cap = cv2.VideoCapture(str(shared_media / "noface_face.mov"))
    clip = tmp_path / "cut.avi"
    writer = cv2.VideoWriter(str(clip), cv2.VideoWriter_fourcc(*"MJPG"), 26.0, (960, 540))
    for _ in range(last + 1):
        ok, frame = cap.read()
        assert ok
        writer.write(frame)
    writer.release()
    cap.release()
    code, out, _ = cli("analyze", str(clip), "--out", "-")
    faces = [json.loads(line)["face"] for line in out.splitlines()]
    assert code == 0 and len(faces) == last + 1
    assert not any(faces[:96]) and all(faces[96:])


def test_special_target_files_are_one_line(tmp_path: Path, astronaut_bgr: np.ndarray) -> None:
    """A FIFO hung the CLI forever; /dev/zero (or a .toml link to it) read until memory ran out."""
    photo = tmp_path / "photo.png"
    cv2.imwrite(str(photo), astronaut_bgr)
    os.mkfifo(tmp_path / "pipe.toml")
    (tmp_path / "zero.toml").symlink_to("/dev/zero")
    for target, reason in [
        (tmp_path / "pipe.toml", "is a named pipe (FIFO), not a target file (.toml)"),
        (Path("/dev/zero"), "is a device, not a target file (.toml)"),
        (tmp_path / "zero.toml", "is a device, not a target file (.toml)"),
    ]:
        assert cli("analyze", str(photo), "--target", str(target), timeout=60) == (2, "", f"posecoach: error: {target}: {reason}\n")


def test_a_fifo_named_like_a_video_is_one_line(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "f.mp4")
    err = f"posecoach: error: {tmp_path / 'f.mp4'}: is a named pipe (FIFO), not an image or video file\n"
    assert cli("analyze", str(tmp_path / "f.mp4"), timeout=60) == (2, "", err)
    assert cli("live", "--video", str(tmp_path / "f.mp4"), "--no-window", timeout=60) == (2, "", err)


def test_huge_weights_are_refused_so_no_nan_is_written(tmp_path: Path, astronaut_bgr: np.ndarray) -> None:
    """Two weights of 1e308 overflowed the weighted mean: rows said NaN, the summary "mean nan/100"."""
    photo = tmp_path / "photo.png"
    cv2.imwrite(str(photo), astronaut_bgr)
    target = tmp_path / "t.toml"
    target.write_text('name = "t"\n[ranges.smile]\nlow = 0.2\nhigh = 0.5\ntolerance = 0.2\nweight = 1e308\n'
                      '[ranges.yaw]\nlow = -5\nhigh = 5\ntolerance = 10\nweight = 1e308\n')  # fmt: skip
    assert cli("analyze", str(photo), "--target", str(target)) == (
        2, "", f"posecoach: error: {target}: ranges.smile.weight: expected a number in [0, 100], got 1e+308\n"
    )


def test_non_finite_numbers_are_never_written_as_data() -> None:
    from posecoach.export import RowWriter
    from posecoach.results import Cue, EyeState, FaceFrame, FrameResult, HoldState, Metrics, TargetScore

    nan, inf = float("nan"), float("inf")
    metrics = Metrics(nan, inf, -inf, nan, 0.1, nan, 0.5, EyeState.OPEN, nan, nan, nan, 0.1, 0.5, 0.4, 0.3)
    face = FaceFrame(np.zeros((478, 3), np.float32), np.zeros(52, np.float32), np.eye(4, dtype=np.float32), (64, 48), 1, 0)
    result = FrameResult(0, nan, face, metrics, metrics, TargetScore("t", nan, ()), Cue(""), HoldState(0.0, False, 0))
    for fmt in ("jsonl", "csv"):
        out = io.StringIO()
        RowWriter(out, fmt).write(result)
        assert "nan" not in out.getvalue().lower() and "inf" not in out.getvalue().lower()
    out = io.StringIO()
    RowWriter(out, "jsonl").write(result)
    row = json.loads(out.getvalue(), parse_constant=lambda c: pytest.fail(f"{c} in the row"))
    assert row["yaw"] is None and row["score"] is None and row["t_ms"] is None and row["eye_open_right"] == 0.5


@pytest.mark.parametrize("args", [["live", "--no-window", "--camera", "-1"], ["live", "--no-window", "--camera", "2147483648"],
                                  ["calibrate", "--camera=-5", "--name", "me"], ["live", "--camera", "two"]])  # fmt: skip
def test_a_camera_number_out_of_range_is_refused_when_the_arguments_are_read(
    args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """`--camera -1` crashed OpenCV (exit 139); 2147483648 was a traceback. Now the parser
    refuses it (SystemExit 2) before a target, a profile or a camera is even looked at."""
    flag = next(i for i, a in enumerate(args) if a.startswith("--camera"))
    index = args[flag].partition("=")[2] or args[flag + 1]
    with pytest.raises(SystemExit) as e:
        main(args)
    assert e.value.code == 2
    assert capsys.readouterr() == ("", f"posecoach: error: argument --camera: expected a camera number from 0 to 99, "
                                       f"got {index!r} (see posecoach --help)\n")  # fmt: skip
    assert cli(*args, timeout=60)[0] == 2


def test_exif_rotated_phone_photo_is_coached_upright(
    tmp_path: Path, astronaut_bgr: np.ndarray, image_tracker: FaceTracker
) -> None:
    upright = compute_metrics(image_tracker.process(astronaut_bgr))
    # A phone stores the sensor image sideways and says "rotate 90 degrees clockwise" in EXIF.
    stored = np.rot90(skdata.astronaut(), k=1)  # counter-clockwise
    exif = Image.Exif()
    exif[0x0112] = 6
    path = tmp_path / "phone.jpg"
    Image.fromarray(np.ascontiguousarray(stored)).save(path, exif=exif, quality=95)
    metrics = compute_metrics(image_tracker.process(read_image(path)))
    assert abs(metrics.roll - upright.roll) < 3.0
    # Without EXIF the same pixels would read as a head lying on its side.
    sideways = compute_metrics(image_tracker.process(cv2.cvtColor(np.ascontiguousarray(stored), cv2.COLOR_RGB2BGR)))
    assert abs(sideways.roll - upright.roll) > 60.0


def test_photo_with_transparency_is_coached(tmp_path: Path, image_tracker: FaceTracker) -> None:
    rgba = np.dstack([skdata.astronaut(), np.full((512, 512), 255, np.uint8)])
    rgba[:, :100, 3] = 0  # a transparent strip
    buf = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(buf, format="PNG")
    path = tmp_path / "alpha.png"
    path.write_bytes(buf.getvalue())
    assert image_tracker.process(read_image(path)).has_face


def test_frame_size_changing_mid_stream(astronaut_bgr: np.ndarray) -> None:
    sizes = [(512, 512), (640, 360), (1280, 720), (320, 240), (3000, 2000), (512, 512)]
    with FaceTracker(mode=TrackerMode.VIDEO) as tracker:
        pipeline = Pipeline(find_target("friendly_profile"), tracker, options=PipelineOptions(min_face_frames=1))
        results = []
        for i, (w, h) in enumerate(sizes * 3):
            canvas = np.zeros((h, w, 3), np.uint8)
            side = min(w, h)
            face = cv2.resize(astronaut_bgr, (side, side))
            x0 = (w - side) // 2
            canvas[:, x0 : x0 + side] = face[: h]
            results.append(pipeline.process(canvas, i * 33.0))
    assert all(r.has_face for r in results)
    assert [r.face.image_wh for r in results[:6]] == sizes


# -- camera faults --------------------------------------------------------------------------
class FlakyCamera:
    """Frames, then a dead spell (failed reads and empty frames), then frames again."""

    def __init__(self, image: np.ndarray) -> None:
        self.image = image

    def __iter__(self) -> Iterator[Frame | None]:
        t = 0.0
        for i in range(40):
            t += 33.0
            if 15 <= i < 25:
                yield None if i % 2 else Frame(np.zeros((0, 0, 3), np.uint8), i, t)
            else:
                yield Frame(self.image, i, t)


def test_a_camera_that_drops_out_keeps_the_session(astronaut_bgr: np.ndarray) -> None:
    snapshots = []
    with FaceTracker(mode=TrackerMode.VIDEO) as tracker:
        session = CoachSession(Pipeline(find_target("friendly_profile"), tracker))
        shown = 0

        def show(_image: np.ndarray) -> bool:
            nonlocal shown
            shown += 1
            snapshots.append(session.snapshot())
            return True

        frames = FlakyCamera(astronaut_bgr)
        processed = run_live(iter(frames), session, show)
    assert processed == shown == 35  # 40 minus 5 failed reads; empty frames are shown as-is
    lost = [s.camera_lost for s in snapshots]
    assert not any(lost[:15]) and any(lost[15:20]) and not any(lost[-10:])
    after = snapshots[-1]
    assert after.frames == 30 and after.result is not None and after.result.has_face
    assert len(after.timeline) == 30  # the scores from before the drop-out are kept


# -- long sessions --------------------------------------------------------------------------
@pytest.mark.media
def test_a_short_soak_has_flat_memory(tracked_clip, decode_clip) -> None:  # noqa: ANN001
    faces = tracked_clip("single_face.mp4")
    images = decode_clip("single_face.mp4")
    target = dataclasses.replace(find_target("actor_commercial"), hold_s=0.3)
    tracker = ReplayTracker()
    session = CoachSession(Pipeline(target, tracker), max_captures=20)
    t = 0.0

    def run(n: int) -> None:
        nonlocal t
        for i in range(n):
            t += 33.3
            tracker.queue.append(dataclasses.replace(faces[i % len(faces)], t_ms=int(t)))
            session.process(images[i % len(images)], t)

    tracemalloc.start()  # before the warm-up, so gallery images replaced later are counted both ways
    run(2000)  # long enough to fill the gallery: what is measured next is the loop itself
    before = tracemalloc.get_traced_memory()[0]
    run(4000)
    growth = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    snap = session.snapshot()
    assert snap.frames == 6000
    assert len(snap.captures) == 20  # the gallery is bounded
    assert len(snap.timeline) <= 30 * 1000 / 33.3 + 2  # 30 s of history, no more
    assert growth < 2 * 2**20, f"memory grew {growth / 2**20:.1f} MiB over 4000 frames"


def test_the_gallery_stays_within_its_byte_budget_at_4k(astronaut_bgr: np.ndarray, image_tracker: FaceTracker) -> None:
    """50 full 4K frames took 1.2 GB; captures are now kept at display size, as JPEG once their hold is over."""
    from posecoach.results import FaceFrame
    from posecoach.session import CAPTURE_MAX_SIDE, GALLERY_BUDGET_BYTES
    from posecoach.targets import MetricRange, Target

    frame_4k = cv2.resize(astronaut_bgr, (2160, 2160))
    frame_4k = cv2.copyMakeBorder(frame_4k, 0, 0, 840, 840, cv2.BORDER_REFLECT)
    assert frame_4k.shape == (2160, 3840, 3)
    face = image_tracker.process(frame_4k)
    easy = Target("easy", "Easy", "", (MetricRange("yaw", -40, 40, 10),), hold_s=0.1, threshold=50.0)
    tracker = ReplayTracker()
    session = CoachSession(Pipeline(easy, tracker, options=PipelineOptions(smoothing=False)))
    t = 0
    for _hold in range(60):
        for present in [True] * 8 + [False] * 10:  # a gap longer than a blink ends the hold
            t += 33
            tracker.queue.append(dataclasses.replace(face, t_ms=t) if present else FaceFrame.empty(face.image_wh, t))
            session.process(frame_4k, t)
    captures = session.captures
    assert len(captures) == 50 and sum(c.nbytes for c in captures) < GALLERY_BUDGET_BYTES
    assert sum(c.nbytes for c in captures) < 50 * 2**20  # 50 x 24.9 MB before
    assert all(c.jpeg[:3] == b"\xff\xd8\xff" for c in captures)
    image = captures[-1].image
    assert image.shape == (1080, CAPTURE_MAX_SIDE, 3)
    # What the page shows and downloads is the same face, found again in the stored picture.
    assert image_tracker.process(image).has_face


# -- config loaders under fuzzing ---------------------------------------------------------------
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from posecoach.calibration import CalibrationError, CalibrationProfile, load_profile, profile_from_dict  # noqa: E402

_VALID = {
    "version": 1, "name": "ana", "created": "2026-11-24T01:59:12+00:00",
    "yaw_offset_deg": -4.0, "pitch_offset_deg": -4.6, "roll_offset_deg": 2.8,
    "smile_neutral": 0.0, "smile_full": 0.87, "eye_open_left": 0.78, "eye_open_right": 0.76,
    "eye_closed_left": 0.12, "eye_closed_right": 0.11, "mouth_open_neutral": 0.0, "squinch_neutral": 0.21,
    "genuine_smile_neutral": 0.0, "brow_raise_neutral": 0.62, "gaze_on_lens_neutral": 0.52,
    "face_height_neutral": 0.53, "neutral_frames": 15, "smile_frames": 30, "closed_frames": 0,
}
_json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**20, 10**20) | st.floats(allow_nan=True) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6,
)


def test_the_valid_profile_used_for_fuzzing_loads() -> None:
    assert isinstance(profile_from_dict(dict(_VALID), "p.json"), CalibrationProfile)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=st.binary(max_size=300))
def test_calibration_loader_on_garbage_bytes_raises_only_its_own_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "p.json"
    path.write_bytes(content)
    with pytest.raises(CalibrationError, match=r"^.*p\.json: "):
        load_profile(path)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    changes=st.dictionaries(st.sampled_from([*_VALID, "extra"]), _json_values, min_size=1, max_size=3),
    dropped=st.sets(st.sampled_from(list(_VALID)), max_size=2),
)
def test_calibration_loader_on_mutated_profiles_raises_only_its_own_error(
    tmp_path: Path, changes: dict, dropped: set
) -> None:
    import json

    doc = {k: v for k, v in {**_VALID, **changes}.items() if k not in dropped}
    path = tmp_path / "p.json"
    try:
        path.write_text(json.dumps(doc))
    except ValueError:  # not representable as JSON at all
        return
    try:
        profile = load_profile(path)
    except CalibrationError as e:
        assert str(e).startswith(str(path)) and "\n" not in str(e)
    else:
        assert isinstance(profile, CalibrationProfile)
