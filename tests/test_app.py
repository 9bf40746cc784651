"""The Streamlit page without a camera (AppTest), and its server settings."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from factories import simulated_camera, synthetic_profile

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "streamlit_app.py")
MEDIA = ROOT.parent / "shared" / "media"
CLIP = MEDIA / "single_face.mp4"
PHOTO = MEDIA / "single_face.jpg"
needs_media = pytest.mark.skipif(not CLIP.is_file(), reason=f"real face media not found at {MEDIA} (see ../shared/media)")

AppTest = pytest.importorskip("streamlit.testing.v1").AppTest

from posecoach.ui.plain import unescape  # noqa: E402 - what a Markdown element reads as on the page


@pytest.fixture(autouse=True)
def profile_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every page run here reads and writes calibration profiles in a temporary folder."""
    folder = tmp_path / "profiles"
    monkeypatch.setenv("POSECOACH_CALIBRATION_DIR", str(folder))
    return folder


def app() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    return at


def captions(at: AppTest) -> list[str]:
    return [unescape(c.value) for c in at.caption]


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
    errors = [unescape(e.value) for e in at.error]
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
    previews = [unescape(c) for img in at.image for c in img.captions]
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
    replay = at.session_state["pc-clip-run"][1].replay
    at.slider(key="pc-replay-pos").set_value(len(replay.frames) - 1).run()  # the end of the clip
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


def _faststart(tmp_path: Path) -> bytes:
    """single_face.mp4 remuxed with its index first, as phones write: cut short, it still plays."""
    av = pytest.importorskip("av")
    out = tmp_path / "faststart.mp4"
    with av.open(str(CLIP)) as src, av.open(str(out), "w", format="mp4", options={"movflags": "faststart"}) as dst:
        stream = dst.add_stream_from_template(src.streams.video[0])
        for packet in src.demux(src.streams.video[0]):
            if packet.dts is not None:
                packet.stream = stream
                dst.mux(packet)
    data = out.read_bytes()
    assert data.find(b"moov") < data.find(b"mdat"), "the index comes first"
    return data


def _bad_upload(kind: str, tmp_path: Path) -> tuple[str, bytes]:
    rng = np.random.default_rng(7)
    if kind == "empty":
        return "empty.mp4", b""
    if kind == "random":
        return "random.mov", rng.bytes(40_000)
    if kind == "random-with-video-header":
        return "header.mp4", CLIP.read_bytes()[:32] + rng.bytes(40_000)
    if kind.startswith("cut-"):  # single_face.mp4 keeps its index at the end: any cut loses it
        data = CLIP.read_bytes()
        return "cut.mp4", data[: int(len(data) * float(kind[4:]))]
    if kind.startswith("faststart-cut-"):  # too little left to decode one frame
        data = _faststart(tmp_path)
        return "cut.mp4", data[: int(len(data) * float(kind[14:]))]
    if kind == "photo":
        return "single_face.jpg", PHOTO.read_bytes()
    if kind == "photo-named-mp4":
        return "holiday.mp4", PHOTO.read_bytes()
    if kind == "png-named-mov":
        return "frame.mov", cv2.imencode(".png", np.full((64, 64, 3), 200, np.uint8))[1].tobytes()
    raise AssertionError(kind)


@needs_media
@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        ("empty", "empty file (0 bytes)"),
        ("random", "not a video or image posecoach can read"),
        ("random-with-video-header", "not a video or image posecoach can read"),
        ("cut-0.05", "not a video or image posecoach can read (corrupt, truncated"),
        ("cut-0.5", "not a video or image posecoach can read (corrupt, truncated"),
        ("cut-0.98", "not a video or image posecoach can read (corrupt, truncated"),
        ("faststart-cut-0.05", "video has no readable frames (corrupt or truncated)"),
        ("photo", "is a photo, not a video"),
        ("photo-named-mp4", "is a photo, not a video"),
        ("png-named-mov", "is a photo, not a video"),
    ],
)
def test_bad_uploads_get_a_one_line_reason(kind: str, reason: str, tmp_path: Path) -> None:
    name, data = _bad_upload(kind, tmp_path)
    at = choose_source(app(), "Practise on a video")
    at.file_uploader(key="pc-clip").upload(name, data, "video/mp4").run()
    assert not at.exception, at.exception
    errors = [unescape(e.value) for e in at.error]
    assert len(errors) == 1, errors
    assert errors[0].startswith("This file cannot be used") and f"{name}: {reason}" in errors[0], errors
    assert "\n" not in errors[0] and "/proc/" not in errors[0] and "Traceback" not in errors[0]
    assert not at.metric, "nothing is coached"
    if "photo" in kind or "png" in kind:
        # The way to where photos belong.
        at.button(key="pc-to-snapshot").click().run()
        assert at.radio(key="pc-source").value == "Snapshot" and at.get("camera_input")


