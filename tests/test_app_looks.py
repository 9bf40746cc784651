"""The page's new modes without a camera (AppTest): a target from a photo, routines, best side,
and "save my current look" under the live camera."""

from __future__ import annotations

from pathlib import Path

import cv2
import pytest

from posecoach.runs import open_tracker
from posecoach.user_targets import load_user_targets, user_targets_dir
from turns import turning_frames, write_clip

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "streamlit_app.py")
MEDIA = ROOT.parent / "shared" / "media"
HAO = MEDIA / "0-f15-hao-ph.jpg"
needs_media = pytest.mark.skipif(not HAO.is_file(), reason=f"real face media not found at {MEDIA} (see ../shared/media)")

AppTest = pytest.importorskip("streamlit.testing.v1").AppTest


@pytest.fixture(autouse=True)
def profile_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "profiles"
    monkeypatch.setenv("POSECOACH_CALIBRATION_DIR", str(folder))
    return folder


def app(mode: str, source: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.radio(key="pc-mode").set_value(mode).run()
    if source is not None:
        at.radio(key="pc-source").set_value(source).run()
    assert not at.exception, at.exception
    return at


def texts(at: AppTest) -> str:
    return "\n".join([m.value for m in at.markdown] + [c.value for c in at.caption] + [c.value for c in at.code])


@needs_media
def test_photo_to_a_saved_target_to_practising_it() -> None:
    at = app("New target from a photo")
    at.file_uploader(key="pc-looks-photo").upload("Hao headshot.jpg", HAO.read_bytes(), "image/jpeg").run()
    assert not at.exception and not at.error, (at.exception, [e.value for e in at.error])
    assert "**Measured:** a big smile with teeth, a squinch, eyes on the lens" in texts(at)
    assert "This photo scores 100." in texts(at)
    assert len(at.image) >= 1, "the photo is shown beside the measured look"
    name_box = next(t for t in at.text_input if t.key.endswith("-name"))
    assert name_box.value == "hao_headshot"
    save = next(b for b in at.button if b.key.endswith("-save"))
    save.click().run()
    assert not at.exception
    saved = load_user_targets().targets
    assert list(saved) == ["hao_headshot"] and saved["hao_headshot"].title == "Hao headshot (from Hao headshot.jpg)"
    assert at.success[0].value.startswith("Saved \u201cHao headshot (from Hao headshot.jpg)\u201d as hao_headshot (")
    at.button(key="pc-looks-practise").click().run()
    assert not at.exception
    assert at.radio(key="pc-mode").value == "Practise a look"
    assert at.selectbox(key="pc-target").value == "hao_headshot"
    assert at.radio(key="pc-source").value == "Live camera"


@needs_media
def test_an_adjusted_look_and_a_bad_name() -> None:
    at = app("New target from a photo")
    at.file_uploader(key="pc-looks-photo").upload("hao.jpg", HAO.read_bytes(), "image/jpeg").run()
    smile = next(s for s in at.slider if s.key.endswith("-smile"))
    assert smile.value == pytest.approx(0.95, abs=0.01)
    smile.set_value(0.6).run()
    assert "Smile</span><span style=\"opacity:0.75\">0.95 &middot; aim 0.50&ndash;0.70" in texts(at)
    next(t for t in at.text_input if t.key.endswith("-name")).set_value("../x").run()
    next(b for b in at.button if b.key.endswith("-save")).click().run()
    assert [e.value for e in at.error] == [
        "Not saved: '../x' is not a target name: use lowercase letters, digits, '_' or '-' (e.g. my_look), "
        "no folders, dots or spaces"
    ]
    assert not user_targets_dir().exists()


@needs_media
def test_a_group_photo_is_refused_with_its_reason() -> None:
    at = app("New target from a photo")
    at.file_uploader(key="pc-looks-photo").upload("group.jpg", (MEDIA / "multi_face.jpg").read_bytes(), "image/jpeg").run()
    assert [e.value for e in at.error] == [
        "This photo cannot become a target: group.jpg: 2 faces found: crop the photo to the one face whose look you want."
    ]


@needs_media
def test_a_routine_on_a_recorded_clip_ends_with_its_summary() -> None:
    at = app("Warm-up routine", "Practise on a video")
    at.selectbox(key="pc-routine").set_value("actors_range").run()
    assert "| 1 | Actor: commercial | up to 30 s | 1.5 s |" in texts(at)
    at.file_uploader(key="pc-routine-clip").upload("single_face.mp4", (MEDIA / "single_face.mp4").read_bytes(),
                                                  "video/mp4").run()  # fmt: skip
    assert not at.exception and not at.error
    summary = texts(at)
    assert "Actor's range: commercial to theatrical: 1 of 6 looks held" in summary
    assert "1. Actor: commercial" in summary and "held after" in summary and "not reached" in summary
    assert len(at.image) >= 1, "the best frame of each step practised"


def test_a_live_routine_shows_the_step_its_breathing_pace_and_the_next_look() -> None:
    at = app("Warm-up routine", "Live camera")
    at.selectbox(key="pc-routine").set_value("photographers_warmup").run()
    at.button(key="pc-start-routine:photographers_warmup").click().run()
    assert not at.exception, at.exception
    shown = texts(at)
    assert "#### Step 1 of 6: Relaxed and neutral" in shown
    assert "Next: Friendly profile photo" in shown
    bars = [p.proto.text for p in at.get("progress")]
    assert any(text.startswith("Breathe in\u2026 4") for text in bars), bars
    assert any(text.startswith("Routine 0% \u00b7 40 s left in this step") for text in bars), bars
    at.button(key="pc-stop-routine:photographers_warmup").click().run()
    assert "Photographer's warm-up: 0 of 6 looks held" in texts(at)


@needs_media
def test_best_side_on_a_recorded_clip(tmp_path: Path) -> None:
    image = cv2.imread(str(HAO))
    with open_tracker(still=True) as tracker:
        frames = turning_frames(image, tracker.process(image), n=30)
    clip = Path(write_clip(frames, str(tmp_path / "turning.avi")))
    at = app("Best side", "Practise on a video")
    assert "about a third of the way to your right" in texts(at)
    at.file_uploader(key="pc-bestside-clip").upload("turning.avi", clip.read_bytes(), "video/x-msvideo").run()
    assert not at.exception and not at.error
    shown = texts(at)
    assert "### No clear difference: both sides work" in shown or "### Show your" in shown
    assert "frames: left side 15 (turned" in shown and "eyes open" in shown


@needs_media
def test_save_my_current_look_from_the_live_view(decode_clip) -> None:  # noqa: ANN001
    at = app("Practise a look", "Live camera")
    at.text_input(key="pc-looks-live-name").set_value("my_grin").run()
    at.button(key="pc-looks-live-save").click().run()
    assert [e.value for e in at.error] == ["Not saved: no face found: press START and face the camera."]
    coach = at.session_state["pc-live-coach"]
    for i, frame in enumerate(decode_clip("single_face.mp4")[:60]):  # his broad smile is on from frame ~20
        coach.process_array(frame, t_ms=i * 1000.0 / 30.0, annotate=False)
    at.button(key="pc-looks-live-save").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    saved = load_user_targets().targets["my_grin"]
    assert saved.title.startswith("My grin (my look, ") and "Made from the live view on " in saved.description
    smile = saved.range("smile")
    assert smile is not None and smile.low > 0.75, "his broad smile"
    assert any(s.value.startswith("Saved \u201cMy grin") for s in at.success)
