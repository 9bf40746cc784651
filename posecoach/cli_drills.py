"""``posecoach drill shutter SOURCE``: the shutter drill on a recorded clip.

Like :mod:`posecoach.cli` (which registers it with :func:`add_parsers`): parse, call the core
(:func:`posecoach.drills.flows.run_shutter`), print with :func:`~posecoach.terminal.say`.
``--json`` and ``--sheet`` are written only when asked, atomically, and checked before any frame
is coached. Bad input is one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os

from posecoach.cli import EXIT_OK, UsageError, _load_profile, _load_target, _positive_float
from posecoach.terminal import say

#: Picture formats a contact sheet can be written as (by extension).
SHEET_TYPES = (".jpg", ".jpeg", ".png")


def _every(text: str):  # noqa: ANN202 - drills.Every
    from posecoach.drills.schedule import DrillError, parse_every

    try:
        return parse_every(text)
    except DrillError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _seed(text: str) -> int:
    from posecoach.drills.schedule import DrillError, check_seed

    try:
        return check_seed(int(text, 10))
    except ValueError as e:
        detail = str(e) if isinstance(e, DrillError) else f"expected a whole number from 0 to {2**63 - 1}, got {text!r}"
        raise argparse.ArgumentTypeError(detail) from None


def _check_out(path: str, what: str) -> None:
    from posecoach.files import FileRefused, check_output_file

    try:
        check_output_file(path, what)
    except FileRefused as e:
        raise UsageError(str(e)) from None


def _write(path: str, data: bytes, what: str) -> None:
    from posecoach.export import atomic_write_bytes
    from posecoach.files import write_reason

    try:
        atomic_write_bytes(path, data)
    except OSError as e:
        raise UsageError(f"{path}: cannot write the {what} ({write_reason(e)}); nothing was written") from None
    say(f"wrote the {what} to {path}")


def cmd_drill_shutter(args: argparse.Namespace) -> int:
    import cv2

    from posecoach.drills.flows import run_shutter
    from posecoach.drills.schedule import ShotSchedule
    from posecoach.runs import CoachSettings
    from posecoach.sources import open_source

    if args.sheet is not None and os.path.splitext(args.sheet)[1].lower() not in SHEET_TYPES:
        raise UsageError(f"{args.sheet}: a contact sheet is written as .jpg or .png")
    for path, what in ((args.json, "a JSON file to write"), (args.sheet, "a picture to write")):
        if path is not None:
            _check_out(path, what)
    target = _load_target(args.target)
    profile = _load_profile(args.profile)
    settings = CoachSettings(target.name, strictness=args.strictness, profile=profile)
    schedule = ShotSchedule(args.every, args.seed)
    source = open_source(args.source)
    with contextlib.closing(source):
        run = run_shutter(source, target, settings, schedule=schedule, model=args.model, verbose=args.verbose)
    say(f"shutter drill: {args.source}, {target.title}, a shot every {args.every} s (seed {args.seed})")
    for shot in run.summary.shots:
        score = f"{shot.score:5.1f}" if shot.score is not None else "    -"
        say(f"  #{shot.index + 1:<3} {shot.t_ms / 1000:6.2f} s  frame {shot.frame:<5} score {score}  "
            + ("keeper" if shot.keeper else shot.why))  # fmt: skip
    for line in run.summary.lines():
        say(line)
    if args.json is not None:
        _write(args.json, (json.dumps(run.to_json(), indent=1) + "\n").encode("utf-8"), "shots")
    if args.sheet is not None:
        if not run.summary.shots:
            say("posecoach: warning: no shot was taken, so no contact sheet was written", err=True)
        else:
            ok, buf = cv2.imencode(os.path.splitext(args.sheet)[1].lower(), run.sheet())
            if not ok:
                raise UsageError(f"{args.sheet}: the contact sheet could not be encoded")
            _write(args.sheet, buf.tobytes(), "contact sheet")
    return EXIT_OK


def add_parsers(sub: argparse._SubParsersAction, parser_class: type[argparse.ArgumentParser]) -> None:
    """Register ``drill shutter`` on the main parser's subcommands."""
    d = sub.add_parser("drill", help="shoot-day drills on a recorded clip (the shutter drill)",
                       description="Shoot-day drills. The app has all three (shutter, lens recall, blink on cue) "
                       "live; on a recorded clip, the shutter drill.")  # fmt: skip
    dsub = d.add_subparsers(dest="drill", required=True, parser_class=parser_class)
    s = dsub.add_parser("shutter", help="a simulated photographer shoots at random moments; each shot judged",
                        description="A simulated photographer shoots the clip at random moments. Each shot is "
                        "judged on the look, open eyes, eyes on the lens and a steady head.")  # fmt: skip
    s.add_argument("source", help="a video file of you holding the look")
    s.add_argument("--target", help="target look: a name from `posecoach targets` or a .toml file")
    s.add_argument("--every", type=_every, default="2:4", metavar="LO:HI",
                   help="seconds between shots, drawn at random from LO to HI (default 2:4)")  # fmt: skip
    s.add_argument("--seed", type=_seed, default=0, help="the same seed gives the same shots (default 0)")
    s.add_argument("--json", metavar="FILE", help="write the shots and the summary as JSON")
    s.add_argument("--sheet", metavar="FILE.jpg", help="write the contact sheet (each shot marked keeper or why not)")
    s.add_argument("--strictness", type=_positive_float, default=1.0, help=">1 narrows every tolerance (default 1)")
    s.add_argument("--profile", help="calibration profile name (see `posecoach calibrate`)")
    s.add_argument("--model", help="FaceLandmarker .task file (default: $POSECOACH_MODEL or the bundled model)")
    s.add_argument("--verbose", action="store_true", help="show MediaPipe's and FFmpeg's native log lines")
    s.set_defaults(func=cmd_drill_shutter)
