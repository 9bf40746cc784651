"""The light on real faces, as shot and under synthetic light (tests/light_edits.py).

Figures measured with benchmarks/light_survey.py (the unedited frame's landmarks place the
face; each edited frame is also checked to be tracked by the real model):

    photo              as shot     subject's left -3 st   background +2.5 st   frame -4 st
    single_face.jpg    0.07 st ok  ratio ~2.7 uneven      backlight +1.55      luma 41 dark
    0-f15-hao-ph.jpg   0.26 st ok  ratio ~2.4 uneven      backlight +1.65      luma 38 dark
    0-f1-su-ph.jpg     0.24 st ok  ratio ~3.0 uneven      backlight +1.89      luma 36 dark

On GENKI-4K (every 4th training crop, 666 faces read): ratio median 0.29 st, p95 1.60;
85 % "ok" (the rest mostly overexposed JPEGs and the grey border read as background).
"""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from light_edits import brighten_background, darken_side, scale_light
from posecoach.lighting import LightCoach, classify, light_cue, read_light
from posecoach.pipeline import Pipeline, PipelineOptions
from posecoach.results import FaceFrame, Lighting
from posecoach.targets import find_target

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

PHOTOS = ("single_face.jpg", "0-f15-hao-ph.jpg", "0-f1-su-ph.jpg")


@pytest.fixture(scope="module")
def photos(shared_media: Path, image_tracker) -> dict[str, tuple[np.ndarray, FaceFrame]]:  # noqa: ANN001
    out = {}
    for name in PHOTOS:
        img = cv2.imread(str(shared_media / name))
        out[name] = (img, image_tracker.process(img))
    return out


def test_astronaut_reads_ok(astronaut_face: FaceFrame) -> None:
    from skimage import data as skdata

    img = cv2.cvtColor(skdata.astronaut(), cv2.COLOR_RGB2BGR)
    r = read_light(img, astronaut_face)
    assert r is not None and classify(r) is Lighting.OK
    assert r.light_ratio_stops < 1.0 and 100 < r.face_luma < 220  # measured 0.43 st, 178


def test_no_face_no_reading() -> None:
    assert read_light(np.zeros((100, 100, 3), np.uint8), FaceFrame.empty((100, 100))) is None
    assert classify(None) is None


@pytest.mark.media
@pytest.mark.parametrize("name", PHOTOS)
def test_real_faces_as_shot_read_flat_and_ok(photos: dict, name: str) -> None:
    img, face = photos[name]
    r = read_light(img, face)
    assert classify(r) is Lighting.OK and r.light_ratio_stops < 0.6  # measured 0.07-0.26 stops
    assert light_cue(r, Lighting.OK) == ""


@pytest.mark.media
@pytest.mark.parametrize("name", PHOTOS)
@pytest.mark.parametrize("side", ["image_right", "image_left"])
def test_one_side_darkened_reads_a_higher_ratio_and_the_uneven_cue(
    photos: dict, image_tracker, name: str, side: str  # noqa: ANN001
) -> None:
    img, face = photos[name]
    before = read_light(img, face)
    edited = darken_side(img, face, 3.0, side)
    assert image_tracker.process(edited).has_face  # the edit leaves a face the tracker finds
    after = read_light(edited, face)
    assert after.light_ratio_stops >= before.light_ratio_stops + 1.5  # measured +2.2..+2.8
    verdict = classify(after)
    assert verdict is Lighting.UNEVEN
    # The image's right is the subject's LEFT: darkening it leaves the light on their right.
    toward = "right" if side == "image_right" else "left"
    assert light_cue(after, verdict) == f"One side is in shadow: turn a little toward the light, to your {toward}"


@pytest.mark.media
def test_corporate_wants_flat_light_theatrical_allows_more(photos: dict) -> None:
    img, face = photos["single_face.jpg"]
    r = read_light(darken_side(img, face, 2.0, "image_right"), face)  # measured 1.90 stops
    assert 1.2 < r.light_ratio_stops < 2.6
    assert classify(r, find_target("corporate_headshot").max_ratio_stops) is Lighting.UNEVEN
    assert classify(r, find_target("actor_theatrical").max_ratio_stops) is Lighting.OK


@pytest.mark.media
@pytest.mark.parametrize("name", PHOTOS)
def test_background_brightened_reads_backlit(photos: dict, image_tracker, name: str) -> None:  # noqa: ANN001
    img, face = photos[name]
    before = read_light(img, face)
    edited = brighten_background(img, face, 2.5)
    assert image_tracker.process(edited).has_face
    after = read_light(edited, face)
    assert before.backlight_stops < 0.0 and after.backlight_stops >= 1.2  # measured -0.9..-0.5 -> 1.55..1.89
    assert after.background_clipped > 0.5  # measured 0.75-0.98: a window clips
    assert classify(after) is Lighting.BACKLIT
    assert light_cue(after, Lighting.BACKLIT) == "You are backlit: turn to face the light"
    assert abs(after.light_ratio_stops - before.light_ratio_stops) < 0.1  # the face itself is untouched


