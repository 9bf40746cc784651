"""``--faces N`` (workshop mode) on ``posecoach analyze`` and ``posecoach live``.

Like :mod:`posecoach.cli`, which hands over here when ``--faces`` is above 1: parse, call
:mod:`posecoach.workshop`, print. Bad input is one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys

from posecoach.cli import EXIT_OK, UsageError, _load_target
from posecoach.terminal import say


def faces_count(text: str) -> int:
    """``--faces``: how many people to coach at once, 1..MAX_FACES (1 = the one-person coach)."""
    from posecoach.workshop import MAX_FACES

    try:
        value = int(text, 10)
    except ValueError:
        value = 0
    if not 1 <= value <= MAX_FACES:
        raise argparse.ArgumentTypeError(f"expected a number of people from 1 to {MAX_FACES}, got {text!r}")
    return value


def add_faces_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--faces", type=faces_count, default=1, metavar="N",
                        help="workshop mode: coach up to N people at once (2-8; default 1)")  # fmt: skip


def _refuse_one_person_options(args: argparse.Namespace) -> None:
    """Options that belong to one person's session make no sense for a room."""
    for flag, given in (("--profile", args.profile), ("--routine", getattr(args, "routine", None)),
                        ("--keep", getattr(args, "keep", False)), ("--keep-pictures", getattr(args, "keep_pictures", False)),
                        ("--report", getattr(args, "report", None))):  # fmt: skip
        if given:
            raise UsageError(f"{flag} is for one person: leave it out with --faces {args.faces}")


def _line(face_id: int, result) -> str:  # noqa: ANN001 - FrameResult
    score = f"{result.score.score:3.0f}" if result.score is not None else "  -"
    held = f"  holds {result.hold.holds}" if result.hold.holds else ""
    return f"face {face_id}: score {score}  {result.cue.text}{held}"


def cmd_analyze_faces(args: argparse.Namespace) -> int:
    from posecoach.export import check_row_output, row_output
    from posecoach.runs import CoachSettings
    from posecoach.sources import open_source
    from posecoach.workshop import run_workshop

    _refuse_one_person_options(args)
    if args.out:
        check_row_output(args.out)
    target = _load_target(args.target)
    source = open_source(args.source)
    settings = CoachSettings(target.name, strictness=args.strictness, hold_s=args.hold)
    to_stderr = args.out == "-"
    last: list = []
    with contextlib.ExitStack() as stack:
        stack.callback(source.close)
        writer = stack.enter_context(row_output(args.out, faces=True)) if args.out else None
        rows = 0

        def on_frame(_frame, result) -> None:  # noqa: ANN001 - sources.Frame, WorkshopFrame
            nonlocal rows
            last[:] = result.faces
            for fr in result.faces:
                rows += 1
                if writer is not None:
                    writer.write(fr.result, fr.face_id)

        run = run_workshop(source, target, settings, args.faces, on_frame, still=source.is_image,
                           model=args.model, verbose=args.verbose)  # fmt: skip
    say(f"target: {target.title}", err=to_stderr)
    rate = f" ({run.frames / run.elapsed_s:.1f} per second)" if run.elapsed_s > 0 and not source.is_image else ""
    say(f"frames: {run.frames}{rate}, faces at most in one frame: {run.most_faces} (looking for up to {args.faces})",
        err=to_stderr)  # fmt: skip
    if source.is_image:
        for fr in last:
            say(_line(fr.face_id, fr.result) + (f"  light: {fr.result.lighting.value}" if fr.result.lighting else ""),
                err=to_stderr)  # fmt: skip
    else:
        say("leaderboard (holds, best hold, best score):", err=to_stderr)
        for i, s in enumerate(run.standings, 1):
            best_hold = f"{s.best_hold:5.1f}" if s.best_hold is not None else "    -"
            best = f"{s.best_score:5.1f}" if s.best_score is not None else "    -"
            say(f"  {i}. face {s.face_id}: {s.holds} holds, best hold {best_hold}, best score {best}", err=to_stderr)
    if args.out and args.out != "-":
        say(f"wrote {rows} rows (one per face per frame) to {args.out}", err=to_stderr)
    return EXIT_OK


