"""Per-frame rows for ``posecoach analyze --out`` (JSONL or CSV) and atomic file writes.

The row schema (documented in the README) is the same for both formats; metric fields,
``score`` and the light are null (empty in CSV) in frames without a coached face. In workshop
mode (``--faces`` above 1) each row is one face in one frame, with its ``face_id`` first. :func:`row_output` is the
one place rows go out: to standard output, or to a file written atomically, with every
failure (a folder named as the file, no permission, a full disk) one :class:`OutputError`.
"""

from __future__ import annotations

import csv
import json
import math
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from posecoach.files import FileRefused, check_output_file, write_reason
from posecoach.results import FrameResult

#: How standard output is named in messages.
STDOUT_NAME = "standard output"

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
    "face_luma",
    "light_ratio_stops",
    "backlight",
    "lighting",
)
#: Workshop mode (``--faces`` above 1): one row per face per frame, led by the face's id.
FACE_COLUMNS: tuple[str, ...] = ("face_id",) + COLUMNS
_ANGLES = ("yaw", "pitch", "roll")
_UNIT = ("smile", "eye_open_left", "eye_open_right", "squinch", "genuine_smile", "gaze_on_lens")


def _number(value: float, digits: int) -> float | None:
    """``value`` rounded, or None (JSON null, empty CSV cell) when it is NaN or infinite:
    a non-finite number is not data (and ``NaN`` is not even valid JSON)."""
    value = float(value)
    return round(value, digits) if math.isfinite(value) else None


def result_row(result: FrameResult, face_id: int | None = None) -> dict[str, Any]:
    """One exported row: angles in degrees (2 decimals), 0..1 scores (4 decimals), score 0..100,
    the light: ``face_luma`` 0..255 (1 decimal), ``light_ratio_stops`` and ``backlight``
    (background over face) in stops (2 decimals), ``lighting`` the verdict. With ``face_id``
    (workshop mode) the row starts with it.

    Numbers are always finite: a value that is not is written as null.
    """
    m = result.metrics
    row: dict[str, Any] = {} if face_id is None else {"face_id": face_id}
    row |= {
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
    light = result.light
    row["face_luma"] = _number(light.face_luma, 1) if light is not None else None
    row["light_ratio_stops"] = _number(light.light_ratio_stops, 2) if light is not None else None
    row["backlight"] = _number(light.backlight_stops, 2) if light is not None else None
    row["lighting"] = result.lighting.value if result.lighting is not None else None
    return row


class OutputError(ValueError):
    """Rows that cannot be written. The message is one line naming the output and why."""


class RowWriter:
    """Writes rows as JSONL or CSV to an open text stream.

    ``name`` names the stream in errors: with it, a failed write (other than a reader that
    left, :class:`BrokenPipeError`) raises :class:`OutputError`.
    """

    def __init__(self, stream: IO[str], fmt: str, name: str | None = None, *, faces: bool = False) -> None:
        if fmt not in ("jsonl", "csv"):
            raise ValueError(f"unknown format {fmt!r}: expected jsonl or csv")
        self.stream = stream
        self.fmt = fmt
        self.name = name
        self._csv: csv.DictWriter[str] | None = None
        if fmt == "csv":
            self._csv = csv.DictWriter(stream, fieldnames=FACE_COLUMNS if faces else COLUMNS, lineterminator="\n")
            with self._errors():
                self._csv.writeheader()

    def write(self, result: FrameResult, face_id: int | None = None) -> None:
        row = result_row(result, face_id)
        with self._errors():
            if self._csv is not None:
                self._csv.writerow({k: ("" if v is None else v) for k, v in row.items()})
            else:
                self.stream.write(json.dumps(row, separators=(",", ":")) + "\n")

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except BrokenPipeError:
            raise
        except OSError as e:
            if self.name is None:
                raise
            raise OutputError(f"{self.name}: cannot write ({write_reason(e)})") from None


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


def check_row_output(out: str) -> tuple[str, Path | None]:
    """``(format, file)`` for ``--out OUT``, checked before any work: ``-`` is JSONL on
    standard output (file None); otherwise the file to write (see
    :func:`~posecoach.files.check_output_file`).

    Raises:
        OutputError: standard output is closed, the path names a folder, a device, a FIFO or a
            missing folder, a name is too long, or the extension is not .jsonl/.csv.
    """
    if out == "-":
        if sys.stdout is None:
            raise OutputError(f"{STDOUT_NAME} is closed: nowhere to write the rows (use --out FILE)")
        return "jsonl", None
    try:
        target = check_output_file(out, "a file to write rows to")
        return format_for(out), target
    except (FileRefused, ValueError) as e:
        raise OutputError(str(e)) from None


@contextmanager
def row_output(out: str, *, faces: bool = False) -> Iterator[RowWriter]:
    """A :class:`RowWriter` for ``--out OUT``: standard output for ``-``, else the file,
    written atomically (a temporary file beside it, renamed into place when the block ends
    without error, removed otherwise: an interrupted or failed run leaves no partial file and
    an existing file untouched). The file is opened on entry, so a folder that cannot be
    written to is reported before any frame is processed.

    Raises:
        OutputError: as :func:`check_row_output`, or the rows could not be written (no
            permission, a read-only or full file system).
    """
    fmt, target = check_row_output(out)
    if target is None:
        writer = RowWriter(sys.stdout, fmt, STDOUT_NAME, faces=faces)
        yield writer
        with writer._errors():
            sys.stdout.flush()
        return
    try:
        with atomic_open(target, "w") as f:
            yield RowWriter(f, fmt, out, faces=faces)
    except OutputError as e:  # a row could not be written
        raise OutputError(f"{e}; nothing was written") from None
    except OSError as e:  # the file could not be created, flushed or renamed into place
        raise OutputError(f"{out}: cannot write ({write_reason(e)}); nothing was written") from None


@contextmanager
def atomic_open(path: str | os.PathLike[str], mode: str = "w") -> Iterator[IO[Any]]:
    """Open ``path`` for an atomic write (``mode`` "w" for UTF-8 text or "wb").

    Writes go to a temporary file beside ``path`` that is renamed into place only when the
    block ends without error; otherwise it is removed and an existing file is untouched.
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_open mode must be 'w' or 'wb', not {mode!r}")
    target = Path(path)
    # Short, so that any legal name still has a legal temporary name beside it.
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name[:40]}.", suffix=".tmp", dir=target.parent)
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