@needs_media
def test_a_clip_cut_short_is_coached_as_far_as_it_goes_and_says_so(tmp_path: Path) -> None:
    data = _faststart(tmp_path)
    at = choose_source(app(), "Practise on a video")
    at.file_uploader(key="pc-clip").upload("cut.mp4", data[: int(len(data) * 0.4)], "video/mp4").run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    warnings = [unescape(w.value) for w in at.warning]
    assert any(w.startswith("cut.mp4 seems cut short: only ") and " of 72 frames could be read" in w for w in warnings)
    assert next(m for m in at.metric if m.label == "Score").value.isdigit()


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


# -- calibration on the page ---------------------------------------------------------------------
def badges(at: AppTest) -> list[str]:
    return [m.value for m in at.markdown if "-badge[" in m.value]


def test_the_page_says_it_is_uncalibrated_by_default(profile_dir: Path) -> None:
    at = app()
    assert at.selectbox(key="pc-profile").options == ["None (uncalibrated)"]
    assert badges(at) == [":gray-badge[Uncalibrated]"]
    assert not profile_dir.exists(), "nothing is written without a calibration"


def test_profile_picker_lists_the_profiles_and_applies_the_chosen_one(profile_dir: Path) -> None:
    from posecoach.calibration import save_profile

    for name in ("bo", "ana_b"):
        save_profile(synthetic_profile(name))
    (profile_dir / "notes.txt").write_text("not a profile")
    at = app()
    picker = at.selectbox(key="pc-profile")
    assert picker.options == ["None (uncalibrated)", "ana_b", "bo"]
    picker.set_value("ana_b").run()
    assert not at.exception, at.exception
    assert badges(at) == [":green-badge[Calibrated for ana\\_b]"]
    assert not at.warning
    assert "Calibration for ana_b: before / after" in [unescape(e.label) for e in at.expander]
    # Back to none: uncalibrated again.
    at.selectbox(key="pc-profile").set_value("(none)").run()
    assert badges(at) == [":gray-badge[Uncalibrated]"]


def test_a_corrupt_profile_warns_and_the_page_carries_on_uncalibrated(profile_dir: Path) -> None:
    profile_dir.mkdir()
    (profile_dir / "bad.json").write_text('{"version": 1, "name": "bad", "smile_neu')
    at = app()
    at.selectbox(key="pc-profile").set_value("bad").run()
    assert not at.exception, at.exception
    warnings = [unescape(w.value) for w in at.warning]
    assert len(warnings) == 1 and str(profile_dir / "bad.json") in warnings[0], warnings
    assert "corrupt or truncated calibration profile" in warnings[0] and "coaching uncalibrated" in warnings[0]
    assert badges(at) == [":gray-badge[Uncalibrated]"]
    assert [m.label for m in at.metric] == ["Score", "Holds"], "the coaching panel is still there"
    # A profile deleted while the page is open falls back to none.
    (profile_dir / "bad.json").unlink()
    at.run()
    assert not at.exception and at.selectbox(key="pc-profile").value == "(none)"


def _clip_calibration(at: AppTest, name: str, neutral: tuple[float, float], smile: tuple[float, float]) -> AppTest:
    choose_source(at, "Practise on a video")
    at.file_uploader(key="pc-clip").upload("single_face.mp4", CLIP.read_bytes(), "video/mp4").run()
    assert not at.exception, at.exception
    at.text_input(key="pc-clipcal-name").set_value(name)
    at.slider(key="pc-clipcal-neutral").set_value(neutral)
    at.slider(key="pc-clipcal-smile").set_value(smile)
    at.run()
    at.button(key="pc-clipcal-go").click().run()
    assert not at.exception, at.exception
    return at


@needs_media
def test_calibrate_from_an_uploaded_clip(profile_dir: Path) -> None:
    """The clip: neutral for ~0.6 s, then a broad smile. The profile is saved, shown and used."""
    from posecoach.calibration import load_profile

    at = app()
    at.button(key="pc-calibrate").click().run()
    at = _clip_calibration(at, "clip_person", (0.0, 0.5), (1.2, 2.2))
    assert not at.error, [e.value for e in at.error]
    path = profile_dir / "clip_person.json"
    assert path.is_file() and sorted(p.name for p in profile_dir.iterdir()) == ["clip_person.json"]
    profile = load_profile("clip_person")
    assert (profile.neutral_frames, profile.smile_frames, profile.closed_frames) == (15, 30, 0)
    # The new profile is active, and the clip is coached with it.
    assert at.selectbox(key="pc-profile").value == "clip_person"
    assert badges(at) == [":green-badge[Calibrated for clip\\_person]"]
    assert any(f"saved to {path}" in unescape(s.value) for s in at.success)
    table = next(t.value for t in at.table if "Relaxed" in t.value.columns)
    assert list(table.columns) == ["Relaxed", "Big smile"]
    assert table.loc["Smile", "Relaxed"].endswith("\u2192 0.00") and table.loc["Smile", "Big smile"].endswith("\u2192 1.00")
    pitch_before, pitch_after = table.loc["Chin up / down", "Relaxed"].split(" \u2192 ")
    assert abs(float(pitch_after.rstrip("°"))) < 0.5 < abs(float(pitch_before.rstrip("°"))), "head zero learned"
    assert next(m for m in at.metric if m.label == "Score").value.isdigit()
    at.button(key="pc-clipcal-close").click().run()
    assert not at.exception and at.button(key="pc-calibrate").disabled is False


