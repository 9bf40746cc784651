"""The page with hostile names and texts, playing a coached clip back, calibrating from a clip,
and odd files in the profile folder (AppTest, no camera)."""

from __future__ import annotations

import io
import os
import shutil
from pathlib import Path

import pytest
from PIL import Image

from factories import gif
from posecoach.ui.plain import md, unescape

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "streamlit_app.py")
MEDIA = ROOT.parent / "shared" / "media"
CLIP = MEDIA / "single_face.mp4"
needs_media = pytest.mark.skipif(not CLIP.is_file(), reason=f"real face media not found at {MEDIA} (see ../shared/media)")

AppTest = pytest.importorskip("streamlit.testing.v1").AppTest

#: A name that, rendered as Markdown, is an image the browser fetches.
LEAK = "![x](http://127.0.0.1:9999/leak.png)"


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


def practise(at: AppTest, name: str, data: bytes) -> AppTest:
    at.radio(key="pc-source").set_value("Practise on a video").run()
    at.file_uploader(key="pc-clip").upload(name, data, "video/mp4").run()
    assert not at.exception, at.exception
    return at


def _strings(node) -> list[str]:  # noqa: ANN001
    """Every string the page sends for an element or block that Streamlit may render as
    Markdown: bodies, labels, captions, help. (A selectbox's options are drawn as plain text:
    its frontend puts them in the list as text; only its label and help are Markdown.)"""
    out = []
    proto = getattr(node, "proto", None)
    if getattr(node, "type", "") == "selectbox":
        out += [proto.label, proto.help]
    elif proto is not None:
        out.append(str(proto))
    for child in getattr(node, "children", {}).values():
        out.extend(_strings(child))
    return out


def assert_nothing_renders_as_markdown(at: AppTest, raw: str) -> None:
    """``raw`` (Markdown that links or fetches) appears nowhere as such on the page."""
    page = "\n".join(_strings(at.main) + _strings(at.sidebar))
    assert raw not in page and "](http" not in page, "user text reached the page as Markdown"


def test_md_renders_as_exactly_the_text() -> None:
    """Every ASCII punctuation character is escaped (CommonMark: an escaped one is literal),
    so no link, image, emphasis, HTML, directive, math or autolink can start."""
    import string

    for text in [LEAK, string.punctuation, "**bold** _it_ `code` <img src=x> :red[x] $x$ www.x.org http://x.org",
                 "clip_2024-01.mp4", "line\nbreak\ttab    spaces"]:  # fmt: skip
        escaped = md(text)
        assert unescape(escaped) == " ".join(text.split())
        unescaped_punct = [c for i, c in enumerate(escaped) if c in string.punctuation and c != "\\"
                           and (i == 0 or escaped[i - 1] != "\\")]  # fmt: skip
        assert unescaped_punct == [], (text, escaped)
        assert "\n" not in escaped


@needs_media
def test_an_uploaded_file_name_is_plain_text_everywhere() -> None:
    """`![x](http://127.0.0.1:9999/leak.png).mp4` made the page draw an image from that URL."""
    name = f"{LEAK}.mp4"
    at = practise(app(), name, CLIP.read_bytes())
    assert not at.error, [e.value for e in at.error]
    captions = [c for img in at.image for c in img.captions]
    assert any(c.startswith(f"{md(name)}: best ") for c in captions), captions
    assert any(unescape(c).startswith(f"{name}: best ") for c in captions)
    assert_nothing_renders_as_markdown(at, LEAK)
    # A broken file under that name: the error quotes it as plain text.
    at = practise(app(), name, b"this is not a video")
    (error,) = [e.value for e in at.error]
    assert unescape(error).startswith(f"This file cannot be used: {name}: not a video or image posecoach can read")
    assert_nothing_renders_as_markdown(at, LEAK)


