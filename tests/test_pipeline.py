"""The loop downstream of the detector, on a real observation replayed (no model in the loop),
and the session that keeps the best frame of each hold."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from skimage import data as skdata

from posecoach.pipeline import Pipeline, PipelineOptions
from posecoach.results import FaceFrame, Metrics
from posecoach.session import CoachSession

from factories import ReplayTracker, easy_target, replay


def test_a_face_appearing_mid_stream_must_persist_before_it_is_coached(astronaut_face: FaceFrame) -> None:
    pipeline = Pipeline(easy_target())
    results = [pipeline.process_face(f) for f in replay(astronaut_face, ".F.FF.FFFFF")]
    assert [r.has_face for r in results] == [False] * 8 + [True] * 3
    assert all(r.face.n_faces == 0 for r in results[:8])  # a flicker is not reported as a face


@pytest.mark.parametrize("pattern", ["F", "FF", "FF.", "FFFF"])
def test_a_face_in_the_first_frame_is_coached_at_once(astronaut_face: FaceFrame, pattern: str) -> None:
    """A one- or two-frame clip reports its face (the persistence window was hiding it)."""
    pipeline = Pipeline(easy_target())
    results = [pipeline.process_face(f) for f in replay(astronaut_face, pattern)]
    assert [r.has_face for r in results] == [c == "F" for c in pattern]


def test_after_a_reset_the_next_frame_starts_a_new_stream(astronaut_face: FaceFrame) -> None:
    pipeline = Pipeline(easy_target())
    first = [pipeline.process_face(f) for f in replay(astronaut_face, "..")]
    pipeline.reset()
    again = [pipeline.process_face(f) for f in replay(astronaut_face, "F.F")]
    assert [r.has_face for r in first + again] == [False, False, True, False, False]


def test_photos_are_coached_on_the_first_frame(astronaut_face: FaceFrame) -> None:
    result = Pipeline(easy_target(), options=PipelineOptions(min_face_frames=1, smoothing=False)).process_face(astronaut_face)
    assert result.has_face and result.score is not None and result.score.score > 90


class PitchUp:
    """A calibration that says this camera sees the person 12 degrees chin-up at rest."""

    def apply(self, m: Metrics) -> Metrics:
        return m.replace(pitch=m.pitch - 12.0)


def test_the_profile_is_applied_before_scoring(astronaut_face: FaceFrame) -> None:
    opts = PipelineOptions(min_face_frames=1, smoothing=False)
    plain = Pipeline(easy_target(), options=opts).process_face(astronaut_face)
    calibrated = Pipeline(easy_target(), profile=PitchUp(), options=opts).process_face(astronaut_face)
    assert calibrated.raw_metrics == plain.raw_metrics
    assert calibrated.metrics.pitch == pytest.approx(plain.metrics.pitch - 12.0)


def test_the_session_keeps_the_best_frame_of_each_hold(astronaut_face: FaceFrame) -> None:
    faces = replay(astronaut_face, "F" * 25 + "." * 10 + "F" * 25)
    session = CoachSession(Pipeline(easy_target(hold_s=0.3), ReplayTracker(faces)))
    images = [np.full((4, 4, 3), i, np.uint8) for i in range(60)]
    for face, image in zip(faces, images):
        session.process(image, face.t_ms)
    captures = session.captures
    assert len(captures) == 2  # one per achieved hold
    for capture in captures:
        assert capture.score >= 90 and capture.target == "easy"
        # The capture is the frame it claims to be (a copy, not a buffer that changes later).
        assert int(capture.image[0, 0, 0]) == capture.frame
    assert captures[0].frame < 25 <= 35 <= captures[1].frame


def test_a_capture_is_a_copy(astronaut_face: FaceFrame) -> None:
    faces = replay(astronaut_face, "F" * 12)
    session = CoachSession(Pipeline(easy_target(hold_s=0.1), ReplayTracker(faces)))
    buffer = np.zeros((4, 4, 3), np.uint8)  # a camera reusing one buffer
    for face in faces:
        session.process(buffer, face.t_ms)
    buffer[:] = 255
    assert session.captures and int(session.captures[0].image.max()) == 0


# -- a covered mouth ------------------------------------------------------------------------------
def _hand_over_mouth(image_bgr: np.ndarray, face: FaceFrame) -> np.ndarray:
    """A synthetic hand: the face's own forehead skin, with finger creases, over the mouth."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    import corpus

    return corpus.cover(image_bgr, face, "mouth")


def test_a_covered_mouth_is_never_scored_held_or_kept(astronaut_face: FaceFrame) -> None:
    from posecoach.coaching import OCCLUDED_TEXT
    from posecoach.export import result_row

    image = cv2.cvtColor(skdata.astronaut(), cv2.COLOR_RGB2BGR)
    covered = _hand_over_mouth(image, astronaut_face)
    session = CoachSession(
        Pipeline(easy_target(hold_s=0.2), ReplayTracker(replay(astronaut_face, "F" * 20)), options=PipelineOptions(smoothing=False))
    )
    results = [session.process(covered, i * 33.0) for i in range(20)]
    seen = [r for r in results if r.has_face]
    assert seen and all(r.occluded == ("mouth",) and r.score is None for r in seen)
    assert all(r.cue.text == OCCLUDED_TEXT and not r.hold.held for r in seen)
    assert session.captures == ()
    row = result_row(seen[-1])
    assert row["occluded"] is True and row["score"] is None and row["smile"] is not None
    # The same face uncovered is coached and held as usual.
    session = CoachSession(Pipeline(easy_target(hold_s=0.2), options=PipelineOptions(smoothing=False)))
    plain = [session.pipeline.process_face(f, image) for f in replay(astronaut_face, "F" * 20)]
    assert all(r.occluded == () for r in plain) and plain[-1].hold.held
    assert result_row(plain[-1])["occluded"] is False


def test_uncovering_the_mouth_brings_the_cue_back_at_once(astronaut_face: FaceFrame) -> None:
    image = cv2.cvtColor(skdata.astronaut(), cv2.COLOR_RGB2BGR)
    covered = _hand_over_mouth(image, astronaut_face)
    pipeline = Pipeline(easy_target(hold_s=0.2), options=PipelineOptions(smoothing=False, occlusion_every=1))
    frames = replay(astronaut_face, "F" * 12)
    out = [pipeline.process_face(f, covered if i < 6 else image) for i, f in enumerate(frames)]
    assert out[5].occluded and out[6].occluded == () and out[6].score is not None
    assert out[6].cue.text != out[5].cue.text


def test_covered_eyes_are_named_and_not_scored(astronaut_face: FaceFrame) -> None:
    import sys
    from pathlib import Path

    from posecoach.coaching import EYES_HIDDEN_TEXT

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    import corpus

    image = cv2.cvtColor(skdata.astronaut(), cv2.COLOR_RGB2BGR)
    covered = corpus.cover(image, astronaut_face, "eyes")
    pipeline = Pipeline(easy_target(hold_s=0.2), options=PipelineOptions(smoothing=False))
    seen = [r for r in (pipeline.process_face(f, covered) for f in replay(astronaut_face, "F" * 8)) if r.has_face]
    assert seen and all(r.occluded == ("eyes",) and r.score is None and r.cue.text == EYES_HIDDEN_TEXT for r in seen)