@needs_media
def test_a_clip_calibration_with_the_wrong_ranges_says_why_and_saves_nothing(profile_dir: Path) -> None:
    at = _clip_calibration(app(), "ana", (0.0, 0.5), (0.0, 0.5))
    errors = [unescape(e.value) for e in at.error]
    assert len(errors) == 1 and errors[0].startswith("Big smile (0-0.5 s): your smile was not clearly bigger"), errors
    assert not profile_dir.exists()
    assert badges(at) == [":gray-badge[Uncalibrated]"]


def test_live_calibration_asks_for_a_valid_name_then_shows_the_first_prompt() -> None:
    at = app()
    at.button(key="pc-calibrate").click().run()
    assert at.button(key="pc-calibrate").disabled, "already open"
    assert at.button(key="pc-cal-start").disabled, "a name is needed"
    at.text_input(key="pc-cal-name").set_value("../etc").run()
    assert any("letters, digits" in e.value for e in at.error) and at.button(key="pc-cal-start").disabled
    at.text_input(key="pc-cal-name").set_value("ana").run()
    assert not at.error and not at.button(key="pc-cal-start").disabled
    at.button(key="pc-cal-start").click().run()
    assert not at.exception, at.exception
    headings = [m.value for m in at.markdown if m.value.startswith("#")]
    assert "## Get ready: relax your face and look straight into the lens" in headings
    assert "### Starts in 2" in headings
    assert any("calibration begins with the first frame" in i.value for i in at.info)
    at.button(key="pc-cal-cancel-running").click().run()
    assert not at.exception, at.exception
    assert [m.label for m in at.metric] == ["Score", "Holds"], "back to coaching"
    assert at.session_state["pc-live-coach"].calibration is None


@needs_media
def test_live_calibration_end_to_end_with_the_worker_simulated(profile_dir: Path, decode_clip) -> None:  # noqa: ANN001
    """The page starts a calibration; frames arrive as the video callback would deliver them
    (the clip's person following the prompts); the page shows feedback, saves the profile,
    switches to it and shows the before/after table."""
    frames = decode_clip("single_face.mp4")
    at = app()
    at.button(key="pc-calibrate").click().run()
    at.text_input(key="pc-cal-name").set_value("live_one").run()
    at.button(key="pc-cal-start").click().run()
    coach = at.session_state["pc-live-coach"]
    camera = simulated_camera(frames)
    for t_ms, image in camera:  # neutral and the smile's countdown
        coach.process_array(image, t_ms=t_ms)
        if t_ms >= 6500:
            break
    at.run()
    assert [s.value for s in at.success] == ["Neutral face: done (45 frames with your face)"]
    assert "## Get ready: give your biggest natural smile and hold it" in [m.value for m in at.markdown]
    assert coach.session.snapshot().frames == 0, "a calibration is not coached"
    for t_ms, image in camera:
        coach.process_array(image, t_ms=t_ms)
    at.run()
    assert not at.exception, at.exception
    assert sorted(p.name for p in profile_dir.iterdir()) == ["live_one.json"]
    assert at.selectbox(key="pc-profile").value == "live_one"
    assert coach.session.pipeline.profile is not None and coach.session.pipeline.profile.name == "live_one"
    assert any(unescape(s.value).startswith("Calibrated for live_one: saved to ") for s in at.success)
    table = next(t.value for t in at.table if "Relaxed" in t.value.columns)
    assert list(table.columns) == ["Relaxed", "Big smile", "Now"]
    assert table.loc["Smile", "Relaxed"].endswith("\u2192 0.00") and table.loc["Smile", "Big smile"].endswith("\u2192 1.00")
    at.button(key="pc-cal-close").click().run()
    assert [m.label for m in at.metric] == ["Score", "Holds"] and coach.calibration is None


def test_snapshot_mode_sends_calibration_to_the_camera_or_a_clip() -> None:
    at = choose_source(app(), "Snapshot")
    at.button(key="pc-calibrate").click().run()
    assert any("needs a few seconds of your face" in i.value for i in at.info)
    at.button(key="pc-cal-to-video").click().run()
    assert at.radio(key="pc-source").value == "Practise on a video"


# -- server settings (no Streamlit) ---------------------------------------------------------------
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
    from posecoach.ui.server import ICE_ENV, ice_servers_from_env

    got, warning = ice_servers_from_env({ICE_ENV: value})
    assert got == servers
    assert bool(warning) == warns
    if warns:
        assert ICE_ENV in warning


def test_streamlit_webrtc_worker_errors_reach_our_log() -> None:
    import logging

    from posecoach.ui.server import install_log_forwarding

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
