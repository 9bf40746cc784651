"""The history of kept sessions (posecoach.history) and its commands: a round trip, a
migration from schema v1, deletion that leaves no picture bytes on disk, two processes
writing at once, and ``posecoach history`` / ``report`` / ``analyze --keep``."""

from __future__ import annotations

import dataclasses
import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from posecoach.cli import main
from posecoach.history import SCHEMA_VERSION, History, HistoryError, history_path, keep
from posecoach.records import BestSide, step_details
from session_factory import synthetic_record

TESTS = Path(__file__).resolve().parent
CLIP = TESTS.parent.parent / "shared" / "media" / "single_face.mp4"
needs_media = pytest.mark.skipif(not CLIP.is_file(), reason=f"real face media not found at {CLIP.parent}")


def on_disk(folder: Path) -> bytes:
    """Every byte of every file under ``folder`` (the database, its WAL and shared memory)."""
    return b"".join(p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file())


def marker(jpeg: bytes) -> bytes:
    """A stretch of a picture's JPEG that no other picture shares (noise pictures)."""
    middle = len(jpeg) // 2
    return jpeg[middle : middle + 64]


# -- round trip ---------------------------------------------------------------------------------
def test_a_kept_session_reads_back_as_it_was_kept(tmp_path: Path) -> None:
    record = dataclasses.replace(synthetic_record(1), profile={"name": "ana", "version": 1},
                                 best_side=BestSide("left", 0.8, "eyes 0.31 vs 0.27"))  # fmt: skip
    history = History(tmp_path / "h.sqlite")
    with_pictures = history.add(record, pictures=True)
    without = history.add(record, pictures=False)
    assert (with_pictures, without) == (1, 2)
    back = history.get(with_pictures)
    assert back == dataclasses.replace(record, id=1)
    assert back.steps[0].best_jpeg == record.steps[0].best_jpeg and len(back.steps[0].best_jpeg) > 10_000
    assert history.get(without) == dataclasses.replace(record.without_pictures(), id=2)
    step = back.steps[0]
    assert step.holds == 1 and step.time_to_first_hold_s == pytest.approx(2.0, abs=0.05)
    assert step.timeline and step.cues and step.bands and step.steadiness_pts is not None
    rows = history.sessions()
    assert [(r.id, r.source, r.targets, r.best_score, r.pictures) for r in rows] == [
        (1, "synthetic.mp4", ("look",), 90.0, True), (2, "synthetic.mp4", ("look",), 90.0, False)]  # fmt: skip
    assert [(p.session_id, p.best_score, p.holds) for p in history.progress("look")] == [(1, 90.0, 1), (2, 90.0, 1)]
    assert history.targets() == ["look"] and history.latest_id() == 2
    with pytest.raises(HistoryError, match=r"^no kept session 9 \(see `posecoach history`\)$"):
        history.get(9)


def test_reading_a_history_that_does_not_exist_creates_nothing(tmp_path: Path) -> None:
    history = History(tmp_path / "none" / "h.sqlite")
    assert history.sessions() == [] and history.targets() == [] and history.progress("look") == []
    assert history.latest_id() is None and history.delete_all() == 0
    assert not (tmp_path / "none").exists()


def test_the_history_lives_in_the_user_folder_readable_only_by_its_owner(_private_user_dir: Path) -> None:
    assert history_path() == _private_user_dir / "history.sqlite"
    folder = _private_user_dir / "new"
    os.environ["POSECOACH_USER_DIR"] = str(folder)  # restored by the fixture's monkeypatch
    sid = keep(synthetic_record(2), pictures=True)
    assert sid == 1 and (folder / "history.sqlite").is_file()
    assert (folder.stat().st_mode & 0o777) == 0o700
    assert ((folder / "history.sqlite").stat().st_mode & 0o777) == 0o600
    with sqlite3.connect(folder / "history.sqlite") as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_nothing_is_kept_from_an_empty_session(tmp_path: Path) -> None:
    from posecoach.tally import SessionTally

    with pytest.raises(HistoryError, match="^nothing to keep yet: no frame was coached in this session$"):
        keep(SessionTally().record(source="cam"), path=tmp_path / "h.sqlite")
    assert not (tmp_path / "h.sqlite").exists()