def cmd_live_faces(args: argparse.Namespace) -> int:
    """Workshop mode live: a window with every face boxed, numbered and cued, or with
    ``--no-window`` each face's score and cue printed when the cue changes."""
    from posecoach import sources
    from posecoach.runs import CoachSettings
    from posecoach.workshop import run_workshop

    _refuse_one_person_options(args)
    target = _load_target(args.target)
    if not args.no_window and sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        raise UsageError("no display available: posecoach live needs a desktop session (try --no-window or the app)")
    source = sources.VideoFileSource(args.video) if args.video else sources.CameraSource(args.camera)
    settings = CoachSettings(target.name, mirror=not args.no_mirror)
    said: dict[int, str] = {}

    def on_frame(frame, result) -> bool:  # noqa: ANN001 - sources.Frame, WorkshopFrame
        if args.no_window:
            for fr in result.faces:
                if said.get(fr.face_id) != fr.result.cue.text:
                    said[fr.face_id] = fr.result.cue.text
                    say(f"{frame.t_ms / 1000:7.2f} s  " + _line(fr.face_id, fr.result), flush=True)
            return True
        import cv2

        from posecoach.overlay.room import draw_faces

        view = draw_faces(frame.image, result, mirror=settings.mirror)
        cv2.imshow("posecoach workshop", view)
        return (cv2.waitKey(1) & 0xFF) not in (ord("q"), 27)

    with contextlib.closing(source):
        run = run_workshop(source, target, settings, args.faces, on_frame, model=args.model, verbose=args.verbose)
    say("leaderboard:" if run.standings else "no face was coached")
    for i, s in enumerate(run.standings, 1):
        say(f"  {i}. face {s.face_id}: {s.holds} holds" + (f", best hold {s.best_hold:.0f}" if s.best_hold else ""))
    sys.stdout.flush()
    return EXIT_OK


def cmd_check(args: argparse.Namespace) -> int:
    """``posecoach check``: the light and the room, from a photo, a clip's first seconds or a camera."""
    from posecoach import sources
    from posecoach.room import check_light
    from posecoach.runs import open_tracker

    target = _load_target(args.target)
    if args.source is None and args.camera is None:
        raise UsageError("check needs a photo or video file, or --camera N")
    source = sources.open_source(args.source) if args.source else sources.CameraSource(args.camera)
    still = bool(getattr(source, "is_image", False))
    with contextlib.closing(source), open_tracker(args.model, still=still, verbose=args.verbose) as tracker:
        check = check_light(source, tracker, max_ratio_stops=target.max_ratio_stops, still=still)
    for line in check.lines():
        say(line)
    if check.light is not None:
        unit = "stop" if target.max_ratio_stops == 1 else "stops"
        say(f"(for {target.title}: a left/right ratio up to {target.max_ratio_stops:g} {unit} is fine)")
    return EXIT_OK


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """Register ``check`` on the main parser's subcommands."""
    from posecoach.cli import _camera_index

    c = sub.add_parser("check", help="check the light and the room before a session (a photo, a clip or a camera)",
                       description="Reads the light on your face over about two seconds (exposure, the left/right "
                       "ratio in stops, backlight, colour) and looks at what is just below and behind your face.")  # fmt: skip
    src = c.add_mutually_exclusive_group()
    src.add_argument("source", nargs="?", help="a photo or video file")
    src.add_argument("--camera", type=_camera_index, help="check live from this camera index (0-99)")
    c.add_argument("--target", help="the look you will practise (its [light] range; default corporate_headshot)")
    c.add_argument("--model", help="FaceLandmarker .task file (default: $POSECOACH_MODEL or the bundled model)")
    c.add_argument("--verbose", action="store_true", help="show MediaPipe's and FFmpeg's native log lines")
    c.set_defaults(func=cmd_check)
