"""The page's workshop mode and the light on the page (AppTest, no camera)."""

from __future__ import annotations

from pathlib import Path

import pytest

from posecoach.ui.plain import md

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "streamlit_app.py")
MEDIA = ROOT.parent / "shared" / "media"
GROUP = MEDIA / "multi_face.jpg"
needs_media = pytest.mark.skipif(not GROUP.is_file(), reason=f"real face media not found at {MEDIA} (see ../shared/media)")

AppTest = pytest.importorskip("streamlit.testing.v1").AppTest


def app(mode: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    at.radio(key="pc-mode").set_value(mode).run()
    assert not at.exception, at.exception
    return at


def html_of(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown)


@needs_media
def test_projector_view_of_a_group_photo() -> None:
    at = app("Workshop (many faces)")
    at.slider(key="pc-ws-faces").set_value(5).run()
    at.file_uploader(key="pc-ws-upload").upload("group.jpg", GROUP.read_bytes(), "image/jpeg").run()
    assert not at.exception, at.exception
    page = html_of(at)
    assert page.count('class="pc-ws-tile"') == 5  # one large tile per person, all five found
    for i in range(1, 6):
        assert f"#{i} &middot;" in page
    assert page.count('class="pc-ws-rank"') == 5  # everyone on the leaderboard
    assert "Leaderboard" in page and "up to 5 people in one frame" in "\n".join(c.value for c in at.caption)


@needs_media
def test_projector_view_of_a_clip_steps_through_its_frames(tmp_path: Path) -> None:
    from room_media import write_room_clip

    clip = tmp_path / "room.avi"
    write_room_clip(MEDIA, clip)
    at = app("Workshop (many faces)")
    at.file_uploader(key="pc-ws-upload").upload("room.avi", clip.read_bytes(), "video/x-msvideo").run()
    assert not at.exception, at.exception
    assert at.slider(key="pc-ws-frame").value == 44  # the last frame first
    assert html_of(at).count('class="pc-ws-tile"') == 4
    at.slider(key="pc-ws-frame").set_value(22).run()  # the first face is hidden in frames 20-24
    assert html_of(at).count('class="pc-ws-tile"') == 3
    assert html_of(at).count('class="pc-ws-rank"') == 4


@needs_media
def test_a_photo_without_faces_says_so() -> None:
    at = app("Workshop (many faces)")
    at.file_uploader(key="pc-ws-upload").upload("grey.png", _blank_png(), "image/png").run()
    assert not at.exception, at.exception
    assert any("No face found" in i.value for i in at.info)


def _blank_png() -> bytes:
    import cv2
    import numpy as np

    ok, buf = cv2.imencode(".png", np.full((240, 320, 3), 128, np.uint8))
    return buf.tobytes()


@needs_media
def test_the_snapshot_panel_shows_the_light_gauge() -> None:
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    at.radio(key="pc-source").set_value("Snapshot").run()
    at.file_uploader(key="pc-photo-upload").upload("me.jpg", (MEDIA / "single_face.jpg").read_bytes(), "image/jpeg").run()
    assert not at.exception, at.exception
    assert "Light: ok" in html_of(at)


def test_live_calibration_setup_checks_the_light_first(decode_clip) -> None:  # noqa: ANN001
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    at.button(key="pc-calibrate").click().run()
    assert "**Light check**" in html_of(at)
    assert any(c.value.startswith("Turn the camera on") for c in at.caption)
    coach = at.session_state["pc-live-coach"]
    frames = decode_clip("single_face.mp4")
    for run in range(3):  # the page keeps one reading per run (its fragment polls while the camera plays)
        for i in range(run * 10, run * 10 + 10):
            coach.process_array(frames[i], t_ms=i * 1000.0 / 30.0, annotate=False)
        at.run()
        if run == 0:
            assert any(c.value.startswith("Reading the light") for c in at.caption)
    assert [s.value for s in at.success] == [md("light: ok (nothing to change)")]


def test_a_live_routine_checks_the_light_before_it_starts() -> None:
    at = app("Warm-up routine")
    at.radio(key="pc-source").set_value("Live camera").run()
    assert "**Light check**" in html_of(at)