HOSTILE_TARGET = f'''name = "hostile"
title = "Hostile {LEAK}"
description = "Looks {LEAK} **bold** <b>html</b>"
hold_cue = "Hold {LEAK}"
[ranges.smile]
low = 0.95
high = 1.0
tolerance = 0.1
[cues.smile]
up = "Smile {LEAK} more"
down = "Less {LEAK}"
'''


@needs_media
def test_a_target_with_markdown_in_its_words_is_plain_text(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A target whose description or cue held Markdown made the page render it."""
    import posecoach.targets

    library = tmp_path / "targets"
    library.mkdir()
    shutil.copy(ROOT / "assets" / "targets" / "corporate_headshot.toml", library)
    (library / "hostile.toml").write_text(HOSTILE_TARGET)
    monkeypatch.setattr(posecoach.targets, "DEFAULT_LIBRARY_DIR", library)
    at = app()
    at.selectbox(key="pc-target").set_value("hostile").run()
    description = f"Looks {LEAK} **bold** <b>html</b>"
    assert md(description) in [c.value for c in at.caption]
    at = practise(at, "clip.mp4", CLIP.read_bytes())
    cue, hold = f"Smile {LEAK} more", f"Hold {LEAK}"
    (shown,) = [m.value for m in at.markdown if m.value.startswith("### ")]
    assert shown in (f"### {md(cue)}", f"### {md(hold)}"), shown
    assert any(m.value.startswith(f"- {md(cue)}: ") for m in at.markdown), "what to work on"
    at.slider(key="pc-replay-pos").set_value(0).run()
    assert [m.value for m in at.markdown if m.value.startswith("### ")] == [f"### {md(cue)}"]
    assert_nothing_renders_as_markdown(at, LEAK)


def test_an_animated_gif_is_practised_as_a_clip_and_refused_as_a_snapshot() -> None:
    """The app called an animated GIF a photo; the command line coaches it as a video."""
    at = practise(app(), "wave.gif", gif(6))
    assert not at.error, [e.value for e in at.error]
    assert any(c.startswith("processed 6 frames") for c in (c.value for c in at.caption))
    at.radio(key="pc-source").set_value("Snapshot").run()
    at.file_uploader(key="pc-photo-upload").upload("wave.gif", gif(6), "image/gif").run()
    (error,) = [e.value for e in at.error]
    assert unescape(error) == "This photo cannot be used: wave.gif: is a video, not a photo (use Practise on a video for clips)."
    at.file_uploader(key="pc-photo-upload").upload("still.gif", gif(1), "image/gif").run()
    assert not at.error and next(m for m in at.metric if m.label == "Score").value.isdigit()


@needs_media
def test_the_panel_follows_the_frame_shown() -> None:
    """Practise on a video showed the best frame beside the panel of the *last* frame."""
    at = practise(app(), "single_face.mp4", CLIP.read_bytes())
    run = at.session_state["pc-clip-run"][1]
    replay = run.replay
    assert replay.stride == 1 and len(replay.frames) == run.frames == 72
    assert replay.nbytes < 72 * 100_000, "kept at display size, as JPEG"
    best = replay.position_of(run.best_result.frame)
    assert at.slider(key="pc-replay-pos").value == best, "it opens on the best frame"
    seen_scores = set()
    for pos in (best, 0, 40, 71):
        if pos != best:
            at.slider(key="pc-replay-pos").set_value(pos).run()
        assert not at.exception, at.exception
        frame = replay.frames[pos]
        result = frame.result
        score = next(m for m in at.metric if m.label == "Score").value
        assert score == (f"{result.score.score:.0f}" if result.score is not None else "--"), pos
        cue = next(m.value for m in at.markdown if m.value.startswith("### "))
        assert unescape(cue.removeprefix("### ")) == (result.cue.text or "&nbsp;"), pos
        seen_scores.add(score)
        (caption,) = [c for img in at.image for c in img.captions if "frame" in c]
        assert f"frame {frame.index + 1} of 72 ({frame.t_ms / 1000:.2f} s)" in caption
    assert len(seen_scores) > 2, "the neutral start and the smile score differently"
    work_on = [m.value for m in at.markdown if m.value.startswith("- ")]
    assert work_on and work_on[0].startswith(f"- {md(run.work_on[0].cue)}: ")
    at.button(key="pc-replay-play").click().run()
    assert at.session_state["pc-replay-playing"] is True and at.button(key="pc-replay-play").label == "Pause"


def test_kept_frames_stay_within_their_budget_whatever_the_clip() -> None:
    """A long 1080p clip: every other kept frame is dropped past the budget, evenly."""
    import numpy as np

    from posecoach.replay import ReplayRecorder
    from posecoach.results import Cue, FaceFrame, FrameResult, HoldState

    rng = np.random.default_rng(3)
    noise = rng.integers(0, 255, (1080, 1920, 3), np.uint8)  # JPEG's worst case
    recorder = ReplayRecorder(lambda image, result: image.copy(), budget_bytes=4 * 2**20)
    for i in range(240):
        result = FrameResult(i, i * 33, FaceFrame.empty((1920, 1080), i * 33), None, None, None, Cue(""), HoldState())
        recorder.add(i, i * 33.0, noise, result)
    replay = recorder.replay()
    assert replay.nbytes <= 4 * 2**20 and replay.stride >= 2
    indices = [f.index for f in replay.frames]
    assert indices == list(range(0, 240, replay.stride)), "evenly spaced, no gap"
    assert all(max(Image.open(io.BytesIO(f.jpeg)).size) == 640 for f in replay.frames[:3]), "display size"
    assert len(replay.timeline) == 240


@needs_media
def test_a_clip_calibration_error_stays_while_the_name_is_fixed(profile_dir: Path) -> None:
    """The section collapsed and its error vanished at the first Enter in a field."""
    at = practise(app(), "single_face.mp4", CLIP.read_bytes())
    at.session_state["pc-clipcal-open"] = True  # the person opens the section
    at.run()
    at.text_input(key="pc-clipcal-name").set_value("ana")
    at.slider(key="pc-clipcal-neutral").set_value((0.0, 0.5))
    at.slider(key="pc-clipcal-smile").set_value((0.0, 0.5))
    at.run()
    at.button(key="pc-clipcal-go").click().run()
    first = [e.value for e in at.error]
    assert len(first) == 1 and unescape(first[0]).startswith("Big smile (0-0.5 s): your smile was not clearly bigger")
    at.text_input(key="pc-clipcal-name").set_value("ana2").run()  # typing a name and Enter
    assert [e.value for e in at.error] == first, "the error is still shown"
    (section,) = [e for e in at.expander if e.label == "Calibrate from this clip"]
    assert section.proto.expanded, "and the section is still open"
    at.slider(key="pc-clipcal-smile").set_value((1.2, 2.2)).run()
    at.button(key="pc-clipcal-go").click().run()
    assert not at.error and sorted(p.name for p in profile_dir.iterdir()) == ["ana2.json"]


def test_a_fifo_in_the_profile_folder_is_not_offered(profile_dir: Path) -> None:
    """A FIFO named x.json appeared in the picker and hung the session when chosen."""
    from factories import synthetic_profile
    from posecoach.calibration import save_profile

    save_profile(synthetic_profile("ana"))
    os.mkfifo(profile_dir / "x.json")
    shutil.copy(profile_dir / "ana.json", profile_dir / "ben.json")
    at = app()
    assert at.selectbox(key="pc-profile").options == ["None (uncalibrated)", "ana", "ben"]
    at.selectbox(key="pc-profile").set_value("ben").run()
    (warning,) = [unescape(w.value) for w in at.warning]
    assert warning == (f"The calibration profile cannot be used: {profile_dir / 'ben.json'}: holds the profile of 'ana', "
                       "not 'ben' (a renamed or copied file): rename it to ana.json or calibrate again as ben: coaching "
                       "uncalibrated. Calibrate again to replace it.")  # fmt: skip