# -- schema versions ------------------------------------------------------------------------------
#: Schema version 1 exactly as posecoach first wrote it: steps kept their best frame inline.
V1_SCHEMA = """
CREATE TABLE sessions (id INTEGER PRIMARY KEY AUTOINCREMENT, started TEXT NOT NULL, source TEXT NOT NULL,
    duration_s REAL NOT NULL, frames INTEGER NOT NULL, best_score REAL, profile TEXT, kept TEXT NOT NULL);
CREATE TABLE steps (session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    position INTEGER NOT NULL, target TEXT NOT NULL, title TEXT NOT NULL, best_score REAL, time_to_hold_s REAL,
    holds INTEGER NOT NULL, blinks INTEGER NOT NULL, face_s REAL NOT NULL, detail TEXT NOT NULL, best_jpeg BLOB,
    PRIMARY KEY (session_id, position));
PRAGMA user_version = 1;
"""


def test_a_version_1_history_is_migrated_with_its_sessions_and_pictures(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite"
    record = synthetic_record(3)
    step = record.steps[0]
    with sqlite3.connect(path) as db:
        db.executescript(V1_SCHEMA)
        db.execute("INSERT INTO sessions VALUES (7, ?, ?, ?, ?, ?, NULL, '2026-01-02T10:00:00+01:00')",
                   (record.started, "old.mp4", record.duration_s, record.frames, step.best_score))  # fmt: skip
        db.execute("INSERT INTO steps VALUES (7, 0, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   (step.target, step.title, step.best_score, step.time_to_first_hold_s, step.holds, step.blinks,
                    step.face_s, json.dumps(step_details(step)), step.best_jpeg))  # fmt: skip
    history = History(path)
    (row,) = history.sessions()
    assert (row.id, row.source, row.targets, row.kind, row.pictures) == (7, "old.mp4", ("look",), "practice", True)
    back = history.get(7)
    assert back.steps[0].best_jpeg == step.best_jpeg
    assert back.steps[0] == step
    assert [p.steadiness_pts for p in history.progress("look")] == [step.steadiness_pts]
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 2
        assert "best_jpeg" not in [c[1] for c in db.execute("PRAGMA table_info(steps)")]
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    assert history.add(synthetic_record(4), pictures=True) == 8, "ids carry on after the migrated ones"


def test_a_history_from_a_newer_posecoach_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE future (x)")
        db.execute("PRAGMA user_version = 9")
    before = path.read_bytes()
    with pytest.raises(HistoryError) as e:
        History(path).sessions()
    assert str(e.value) == (f"{path}: written by a newer posecoach (history schema 9; this one reads up to "
                            f"{SCHEMA_VERSION}): update posecoach")  # fmt: skip
    assert path.read_bytes() == before