@pytest.mark.media
@pytest.mark.parametrize("name", PHOTOS)
def test_uniformly_darkened_reads_dark_and_the_ratio_stays(photos: dict, image_tracker, name: str) -> None:  # noqa: ANN001
    img, face = photos[name]
    before = read_light(img, face)
    edited = scale_light(img, -4.0)
    assert image_tracker.process(edited).has_face
    after = read_light(edited, face)
    assert classify(after) is Lighting.DARK and after.face_luma < 45  # measured 36-41 (from 145-160)
    assert abs(after.light_ratio_stops - before.light_ratio_stops) < 0.15  # a ratio ignores exposure
    # Two stops darker is what auto-exposure hides: not "dark", same ratio.
    half = read_light(scale_light(img, -2.0), face)
    assert classify(half) is Lighting.OK and abs(half.light_ratio_stops - before.light_ratio_stops) < 0.1


@pytest.mark.media
def test_the_clip_reads_ok_throughout(tracked_clip, decode_clip) -> None:  # noqa: ANN001
    # A white door behind him reads 1.7 stops above his face, unclipped: a pale wall, not backlight.
    frames, faces = decode_clip("single_face.mp4"), tracked_clip("single_face.mp4")
    verdicts = [classify(read_light(img, f)) for img, f in zip(frames, faces) if f.has_face]
    assert len(verdicts) > 60 and all(v is Lighting.OK for v in verdicts)


@pytest.mark.media
def test_genki_faces_mostly_read_ok(shared_media: Path, image_tracker) -> None:  # noqa: ANN001
    import corpus

    root = shared_media / "genki4k_train"
    if not (root / "labels.csv").is_file():
        pytest.skip("../shared/media/genki4k_train not found: the GENKI-4K crops are needed for this test")
    files, _, _ = corpus.genki_labels(root)
    verdicts, ratios = [], []
    for name in files[::20]:
        img = corpus.prepare_crop(corpus.read_crop(name, root))
        r = read_light(img, image_tracker.process(img))
        if r is not None:
            verdicts.append(classify(r))
            ratios.append(r.light_ratio_stops)
    assert len(verdicts) > 120
    # Every 4th crop: 85 % ok, ratio median 0.29 stops. Ordinary faces must not be nagged.
    assert np.mean([v is Lighting.OK for v in verdicts]) >= 0.75
    assert np.median(ratios) < 0.6


def test_light_coach_waits_speaks_rests_and_clears() -> None:
    coach = LightCoach(persist_ms=2000, show_ms=4000, rest_ms=20000, clear_ms=1000)
    said = [coach.update("fix the light", t) for t in range(0, 30000, 100)]
    assert said[:20] == [""] * 20  # 0-1.9 s: not yet
    assert set(said[20:60]) == {"fix the light"}  # 2-5.9 s: said
    assert set(said[60:260]) == {""}  # then it rests for 20 s
    assert said[260] == "fix the light"  # and is said again, 24 s after it was first said
    assert coach.update("", 27000) == "" and coach.update("fix the light", 27100) == "fix the light"  # a blip
    coach.update("", 28000)
    coach.update("", 29100)  # good for over a second: forgotten
    assert coach.update("fix the light", 29200) == ""  # a new problem waits again


@pytest.mark.media
def test_the_pipeline_says_the_light_cue_after_it_persists_and_exports_it(photos: dict) -> None:
    from posecoach.export import result_row

    img, face = photos["single_face.jpg"]
    edited = darken_side(img, face, 3.0, "image_right")
    pipe = Pipeline(find_target("corporate_headshot"), options=PipelineOptions(smoothing=False))
    results = []
    for i in range(120):  # 4 s at 30 fps
        t = i * 1000.0 / 30
        f = FaceFrame(face.landmarks, face.blendshapes, face.matrix, face.image_wh, 1, int(t))
        results.append(pipe.process_face(f, edited))
    assert all(r.lighting is Lighting.UNEVEN for r in results)
    light_cues = [i for i, r in enumerate(results) if r.cue.metric == "light"]
    assert light_cues and 58 <= light_cues[0] <= 62  # after 2 s of the problem
    assert results[-1].cue.text == "One side is in shadow: turn a little toward the light, to your right"
    row = result_row(results[-1])
    assert row["lighting"] == "uneven" and row["light_ratio_stops"] > 2 and 0 < row["face_luma"] < 255
