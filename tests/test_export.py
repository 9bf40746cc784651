"""Export rows and atomic writes."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import pytest

from posecoach.export import COLUMNS, RowWriter, atomic_open, atomic_write_bytes, format_for, result_row
from posecoach.results import Cue, EyeState, FaceFrame, FrameResult, HoldState, Metrics, TargetScore

METRICS = Metrics(
    yaw=12.345, pitch=-3.21, roll=1.0, smile=0.51234, mouth_open=0.1, eye_open_left=0.7, eye_open_right=0.68,
    eyes=EyeState.OPEN, squinch=0.2, genuine_smile=0.4, gaze_on_lens=0.9, brow_raise=0.1,
    face_x=0.5, face_y=0.4, face_height=0.3,
)


def _result(face: bool) -> FrameResult:
    ff = FaceFrame(np.zeros((478, 3), np.float32), np.zeros(52, np.float32), np.eye(4, dtype=np.float32), (640, 360), 2, 33)
    if not face:
        return FrameResult(3, 100, FaceFrame.empty((640, 360), 100), None, None, None, Cue("Move into the frame"))
    return FrameResult(1, 33, ff, METRICS, METRICS, TargetScore("t", 87.46, ()), Cue("Hold it there"), HoldState(1.0, True, 1))


def test_row_has_the_documented_columns_and_rounding() -> None:
    row = result_row(_result(True))
    assert tuple(row) == COLUMNS
    assert row["yaw"] == 12.35 and row["smile"] == 0.5123 and row["score"] == 87.5
    assert row["eyes"] == "open" and row["held"] is True and row["n_faces"] == 2 and row["face"] is True


def test_no_face_row_has_nulls() -> None:
    row = result_row(_result(False))
    assert row["face"] is False and row["n_faces"] == 0
    assert all(row[k] is None for k in ("yaw", "pitch", "roll", "smile", "eyes", "score", "gaze_on_lens"))
    assert row["cue"] == "Move into the frame"


def test_jsonl_and_csv_writers() -> None:
    out = io.StringIO()
    w = RowWriter(out, "jsonl")
    w.write(_result(True))
    w.write(_result(False))
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [r["frame"] for r in rows] == [1, 3] and rows[1]["score"] is None
    out = io.StringIO()
    w = RowWriter(out, "csv")
    w.write(_result(False))
    (row,) = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert tuple(row) == COLUMNS and row["score"] == "" and row["face"] == "False"


@pytest.mark.parametrize(("path", "fmt"), [("-", "jsonl"), ("a.jsonl", "jsonl"), ("a.CSV", "csv")])
def test_format_for(path: str, fmt: str) -> None:
    assert format_for(path) == fmt


def test_unknown_format_is_one_line() -> None:
    with pytest.raises(ValueError) as e:
        format_for("out.xlsx")
    assert str(e.value) == "out.xlsx: unknown output format '.xlsx': use .jsonl, .csv or -"


def test_atomic_write_keeps_old_file_on_error(tmp_path: Path) -> None:
    path = tmp_path / "rows.jsonl"
    path.write_text("old\n")
    with pytest.raises(RuntimeError), atomic_open(path) as f:
        f.write("half a new fi")
        raise RuntimeError("crash mid-write")
    assert path.read_text() == "old\n"
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind
    atomic_write_bytes(path, b"new")
    assert path.read_bytes() == b"new"


def test_public_api_resolves() -> None:
    import posecoach

    assert all(getattr(posecoach, name) is not None for name in posecoach.__all__)
    with pytest.raises(AttributeError):
        posecoach.no_such_thing  # noqa: B018
