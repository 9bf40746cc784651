"""The flows behind the CLI and the page: a clip, a photo and a calibration from time windows."""

from __future__ import annotations

from pathlib import Path

import cv2
import pytest
from skimage import data as skdata

from posecoach.results import FaceFrame

from factories import ReplayTracker, easy_target, replay

ROOT = Path(__file__).resolve().parent.parent
MEDIA = ROOT.parent / "shared" / "media"
CLIP = MEDIA / "single_face.mp4"
PHOTO = MEDIA / "single_face.jpg"
needs_media = pytest.mark.skipif(not CLIP.is_file(), reason=f"real face media not found at {MEDIA} (see ../shared/media)")


def test_still_and_stream_options() -> None:
    from posecoach.pipeline import PipelineOptions
    from posecoach.runs import CoachSettings

    settings = CoachSettings("x", strictness=1.5, hold_s=2.0)
    assert settings.options() == PipelineOptions(strictness=1.5, hold_s=2.0)
    assert settings.options(still=True) == PipelineOptions(
        strictness=1.5, hold_s=2.0, smoothing=False, min_face_frames=1, light_persist_ms=0.0  # a photo's light: at once
    )


def test_the_frame_loop_carries_on_through_missing_frames_and_stops_when_asked(astronaut_face: FaceFrame) -> None:
    import numpy as np

    from posecoach.pipeline import Pipeline
    from posecoach.runs import coach_frames
    from posecoach.session import CoachSession
    from posecoach.sources import Frame

    faces = replay(astronaut_face, "F" * 10)
    session = CoachSession(Pipeline(easy_target(), ReplayTracker(faces)))
    image = np.zeros((8, 8, 3), np.uint8)
    frames = [Frame(image, i, face.t_ms) for i, face in enumerate(faces)]
    frames[2:2] = [None, None]  # a camera hiccup
    seen = []

    def on_frame(frame, result) -> bool:  # noqa: ANN001
        seen.append((frame.index, result.has_face))
        return frame.index < 6

    assert coach_frames(frames, session, on_frame) == 7
    # A face in the stream's first frame is coached at once (issue 11: one-frame clips report it).
    assert seen == [(i, True) for i in range(7)]
    assert session.snapshot().frames == 7
    assert coach_frames(frames, CoachSession(Pipeline(easy_target(), ReplayTracker(faces))), max_frames=3) == 3


def test_a_photo_scores_the_same_from_a_file_and_from_the_page(tmp_path: Path) -> None:
    """`posecoach analyze photo.png` and the page's snapshot: one decoder, one still coaching."""
    from posecoach.runs import CoachSettings, PhotoCoach, run_source
    from posecoach.sources import open_source
    from posecoach.targets import find_target

    path = tmp_path / "astronaut.png"
    cv2.imwrite(str(path), cv2.cvtColor(skdata.astronaut(), cv2.COLOR_RGB2BGR))
    target = find_target("friendly_profile")
    settings = CoachSettings(target.name)
    source = open_source(path)
    try:
        from_file = run_source(source, target, settings)
    finally:
        source.close()
    coach = PhotoCoach()
    try:
        from_page = coach.run(path.read_bytes(), "shot.png", target, settings)
    finally:
        coach.close()
    assert from_file.frames == 1 and from_file.summary.with_face == 1
    assert from_page.result.has_face and from_page.preview.shape == (512, 512, 3)
    assert from_page.result.score.score == pytest.approx(from_file.summary.best_score, abs=1e-9)
    assert from_page.snapshot.result is from_page.result


def test_the_page_refuses_a_broken_photo_in_one_line() -> None:
    from posecoach.runs import CoachSettings, PhotoCoach
    from posecoach.sources import SourceError
    from posecoach.targets import find_target

    coach = PhotoCoach()
    try:
        with pytest.raises(SourceError, match=r"^shot\.jpg: not an image posecoach can read \(corrupt"):
            coach.run(b"\xff\xd8\xff garbage", "shot.jpg", find_target("friendly_profile"), CoachSettings("x"))
    finally:
        coach.close()


