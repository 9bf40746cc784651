"""The drills mode on the page (AppTest): the shutter drill, lens recall and blink on cue live
(real frames of single_face.mp4 fed to the page's own live coach, as the camera would), kind
mode, and the shutter drill on an uploaded clip."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "streamlit_app.py")
MEDIA = ROOT.parent / "shared" / "media"
CLIP = MEDIA / "single_face.mp4"
needs_media = pytest.mark.skipif(not CLIP.is_file(), reason=f"real face media not found at {MEDIA} (see ../shared/media)")

AppTest = pytest.importorskip("streamlit.testing.v1").AppTest


def app(source: str = "Live camera") -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.selectbox(key="pc-target").set_value("genuine_laugh").run()
    at.radio(key="pc-mode").set_value("Shoot-day drills").run()
    at.radio(key="pc-source").set_value(source).run()
    assert not at.exception, at.exception
    return at


def texts(at: AppTest) -> str:
    return "\n".join([m.value for m in at.markdown] + [c.value for c in at.caption] + [c.value for c in at.code]
                     + [i.value for i in at.info])  # fmt: skip


def feed(at: AppTest, frames: list[np.ndarray], start: int = 0, loops: int = 1) -> list[np.ndarray]:
    """Play the frames to the page's live coach as a 30 fps camera would; the pictures shown."""
    coach = at.session_state["pc-live-coach"]
    shown = []
    for k in range(loops):
        for i, image in enumerate(frames):
            t = (start + k * len(frames) + i) * 1000.0 / 30.0
            shown.append(coach.process_array(image, t_ms=t))
    return shown


def sound_frames(at: AppTest) -> list[str]:
    return [e.proto.srcdoc for e in at.get("iframe") if "pc-sound" in e.proto.srcdoc]


@needs_media
def test_the_shutter_drill_live_judges_shots_and_plays_the_shutter(decode_clip) -> None:  # noqa: ANN001
    at = app()
    assert "A photographer shoots at random moments" in texts(at)
    at.slider(key="pc-drill-every").set_value((0.5, 1.0))
    at.number_input(key="pc-drill-seed").set_value(3)
    at.button(key="pc-drill-start").click().run()
    assert not at.exception and "Listen for the shutter" in texts(at)
    feed(at, decode_clip("single_face.mp4"), loops=2)  # 4.8 s: a shot every 0.5-1 s
    at.run()
    now = texts(at)
    assert "### Shot " in "\n".join(m.value for m in at.markdown), now
    keepers = next(m for m in at.metric if m.label == "Keepers")
    kept, shots = (int(x) for x in keepers.value.split(" of "))
    assert 5 <= shots <= 9 and 0 < kept < shots
    assert "Seed 3: the same seed gives the same shots." in now
    (sound,) = sound_frames(at)
    assert "data:audio/wav;base64,UklGR" in sound and 'what = "shutter"' in sound
    # Stop: the summary, the contact sheet and its downloads.
    at.button(key="pc-drill-stop").click().run()
    assert not at.exception
    assert any(m.value.startswith(f"#### Keepers: {kept} of {shots}") for m in at.markdown)
    assert any(m.value.startswith("**Work on:** ") for m in at.markdown)
    assert len(at.get("imgs")) >= 1 or len(at.get("image")) >= 1


@needs_media
def test_kind_mode_hides_numbers_but_records_them(decode_clip) -> None:  # noqa: ANN001
    at = app()
    at.toggle(key="pc-drill-kind").set_value(True)
    at.slider(key="pc-drill-every").set_value((0.5, 1.0))
    at.button(key="pc-drill-start").click().run()
    shown = feed(at, decode_clip("single_face.mp4"), loops=2)
    at.run()
    assert not [m for m in at.metric if m.label == "Keepers"]
    words = "\n".join(m.value for m in at.markdown)
    assert "nice, hold that" in words or "lovely, find it again" in words
    assert "blink" not in words and "off the look" not in words and "Shot " not in words
    assert shown[-1].shape == (360, 640, 3)  # the plain mirror comes back, no overlay
    at.button(key="pc-drill-stop").click().run()
    assert "### beautiful work: that's a wrap" in [m.value for m in at.markdown]
    (box,) = at.expander
    assert box.label == "For the photographer: the numbers"
    assert any(m.value.startswith("#### Keepers: ") for m in box.markdown)


@needs_media
def test_lens_recall_hides_the_mirror_then_scores_the_recall(decode_clip) -> None:  # noqa: ANN001
    at = app()
    at.radio(key="pc-drill").set_value("Lens recall").run()
    assert "the mirror goes away" in texts(at)
    at.button(key="pc-drill-start").click().run()
    assert "### Find the look in the mirror" in [m.value for m in at.markdown]
    frames = decode_clip("single_face.mp4")
    smiling = frames[30:69]  # the held broad smile, eyes open
    shown = feed(at, smiling, loops=2)  # 2.6 s: held 1 s in the mirror, then the recall begins
    at.run()
    assert "### Eyes on the lens" in [m.value for m in at.markdown]
    screen = shown[-1]
    assert screen.mean() < 40 and screen[200:].max() < 60, "the mirror is hidden: a dark screen, a mark at the top"
    (sound,) = sound_frames(at)
    assert 'what = "held"' in sound  # the hold-reached chime
    feed(at, smiling, start=len(smiling) * 2, loops=2)
    at.run()
    code = "\n".join(c.value for c in at.code)
    assert "round 1: mirror 100, recall 100 (100% kept), eyes on the lens 100%" in code, code


def test_blink_on_cue_starts_with_the_look_then_the_cue() -> None:
    at = app()
    at.radio(key="pc-drill").set_value("Blink on cue").run()
    assert "Close your eyes" in texts(at)
    at.button(key="pc-drill-start").click().run()
    assert not at.exception
    assert "### Find the look and hold it" in [m.value for m in at.markdown]
    assert "Round 1 of 3" in texts(at)


def test_quiet_turns_every_sound_off() -> None:
    at = app()
    at.toggle(key="pc-drill-quiet").set_value(True)
    at.button(key="pc-drill-start").click().run()
    (sound,) = sound_frames(at)
    assert "quiet = true" in sound and "Sound off (quiet)." in sound


@needs_media
def test_the_shutter_drill_on_an_uploaded_clip() -> None:
    at = app("Practise on a video")
    at.slider(key="pc-drill-every").set_value((0.5, 1.0)).run()
    at.file_uploader(key="pc-drill-clip").upload("me.mp4", CLIP.read_bytes(), "video/mp4").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any(m.value.startswith("#### Keepers: ") for m in at.markdown)
    assert "A shot every 0.5:1 s, seed 0: the same seed gives the same shots." in texts(at)
    assert {b.label for b in at.get("download_button")} >= {"Download the contact sheet", "Download the shots (JSON)"}


def test_recall_and_blink_need_the_camera() -> None:
    at = app("Practise on a video")
    at.radio(key="pc-drill").set_value("Lens recall").run()
    assert "Lens recall and blink on cue follow cues as you do them" in texts(at)
    at.radio(key="pc-source").set_value("Snapshot").run()
    assert "The drills need the live camera" in texts(at)
