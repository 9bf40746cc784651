"""``posecoach history`` and ``posecoach report``, and ``--keep``/``--report`` on ``analyze``
and ``live``: parse, call :mod:`posecoach.history` and :mod:`posecoach.reports`, print.

Kept apart from :mod:`posecoach.cli` (which only adds these parsers and calls
:func:`after_run`) so each command stays small. Errors are one line and exit status 2, as
everywhere in the CLI.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import replace
from typing import IO, TYPE_CHECKING, Any

from posecoach.terminal import print_raw, say

if TYPE_CHECKING:  # pragma: no cover - typing only; imported lazily (a quick --help)
    from posecoach.session import CoachSession


def _usage_error(message: str) -> Exception:
    from posecoach.cli import UsageError

    return UsageError(message)


# -- parsers ------------------------------------------------------------------------------------
def add_keep_options(parser: argparse.ArgumentParser) -> None:
    """``--keep``, ``--keep-pictures`` and ``--report`` for a coaching command."""
    parser.add_argument("--keep", action="store_true",
                        help="keep this session in your history (see `posecoach history`); nothing is kept without it")  # fmt: skip
    parser.add_argument("--keep-pictures", action="store_true",
                        help="with --keep: keep each look's best frame too (a picture of your face)")  # fmt: skip
    parser.add_argument("--report", metavar="FILE.html",
                        help="write a self-contained HTML report of the session (with its best frames)")  # fmt: skip


def add_parsers(sub: Any) -> None:
    """The ``history`` and ``report`` subcommands."""
    h = sub.add_parser(
        "history",
        help="list your kept sessions, or delete them",
        description="Your kept sessions (kept with --keep or the app's Keep button), in the order kept. "
        "Deleting removes a session and its pictures from the history file for good.",
    )
    what = h.add_mutually_exclusive_group()
    what.add_argument("--json", action="store_true", help="print a JSON list of the sessions")
    what.add_argument("--delete", type=int, metavar="ID", help="delete one session and its pictures")
    what.add_argument("--delete-all", action="store_true",
                      help="delete every session and picture (asks first on a terminal; --yes to skip)")  # fmt: skip
    h.add_argument("--yes", action="store_true", help="with --delete-all: do not ask")
    h.set_defaults(func=cmd_history)

    r = sub.add_parser(
        "report",
        help="an HTML report of a kept session, or the photographer's hand-off card",
        description="Write a kept session (an id from `posecoach history`, or `last`) as one self-contained "
        "HTML file that opens offline: the report, or with --card a one-page hand-off card for your photographer.",
    )
    r.add_argument("id", help="a session id from `posecoach history`, or `last`")
    r.add_argument("--out", metavar="FILE.html",
                   help="where to write it (default posecoach-session-ID.html or posecoach-card-ID.html; - for stdout)")  # fmt: skip
    r.add_argument("--card", action="store_true", help="the printable hand-off card instead of the report")
    r.set_defaults(func=cmd_report)


# -- analyze / live ------------------------------------------------------------------------------
def _check_out(path: str) -> None:
    if os.path.isdir(path):
        raise _usage_error(f"{path}: is a folder, not a file name")
    if not os.path.isdir(os.path.dirname(os.path.abspath(path))):
        raise _usage_error(f"{path}: output folder does not exist")


def check_options(args: argparse.Namespace) -> None:
    """Refuse bad ``--keep``/``--report`` options before any frame is coached."""
    if getattr(args, "keep_pictures", False) and not args.keep:
        raise _usage_error("--keep-pictures keeps pictures with a kept session: add --keep")
    if getattr(args, "report", None):
        _check_out(args.report)


def after_run(args: argparse.Namespace, session: CoachSession, *, source: str, profile: Any, out: IO[str],
              **record: Any) -> None:  # fmt: skip
    """Keep the session and/or write its report, as the options ask (nothing otherwise).

    ``record``: passed on to :meth:`~posecoach.tally.SessionTally.record`, e.g.
    ``kind="routine", routine=title`` for a routine (whose steps the runner marked with
    ``session.tally.begin_step``/``end_step``), or ``best_side=BestSide(...)``.
    """
    keep_it, report = getattr(args, "keep", False), getattr(args, "report", None)
    if not keep_it and not report:
        return
    from posecoach.export import atomic_write_bytes
    from posecoach.history import HistoryError, history_path, keep
    from posecoach.reports import render_report

    kept = session.tally.record(source=source, profile=profile.to_dict() if profile is not None else None, **record)
    if keep_it:
        try:
            sid = keep(kept, pictures=args.keep_pictures)
        except HistoryError as e:
            raise _usage_error(str(e)) from None
        kept = replace(kept, id=sid)
        pictures = " with its best frames" if args.keep_pictures and kept.has_pictures else ""
        say(f"kept as session {sid}{pictures} in {history_path()}", err=out is sys.stderr)
    if report:
        try:
            atomic_write_bytes(report, render_report(kept).encode("utf-8"))
        except OSError as e:
            raise _usage_error(f"{report}: cannot write the report ({e.strerror or e})") from None
        say(f"wrote the session report to {report}", err=out is sys.stderr)


# -- history -------------------------------------------------------------------------------------
def cmd_history(args: argparse.Namespace) -> int:
    from posecoach.history import History, HistoryError

    if args.yes and not args.delete_all:
        raise _usage_error("--yes confirms --delete-all; nothing else asks")
    history = History()
    try:
        if args.delete is not None:
            if not history.delete(args.delete):
                raise _usage_error(f"no kept session {args.delete} (see `posecoach history`)")
            say(f"deleted session {args.delete} and its pictures")
            return 0
        if args.delete_all:
            return _delete_all(history, args.yes)
        rows = history.sessions()
    except HistoryError as e:
        raise _usage_error(str(e)) from None
    if args.json:
        print_raw(json.dumps([row.to_json() for row in rows], indent=1))  # JSON escapes control characters
        return 0
    if not rows:
        say("No kept sessions yet: keep one with `posecoach analyze CLIP --keep` or the app's Keep this session.")
        return 0
    from posecoach.reports.page import when

    table = [("id", "date", "source", "targets", "best")]
    for row in rows:
        best = "-" if row.best_score is None else f"{row.best_score:.0f}"
        table.append((str(row.id), when(row.started), row.source, ", ".join(row.targets), best))
    widths = [max(len(r[i]) for r in table) for i in range(5)]
    for r in table:
        say("  ".join(c.rjust(w) if i in (0, 4) else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths))))
    say(f"{len(rows)} session{'s' if len(rows) != 1 else ''} in {history.path}")
    return 0


def _delete_all(history: Any, yes: bool) -> int:
    n = len(history.sessions())
    if n == 0:
        say("nothing to delete: no kept sessions")
        return 0
    what = f"{n} kept session{'s' if n != 1 else ''} and their pictures"
    if not yes:
        if not sys.stdin.isatty():
            raise _usage_error(f"--delete-all would delete {what} for good: add --yes (no terminal to ask on)")
        answer = input(f"Delete {what} for good? [y/N] ").strip().lower()
        if answer not in ("y", "yes"):
            say("nothing deleted")
            return 0
    deleted = history.delete_all()
    say(f"deleted {deleted} session{'s' if deleted != 1 else ''} and their pictures")
    return 0


# -- report --------------------------------------------------------------------------------------
def cmd_report(args: argparse.Namespace) -> int:
    from posecoach.export import atomic_write_bytes
    from posecoach.history import History, HistoryError
    from posecoach.reports import render_card, render_report

    history = History()
    try:
        if args.id == "last":
            sid = history.latest_id()
            if sid is None:
                raise _usage_error("no kept sessions yet (keep one with `posecoach analyze CLIP --keep`)")
        else:
            try:
                sid = int(args.id)
            except ValueError:
                raise _usage_error(f"expected a session id (a number from `posecoach history`) or `last`, got {args.id!r}") from None
        record = history.get(sid)
    except HistoryError as e:
        raise _usage_error(str(e)) from None
    html = (render_card if args.card else render_report)(record)
    out = args.out or f"posecoach-{'card' if args.card else 'session'}-{sid}.html"
    if out == "-":
        sys.stdout.write(html)
        return 0
    _check_out(out)
    try:
        atomic_write_bytes(out, html.encode("utf-8"))
    except OSError as e:
        raise _usage_error(f"{out}: cannot write ({e.strerror or e})") from None
    say(f"wrote the {'hand-off card' if args.card else 'report'} of session {sid} to {out}")
    return 0
