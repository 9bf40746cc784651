"""``posecoach calibrate``: learn a person's neutral face, smile and eyes from time windows of a
video file, or live from a camera with prompts (:class:`TerminalPrompter`).

Like :mod:`posecoach.cli` (which registers it with :func:`add_parsers`): parse, call the flows
in :mod:`posecoach.calibration_runs`, print with :func:`~posecoach.terminal.say`. Bad input is
one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import contextlib
import math
from collections.abc import Callable
from typing import TYPE_CHECKING

from posecoach.cli import EXIT_OK, UsageError, _camera_index
from posecoach.terminal import print_raw, printable, say

if TYPE_CHECKING:  # pragma: no cover - typing only; the commands import lazily (a quick --help)
    from posecoach.calibration import CalibrationState


class TerminalPrompter:
    """Prints a live calibration's prompts, countdown and feedback as plain lines.

    Call it with every :class:`CalibrationState`; it prints only what changed (a new prompt,
    each whole second of the countdown, a phase's feedback, "we can't see your face").
    """

    def __init__(self, write: Callable[[str], None], *, bell: bool = True) -> None:
        self.write = write
        self.bell = bell
        self._key: tuple | None = None
        self._feedback = ""
        self._second = -1
        self._face_warned = False

    def __call__(self, state: CalibrationState) -> None:
        if state.feedback and state.feedback != self._feedback:
            self._feedback = state.feedback
            # A bell too: after the eyes-closed phase the person cannot see the screen.
            bell = "\a" if self.bell else ""
            self.write(bell + ("  ok: " if state.feedback_ok else "  ") + printable(state.feedback))
        if state.finished:
            return
        key = (state.status, state.phase, state.attempt)
        if key != self._key:
            self._key = key
            self._second = -1
            if state.status == "prepare":
                self.write(printable(f"[{state.phase_number}/{state.n_phases}] {state.title}: {state.prompt}"))
            else:
                bell = "\a" if self.bell else ""
                self.write(f"{bell}  recording {state.seconds_left:.0f} s: {printable(state.prompt)}")
        second = math.ceil(state.seconds_left)
        if state.status == "prepare" and second != self._second and second > 0:
            self._second = second
            self.write(f"  {second}...")
        if state.status == "record" and not state.face_found and not self._face_warned:
            self._face_warned = True
            self.write("  we can't see your face: move into the frame")
        elif state.face_found:
            self._face_warned = False


def _print_calibration(profile, stats, path, windows=None) -> None:  # noqa: ANN001
    from posecoach.report import calibration_lines

    for line in calibration_lines(profile, stats, windows):
        say(line)
    name = profile.name
    say(f"profile: {path}")
    say(f"use it:  posecoach analyze VIDEO --profile {name}  (or live --profile {name})")


def cmd_calibrate(args: argparse.Namespace) -> int:
    from posecoach.calibration import validate_name

    validate_name(args.name)
    if args.camera is not None:
        if args.neutral or args.smile or args.closed:
            raise UsageError(
                "--neutral/--smile/--closed select times in a video file; with --camera the phases are prompted live"
            )
        return _calibrate_camera(args)
    if args.source is None:
        raise UsageError("calibrate needs a video file (with --neutral and --smile) or --camera N")
    if args.no_closed:
        raise UsageError("--no-closed is for --camera; for a video file leave out --closed")
    if args.neutral is None or args.smile is None:
        raise UsageError(
            "calibrating from a video file needs --neutral START:END and --smile START:END (seconds into the video)"
        )
    return _calibrate_video(args)


def _calibrate_video(args: argparse.Namespace) -> int:
    from posecoach.calibration import EmptyWindow, save_profile
    from posecoach.calibration_runs import calibrate_windows
    from posecoach.sources import open_source

    windows = {"neutral": args.neutral, "smile": args.smile}
    if args.closed is not None:
        windows["closed"] = args.closed
    source = open_source(args.source)
    try:
        with contextlib.closing(source):
            cal = calibrate_windows(source, args.name, windows, model=args.model, verbose=args.verbose)
    except EmptyWindow as e:
        raise UsageError(
            f"{args.source}: --{e.phase} {e.window.start_s:g}:{e.window.end_s:g} holds no frames "
            f"(the video ends at {e.end_s:.2f} s)"
        ) from None
    path = save_profile(cal.profile)
    _print_calibration(cal.profile, cal.stats, path, cal.windows)
    return EXIT_OK


def _calibrate_camera(args: argparse.Namespace) -> int:
    from posecoach import sources
    from posecoach.calibration import CalibrationRecorder, save_profile
    from posecoach.calibration_runs import calibrate_live

    recorder = CalibrationRecorder(args.name, include_closed=not args.no_closed)
    source = sources.CameraSource(args.camera)
    say(
        f"Calibrating {args.name!r}: about {recorder.duration_s:.0f} s. "
        "Sit facing the camera in good light and follow the prompts.",
        flush=True,
    )
    with contextlib.closing(source):
        prompter = TerminalPrompter(lambda line: print_raw(line))
        state = calibrate_live(source, recorder, prompter, model=args.model, verbose=args.verbose)
    if state.status == "failed":
        raise UsageError(f"calibration failed: {state.feedback}")
    if state.profile is None:
        raise UsageError(f"camera {args.camera}: stopped delivering frames before the calibration finished")
    path = save_profile(state.profile)
    _print_calibration(state.profile, recorder.stats, path)
    return EXIT_OK


def _time_window(text: str):  # noqa: ANN202 - calibration.Window
    from posecoach.calibration import Window

    start, sep, end = text.partition(":")
    try:
        if not sep:
            raise ValueError
        return Window(float(start), float(end))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected START:END in seconds with 0 <= START < END (e.g. 0:3), got {text!r}"
        ) from None


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """Register ``calibrate`` on the main parser's subcommands."""
    c = sub.add_parser(
        "calibrate",
        help="learn your neutral face, smile and eyes (from a video file or live from a camera)",
        description="Learn a person's neutral face, smile and eye range so coaching is relative to their own face. "
        "From a video file, give the time ranges of each phase; with --camera, follow the prompts (about 14 s).",
    )
    csrc = c.add_mutually_exclusive_group()
    csrc.add_argument("source", nargs="?", help="a video file holding the phases")
    csrc.add_argument("--camera", type=_camera_index, help="calibrate live from this camera index (0-99), with prompts")
    c.add_argument("--name", required=True, help="profile name (letters, digits, _ or -): calibration/NAME.json")
    window = {"type": _time_window, "metavar": "START:END"}
    c.add_argument("--neutral", **window, help="seconds of a relaxed face looking into the lens")
    c.add_argument("--smile", **window, help="seconds of the biggest natural smile")
    c.add_argument("--closed", **window, help="seconds with the eyes gently closed (optional)")
    c.add_argument("--no-closed", action="store_true", help="with --camera: skip the eyes-closed phase")
    c.add_argument("--model", help="FaceLandmarker .task file (default: $POSECOACH_MODEL or the bundled model)")
    c.add_argument("--verbose", action="store_true", help="show MediaPipe's and FFmpeg's native log lines")
    c.set_defaults(func=cmd_calibrate)