def test_a_file_that_is_not_a_history_gets_one_line(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite"
    path.write_bytes(b"these are not the bytes of a database" * 100)
    with pytest.raises(HistoryError) as e:
        History(path).add(synthetic_record(5))
    assert str(e.value).startswith(f"{path}: not a posecoach history (or damaged: file is not a database)")
    assert "\n" not in str(e.value)


# -- deleting --------------------------------------------------------------------------------------
def test_deleting_a_session_removes_its_picture_bytes_from_every_file(tmp_path: Path) -> None:
    history = History(tmp_path / "h.sqlite")
    first, second = synthetic_record(10), synthetic_record(11)
    a, b = history.add(first, pictures=True), history.add(second, pictures=True)
    mark_a, mark_b = marker(first.steps[0].best_jpeg), marker(second.steps[0].best_jpeg)
    data = on_disk(tmp_path)
    assert mark_a in data and mark_b in data
    assert history.delete(a) is True
    data = on_disk(tmp_path)
    assert mark_a not in data, "the deleted session's picture is still on disk"
    assert mark_b in data and [r.id for r in history.sessions()] == [b]
    assert history.delete(a) is False
    assert history.delete_all() == 1
    assert marker(second.steps[0].best_jpeg) not in on_disk(tmp_path)
    assert history.sessions() == []
    assert history.add(synthetic_record(12)) == 3, "a deleted id is never given to another session"


# -- two writers at once ----------------------------------------------------------------------------
WRITER = """
import os, sys, time
sys.path.insert(0, {tests!r})
from session_factory import synthetic_record
from posecoach.history import History
path, go, n, seed = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
record = synthetic_record(seed, source=f"writer-{{seed}}")
while not os.path.exists(go):
    time.sleep(0.002)
history = History(path)
for i in range(n):
    history.add(record, pictures=True)
    if i % 5 == 0:
        history.sessions()
print("done")
"""


def test_two_processes_writing_at_once_lose_nothing_and_corrupt_nothing(tmp_path: Path) -> None:
    path, go, n = tmp_path / "user" / "history.sqlite", tmp_path / "go", 30
    script = WRITER.format(tests=str(TESTS))
    procs = [subprocess.Popen([sys.executable, "-c", script, str(path), str(go), str(n), str(seed)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for seed in (21, 22)]  # fmt: skip
    time.sleep(1.0)  # both imported and waiting: they start on a history that does not exist yet
    go.touch()
    outputs = [p.communicate(timeout=300) for p in procs]
    for p, (out, err) in zip(procs, outputs):
        assert p.returncode == 0 and out.strip() == "done", err
    history = History(path)
    rows = history.sessions()
    assert len(rows) == 2 * n and len({r.id for r in rows}) == 2 * n
    assert sorted({r.source for r in rows}) == ["writer-21", "writer-22"]
    assert all(r.pictures for r in rows)
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert db.execute("SELECT count(*) FROM steps").fetchone()[0] == 2 * n
        assert db.execute("SELECT count(*) FROM pictures").fetchone()[0] == 2 * n
    assert history.get(rows[-1].id).steps[0].best_jpeg


# -- the command line -------------------------------------------------------------------------------
def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_history_lists_sessions_as_a_table_and_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "history")
    assert code == 0 and out.startswith("No kept sessions yet")
    assert run_cli(capsys, "history", "--json")[1].strip() == "[]"
    assert not history_path().exists(), "listing creates nothing"
    keep(synthetic_record(30, source="clip\x1b[31m.mp4"), pictures=True)
    keep(synthetic_record(31, best=70.0, hold_at_s=None))
    code, out, _ = run_cli(capsys, "history")
    lines = out.splitlines()
    assert code == 0 and lines[0].split() == ["id", "date", "source", "targets", "best"]
    assert lines[1].split()[0] == "1" and lines[1].split()[-2:] == ["look", "90"]
    assert "clip\\x1b[31m.mp4" in lines[1], "escape sequences never reach the terminal"
    assert lines[2].split()[-1] == "70"
    assert lines[3] == f"2 sessions in {history_path()}"
    code, out, _ = run_cli(capsys, "history", "--json")
    rows = json.loads(out)
    assert [(r["id"], r["targets"], r["best_score"], r["pictures"]) for r in rows] == [
        (1, ["look"], 90.0, True), (2, ["look"], 70.0, False)]  # fmt: skip
    assert {"id", "started", "source", "targets", "best_score"} <= set(rows[0])


def test_history_delete_and_delete_all(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    for seed in (40, 41, 42):
        keep(synthetic_record(seed), pictures=True)
    assert run_cli(capsys, "history", "--delete", "2")[:2] == (0, "deleted session 2 and its pictures\n")
    code, _, err = run_cli(capsys, "history", "--delete", "2")
    assert (code, err) == (2, "posecoach: error: no kept session 2 (see `posecoach history`)\n")
    # Not on a terminal and no --yes: refused, nothing deleted.
    monkeypatch.setattr(sys.stdin, "isatty", lambda: False)
    code, _, err = run_cli(capsys, "history", "--delete-all")
    assert (code, err) == (2, "posecoach: error: --delete-all would delete 2 kept sessions and their pictures for "
                              "good: add --yes (no terminal to ask on)\n")  # fmt: skip
    assert len(History().sessions()) == 2
    # On a terminal it asks; anything but yes keeps them.
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True)
    monkeypatch.setattr("builtins.input", lambda prompt: "n")
    assert run_cli(capsys, "history", "--delete-all")[1] == "nothing deleted\n"
    monkeypatch.setattr("builtins.input", lambda prompt: "yes")
    assert run_cli(capsys, "history", "--delete-all")[1] == "deleted 2 sessions and their pictures\n"
    assert History().sessions() == []
    keep(synthetic_record(43))
    monkeypatch.setattr(sys.stdin, "isatty", lambda: False)
    assert run_cli(capsys, "history", "--delete-all", "--yes")[1] == "deleted 1 session and their pictures\n"
    assert run_cli(capsys, "history", "--yes")[2] == "posecoach: error: --yes confirms --delete-all; nothing else asks\n"


def test_report_writes_a_kept_session_or_its_card(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.chdir(tmp_path)
    code, _, err = run_cli(capsys, "report", "last")
    assert (code, err) == (2, "posecoach: error: no kept sessions yet (keep one with `posecoach analyze CLIP --keep`)\n")
    keep(synthetic_record(50), pictures=True)
    code, out, _ = run_cli(capsys, "report", "1")
    assert (code, out) == (0, "wrote the report of session 1 to posecoach-session-1.html\n")
    assert '<section id="summary">' in (tmp_path / "posecoach-session-1.html").read_text()
    code, out, _ = run_cli(capsys, "report", "last", "--card", "--out", str(tmp_path / "card.html"))
    assert code == 0 and '<section id="looks"' in (tmp_path / "card.html").read_text()
    code, out, _ = run_cli(capsys, "report", "1", "--out", "-")
    assert out.startswith("<!doctype html>")
    assert run_cli(capsys, "report", "5")[2] == "posecoach: error: no kept session 5 (see `posecoach history`)\n"
    assert run_cli(capsys, "report", "x")[2] == ("posecoach: error: expected a session id (a number from "
                                                 "`posecoach history`) or `last`, got 'x'\n")  # fmt: skip
    code, _, err = run_cli(capsys, "report", "1", "--out", str(tmp_path / "nowhere" / "r.html"))
    assert (code, err) == (2, f"posecoach: error: {tmp_path / 'nowhere' / 'r.html'}: output folder does not exist\n")


def test_keep_options_are_checked_before_anything_is_coached(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run_cli(capsys, "analyze", "missing.mp4", "--keep-pictures")
    assert (code, err) == (2, "posecoach: error: --keep-pictures keeps pictures with a kept session: add --keep\n")
    code, _, err = run_cli(capsys, "analyze", "missing.mp4", "--report", str(tmp_path))
    assert (code, err) == (2, f"posecoach: error: {tmp_path}: is a folder, not a file name\n")


@needs_media
def test_analyze_keeps_only_when_asked(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = run_cli(capsys, "analyze", str(CLIP), "--target", "friendly_profile", "--report",
                           str(tmp_path / "only.html"))  # fmt: skip
    assert code == 0 and "kept" not in out and out.splitlines()[-1] == f"wrote the session report to {tmp_path / 'only.html'}"
    assert "<img src=\"data:image/jpeg;base64," in (tmp_path / "only.html").read_text()
    assert not history_path().exists(), "a report keeps nothing in the history"
    code, out, _ = run_cli(capsys, "analyze", str(CLIP), "--target", "friendly_profile", "--keep")
    assert code == 0 and out.splitlines()[-1] == f"kept as session 1 in {history_path()}"
    code, out, _ = run_cli(capsys, "analyze", str(CLIP), "--target", "friendly_profile", "--keep", "--keep-pictures",
                           "--report", str(tmp_path / "r.html"))  # fmt: skip
    assert code == 0
    assert out.splitlines()[-2:] == [f"kept as session 2 with its best frames in {history_path()}",
                                     f"wrote the session report to {tmp_path / 'r.html'}"]  # fmt: skip
    first, second = History().get(1), History().get(2)
    assert not first.has_pictures and second.has_pictures
    assert first.source == "single_face.mp4" and first.steps[0].holds == 1 and first.steps[0].blinks == 1
    assert "kept as session 2" in (tmp_path / "r.html").read_text()
