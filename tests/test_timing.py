"""Per-stage timings (``posecoach analyze --timings``)."""

from __future__ import annotations

import pytest

from posecoach.timing import StageTimer


def test_stage_stats_in_milliseconds_in_first_seen_order() -> None:
    timer = StageTimer()
    for i in range(1, 101):
        timer.add("inference", i / 1000.0)  # 1..100 ms
        timer.add("preprocess", 0.0005)
    inference, preprocess = timer.stats()
    assert (inference.stage, inference.count) == ("inference", 100)
    assert inference.median_ms == pytest.approx(50.5)
    assert inference.p95_ms == pytest.approx(95.05)
    assert preprocess.stage == "preprocess"
    assert (preprocess.median_ms, preprocess.p95_ms) == (pytest.approx(0.5), pytest.approx(0.5))


def test_stats_can_be_read_while_timing_goes_on() -> None:
    timer = StageTimer()
    timer.add("decode", 0.001)
    assert timer.stats()[0].count == 1
    timer.add("decode", 0.003)
    assert timer.stats()[0].median_ms == pytest.approx(2.0)
