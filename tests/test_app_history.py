"""Keeping sessions in the page (AppTest): the Keep button on a clip and on the live camera,
and the History tab (progress charts, downloads, deleting one session or everything)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from factories import simulated_camera
from posecoach.history import History, history_path, keep
from session_factory import synthetic_record

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "streamlit_app.py")
CLIP = ROOT.parent / "shared" / "media" / "single_face.mp4"
needs_media = pytest.mark.skipif(not CLIP.is_file(), reason=f"real face media not found at {CLIP.parent}")

AppTest = pytest.importorskip("streamlit.testing.v1").AppTest


@pytest.fixture(autouse=True)
def profile_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "profiles"
    monkeypatch.setenv("POSECOACH_CALIBRATION_DIR", str(folder))
    return folder


def app() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    return at


def open_tab(at: AppTest, tab: str) -> AppTest:
    at.session_state["pc-tab"] = tab  # what clicking the tab does
    at.run()
    assert not at.exception, at.exception
    return at


def coached_clip(at: AppTest, target: str = "friendly_profile") -> AppTest:
    at.selectbox(key="pc-target").set_value(target).run()
    at.radio(key="pc-source").set_value("Practise on a video").run()
    at.file_uploader(key="pc-clip").upload("single_face.mp4", CLIP.read_bytes(), "video/mp4").run()
    assert not at.exception, at.exception
    return at


def charts(at: AppTest) -> list[dict]:
    """The Vega-Lite specs drawn on the page."""
    return [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]


# -- the History tab ------------------------------------------------------------------------------
def test_the_history_tab_without_kept_sessions_says_how_to_keep_one(_private_user_dir: Path) -> None:
    at = open_tab(app(), "History")
    assert [i.value for i in at.info] == [
        "No kept sessions yet. After practising, press **Keep this session** to keep one here."]  # fmt: skip
    assert not at.metric, "the practice page is not drawn under History"
    open_tab(at, "Practise")
    assert [m.label for m in at.metric] == ["Score", "Holds"]
    assert list(_private_user_dir.iterdir()) == [], "looking creates nothing"


def test_the_history_tab_shows_progress_and_deletes_one_session_or_everything() -> None:
    for seed, best, hold in ((1, 70.0, None), (2, 85.0, 3.0), (3, 92.0, 1.5)):
        keep(synthetic_record(seed, best=best, hold_at_s=hold), pictures=True)
    at = open_tab(app(), "History")
    assert [s.value for s in at.subheader] == ["Your progress", "Sessions"]
    assert at.selectbox(key="pc-hist-target").value == "look"
    best_chart, hold_chart = charts(at)
    assert [m.value for m in at.markdown if m.value.startswith("**")][:2] == ["**Best score**", "**Time to the first hold**"]
    assert [v["best"] for v in best_chart["layer"][0]["data"]["values"]] == [70.0, 85.0, 92.0]
    held, missed = (layer["data"]["values"] for layer in hold_chart["layer"])
    assert [v["hold_s"] for v in held] == [3.0, 1.5] and [v["session"] for v in missed] == [1]
    table = at.dataframe[0].value
    assert list(table["id"]) == [3, 2, 1] and list(table["best score"]) == [92, 85, 70]
    assert "3 kept sessions with this look; held in 2." in [c.value for c in at.caption]
    labels = [b.label for b in at.get("download_button")]
    assert labels == ["Download the report (HTML)", "Download the hand-off card"]
    # Delete one: asks first, then it is gone, pictures included.
    assert at.selectbox(key="pc-hist-session").value == 3
    at.button(key="pc-hist-delete").click().run()
    assert [w.value for w in at.warning] == ["Delete session 3 and its pictures for good?"]
    at.button(key="pc-hist-delete-yes").click().run()
    assert not at.exception, at.exception
    assert [s.value for s in at.success] == ["Deleted session 3 and its pictures."]
    assert [r.id for r in History().sessions()] == [1, 2]
    assert list(at.dataframe[0].value["id"]) == [2, 1]
    # Delete everything: only once ticked.
    assert at.button(key="pc-hist-delete-all").disabled
    at.checkbox(key="pc-hist-delete-all-sure").check().run()
    at.button(key="pc-hist-delete-all").click().run()
    assert not at.exception, at.exception
    assert [s.value for s in at.success] == ["Deleted 2 sessions and their pictures."]
    assert History().sessions() == []
    assert at.info and at.info[0].value.startswith("No kept sessions yet")


# -- keeping --------------------------------------------------------------------------------------
@needs_media
def test_keeping_a_clip_session_with_and_without_pictures(_private_user_dir: Path) -> None:
    at = coached_clip(app())
    assert not history_path().exists(), "coaching a clip keeps nothing"
    assert at.checkbox(key="pc-keep-pics-clip").value is False, "pictures are opt-in"
    downloads = {b.label for b in at.get("download_button")}
    assert {"Download the report (HTML)", "Download the hand-off card"} <= downloads, "a report without keeping"
    at.button(key="pc-keep-btn-clip").click().run()
    assert not at.exception, at.exception
    assert [s.value for s in at.success] == ["Kept as session 1. See your progress under History."]
    assert at.button(key="pc-keep-btn-clip").disabled, "a finished clip is kept once"
    (row,) = History().sessions()
    assert (row.source, row.targets, row.pictures) == ("upload: single_face.mp4", ("friendly_profile",), False)
    kept = History().get(1)
    assert kept.steps[0].holds == 1 and kept.steps[0].blinks == 1 and kept.frames == 72
    # The same clip on another look, this time with pictures.
    at.selectbox(key="pc-target").set_value("genuine_laugh").run()
    at.checkbox(key="pc-keep-pics-clip").check().run()
    at.button(key="pc-keep-btn-clip").click().run()
    assert [s.value for s in at.success] == ["Kept as session 2. See your progress under History."]
    assert History().get(2).has_pictures and History().get(2).targets == ("genuine_laugh",)
    labels = [b.label for b in at.get("download_button")]
    assert "Download the report (HTML)" in labels and "Download the hand-off card" in labels
    # Both show up under History, with the look picker offering both looks.
    open_tab(at, "History")
    assert set(at.selectbox(key="pc-hist-target").options) == {"Friendly profile photo", "Genuine laugh"}
    assert len(charts(at)) == 2


@needs_media
def test_keeping_the_live_session_starts_a_new_one(decode_clip) -> None:  # noqa: ANN001
    at = app()
    at.button(key="pc-keep-btn-live").click().run()
    assert [i.value for i in at.info] [-1] == "Nothing to keep yet: practise first."
    assert not history_path().exists()
    coach = at.session_state["pc-live-coach"]
    frames = decode_clip("single_face.mp4")
    for t_ms, image in simulated_camera(frames, fps=15.0, seconds=10.0):
        coach.process_array(image, t_ms=t_ms)  # what the video callback does
    at.run()
    at.button(key="pc-keep-btn-live").click().run()
    assert not at.exception, at.exception
    assert [s.value for s in at.success] == [
        "Kept as session 1. See your progress under History. A new session starts now."]  # fmt: skip
    assert coach.session.tally.frames == 0, "the kept part is not kept twice"
    kept = History().get(1)
    assert kept.source == "live camera" and kept.frames == 150 and not kept.has_pictures
    assert kept.duration_s == pytest.approx(10.0, abs=0.1)
    assert not at.button(key="pc-keep-btn-live").disabled, "a live session can be kept again later"
