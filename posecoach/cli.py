"""``posecoach``: analyze a photo or clip, list targets, coach live in a window, calibrate.

This module parses arguments, calls the flows in :mod:`posecoach.runs` and prints what they
return; ``calibrate`` and the other subcommands are in the ``cli_*`` modules it registers.

Exit status: 0 success; 2 bad input or an output that cannot be written (one line on stderr
naming the file and the reason); 130 interrupted (Ctrl-C); 128+N stopped by signal N (SIGHUP
129, SIGQUIT 131, SIGTERM 143). A stopped or failed run leaves no partial output file.
MediaPipe's and FFmpeg's native log lines are kept off the terminal unless ``--verbose``;
control characters in anything printed (a target's cues, a file name) are shown escaped.

Only the standard library is imported before :func:`main` starts, so a Ctrl-C during start-up
is one line too.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import time
from collections.abc import Iterator, Sequence
from typing import IO, TYPE_CHECKING

from posecoach import cli_history as history_cli
from posecoach.entry import EXIT_BAD_INPUT, EXIT_INTERRUPTED, EXIT_OK
from posecoach.native import native_stderr_silenced
from posecoach.terminal import (
    Stopped,
    UsageError,
    flush_stdout,
    is_tty,
    printable,
    say,
    silence_stdout,
    standard_streams_open,
    stop_on_signals,
)

if TYPE_CHECKING:  # pragma: no cover - typing only; the commands import lazily (a quick --help)
    import numpy as np


# -- progress --------------------------------------------------------------------------
class Progress:
    """A one-line progress bar on stderr (only when stderr is a terminal)."""

    def __init__(self, total: int | None, stream: IO[str], enabled: bool) -> None:
        self.total = total
        self.stream = stream
        self.enabled = enabled
        self._last = 0.0

    def update(self, done: int, *, final: bool = False) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if not final and now - self._last < 0.1:
            return
        self._last = now
        if self.total:
            frac = min(1.0, done / self.total)
            bar = "#" * int(frac * 30)
            self.stream.write(f"\r[{bar:<30}] {done}/{self.total} frames")
        else:
            self.stream.write(f"\r{done} frames")
        if final:
            self.stream.write("\n")
        self.stream.flush()


@contextlib.contextmanager
def _one_line_errors() -> Iterator[None]:
    """posecoach's own bad-input errors (a file, a model, a target, a profile, a calibration
    phase) become a :class:`UsageError`: their message is already the one line to print."""
    from posecoach.calibration import CalibrationError, PhaseRejected
    from posecoach.export import OutputError
    from posecoach.model_file import ModelError
    from posecoach.sources import SourceError
    from posecoach.targets import TargetError

    try:
        yield
    except (CalibrationError, PhaseRejected, ModelError, OutputError, SourceError, TargetError) as e:
        raise UsageError(str(e)) from None


# -- commands --------------------------------------------------------------------------
def _load_target(name: str | None):  # noqa: ANN202
    from posecoach.user_targets import load_catalog

    catalog = load_catalog()  # the library and the person's own targets
    library = catalog.targets
    if name is None:
        name = "corporate_headshot" if "corporate_headshot" in library else sorted(library)[0]
    return catalog.find(name)


def _load_profile(name: str | None):  # noqa: ANN202
    """The calibration profile, or None. A profile that cannot be used is not fatal: one
    ``posecoach: warning: ...: coaching uncalibrated`` line on stderr and the coach carries on."""
    if name is None:
        return None
    from posecoach.calibration import load_profile_or_warn

    profile, warning = load_profile_or_warn(name)
    if warning:
        say(f"posecoach: warning: {warning}", err=True)
    return profile


def cmd_analyze(args: argparse.Namespace) -> int:
    if args.faces > 1:
        from posecoach.cli_room import cmd_analyze_faces

        return cmd_analyze_faces(args)
    if getattr(args, "routine", None):
        from posecoach.cli_looks import cmd_analyze_routine

        return cmd_analyze_routine(args)
    from posecoach.export import check_row_output, row_output
    from posecoach.runs import CoachSettings, run_source
    from posecoach.sources import open_source
    from posecoach.timing import StageTimer

    if args.out:
        check_row_output(args.out)  # a folder, a device, a closed stdout: said before any work
    target = _load_target(args.target)
    profile = _load_profile(args.profile)
    history_cli.check_options(args)
    source = open_source(args.source)
    settings = CoachSettings(target.name, strictness=args.strictness, hold_s=args.hold, profile=profile)
    timer = StageTimer() if args.timings else None
    to_stderr = args.out == "-"  # the summary stays out of the rows
    with contextlib.ExitStack() as stack:
        stack.callback(source.close)
        writer = stack.enter_context(row_output(args.out)) if args.out else None
        progress = Progress(source.n_frames, sys.stderr, enabled=not source.is_image and is_tty(sys.stderr))
        rows = 0

        def on_frame(_frame, result) -> None:  # noqa: ANN001 - sources.Frame, FrameResult
            nonlocal rows
            if result is None:  # a frame the tracker could not take: reported as no face
                return
            rows += 1
            if writer is not None:
                writer.write(result)
            progress.update(rows)

        run = run_source(source, target, settings, on_frame, model=args.model, verbose=args.verbose, timer=timer)
        progress.update(rows, final=True)
    if getattr(source, "ended_early", False):
        say(
            f"posecoach: warning: {source.name}: video ended early (decoded {source.decoded} of "
            f"{source.n_frames} frames; the file may be truncated)",
            err=True,
        )
    summary = run.summary
    for line in summary.lines(target, source.is_image):
        say(line, err=to_stderr)
    if args.out and args.out != "-":
        say(f"wrote {summary.frames} rows to {args.out}", err=to_stderr)
    if timer is not None:
        say("timings (ms per frame):        median     p95", err=to_stderr)
        for st in timer.stats():
            say(f"  {st.stage:<26} {st.median_ms:8.2f} {st.p95_ms:8.2f}", err=to_stderr)
        fps = summary.frames / run.elapsed_s if run.elapsed_s > 0 else 0.0
        say(f"  end to end: {fps:.1f} frames per second", err=to_stderr)
    history_cli.after_run(
        args, run.session, source=os.path.basename(args.source), profile=profile,
        out=sys.stderr if to_stderr else sys.stdout,
    )
    return EXIT_OK


def cmd_targets(args: argparse.Namespace) -> int:
    from posecoach.user_targets import load_catalog

    catalog = load_catalog()
    library = catalog.targets
    for problem in catalog.problems:
        say(f"posecoach: warning: {problem} (skipped)", err=True)
    width = max(len(n) for n in library)
    for name in sorted(library):
        t = library[name]
        say(f"{name:<{width}}  {t.title}: {t.description}" + ("  [yours]" if catalog.is_user(name) else ""))
    return EXIT_OK


def cmd_live(args: argparse.Namespace) -> int:
    if args.faces > 1:
        from posecoach.cli_room import cmd_live_faces

        return cmd_live_faces(args)
    from posecoach import sources
    from posecoach.overlay import Annotator
    from posecoach.runs import CoachSettings, coach_live

    target = _load_target(args.target)
    profile = _load_profile(args.profile)
    history_cli.check_options(args)
    source = sources.VideoFileSource(args.video) if args.video else sources.CameraSource(args.camera)
    if not args.no_window and sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        # OpenCV's window backend aborts the whole process without a display: say why first.
        source.close()
        raise UsageError("no display available: posecoach live needs a desktop session (try --no-window or the app)")
    settings = CoachSettings(target.name, mirror=not args.no_mirror, profile=profile)
    annotator = Annotator()

    def show_window(image: np.ndarray) -> bool:
        import cv2

        try:
            cv2.imshow("posecoach", image)
            key = cv2.waitKey(1) & 0xFF
        except cv2.error:
            raise UsageError("no display available: posecoach live needs a desktop session (try the Streamlit app)") from None
        return key not in (ord("q"), 27)

    def show_cues(_image: np.ndarray) -> bool:
        return True

    last_cue = [""]

    def annotate(view: np.ndarray, result) -> np.ndarray:  # noqa: ANN001
        if args.no_window and result.cue.text != last_cue[0]:
            last_cue[0] = result.cue.text
            score = f"{result.score.score:3.0f}" if result.score is not None else "  -"
            say(f"{result.t_ms / 1000:7.2f} s  score {score}  {result.cue.text}", flush=True)
        return view if args.no_window else annotator.annotate(view, result, mirrored=settings.mirror)

    with contextlib.closing(source):
        show = show_cues if args.no_window else show_window
        session = coach_live(source, target, settings, show, annotate=annotate, model=args.model, verbose=args.verbose)
        if not args.no_window:
            import cv2

            with contextlib.suppress(cv2.error):
                cv2.destroyAllWindows()
    say(f"holds: {len(session.captures)}")
    name = os.path.basename(args.video) if args.video else f"camera {args.camera}"
    history_cli.after_run(args, session, source=name, profile=profile, out=sys.stdout)
    return EXIT_OK


# -- argument parsing ------------------------------------------------------------------
def _camera_index(text: str) -> int:
    """A camera number, checked here: OpenCV crashes on a negative one and overflows on a huge
    one, and from 100 up a number selects a capture back end, not a camera."""
    from posecoach.sources import MAX_CAMERA_INDEX

    try:
        value = int(text, 10)
    except ValueError:
        value = -1
    if not 0 <= value <= MAX_CAMERA_INDEX:
        raise argparse.ArgumentTypeError(f"expected a camera number from 0 to {MAX_CAMERA_INDEX}, got {text!r}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2
        self.exit(EXIT_BAD_INPUT, printable(f"posecoach: error: {message} (see posecoach --help)") + "\n")


def build_parser() -> argparse.ArgumentParser:
    from posecoach import __version__, cli_calibrate, cli_drills, cli_looks, cli_room

    p = _Parser(prog="posecoach", description="A live posing and expression coach, on your own machine.")
    p.add_argument("--version", action="version", version=f"posecoach {__version__}")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    common = _Parser(add_help=False)
    common.add_argument("--target", help="target look: a name from `posecoach targets` or a .toml file")
    common.add_argument("--model", help="FaceLandmarker .task file (default: $POSECOACH_MODEL or the bundled model)")
    common.add_argument("--profile", help="calibration profile name (see `posecoach calibrate`)")
    common.add_argument("--verbose", action="store_true", help="show MediaPipe's and FFmpeg's native log lines")

    a = sub.add_parser("analyze", parents=[common], help="score every frame of a photo or video file")
    a.add_argument("source", help="an image or video file")
    a.add_argument("--out", help="per-frame rows: FILE.jsonl, FILE.csv, or - for JSONL on stdout")
    a.add_argument("--strictness", type=_positive_float, default=1.0, help=">1 narrows every tolerance (default 1)")
    a.add_argument("--hold", type=_positive_float, default=None, help="seconds to hold the look (default: the target's)")
    a.add_argument("--timings", action="store_true", help="print per-stage milliseconds per frame after the summary")
    history_cli.add_keep_options(a)
    a.set_defaults(func=cmd_analyze)
    cli_looks.add_analyze_options(a)
    cli_room.add_faces_option(a)

    t = sub.add_parser("targets", help="list the target looks")
    t.set_defaults(func=cmd_targets)

    live = sub.add_parser("live", parents=[common], help="a mirror window coaching you live (needs a display)")
    src = live.add_mutually_exclusive_group()
    src.add_argument("--camera", type=_camera_index, default=0, help="camera index 0-99 (default 0)")
    src.add_argument("--video", help="a video file instead of the camera")
    live.add_argument("--no-mirror", action="store_true", help="show the raw camera image, not a mirror image")
    live.add_argument("--no-window", action="store_true", help="print score and cue changes instead of a window")
    history_cli.add_keep_options(live)
    cli_room.add_faces_option(live)
    live.set_defaults(func=cmd_live)

    cli_calibrate.add_parsers(sub)  # calibrate
    history_cli.add_parsers(sub)  # history, report
    cli_looks.add_parsers(sub, _Parser)  # target from-photo/list/delete, bestside
    cli_drills.add_parsers(sub, _Parser)  # drill shutter
    cli_room.add_parsers(sub)  # check
    return p


def main(argv: Sequence[str] | None = None) -> int:
    restore = stop_on_signals()
    try:
        standard_streams_open()
        args = build_parser().parse_args(argv)
        with native_stderr_silenced(not getattr(args, "verbose", False)):
            try:
                with _one_line_errors():
                    code = args.func(args)
                flush_stdout()
                return code
            except UsageError as e:
                say(f"posecoach: error: {e}", err=True)
                return EXIT_BAD_INPUT
            except BrokenPipeError:
                # `posecoach analyze clip.mp4 --out - | head`: the reader left; not an error.
                silence_stdout()
                return EXIT_OK
    except KeyboardInterrupt:
        say("posecoach: interrupted", err=True)
        return EXIT_INTERRUPTED
    except Stopped as e:
        say(f"posecoach: stopped ({signal.Signals(e.signum).name})", err=True)
        return 128 + e.signum
    finally:
        restore()


if __name__ == "__main__":
    raise SystemExit(main())
