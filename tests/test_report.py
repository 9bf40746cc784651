"""Reports on runs (pure): session readings, calibration before/after, the best holds as files."""

from __future__ import annotations

import io
import json
import zipfile

import cv2
import numpy as np
import pytest

from factories import metrics, synthetic_profile


def test_no_face_seconds() -> None:
    from posecoach.report import no_face_seconds

    assert no_face_seconds(()) == 0.0
    assert no_face_seconds(((0.0, 50.0), (100.0, 60.0))) == 0.0
    assert no_face_seconds(((0.0, 50.0), (1000.0, None), (3500.0, None))) == pytest.approx(2.5)
    assert no_face_seconds(((0.0, None), (2000.0, None))) == pytest.approx(2.0)


def test_before_after_medians_ignores_frames_without_a_face() -> None:
    from posecoach.report import before_after_medians

    profile = synthetic_profile("ana")
    assert before_after_medians(profile, [None, None]) == {}
    table = before_after_medians(profile, [metrics(smile=0.1, pitch=12.0), None, metrics(smile=0.85, pitch=12.0),
                                           metrics(smile=0.475, pitch=14.0)])  # fmt: skip
    assert list(table)[:3] == ["smile", "eye_open", "pitch"]
    assert table["smile"] == pytest.approx((0.475, 0.5), abs=1e-6)
    assert table["pitch"] == pytest.approx((12.0, 0.0), abs=1e-6)


def _capture(score: float = 88.0):  # noqa: ANN202
    from posecoach.results import EyeState, Metrics
    from posecoach.session import Capture

    m = Metrics(10.0, -4.0, 1.0, 0.3, 0.02, 0.8, 0.8, EyeState.OPEN, 0.2, 0.3, 0.9, 0.1, 0.5, 0.5, 0.4)
    image = np.zeros((360, 640, 3), np.uint8)
    image[:, :320] = (0, 0, 255)
    return Capture(image, 1234.0, 37, score, "corporate_headshot", m)


def test_captures_export_as_jpeg_and_zip() -> None:
    from posecoach.report import capture_jpeg, captures_zip

    caps = (_capture(88.0), _capture(91.4))
    jpeg = capture_jpeg(caps[0])
    decoded = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert decoded.shape == (360, 640, 3)
    assert decoded[180, 100, 2] > 200 and decoded[180, 500, 2] < 50, "the raw frame, not mirrored"
    with zipfile.ZipFile(io.BytesIO(captures_zip(caps))) as z:
        names = z.namelist()
        records = json.loads(z.read("captures.json"))
    assert names == ["hold-01-corporate_headshot-88.jpg", "hold-02-corporate_headshot-91.jpg", "captures.json"]
    assert records[1]["score"] == 91.4 and records[1]["metrics"]["yaw"] == 10.0
    assert records[0]["metrics"]["eyes"] == "open" and "eye_open" in records[0]["metrics"]


def _result(i: int, cue, score: float | None = 50.0, metric_value: float = 0.1):  # noqa: ANN001, ANN202
    from posecoach.results import Cue, FaceFrame, FrameResult, HoldState, MetricScore, TargetScore

    m = metrics(smile=metric_value)
    face = FaceFrame(np.zeros((478, 3), np.float32), np.zeros(52, np.float32), np.eye(4, dtype=np.float32), (64, 48), 1, i * 100)
    scored = TargetScore("t", score, (MetricScore("smile", metric_value, 0.2, 1, 1.5), MetricScore("yaw", 0.0, 1.0, 0, 1.0)))
    return FrameResult(i, i * 100, face, m, m, scored if score is not None else None, cue or Cue(""), HoldState())


def test_the_summary_says_which_cues_held_longest() -> None:
    from posecoach.report import Summary
    from posecoach.results import Cue
    from posecoach.targets import MetricRange, Target

    target = Target("t", "T", "", (MetricRange("smile", 0.35, 0.65, 0.2), MetricRange("yaw", -5, 5, 10)))
    summary = Summary()
    cues = [Cue("Smile more", "smile", 1)] * 6 + [Cue("Smile a bit more", "smile", 1)] + [Cue("Turn left", "yaw", -1)] * 3
    for i, cue in enumerate(cues):
        summary.add(_result(i, cue))
    (first, second) = summary.work_on()
    assert (first.cue, first.metric, first.direction) == ("Smile more", "smile", 1)
    assert first.seconds == pytest.approx(0.7) and first.share == pytest.approx(0.7)
    assert (second.cue, second.seconds, second.share) == ("Turn left", pytest.approx(0.3), pytest.approx(0.3))
    lines = summary.lines(target, is_image=False)
    assert lines[-1] == 'cues that held longest: "Smile more" 0.7 s, "Turn left" 0.3 s'


def test_the_summary_of_a_photo_ends_with_the_one_thing_to_change() -> None:
    from posecoach.report import Summary
    from posecoach.results import Cue
    from posecoach.targets import MetricRange, Target

    target = Target("t", "T", "", (MetricRange("smile", 0.35, 0.65, 0.2), MetricRange("yaw", -5, 5, 10)))
    summary = Summary()
    summary.add(_result(0, Cue("A touch more smile", "smile", 1), metric_value=0.12))
    assert summary.lines(target, is_image=True)[-3:] == [
        "score: 50/100", "to change: A touch more smile", "off target: smile 0.12 (aim 0.35 to 0.65)",
    ]
    covered = Summary()
    covered.add(_result(0, Cue("Move your hand away from your face", "occluded"), score=None))
    assert covered.lines(target, is_image=True)[-2:] == [
        "score: none (the face is covered: not scored)", "to change: Move your hand away from your face",
    ]


def test_downloads_are_the_stored_jpeg_not_a_second_encoding() -> None:
    """The downloads decoded each stored JPEG and encoded it again (slower, and a second loss)."""
    from posecoach.report import capture_jpeg, captures_zip

    held = _capture(88.0).compressed()
    assert capture_jpeg(held) is held.jpeg or capture_jpeg(held) == held.jpeg
    with zipfile.ZipFile(io.BytesIO(captures_zip((held,)))) as z:
        assert z.read("hold-01-corporate_headshot-88.jpg") == held.jpeg
    thumb = capture_jpeg(held, quality=85, max_side=160)
    assert cv2.imdecode(np.frombuffer(thumb, np.uint8), cv2.IMREAD_COLOR).shape == (90, 160, 3)
