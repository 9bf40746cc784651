"""The Streamlit page without a camera (AppTest), and the Streamlit-free engine behind it."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import cv2
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "streamlit_app.py")
MEDIA = ROOT.parent / "shared" / "media"
CLIP = MEDIA / "single_face.mp4"
PHOTO = MEDIA / "single_face.jpg"
needs_media = pytest.mark.skipif(not CLIP.is_file(), reason=f"real face media not found at {MEDIA} (see ../shared/media)")

AppTest = pytest.importorskip("streamlit.testing.v1").AppTest


def app() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    return at


def captions(at: AppTest) -> list[str]:
    return [c.value for c in at.caption]


def choose_source(at: AppTest, source: str) -> AppTest:
    at.radio(key="pc-source").set_value(source).run()
    assert not at.exception, at.exception
    return at


# -- controls -------------------------------------------------------------------------------
def test_target_picker_shows_each_targets_description() -> None:
    from posecoach.targets import load_library

    library = load_library()
    at = app()
    picker = at.selectbox(key="pc-target")
    assert set(picker.options) == {t.title for t in library.values()}
    first = picker.value
    assert library[first].description in captions(at)
    other = next(n for n in library if n != first)
    picker.set_value(other).run()
    assert at.selectbox(key="pc-target").value == other
    assert library[other].description in captions(at)
    assert library[first].description not in captions(at)


def test_hold_time_follows_the_target_and_controls_change_without_errors() -> None:
    from posecoach.targets import load_library

    library = load_library()
    at = app()
    name = at.selectbox(key="pc-target").value
    assert at.slider(key=f"pc-hold-{name}").value == pytest.approx(min(5.0, max(0.5, library[name].hold_s)))
    at.slider(key="pc-strictness").set_value(1.5).run()
    at.toggle(key="pc-mirror").set_value(False).run()
    at.radio(key="pc-detail").set_value("full").run()
    at.slider(key=f"pc-hold-{name}").set_value(3.0).run()
    assert not at.exception, at.exception
    assert not at.error
    gauges = "".join(m.value for m in at.markdown)
    assert "angles as the mirror shows them" not in gauges, "mirror off: the gauges read like the camera"
    assert "Hold 3 s" in [p.proto.text for p in at.get("progress")]


def test_live_mode_without_a_server_explains_and_shows_the_panel() -> None:
    at = app()
    assert at.radio(key="pc-source").value == "Live camera"
    assert any("streamlit run" in i.value for i in at.info)
    assert any(c.startswith("processed 0 frames") for c in captions(at))
    assert [m.label for m in at.metric] == ["Score", "Holds"]


def test_model_missing_shows_the_model_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "face_landmarker.task"
    monkeypatch.setenv("POSECOACH_MODEL", str(missing))
    at = app()
    errors = [e.value for e in at.error]
    assert any("face model could not be loaded" in e and str(missing) in e for e in errors), errors
    assert any("POSECOACH_MODEL" in c for c in captions(at))
    # The clip path says the same, instead of failing on the upload.
    if CLIP.is_file():
        choose_source(at, "Practise on a video")
        at.file_uploader(key="pc-clip").upload("clip.mp4", CLIP.read_bytes(), "video/mp4").run()
        assert any("face model could not be loaded" in e.value for e in at.error)


# -- practising without a camera ----------------------------------------------------------------
@needs_media
def test_video_upload_is_coached_and_shows_a_score() -> None:
    at = choose_source(app(), "Practise on a video")
    assert not at.metric, "nothing is shown before a clip is uploaded"
    at.file_uploader(key="pc-clip").upload("single_face.mp4", CLIP.read_bytes(), "video/mp4").run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    score = next(m for m in at.metric if m.label == "Score")
    assert score.value.isdigit() and 0 <= int(score.value) <= 100
    assert any(c.startswith("processed 72 frames") for c in captions(at)), captions(at)
    previews = [c for img in at.image for c in img.captions]
    assert any(c.startswith("single_face.mp4: best") for c in previews), previews
    assert any(m.value.startswith("### ") and len(m.value) > 6 for m in at.markdown), "a cue is shown"
    # Changing a control re-coaches the clip with the new settings.
    at.slider(key="pc-strictness").set_value(2.0).run()
    stricter = next(m for m in at.metric if m.label == "Score")
    assert int(stricter.value) <= int(score.value)


@needs_media
def test_a_held_look_lands_in_the_gallery_with_downloads() -> None:
    """In the clip the smile is held ~1.6 s: with a smiling target that is one hold."""
    at = app()
    at.selectbox(key="pc-target").set_value("friendly_profile").run()
    choose_source(at, "Practise on a video")
    at.file_uploader(key="pc-clip").upload("single_face.mp4", CLIP.read_bytes(), "video/mp4").run()
    assert not at.exception, at.exception
    assert next(m for m in at.metric if m.label == "Holds").value == "1"
    labels = [b.label for b in at.get("download_button")]
    assert "Download all (1) as zip" in labels and "JPEG" in labels
    thumbs = [c for img in at.image for c in img.captions]
    assert any(c.startswith("#1 · ") and c.endswith("/100") for c in thumbs), thumbs


def test_unreadable_upload_is_explained() -> None:
    at = choose_source(app(), "Practise on a video")
    at.file_uploader(key="pc-clip").upload("broken.mp4", b"this is not a video", "video/mp4").run()
    assert not at.exception, at.exception
    assert any("cannot be used" in e.value for e in at.error)


@needs_media
def test_snapshot_mode_scores_a_photo() -> None:
    at = choose_source(app(), "Snapshot")
    assert at.get("camera_input")
    at.camera_input(key="pc-photo").upload("shot.jpg", PHOTO.read_bytes()).run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    score = next(m for m in at.metric if m.label == "Score")
    assert score.value.isdigit()


def test_snapshot_without_a_face_asks_to_move_into_the_frame() -> None:
    blank = cv2.imencode(".jpg", np.full((360, 640, 3), 128, np.uint8))[1].tobytes()
    at = choose_source(app(), "Snapshot")
    at.camera_input(key="pc-photo").upload("shot.jpg", blank).run()
    assert not at.exception, at.exception
    assert next(m for m in at.metric if m.label == "Score").value == "--"
    assert any("Move into the frame" in m.value for m in at.markdown)
    assert any("No face found" in w.value and "more light" in w.value for w in at.warning)


# -- the engine (no Streamlit) ----------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "servers", "warns"),
    [
        ("", [], False),
        ("stun:stun.example.org:3478", [{"urls": ["stun:stun.example.org:3478"]}], False),
        ("stun:a:1, turn:b:2", [{"urls": ["stun:a:1", "turn:b:2"]}], False),
        ('[{"urls": ["turn:t:3478"], "username": "u", "credential": "p"}]',
         [{"urls": ["turn:t:3478"], "username": "u", "credential": "p"}], False),  # fmt: skip
        ("[not json", [], True),
        ('[{"url": "stun:x"}]', [], True),
        ("http://example.org", [], True),
    ],
)
def test_ice_servers_from_env(value: str, servers: list, warns: bool) -> None:
    from posecoach.ui.engine import ICE_ENV, ice_servers_from_env

    got, warning = ice_servers_from_env({ICE_ENV: value})
    assert got == servers
    assert bool(warning) == warns
    if warns:
        assert ICE_ENV in warning


def test_streamlit_webrtc_worker_errors_reach_our_log() -> None:
    import logging

    from posecoach.ui.engine import install_log_forwarding

    class Keep(logging.Handler):
        def __init__(self) -> None:
            super().__init__()
            self.messages: list[str] = []

        def emit(self, record: logging.LogRecord) -> None:
            self.messages.append(record.getMessage())

    forward = install_log_forwarding()
    assert install_log_forwarding() is forward, "installed once, however often the page reruns"
    ours = logging.getLogger("posecoach.webrtc")
    keep = Keep()
    ours.addHandler(keep)
    try:
        logging.getLogger("streamlit_webrtc.process").error("Error occurred in the WebRTC thread: boom")
        logging.getLogger("streamlit_webrtc.process").info("not forwarded")
    finally:
        ours.removeHandler(keep)
    assert keep.messages == ["Error occurred in the WebRTC thread: boom"]
    assert forward.recent[-1][1].endswith("boom")


def test_no_face_seconds() -> None:
    from posecoach.ui.engine import no_face_seconds

    assert no_face_seconds(()) == 0.0
    assert no_face_seconds(((0.0, 50.0), (100.0, 60.0))) == 0.0
    assert no_face_seconds(((0.0, 50.0), (1000.0, None), (3500.0, None))) == pytest.approx(2.5)
    assert no_face_seconds(((0.0, None), (2000.0, None))) == pytest.approx(2.0)


def test_in_memory_file_round_trip() -> None:
    from posecoach.ui.engine import in_memory_file

    with in_memory_file(b"hello", ".txt") as path:
        assert Path(path).read_bytes() == b"hello"
    assert not Path(path).exists() or not Path(path).read_bytes() == b"hello"


def _capture(score: float = 88.0):  # noqa: ANN202
    from posecoach.results import EyeState, Metrics
    from posecoach.session import Capture

    m = Metrics(10.0, -4.0, 1.0, 0.3, 0.02, 0.8, 0.8, EyeState.OPEN, 0.2, 0.3, 0.9, 0.1, 0.5, 0.5, 0.4)
    image = np.zeros((360, 640, 3), np.uint8)
    image[:, :320] = (0, 0, 255)
    return Capture(image, 1234.0, 37, score, "corporate_headshot", m)


def test_captures_export_as_jpeg_and_zip() -> None:
    from posecoach.ui.engine import capture_jpeg, captures_zip

    caps = (_capture(88.0), _capture(91.4))
    jpeg = capture_jpeg(caps[0])
    decoded = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert decoded.shape == (360, 640, 3)
    assert decoded[180, 100, 2] > 200 and decoded[180, 500, 2] < 50, "the raw frame, not mirrored"
    with zipfile.ZipFile(io.BytesIO(captures_zip(caps))) as z:
        names = z.namelist()
        records = json.loads(z.read("captures.json"))
    assert names == ["hold-01-corporate_headshot-88.jpg", "hold-02-corporate_headshot-91.jpg", "captures.json"]
    assert records[1]["score"] == 91.4 and records[1]["metrics"]["yaw"] == 10.0
    assert records[0]["metrics"]["eyes"] == "open" and "eye_open" in records[0]["metrics"]


def test_live_coach_survives_restarts_and_bad_frames() -> None:
    """Timestamps going back (a restarted stream) and odd frames never break the callback."""
    av = pytest.importorskip("av")
    from posecoach.targets import load_library
    from posecoach.ui.engine import CoachSettings, LiveCoach

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


@needs_media
def test_run_clip_matches_the_session_loop() -> None:
    from posecoach.targets import load_library
    from posecoach.ui.engine import CoachSettings, run_clip

    library = load_library()
    name = "corporate_headshot" if "corporate_headshot" in library else sorted(library)[0]
    seen = []
    run = run_clip(CLIP.read_bytes(), "single_face.mp4", library[name], CoachSettings(name),
                   on_progress=lambda done, total, preview: seen.append((done, total, preview is not None)))  # fmt: skip
    assert run.frames == 72
    assert seen[-1][0] == 72 and any(p for _, _, p in seen)
    assert run.best_score is not None and run.preview.shape == (360, 640, 3)
    assert run.snapshot.frames == 72 and len(run.snapshot.timeline) == 72