@needs_media
def test_run_clip_matches_the_session_loop() -> None:
    from posecoach.runs import CoachSettings, run_clip
    from posecoach.targets import load_library

    library = load_library()
    name = "corporate_headshot" if "corporate_headshot" in library else sorted(library)[0]
    seen = []
    run = run_clip(CLIP.read_bytes(), "single_face.mp4", library[name], CoachSettings(name),
                   on_progress=lambda done, total, preview: seen.append((done, total, preview is not None)))  # fmt: skip
    assert run.frames == 72
    assert seen[-1][0] == 72 and any(p for _, _, p in seen)
    assert run.best_score is not None and run.preview.shape == (360, 640, 3)
    assert run.snapshot.frames == 72 and len(run.snapshot.timeline) == 72


@needs_media
def test_calibrate_clip_learns_from_the_chosen_ranges() -> None:
    from posecoach.calibration import CalibrationError, PhaseRejected, Window
    from posecoach.calibration_runs import calibrate_clip
    from posecoach.sources import SourceError

    data = CLIP.read_bytes()
    cal = calibrate_clip(data, "single_face.mp4", "ana", {"neutral": Window(0, 0.5), "smile": Window(1.2, 2.2)})
    assert cal.profile.name == "ana" and not cal.profile.closed_measured
    assert [st.phase for st in cal.stats] == ["neutral", "smile"]
    assert (cal.samples["neutral"].frames, cal.samples["smile"].frames) == (15, 30)
    with pytest.raises(PhaseRejected, match=r"the range 3-4 s holds no frames \(the clip ends at 2\.4 s\)"):
        calibrate_clip(data, "single_face.mp4", "ana", {"neutral": Window(0, 0.5), "smile": Window(3, 4)})
    with pytest.raises(CalibrationError, match="invalid profile name"):
        calibrate_clip(data, "single_face.mp4", "../ana", {"neutral": Window(0, 0.5), "smile": Window(1.2, 2.2)})
    with pytest.raises(SourceError, match=r"^photo\.jpg: is a photo, not a video"):
        calibrate_clip(PHOTO.read_bytes(), "photo.jpg", "ana", {"neutral": Window(0, 1), "smile": Window(1, 2)})


def test_a_dropped_coach_closes_its_landmarker_without_deadlocking_the_collector() -> None:
    """A page's coach dropped with its browser session sits in a reference cycle, so the
    garbage collector frees it, whenever it runs: possibly while a thread pool holds
    ``concurrent.futures``' process-wide lock (Streamlit submits work all the time). MediaPipe's
    close needs that lock, so the landmarker must be closed on posecoach's closer thread, never
    inside the collector (a hung test run before the fix)."""
    import gc
    import threading
    from concurrent.futures import thread as futures_thread

    from posecoach.runs import PhotoCoach, open_tracker

    open_tracker().close()  # MediaPipe's first load keeps its caller's frames alive: not the coach's
    coach = PhotoCoach()
    tracker = coach.tracker
    coach.itself = coach  # type: ignore[attr-defined] - a cycle: only the collector frees it
    collected = threading.Event()

    def collect_inside_a_submit() -> None:
        with futures_thread._global_shutdown_lock:  # as ThreadPoolExecutor.submit holds it
            gc.collect()
        collected.set()

    gc.disable()  # the collection happens in the worker, inside the lock
    try:
        del coach
        threading.Thread(target=collect_inside_a_submit, daemon=True).start()
        assert collected.wait(30), "the collector hung closing a landmarker"
    finally:
        gc.enable()
    closed = threading.Event()
    for _ in range(600):
        if tracker._closed:  # closed soon after, off the collector
            closed.set()
            break
        closed.wait(0.05)
    assert closed.is_set()
