"""The live-stream coach the page runs (no Streamlit): restarts, odd frames, new settings, and
the calibration hand-off on the video thread."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import cv2
import numpy as np
import pytest

from posecoach.results import FaceFrame

from factories import ReplayTracker, easy_target, replay, simulated_camera

ROOT = Path(__file__).resolve().parent.parent
MEDIA = ROOT.parent / "shared" / "media"
CLIP = MEDIA / "single_face.mp4"
needs_media = pytest.mark.skipif(not CLIP.is_file(), reason=f"real face media not found at {MEDIA} (see ../shared/media)")


def test_live_coach_survives_restarts_and_bad_frames() -> None:
    """Timestamps going back (a restarted stream) and odd frames never break the callback."""
    av = pytest.importorskip("av")
    from posecoach.live import LiveCoach
    from posecoach.runs import CoachSettings
    from posecoach.targets import load_library

    library = load_library()
    name = sorted(library)[0]
    coach = LiveCoach(library[name], CoachSettings(name))
    try:
        frame = np.zeros((360, 640, 3), np.uint8)
        frame[:, :100] = 255
        shown = coach.process_array(frame, t_ms=5000.0)
        assert shown.shape == frame.shape and shown[0, -1, 0] == 255, "mirrored for display"
        coach.process_array(frame, t_ms=10.0)  # pts restarted: the tracker repairs it
        coach.process_array(frame, t_ms=10.0)
        assert coach.process_array(np.zeros((0, 0, 3), np.uint8)).size == 0
        vf = av.VideoFrame.from_ndarray(frame, format="bgr24")
        out = coach(vf)
        assert (out.width, out.height) == (640, 360)
        stats = coach.stats()
        assert stats.frames == 5 and stats.process_ms > 0
        # New settings swap in a pipeline; the session (captures, timeline) stays.
        session = coach.session
        other = sorted(library)[-1]
        coach.configure(library[other], CoachSettings(other, strictness=1.5, mirror=False))
        assert coach.session is session and session.pipeline.target.name == other
        assert coach.process_array(frame)[0, 0, 0] == 255, "not mirrored any more"
        assert session.snapshot().frames >= 5
    finally:
        coach.close()


def test_switching_target_restarts_the_hold(astronaut_face: FaceFrame) -> None:
    """The page switches the look with ``configure``: a new pipeline, the hold starts over."""
    from posecoach.live import LiveCoach
    from posecoach.runs import CoachSettings

    target = easy_target(hold_s=0.2)
    faces = replay(astronaut_face, "F" * 16)
    coach = LiveCoach(target, CoachSettings(target.name), tracker=ReplayTracker(faces))
    try:
        frame = np.zeros((64, 64, 3), np.uint8)
        for face in faces[:15]:
            coach.process_array(frame, t_ms=face.t_ms)
        assert coach.session.snapshot().result.hold.held
        other = dataclasses.replace(target, name="easy_too")
        coach.configure(other, CoachSettings(other.name))
        coach.process_array(frame, t_ms=faces[15].t_ms)
        assert not coach.session.snapshot().result.hold.held
    finally:
        coach.close()


@needs_media
def test_live_coach_feeds_a_calibration_instead_of_coaching(decode_clip) -> None:  # noqa: ANN001
    """The worker-side hand-off on real frames: the recorder gets every frame's raw metrics,
    the picture carries its prompt, nothing is coached meanwhile, and a hiccup in the frames
    does not throw it off."""
    from posecoach.calibration import CalibrationRecorder
    from posecoach.live import LiveCoach
    from posecoach.runs import CoachSettings
    from posecoach.targets import load_library

    frames = decode_clip("single_face.mp4")
    library = load_library()
    coach = LiveCoach(library["friendly_profile"], CoachSettings("friendly_profile"))
    try:
        recorder = coach.start_calibration(CalibrationRecorder("ana"))
        assert coach.calibrating and coach.calibration is recorder
        camera = simulated_camera(frames)
        statuses = []
        for t_ms, image in camera:
            shown = coach.process_array(image.copy(), t_ms=t_ms)
            statuses.append((recorder.state.status, recorder.state.phase))
            if t_ms >= 3000:
                break
        # Mirrored picture, band on top, the rest of the picture untouched.
        plain = cv2.flip(image, 1)
        assert (shown[-150:] == plain[-150:]).all() and not (shown[:40] == plain[:40]).all()
        assert statuses[0] == ("prepare", "neutral") and statuses[-1] == ("record", "neutral")
        assert coach.session.snapshot().frames == 0, "no score timeline, holds or captures while calibrating"
        # A 1.5 s hiccup (longer than RESTART_GAP_MS) in the middle of a phase: it carries on.
        for t_ms, image in camera:
            if t_ms >= 4500:
                break
        coach.process_array(image, t_ms=t_ms)
        assert (recorder.state.status, recorder.state.phase) == ("record", "neutral")
        assert recorder.state.progress == pytest.approx(2.5 / 8.0, abs=0.01), "not started over"
        for t_ms, image in camera:
            coach.process_array(image, t_ms=t_ms)
        state = recorder.state
        assert state.status == "done", state.feedback
        assert state.profile.closed_measured and state.profile.smile_full > state.profile.smile_neutral + 0.3
        assert state.feedback == "Eyes closed: done (30 frames with your face)"
        assert recorder.samples["neutral"].frames == 45 - 22, "the hiccup's frames are missing, nothing else"
        assert not coach.calibrating and coach.calibration is recorder
        coached = coach.session.snapshot().frames
        assert 0 < coached <= 2 * 15 + 1, "coached again once the calibration finished"
        coach.stop_calibration()
        assert coach.calibration is None
    finally:
        coach.close()


def test_the_profile_says_where_a_frames_milliseconds_go(monkeypatch: pytest.MonkeyPatch,
                                                        caplog: pytest.LogCaptureFixture) -> None:  # fmt: skip
    """``POSECOACH_LIVE_PROFILE`` logs every stage of the callback (README, "Performance")."""
    av = pytest.importorskip("av")
    import posecoach.live as live
    from posecoach.runs import CoachSettings
    from posecoach.targets import load_library

    monkeypatch.setenv(live.PROFILE_ENV, "1")
    monkeypatch.setattr(live, "PROFILE_EVERY", 4)
    library = load_library()
    name = sorted(library)[0]
    coach = live.LiveCoach(library[name], CoachSettings(name))
    try:
        frame = av.VideoFrame.from_ndarray(np.full((360, 640, 3), 90, np.uint8), format="bgr24").reformat(format="yuv420p")
        with caplog.at_level("INFO", logger="posecoach.live"):
            for _ in range(4):
                out = asyncio.run(coach.recv_queued([frame]))[0]
        assert out.format.name == "yuv420p" and (out.width, out.height) == (640, 360), "sent as the encoder wants it"
        lines = [r.getMessage() for r in caplog.records if "live profile" in r.getMessage()]
        assert len(lines) == 1, lines
        for stage in ("batch", "queued", "frame_in", "preprocess", "inference", "session", "mirror", "overlay",
                      "frame_out", "callback"):  # fmt: skip
            assert f" {stage} " in lines[0], (stage, lines[0])
    finally:
        coach.close()
