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
