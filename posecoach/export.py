"""Per-frame rows for ``posecoach analyze --out`` (JSONL or CSV) and atomic file writes.

The row schema (documented in the README) is the same for both formats; metric fields and
``score`` are null (empty in CSV) in frames without a coached face.
"""

from __future__ import annotations

import csv
import json
import math
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from posecoach.results import FrameResult

#: Column order of every exported row.
COLUMNS: tuple[str, ...] = (
    "frame",
    "t_ms",
    "face",
    "n_faces",
    "occluded",
    "yaw",
    "pitch",
    "roll",
    "smile",
    "eye_open_left",
    "eye_open_right",
    "eyes",
    "squinch",
    "genuine_smile",
    "gaze_on_lens",
    "score",
    "cue",
    "held",
)
_ANGLES = ("yaw", "pitch", "roll")
_UNIT = ("smile", "eye_open_left", "eye_open_right", "squinch", "genuine_smile", "gaze_on_lens")


def _number(value: float, digits: int) -> float | None:
    """``value`` rounded, or None (JSON null, empty CSV cell) when it is NaN or infinite:
    a non-finite number is not data (and ``NaN`` is not even valid JSON)."""
    value = float(value)
    return round(value, digits) if math.isfinite(value) else None


def result_row(result: FrameResult) -> dict[str, Any]:
    """One exported row: angles in degrees (2 decimals), 0..1 scores (4 decimals), score 0..100.

    Numbers are always finite: a value that is not is written as null.
    """
    m = result.metrics
    row: dict[str, Any] = {
        "frame": result.frame,
        "t_ms": _number(result.t_ms, 1),
        "face": m is not None,
        "n_faces": result.n_faces if m is not None else 0,
        "occluded": bool(result.occluded) if m is not None else None,
    }
    for name in _ANGLES:
        row[name] = _number(getattr(m, name), 2) if m is not None else None
    for name in _UNIT[:3]:
        row[name] = _number(getattr(m, name), 4) if m is not None else None
    row["eyes"] = m.eyes.value if m is not None else None
    for name in _UNIT[3:]:
        row[name] = _number(getattr(m, name), 4) if m is not None else None
    row["score"] = _number(result.score.score, 1) if result.score is not None else None
    row["cue"] = result.cue.text
    row["held"] = result.hold.held
    return row


class RowWriter:
    """Writes rows as JSONL or CSV to an open text stream."""

    def __init__(self, stream: IO[str], fmt: str) -> None:
        if fmt not in ("jsonl", "csv"):
            raise ValueError(f"unknown format {fmt!r}: expected jsonl or csv")
        self.stream = stream
        self.fmt = fmt
        self._csv: csv.DictWriter[str] | None = None
        if fmt == "csv":
            self._csv = csv.DictWriter(stream, fieldnames=COLUMNS, lineterminator="\n")
            self._csv.writeheader()

    def write(self, result: FrameResult) -> None:
        row = result_row(result)
        if self._csv is not None:
            self._csv.writerow({k: ("" if v is None else v) for k, v in row.items()})
        else:
            self.stream.write(json.dumps(row, separators=(",", ":")) + "\n")


def format_for(path: str) -> str:
    """``jsonl`` or ``csv`` from an output path (``-`` is JSONL on stdout).

    Raises:
        ValueError: for any other extension, with a one-line reason.
    """
    if path == "-":
        return "jsonl"
    suffix = Path(path).suffix.lower()
    if suffix in (".jsonl", ".json", ".ndjson"):
        return "jsonl"
    if suffix == ".csv":
        return "csv"
    raise ValueError(f"{path}: unknown output format {suffix or '(no extension)'!r}: use .jsonl, .csv or -")


@contextmanager
def atomic_open(path: str | os.PathLike[str], mode: str = "w") -> Iterator[IO[Any]]:
    """Open ``path`` for an atomic write (``mode`` "w" for UTF-8 text or "wb").

    Writes go to a temporary file beside ``path`` that is renamed into place only when the
    block ends without error; otherwise it is removed and an existing file is untouched.
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_open mode must be 'w' or 'wb', not {mode!r}")
    target = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        text = {"encoding": "utf-8", "newline": ""} if mode == "w" else {}
        with os.fdopen(fd, mode, **text) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write bytes atomically (temporary file + rename), leaving no partial file behind."""
    with atomic_open(path, "wb") as f:
        f.write(data)
