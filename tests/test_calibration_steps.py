"""Stopping the camera during a live calibration restarts only the step under way."""

from __future__ import annotations

from pathlib import Path

import pytest

from factories import metrics
from posecoach.calibration import CalibrationRecorder


def feed(rec: CalibrationRecorder, start_ms: float, end_ms: float, m, fps: float = 15.0) -> None:  # noqa: ANN001
    t = start_ms
    while t < end_ms:
        rec.update(m, t, luma=120.0)
        t += 1000.0 / fps


def test_restart_phase_keeps_the_steps_already_done() -> None:
    rec = CalibrationRecorder("ana", include_closed=False)
    feed(rec, 0.0, 5_100.0, metrics(smile=0.1))  # 2 s countdown + 3 s neutral, accepted
    assert rec.state.phase == "smile" and rec.state.feedback.startswith("Neutral face: done")
    feed(rec, 5_100.0, 8_000.0, metrics(smile=0.8))  # the smile's countdown, then recording
    assert rec.state.status == "record"
    state = rec.restart_phase()  # the camera stopped
    assert (state.status, state.phase, state.phase_number) == ("prepare", "smile", 2)
    assert state.seconds_left == pytest.approx(2.0) and [s.phase for s in rec.stats] == ["neutral"]
    # The camera comes back with its clock at zero: a full countdown, then the smile records.
    feed(rec, 0.0, 1_900.0, metrics(smile=0.8))
    assert rec.state.status == "prepare" and rec.state.phase == "smile"
    feed(rec, 1_900.0, 5_200.0, metrics(smile=0.8))
    assert rec.state.status == "done" and rec.state.profile is not None
    assert rec.state.profile.smile_neutral == pytest.approx(0.1, abs=0.02)


def test_a_frame_in_flight_after_stop_does_not_eat_the_next_countdown() -> None:
    """The page restarts the step when the camera stops; a frame already on its way then
    started the countdown's clock, and the next START (seconds later) recorded at once."""
    rec = CalibrationRecorder("ana", include_closed=False)
    feed(rec, 0.0, 3_000.0, metrics(smile=0.1))
    assert rec.state.status == "record"
    rec.restart_phase()  # STOP
    rec.update(metrics(smile=0.1), 3_040.0, luma=120.0)  # the frame in flight
    feed(rec, 9_000.0, 10_900.0, metrics(smile=0.1))  # START, 6 s later
    assert rec.state.status == "prepare" and rec.state.seconds_left == pytest.approx(0.13, abs=0.05)
    feed(rec, 10_900.0, 11_100.0, metrics(smile=0.1))
    assert rec.state.status == "record"
    # A short pause within a countdown (under its 2 s) is not a new start: the clock runs on.
    rec.restart_phase()
    feed(rec, 20_000.0, 20_500.0, metrics(smile=0.1))
    feed(rec, 21_500.0, 22_100.0, metrics(smile=0.1))  # 2 s after the first frame: recording
    assert rec.state.status == "record"


def test_a_camera_slower_than_a_frame_per_countdown_still_gets_to_record() -> None:
    """Frames 2.5 s apart (a struggling camera): every gap is longer than the 2 s countdown, and
    the countdown must not start over on each of them, before or after a STOP."""
    for stop in (False, True):
        rec = CalibrationRecorder("ana", include_closed=False)
        if stop:
            feed(rec, 0.0, 1_000.0, metrics(smile=0.1))
            rec.restart_phase()
        seen = set()
        for t in range(10_000, 30_000, 2_500):
            seen.add(rec.update(metrics(smile=0.1), float(t), luma=120.0).status)
        # It records (and, with too few frames, says so and tries again): never stuck counting down.
        assert "record" in seen and rec.state.attempt > 1, (stop, seen, rec.state.feedback)


def test_restart_phase_after_the_end_changes_nothing() -> None:
    rec = CalibrationRecorder("ana", include_closed=False)
    feed(rec, 0.0, 22_000.0, metrics(smile=0.1))  # never a smile: three attempts, then it fails
    before = rec.state
    assert before.status == "failed"
    assert rec.restart_phase() is before


def test_stopping_the_camera_on_the_page_restarts_only_the_current_step(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    """The page restarted the whole calibration when the camera stopped."""
    AppTest = pytest.importorskip("streamlit.testing.v1").AppTest
    import numpy as np

    monkeypatch.setenv("POSECOACH_CALIBRATION_DIR", str(tmp_path / "profiles"))
    at = AppTest.from_file(str(Path(__file__).resolve().parent.parent / "streamlit_app.py"), default_timeout=120)
    at.run()
    at.button(key="pc-calibrate").click().run()
    at.text_input(key="pc-cal-name").set_value("ana").run()
    at.button(key="pc-cal-start").click().run()
    rec = at.session_state["pc-live-coach"].calibration
    feed(rec, 0.0, 5_100.0, metrics(smile=0.1))
    feed(rec, 5_100.0, 7_500.0, metrics(smile=0.8))
    assert (rec.state.status, rec.state.phase) == ("record", "smile")
    at.session_state["pc-cal-live"]["playing"] = True  # the camera was playing ...
    at.run()  # ... and this run finds it stopped (no server here: never playing)
    assert not at.exception, at.exception
    assert (rec.state.status, rec.state.phase) == ("prepare", "smile"), "only the smile step starts over"
    assert [s.phase for s in rec.stats] == ["neutral"]
    assert np.isfinite(rec.state.seconds_left)
