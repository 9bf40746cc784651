"""Kept sessions: a local SQLite database, ``$POSECOACH_USER_DIR/history.sqlite``.

Nothing is written until a person keeps a session (:func:`keep`, the app's *Keep this
session* button, ``posecoach analyze --keep``); reading a history that does not exist creates
nothing.

Safe with several writers (two app tabs, a tab and the CLI): WAL journal, every write one
``BEGIN IMMEDIATE`` transaction, a busy timeout of :data:`BUSY_TIMEOUT_S`. The schema version
is ``PRAGMA user_version``; :data:`MIGRATIONS` bring an older file up to date inside one
transaction, and a file from a newer posecoach is refused (one line), never changed.

Pictures (a look's best frame, only when the person chose to keep pictures) are BLOBs in the
database, so a session and its pictures come and go in one transaction. Deleting really
deletes: ``secure_delete`` zeroes freed pages, then ``VACUUM`` rewrites the file and the WAL
is checkpointed and truncated, so the JPEG bytes are gone from every file on disk.

The folder is created 0700 and the database 0600 (it may hold pictures of a face).
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from posecoach.records import (
    SessionRecord,
    best_side_from_dict,
    best_side_to_dict,
    step_details,
    step_from_details,
)
from posecoach.userdir import user_dir

HISTORY_FILE = "history.sqlite"
#: Seconds a writer waits for another one before giving up.
BUSY_TIMEOUT_S = 15.0


class HistoryError(Exception):
    """The history cannot be used (a damaged or newer file, an unknown id); one line for the person."""


def history_path() -> Path:
    """``$POSECOACH_USER_DIR/history.sqlite`` (see :func:`posecoach.userdir.user_dir`)."""
    return user_dir() / HISTORY_FILE


# -- schema ---------------------------------------------------------------------------------------
def _run(db: sqlite3.Connection, statements: str) -> None:
    """Execute ``;``-separated statements one by one (``executescript`` would commit the
    migration's transaction first)."""
    for statement in statements.split(";"):
        if statement.strip():
            db.execute(statement)


def _v1(db: sqlite3.Connection) -> None:
    """The first schema: sessions, and their steps with the best frame inline."""
    _run(db, """
        CREATE TABLE sessions (
            id INTEGER PRIMARY KEY AUTOINCREMENT,  -- AUTOINCREMENT: a deleted id is never reused
            started TEXT NOT NULL,
            source TEXT NOT NULL,
            duration_s REAL NOT NULL,
            frames INTEGER NOT NULL,
            best_score REAL,
            profile TEXT,
            kept TEXT NOT NULL
        );
        CREATE TABLE steps (
            session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            target TEXT NOT NULL,
            title TEXT NOT NULL,
            best_score REAL,
            time_to_hold_s REAL,
            holds INTEGER NOT NULL,
            blinks INTEGER NOT NULL,
            face_s REAL NOT NULL,
            detail TEXT NOT NULL,
            best_jpeg BLOB,
            PRIMARY KEY (session_id, position)
        )
    """)  # fmt: skip


def _v2(db: sqlite3.Connection) -> None:
    """Routines and best side on sessions; steadiness as a column; pictures in their own table
    (listing sessions no longer reads through every JPEG). SQLite cannot drop a column
    portably, so ``steps`` is rebuilt (the documented way, inside the transaction)."""
    _run(db, """
        ALTER TABLE sessions ADD COLUMN kind TEXT NOT NULL DEFAULT 'practice';
        ALTER TABLE sessions ADD COLUMN routine TEXT NOT NULL DEFAULT '';
        ALTER TABLE sessions ADD COLUMN best_side TEXT;
        CREATE TABLE steps_v2 (
            session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            target TEXT NOT NULL,
            title TEXT NOT NULL,
            best_score REAL,
            time_to_hold_s REAL,
            holds INTEGER NOT NULL,
            steadiness_pts REAL,
            blinks INTEGER NOT NULL,
            face_s REAL NOT NULL,
            detail TEXT NOT NULL,
            PRIMARY KEY (session_id, position)
        );
        INSERT INTO steps_v2 (session_id, position, target, title, best_score, time_to_hold_s, holds,
                              blinks, face_s, detail)
            SELECT session_id, position, target, title, best_score, time_to_hold_s, holds, blinks, face_s, detail
            FROM steps;
        CREATE TABLE pictures (
            session_id INTEGER NOT NULL,
            position INTEGER NOT NULL,
            jpeg BLOB NOT NULL,
            PRIMARY KEY (session_id, position),
            FOREIGN KEY (session_id, position) REFERENCES steps_v2(session_id, position) ON DELETE CASCADE
        );
        INSERT INTO pictures (session_id, position, jpeg)
            SELECT session_id, position, best_jpeg FROM steps WHERE best_jpeg IS NOT NULL;
        DROP TABLE steps;
        ALTER TABLE steps_v2 RENAME TO steps;
        CREATE INDEX steps_by_target ON steps(target)
    """)  # fmt: skip
    # v1 kept the steadiness only inside the step's JSON.
    for sid, pos, detail in db.execute("SELECT session_id, position, detail FROM steps").fetchall():
        steadiness = json.loads(detail).get("steadiness_pts")
        db.execute("UPDATE steps SET steadiness_pts = ? WHERE session_id = ? AND position = ?", (steadiness, sid, pos))


#: ``MIGRATIONS[i]`` takes a database from schema version ``i`` to ``i + 1`` (0: an empty file).
MIGRATIONS: tuple[Callable[[sqlite3.Connection], None], ...] = (_v1, _v2)
SCHEMA_VERSION = len(MIGRATIONS)


@dataclass(frozen=True)
class SessionRow:
    """One kept session as listed: ``targets`` are names, ``best_score`` 0..100 or None."""

    id: int
    started: str
    source: str
    targets: tuple[str, ...]
    best_score: float | None
    kind: str
    routine: str
    duration_s: float
    pictures: bool

    def to_json(self) -> dict[str, object]:
        return {"id": self.id, "started": self.started, "source": self.source, "targets": list(self.targets),
                "best_score": None if self.best_score is None else round(self.best_score, 1), "kind": self.kind,
                "routine": self.routine, "duration_s": round(self.duration_s, 2), "pictures": self.pictures}  # fmt: skip


@dataclass(frozen=True)
class ProgressPoint:
    """One session's result for one target: when, the best score, seconds to the first hold
    (None: not held), holds and the steadiness (score points)."""

    session_id: int
    started: str
    best_score: float | None
    time_to_first_hold_s: float | None
    holds: int
    steadiness_pts: float | None


# -- the store -------------------------------------------------------------------------------------
class History:
    """The kept sessions in one SQLite file (default :func:`history_path`).

    Each call opens its own connection and closes it, so a ``History`` can be shared by
    threads and kept by a page for as long as it likes.

    Raises:
        HistoryError: on any call, when the file is not a posecoach history, was written by a
            newer posecoach, or the database stays locked longer than :data:`BUSY_TIMEOUT_S`.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path) if path is not None else history_path()

    # -- connections --------------------------------------------------------------------------
    @contextmanager
    def _connect(self, *, create: bool) -> Iterator[sqlite3.Connection | None]:
        """A connection with the schema up to date; None when there is no file and not ``create``."""
        if not self.path.exists():
            if not create:
                yield None
                return
            self._create_file()
        try:
            db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        except sqlite3.Error as e:
            raise HistoryError(f"{self.path}: cannot open the history ({e})") from None
        try:
            db.execute("PRAGMA foreign_keys = ON")
            db.execute("PRAGMA secure_delete = ON")
            self._refuse_newer(db)  # before anything could change the file
            self._wal(db)
            self._migrate(db)
            yield db
        except sqlite3.DatabaseError as e:
            raise HistoryError(self._explain(e)) from None
        finally:
            db.close()

    def _create_file(self) -> None:
        folder = self.path.parent
        try:
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600)
            os.close(fd)
        except OSError as e:
            raise HistoryError(f"{self.path}: cannot create the history ({e.strerror or e})") from None

    def _wal(self, db: sqlite3.Connection) -> None:
        # Switching the journal mode does not wait on the busy handler: retry while another
        # process holds the file (only ever on the very first opens of a new file).
        deadline = time.monotonic() + BUSY_TIMEOUT_S
        while True:
            try:
                db.execute("PRAGMA journal_mode = WAL")
                return
            except sqlite3.OperationalError as e:
                if "locked" not in str(e) and "busy" not in str(e) or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def _refuse_newer(self, db: sqlite3.Connection) -> None:
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise HistoryError(
                f"{self.path}: written by a newer posecoach (history schema {version}; this one reads up to "
                f"{SCHEMA_VERSION}): update posecoach"
            )

    def _migrate(self, db: sqlite3.Connection) -> None:
        if db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION:
            return
        db.execute("BEGIN IMMEDIATE")
        try:
            version = db.execute("PRAGMA user_version").fetchone()[0]  # another process may have done it
            for step in MIGRATIONS[version:]:
                step(db)
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def _explain(self, e: sqlite3.DatabaseError) -> str:
        text = str(e)
        if "not a database" in text or "malformed" in text:
            return f"{self.path}: not a posecoach history (or damaged: {text}); move it away to start a new one"
        if "locked" in text or "busy" in text:
            return f"{self.path}: the history is busy (another posecoach is writing); try again"
        return f"{self.path}: {text}"

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._connect(create=True) as db:
            assert db is not None
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise

    # -- writing ---------------------------------------------------------------------------------
    def add(self, record: SessionRecord, *, pictures: bool = False) -> int:
        """Keep a session (with each look's best frame when ``pictures``); returns its id."""
        kept = datetime.now().astimezone().isoformat(timespec="seconds")
        profile = json.dumps(record.profile, allow_nan=False) if record.profile else None
        side = best_side_to_dict(record.best_side)
        with self._write() as db:
            cur = db.execute(
                "INSERT INTO sessions (started, source, duration_s, frames, best_score, profile, kept, kind, routine,"
                " best_side) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (record.started, record.source, record.duration_s, record.frames, record.best_score, profile, kept,
                 record.kind, record.routine, json.dumps(side) if side else None),
            )  # fmt: skip
            sid = cur.lastrowid
            for i, s in enumerate(record.steps):
                db.execute(
                    "INSERT INTO steps (session_id, position, target, title, best_score, time_to_hold_s, holds,"
                    " steadiness_pts, blinks, face_s, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (sid, i, s.target, s.title, s.best_score, s.time_to_first_hold_s, s.holds, s.steadiness_pts,
                     s.blinks, s.face_s, json.dumps(step_details(s), allow_nan=False)),
                )  # fmt: skip
                if pictures and s.best_jpeg:
                    db.execute("INSERT INTO pictures (session_id, position, jpeg) VALUES (?, ?, ?)", (sid, i, s.best_jpeg))
        return int(sid)

    def delete(self, session_id: int) -> bool:
        """Delete one session and its pictures for good; False if there is no such session."""
        with self._write() as db:
            gone = db.execute("DELETE FROM sessions WHERE id = ?", (session_id,)).rowcount > 0
        if gone:
            self._scrub()
        return gone

    def delete_all(self) -> int:
        """Delete every session and picture for good; returns how many sessions there were."""
        if not self.path.exists():
            return 0
        with self._write() as db:
            n = db.execute("DELETE FROM sessions").rowcount
        self._scrub()
        return n

    def _scrub(self) -> None:
        """Rewrite the file without the deleted rows and empty the WAL (see the module)."""
        with self._connect(create=False) as db:
            if db is not None:
                db.execute("VACUUM")
                db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    # -- reading ---------------------------------------------------------------------------------
    def sessions(self) -> list[SessionRow]:
        """Every kept session, in the order kept."""
        with self._connect(create=False) as db:
            if db is None:
                return []
            rows = db.execute(
                "SELECT s.id, s.started, s.source, s.best_score, s.kind, s.routine, s.duration_s,"
                " (SELECT group_concat(target, char(31)) FROM (SELECT target FROM steps WHERE session_id = s.id"
                "   ORDER BY position)),"
                " EXISTS (SELECT 1 FROM pictures WHERE session_id = s.id)"
                " FROM sessions s ORDER BY s.id"
            ).fetchall()
        return [
            SessionRow(i, started, source, tuple(dict.fromkeys(targets.split("\x1f"))) if targets else (), best,
                       kind, routine, duration, bool(pics))  # fmt: skip
            for i, started, source, best, kind, routine, duration, targets, pics in rows
        ]

    def get(self, session_id: int) -> SessionRecord:
        """One kept session, with its pictures if they were kept.

        Raises:
            HistoryError: no session has this id.
        """
        with self._connect(create=False) as db:
            row = None if db is None else db.execute(
                "SELECT id, started, source, duration_s, frames, profile, kind, routine, best_side FROM sessions"
                " WHERE id = ?", (session_id,)).fetchone()  # fmt: skip
            if row is None:
                raise HistoryError(f"no kept session {session_id} (see `posecoach history`)")
            steps = db.execute(
                "SELECT st.detail, p.jpeg FROM steps st LEFT JOIN pictures p"
                " ON p.session_id = st.session_id AND p.position = st.position"
                " WHERE st.session_id = ? ORDER BY st.position", (session_id,)).fetchall()  # fmt: skip
        sid, started, source, duration, frames, profile, kind, routine, side = row
        return SessionRecord(
            started=started, source=source, duration_s=duration, frames=frames, kind=kind, routine=routine,
            profile=json.loads(profile) if profile else None,
            best_side=best_side_from_dict(json.loads(side) if side else None),
            steps=tuple(step_from_details(json.loads(detail), jpeg) for detail, jpeg in steps), id=sid,
        )  # fmt: skip

    def latest_id(self) -> int | None:
        """The id of the session kept last, or None."""
        with self._connect(create=False) as db:
            row = None if db is None else db.execute("SELECT max(id) FROM sessions").fetchone()
        return row[0] if row else None

    def progress(self, target: str) -> list[ProgressPoint]:
        """One point per kept session that practised ``target``, in the order kept (a session with the
        target in several steps counts its best)."""
        with self._connect(create=False) as db:
            if db is None:
                return []
            rows = db.execute(
                "SELECT s.id, s.started, max(st.best_score), min(st.time_to_hold_s), sum(st.holds),"
                " min(st.steadiness_pts) FROM steps st JOIN sessions s ON s.id = st.session_id"
                " WHERE st.target = ? GROUP BY s.id ORDER BY s.id", (target,)).fetchall()  # fmt: skip
        return [ProgressPoint(*row) for row in rows]

    def targets(self) -> list[str]:
        """Target names with at least one kept session, most practised first."""
        with self._connect(create=False) as db:
            if db is None:
                return []
            rows = db.execute(
                "SELECT target FROM steps GROUP BY target ORDER BY count(DISTINCT session_id) DESC, target"
            ).fetchall()
        return [r[0] for r in rows]


def keep(record: SessionRecord, *, pictures: bool = False, path: str | os.PathLike[str] | None = None) -> int:
    """Keep a session in the history (the one flow behind the app's button and ``--keep``).

    Returns the new session's id. Raises :class:`HistoryError` (one line) when it cannot.
    """
    if not record.frames:
        raise HistoryError("nothing to keep yet: no frame was coached in this session")
    return History(path).add(record, pictures=pictures)
