"""The loop downstream of the detector, on a real observation replayed (no model in the loop),
and the session that keeps the best frame of each hold."""

from __future__ import annotations


import numpy as np
import pytest

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
