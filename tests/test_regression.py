"""Regression table: scores and cues on the recorded clips, failing on drift.

The expected values live in ``tests/golden/clips.json``. After a deliberate change to metrics,
targets, scoring or coaching, look at the diff this test prints, then regenerate:

    POSECOACH_REGENERATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_regression.py

and commit the new table with the change that explains it.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest

from posecoach.pipeline import Pipeline
from posecoach.targets import find_target

GOLDEN = Path(__file__).parent / "golden" / "clips.json"
CLIPS = ("single_face.mp4", "face_noface.mov", "noface_face.mov", "no_face.mp4")
TARGETS = ("corporate_headshot", "actor_commercial", "passport_neutral", "genuine_laugh")
SCORE_TOL = 4.0  # points of 0..100
CUE_AGREEMENT = 0.9  # share of sampled frames whose cue must match
SAMPLE_EVERY = 4


def summarise(faces: list, labels: dict, target_name: str) -> dict:
    """What a person would notice about one clip against one target."""
    pipeline = Pipeline(find_target(target_name))
    results = [pipeline.process_face(f) for f in faces]
    by_label: dict[str, list[float]] = defaultdict(list)
    for seg in labels["segments"]:
        if not seg["face_visible"]:
            continue
        for i in range(seg["frames"][0], seg["frames"][1] + 1):
            if i < len(results) and results[i].score is not None:
                by_label[f"smiling={seg['smiling']}"].append(results[i].score.score)
    return {
        "frames": len(results),
        "face_frames": sum(r.has_face for r in results),
        "median_score": {k: round(float(np.median(v)), 1) for k, v in sorted(by_label.items())},
        "holds": results[-1].hold.holds if results else 0,
        "cues": {str(r.frame): r.cue.text for r in results[::SAMPLE_EVERY]},
    }


@pytest.fixture(scope="module")
def table(tracked_clip, media_labels) -> dict:  # noqa: ANN001
    return {
        clip: {target: summarise(tracked_clip(clip), media_labels[clip], target) for target in TARGETS}
        for clip in CLIPS
    }


@pytest.mark.media
def test_clips_match_the_regression_table(table: dict) -> None:
    if os.environ.get("POSECOACH_REGENERATE_GOLDEN"):
        GOLDEN.write_text(json.dumps(table, indent=1, sort_keys=True) + "\n")
        pytest.skip(f"regenerated {GOLDEN}: review and commit it")
    golden = json.loads(GOLDEN.read_text())
    drift = []
    for clip in CLIPS:
        for target in TARGETS:
            want, got = golden[clip][target], table[clip][target]
            where = f"{clip} / {target}"
            if got["frames"] != want["frames"] or abs(got["face_frames"] - want["face_frames"]) > 1:
                drift.append(f"{where}: frames/face_frames {got['frames']}/{got['face_frames']}, "
                             f"expected {want['frames']}/{want['face_frames']}")
            for label, score in want["median_score"].items():
                now = got["median_score"].get(label)
                if now is None or abs(now - score) > SCORE_TOL:
                    drift.append(f"{where}: median score for {label} {now}, expected {score} ± {SCORE_TOL}")
            if got["holds"] != want["holds"]:
                drift.append(f"{where}: holds {got['holds']}, expected {want['holds']}")
            same = sum(got["cues"].get(k) == v for k, v in want["cues"].items())
            if same < CUE_AGREEMENT * len(want["cues"]):
                changed = {k: (v, got["cues"].get(k)) for k, v in want["cues"].items() if got["cues"].get(k) != v}
                drift.append(f"{where}: cues changed at {len(changed)} of {len(want['cues'])} frames: {changed}")
    assert not drift, "drift from tests/golden/clips.json:\n" + "\n".join(drift)


@pytest.mark.media
def test_the_table_says_what_a_person_sees(table: dict) -> None:
    """Sanity of the golden values themselves, in words a photographer would use."""
    sf = table["single_face.mp4"]
    # A big-smile look scores the broad grin far above the neutral face; a no-smile look the reverse.
    assert sf["actor_commercial"]["median_score"]["smiling=big"] > sf["actor_commercial"]["median_score"]["smiling=none"] + 30
    assert sf["passport_neutral"]["median_score"]["smiling=none"] > sf["passport_neutral"]["median_score"]["smiling=big"] + 10
    # The man faces the camera straight on: the corporate look asks him to turn.
    assert any("left" in cue for cue in sf["corporate_headshot"]["cues"].values())
    assert table["no_face.mp4"]["actor_commercial"]["face_frames"] == 0
    assert set(table["no_face.mp4"]["actor_commercial"]["cues"].values()) <= {"", "Move into the frame"}


@pytest.mark.media
@pytest.mark.parametrize("target_name", ["actor_commercial", "friendly_profile", "genuine_laugh"])
def test_smiling_photos_beat_the_neutral_clip_on_a_smiling_target(
    target_name: str, tracked_clip, image_tracker, shared_media: Path  # noqa: ANN001
) -> None:
    from posecoach.pipeline import PipelineOptions
    from posecoach.sources import read_image

    target = find_target(target_name)
    photo_options = PipelineOptions(smoothing=False, min_face_frames=1)
    photos = {
        name: Pipeline(target, image_tracker, options=photo_options).process(read_image(shared_media / name)).score.score
        for name in ("single_face.jpg", "0-f15-hao-ph.jpg")
    }
    pipeline = Pipeline(target)
    clip = [pipeline.process_face(f) for f in tracked_clip("single_face.mp4")]
    neutral = [r.score.score for r in clip[3:17] if r.score is not None]
    assert len(neutral) >= 12
    for name, score in photos.items():
        assert score > max(neutral) + 15, (name, score, max(neutral))
