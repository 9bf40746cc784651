"""The light check and the wardrobe/background advice, on real frames and synthetic edits.

Measured (benchmarks-free: these are the values the tests print on failure): the strong-edge
share below the face is 0.028 (the clip's plain black T-shirt) and 0.041 (single_face.jpg),
0.20 on the astronaut's suit with its patches and 0.22 on the leopard print in multi_face.jpg;
a checkerboard pasted on the chest reads 0.47-0.59, a plain patch 0.0. Behind the head: the
clip's white door 0.014, single_face.jpg outdoors 0.064.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import cv2
import numpy as np
import pytest
from skimage import data as skdata

from light_edits import darken_side
from posecoach.cli import main
from posecoach.results import FaceFrame, Lighting
from posecoach.room import LightCheck, check_light
from posecoach.sources import Frame
from posecoach.wardrobe import BUSY_TOP, CLUTTERED, wardrobe


def _box(img: np.ndarray, face: FaceFrame) -> tuple[float, float, float, float]:
    h, w = img.shape[:2]
    p = face.landmarks[:, :2] * [w, h]
    (x0, y0), (x1, y1) = p.min(axis=0), p.max(axis=0)
    return x0, y0, x1, y1


def _checker(shape: tuple[int, int], period: int) -> np.ndarray:
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    k = ((yy // period + xx // period) % 2).astype(bool)
    out = np.full(shape + (3,), 20, np.uint8)
    out[k] = 235
    return out


def chest(img: np.ndarray, face: FaceFrame, fill: str) -> np.ndarray:
    """The top below the chin replaced by a checkerboard print or a plain navy colour."""
    x0, y0, x1, y1 = _box(img, face)
    fw, fh = x1 - x0, y1 - y0
    h, w = img.shape[:2]
    ya, yb, xa, xb = int(y1 + 0.2 * fh), int(min(h, y1 + 1.2 * fh)), int(max(0, x0 - 0.8 * fw)), int(min(w, x1 + 0.8 * fw))
    out = img.copy()
    out[ya:yb, xa:xb] = _checker((yb - ya, xb - xa), max(4, int(fw / 10))) if fill == "checker" else (90, 60, 40)
    return out


def behind(img: np.ndarray, face: FaceFrame) -> np.ndarray:
    """Shelves of books behind the head: a real busy texture (skimage's brick wall, tiled) beside
    and above it."""
    x0, y0, x1, y1 = _box(img, face)
    fw, fh = x1 - x0, y1 - y0
    brick = cv2.cvtColor(skdata.brick(), cv2.COLOR_GRAY2BGR)
    brick = cv2.resize(brick, None, fx=fw / 150, fy=fw / 150)
    out = img.copy()
    h, w = img.shape[:2]
    for xa, xb, ya, yb in ((x0 - 0.9 * fw, x0 - 0.2 * fw, y0 - 0.3 * fh, y0 + 0.5 * fh),
                           (x1 + 0.2 * fw, x1 + 0.9 * fw, y0 - 0.3 * fh, y0 + 0.5 * fh),
                           (x0 - 0.2 * fw, x1 + 0.2 * fw, y0 - 0.75 * fh, y0 - 0.3 * fh)):  # fmt: skip
        xa, xb, ya, yb = int(max(0, xa)), int(min(w, xb)), int(max(0, ya)), int(min(h, yb))
        if xb > xa and yb > ya:
            tile = np.tile(brick, (1 + (yb - ya) // brick.shape[0], 1 + (xb - xa) // brick.shape[1], 1))
            out[ya:yb, xa:xb] = tile[: yb - ya, : xb - xa]
    return out


@pytest.fixture(scope="module")
def single(shared_media: Path, image_tracker) -> tuple[np.ndarray, FaceFrame]:  # noqa: ANN001
    img = cv2.imread(str(shared_media / "single_face.jpg"))
    return img, image_tracker.process(img)


@pytest.mark.media
def test_a_checkerboard_on_the_chest_is_flagged_and_a_plain_top_is_not(single: tuple) -> None:
    img, face = single
    as_shot = wardrobe(img, face)
    assert as_shot.pattern < BUSY_TOP and not as_shot.advice  # measured 0.041
    busy = wardrobe(chest(img, face, "checker"), face)
    assert busy.pattern > 2 * BUSY_TOP  # measured 0.57
    assert busy.advice == ("A busy pattern or print just below your face: a solid colour keeps the eye on you",)
    plain = wardrobe(chest(img, face, "plain"), face)
    assert plain.pattern < 0.02 and not plain.advice


@pytest.mark.media
def test_a_busy_wall_behind_the_head_is_flagged(single: tuple) -> None:
    img, face = single
    assert wardrobe(img, face).clutter < CLUTTERED  # measured 0.064
    busy = wardrobe(behind(img, face), face)
    assert busy.clutter > CLUTTERED
    assert "The background behind your head is busy: a plain wall or a step away from it helps" in busy.advice


def test_the_astronauts_patches_read_busy(astronaut_face: FaceFrame) -> None:
    img = cv2.cvtColor(skdata.astronaut(), cv2.COLOR_RGB2BGR)
    advice = wardrobe(img, astronaut_face)
    assert advice.pattern > BUSY_TOP  # measured 0.20: flag and badges on the suit
    assert wardrobe(chest(img, astronaut_face, "plain"), astronaut_face).pattern < 0.02


@pytest.mark.media
def test_the_check_on_the_clip_is_ok_and_plain(shared_media: Path) -> None:
    from posecoach.runs import open_tracker
    from posecoach.sources import VideoFileSource

    source = VideoFileSource(str(shared_media / "single_face.mp4"))
    with contextlib.closing(source), open_tracker() as tracker:
        check = check_light(source, tracker, max_ratio_stops=1.0)
    assert check.ok and check.lighting is Lighting.OK and check.with_face == 20  # every 3rd of 60 frames
    assert check.light.light_ratio_stops < 0.6 and not check.wardrobe.advice
    assert check.lines()[0] == "light: ok (nothing to change)"


@pytest.mark.media
def test_the_check_says_what_to_do_about_side_light(single: tuple) -> None:
    img, face = single
    edited = darken_side(img, face, 3.0, "image_left")  # the subject's right in shadow
    check = LightCheck(max_ratio_stops=1.0)
    for _ in range(5):
        check.add(edited, face)
    result = check.result()
    assert result.lighting is Lighting.UNEVEN and not result.ok
    assert result.lines()[0] == "light: uneven: One side is in shadow: turn a little toward the light, to your left"


def test_no_face_no_verdict() -> None:
    check = LightCheck()
    for _ in range(5):
        check.add(np.zeros((90, 160, 3), np.uint8), FaceFrame.empty((160, 90)))
    result = check.result()
    assert result.light is None and not result.ok
    assert result.lines() == ["light check: no face found: sit facing the camera and try again"]


@pytest.mark.media
def test_posecoach_check_prints_the_verdict(shared_media: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(shared_media / "single_face.jpg"), "--target", "actor_theatrical"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "light: ok (nothing to change)"
    assert out[-1] == "(for Actor: theatrical: a left/right ratio up to 3 stops is fine)"
    assert main(["check"]) == 2
    assert capsys.readouterr().err == "posecoach: error: check needs a photo or video file, or --camera N\n"


def test_frames_without_an_image_are_skipped(image_tracker) -> None:  # noqa: ANN001
    frames = [None, Frame(cv2.cvtColor(skdata.astronaut(), cv2.COLOR_RGB2BGR), 0, 0.0)]
    check = check_light(frames, image_tracker, still=True)
    assert check.with_face == 1 and check.lighting is Lighting.OK
