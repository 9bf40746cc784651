"""``posecoach``: analyze a photo or clip, list targets, coach live in a window, calibrate.

Exit status: 0 success, 2 bad input (one line on stderr naming the file and the reason),
130 interrupted. MediaPipe's and FFmpeg's native log lines are kept off the terminal
unless ``--verbose``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import IO

import numpy as np

from posecoach.native import native_stderr_silenced

EXIT_OK = 0
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130


class UsageError(Exception):
    """Bad input the user can fix; the message is printed as one line."""


# -- progress and summary --------------------------------------------------------------
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


@dataclass
class Summary:
    """Running totals for the end-of-run summary."""

    frames: int = 0
    with_face: int = 0
    score_sum: float = 0.0
    best_score: float | None = None
    best_frame: int = -1
    best_t_ms: float = 0.0
    holds: int = 0
    multi_face_frames: int = 0
    hold_times: list[float] = field(default_factory=list)

    def add(self, result) -> None:  # noqa: ANN001 - FrameResult, imported lazily
        self.frames += 1
        if result.metrics is not None:
            self.with_face += 1
            if result.n_faces > 1:
                self.multi_face_frames += 1
        if result.score is not None:
            s = result.score.score
            self.score_sum += s
            if self.best_score is None or s > self.best_score:
                self.best_score, self.best_frame, self.best_t_ms = s, result.frame, result.t_ms
        if result.hold.just_completed:
            self.holds += 1
            self.hold_times.append(result.t_ms)

    def lines(self, target_title: str, is_image: bool) -> list[str]:
        pct = 100.0 * self.with_face / self.frames if self.frames else 0.0
        out = [f"target: {target_title}", f"frames: {self.frames}, with a face: {self.with_face} ({pct:.0f}%)"]
        if self.with_face:
            mean = self.score_sum / self.with_face
            if is_image:
                out.append(f"score: {self.best_score:.0f}/100")
            else:
                out.append(
                    f"score: mean {mean:.0f}/100, best {self.best_score:.0f}/100 "
                    f"at {self.best_t_ms / 1000:.2f} s (frame {self.best_frame})"
                )
                when = ", ".join(f"{t / 1000:.1f} s" for t in self.hold_times[:10])
                out.append(f"holds: {self.holds}" + (f" (at {when})" if self.holds else ""))
            if self.multi_face_frames:
                out.append(f"several faces in {self.multi_face_frames} frames: the largest was coached")
        else:
            out.append("no face found: check the lighting and that the face is in the frame")
        return out


# -- commands --------------------------------------------------------------------------
def _load_target(name: str | None):  # noqa: ANN202
    from posecoach.targets import TargetError, find_target, load_library

    try:
        library = load_library()
        if name is None:
            name = "corporate_headshot" if "corporate_headshot" in library else sorted(library)[0]
        return find_target(name, library)
    except TargetError as e:
        raise UsageError(str(e)) from None


def _load_profile(name: str | None):  # noqa: ANN202
    """The calibration profile, or None. A profile that cannot be used is not fatal: one
    ``posecoach: warning: ...: coaching uncalibrated`` line on stderr and the coach carries on."""
    if name is None:
        return None
    from posecoach.calibration import load_profile_or_warn

    profile, warning = load_profile_or_warn(name)
    if warning:
        print(f"posecoach: warning: {warning}", file=sys.stderr)
    return profile


def _open_tracker(model: str | None, image: bool, verbose: bool):  # noqa: ANN202
    from posecoach.detector import FaceTracker, ModelError, TrackerMode

    try:
        return FaceTracker(model, TrackerMode.IMAGE if image else TrackerMode.VIDEO, verbose=verbose)
    except ModelError as e:
        raise UsageError(str(e)) from None


def cmd_analyze(args: argparse.Namespace) -> int:
    from posecoach.export import RowWriter, atomic_open, format_for
    from posecoach.pipeline import Pipeline, PipelineOptions
    from posecoach.session import CoachSession
    from posecoach.sources import SourceError, open_source
    from posecoach.timing import StageTimer

    target = _load_target(args.target)
    profile = _load_profile(args.profile)
    fmt = None
    if args.out:
        try:
            fmt = format_for(args.out)
        except ValueError as e:
            raise UsageError(str(e)) from None
        if args.out != "-" and not os.path.isdir(os.path.dirname(os.path.abspath(args.out))):
            raise UsageError(f"{args.out}: output folder does not exist")
    try:
        source = open_source(args.source)
    except SourceError as e:
        raise UsageError(str(e)) from None
    timer = StageTimer() if args.timings else None
    summary = Summary()
    report = sys.stderr if args.out == "-" else sys.stdout
    started = 0.0
    with contextlib.ExitStack() as stack:
        stack.callback(source.close)
        tracker = stack.enter_context(_open_tracker(args.model, source.is_image, args.verbose))
        options = PipelineOptions(
            strictness=args.strictness,
            hold_s=args.hold,
            smoothing=not source.is_image,
            min_face_frames=1 if source.is_image else PipelineOptions.min_face_frames,
        )
        session = CoachSession(Pipeline(target, tracker, profile=profile, options=options, timer=timer))
        writer = None
        if fmt is not None:
            stream = sys.stdout if args.out == "-" else stack.enter_context(atomic_open(args.out, "w"))
            writer = RowWriter(stream, fmt)
        progress = Progress(source.n_frames, sys.stderr, enabled=not source.is_image and sys.stderr.isatty())
        frames = iter(source)
        started = time.perf_counter()  # after loading the model: fps is about the frames
        while True:
            t0 = time.perf_counter()
            frame = next(frames, None)
            if frame is None:
                break
            if timer:
                timer.add("decode", time.perf_counter() - t0)
            result = session.process(frame.image, frame.t_ms)
            if result is None:  # a frame the tracker could not take: reported as no face
                continue
            summary.add(result)
            if writer is not None:
                writer.write(result)
            progress.update(summary.frames)
        progress.update(summary.frames, final=True)
    elapsed = time.perf_counter() - started
    if getattr(source, "ended_early", False):
        print(
            f"posecoach: warning: {source.name}: video ended early (decoded {source.decoded} of "
            f"{source.n_frames} frames; the file may be truncated)",
            file=sys.stderr,
        )
    for line in summary.lines(target.title, source.is_image):
        print(line, file=report)
    if args.out and args.out != "-":
        print(f"wrote {summary.frames} rows to {args.out}", file=report)
    if timer is not None:
        print("timings (ms per frame):        median     p95", file=report)
        for st in timer.stats():
            print(f"  {st.stage:<26} {st.median_ms:8.2f} {st.p95_ms:8.2f}", file=report)
        fps = summary.frames / elapsed if elapsed > 0 else 0.0
        print(f"  end to end: {fps:.1f} frames per second", file=report)
    return EXIT_OK


def cmd_targets(args: argparse.Namespace) -> int:
    from posecoach.targets import TargetError, load_library

    try:
        library = load_library()
    except TargetError as e:
        raise UsageError(str(e)) from None
    width = max(len(n) for n in library)
    for name in sorted(library):
        t = library[name]
        print(f"{name:<{width}}  {t.title}: {t.description}")
    return EXIT_OK


def run_live(
    frames: Iterator,  # Iterator[Frame | None]
    session,  # CoachSession
    show: Callable[[np.ndarray], bool],
    *,
    mirror: bool = True,
    annotate: Callable | None = None,
    max_frames: int | None = None,
) -> int:
    """The live loop, independent of where frames come from and where they are shown.

    ``show(image)`` displays one frame and returns False when the user wants to quit.
    A None frame (camera hiccup) keeps the session's state and carries on. Returns the
    number of frames processed.
    """
    import cv2

    n = 0
    for frame in frames:
        if frame is None:
            session.frame_missing("camera lost")
            continue
        result = session.process(frame.image, frame.t_ms)
        view = cv2.flip(frame.image, 1) if mirror else frame.image.copy()
        if annotate is not None and result is not None:
            view = annotate(view, result)
        n += 1
        if not show(view) or (max_frames is not None and n >= max_frames):
            break
    return n


def cmd_live(args: argparse.Namespace) -> int:
    from posecoach.overlay import Annotator
    from posecoach.pipeline import Pipeline
    from posecoach.session import CoachSession
    from posecoach.sources import CameraSource, SourceError, VideoFileSource

    target = _load_target(args.target)
    profile = _load_profile(args.profile)
    try:
        source = VideoFileSource(args.video) if args.video else CameraSource(args.camera)
    except SourceError as e:
        raise UsageError(str(e)) from None
    if not args.no_window and sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        # OpenCV's window backend aborts the whole process without a display: say why first.
        source.close()
        raise UsageError("no display available: posecoach live needs a desktop session (try --no-window or the app)")
    annotator = Annotator()
    mirror = not args.no_mirror

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
            print(f"{result.t_ms / 1000:7.2f} s  score {score}  {result.cue.text}", flush=True)
        return view if args.no_window else annotator.annotate(view, result, mirrored=mirror)

    with contextlib.ExitStack() as stack:
        stack.callback(source.close)
        tracker = stack.enter_context(_open_tracker(args.model, False, args.verbose))
        session = CoachSession(Pipeline(target, tracker, profile=profile))
        run_live(iter(source), session, show_cues if args.no_window else show_window, mirror=mirror, annotate=annotate)
        if not args.no_window:
            import cv2

            with contextlib.suppress(cv2.error):
                cv2.destroyAllWindows()
        print(f"holds: {len(session.captures)}")
    return EXIT_OK


def _phase_line(stats, window=None) -> str:  # noqa: ANN001 - PhaseStats, Window
    m = stats.median
    where = f" ({window})" if window is not None else ""
    light = f", brightness {stats.luma:.0f}/255" if stats.luma is not None else ""
    head = (
        f"{stats.phase + ':':<8} {stats.frames} frames{where}, "
        f"face in {stats.with_face} ({stats.face_fraction:.0%}){light}"
    )
    if stats.phase == "neutral":
        return (
            f"{head}; yaw {m['yaw']:+.1f}°, pitch {m['pitch']:+.1f}°, roll {m['roll']:+.1f}°, "
            f"smile {m['smile']:.2f}, eyes {m['eye_open_left']:.2f}/{m['eye_open_right']:.2f}"
        )
    if stats.phase == "smile":
        return f"{head}; smile {m['smile']:.2f}"
    return f"{head}; eyes {m['eye_open_left']:.2f}/{m['eye_open_right']:.2f}"


def _print_calibration(profile, path, lines: list[str]) -> None:  # noqa: ANN001
    for line in lines:
        print(line)
    if not profile.closed_measured:
        print("closed:  skipped; closed eyes default to a fraction of open")
    for line in profile.summary_lines():
        print(f"  {line}")
    print(f"profile: {path}")
    print(f"use it:  posecoach analyze VIDEO --profile {profile.name}  (or live --profile {profile.name})")


def cmd_calibrate(args: argparse.Namespace) -> int:
    from posecoach.calibration import CalibrationError, validate_name

    try:
        validate_name(args.name)
    except CalibrationError as e:
        raise UsageError(str(e)) from None
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
    from posecoach.calibration import (
        CalibrationError,
        EmptyWindow,
        PhaseRejected,
        build_profile,
        check_closed,
        check_neutral,
        check_smile,
        save_profile,
    )
    from posecoach.calibration import collect_windows
    from posecoach.calibration_run import TrackerObserver
    from posecoach.sources import SourceError, open_source

    windows = {"neutral": args.neutral, "smile": args.smile}
    if args.closed is not None:
        windows["closed"] = args.closed
    try:
        source = open_source(args.source)
    except SourceError as e:
        raise UsageError(str(e)) from None
    last_ms = [0.0]

    def frames():  # noqa: ANN202
        for frame in source:
            last_ms[0] = frame.t_ms
            yield frame

    with contextlib.ExitStack() as stack:
        stack.callback(source.close)
        if source.is_image:
            raise UsageError(f"{args.source}: calibration needs a video (a few seconds per phase), not a photo")
        tracker = stack.enter_context(_open_tracker(args.model, False, args.verbose))
        try:
            samples = collect_windows(frames(), TrackerObserver(tracker), windows)
        except EmptyWindow as e:
            raise UsageError(
                f"{args.source}: --{e.phase} {e.window.start_s:g}:{e.window.end_s:g} holds no frames "
                f"(the video ends at {e.end_s:.2f} s)"
            ) from None
    try:
        profile = build_profile(args.name, samples["neutral"], samples["smile"], samples.get("closed"))
    except (PhaseRejected, CalibrationError) as e:
        raise UsageError(str(e)) from None
    neutral = check_neutral(samples["neutral"])
    stats = [neutral, check_smile(samples["smile"], neutral)]
    if "closed" in samples:
        stats.append(check_closed(samples["closed"], neutral))
    try:
        path = save_profile(profile)
    except CalibrationError as e:
        raise UsageError(str(e)) from None
    _print_calibration(profile, path, [_phase_line(st, windows[st.phase]) for st in stats])
    return EXIT_OK


def _calibrate_camera(args: argparse.Namespace) -> int:
    from posecoach.calibration import (
        CalibrationError,
        CalibrationRecorder,
        check_closed,
        check_neutral,
        check_smile,
        save_profile,
    )
    from posecoach.calibration import run_timed
    from posecoach.calibration_run import TerminalPrompter, TrackerObserver
    from posecoach.sources import CameraSource, SourceError

    recorder = CalibrationRecorder(args.name, include_closed=not args.no_closed)
    try:
        source = CameraSource(args.camera)
    except SourceError as e:
        raise UsageError(str(e)) from None
    total = sum(p.record_s for p in recorder.plan) + recorder.prepare_s * len(recorder.plan)
    print(
        f"Calibrating {args.name!r}: about {total:.0f} s. Sit facing the camera in good light and follow the prompts.",
        flush=True,
    )
    with contextlib.ExitStack() as stack:
        stack.callback(source.close)
        tracker = stack.enter_context(_open_tracker(args.model, False, args.verbose))
        prompter = TerminalPrompter(lambda line: print(line, flush=True))
        state = run_timed(iter(source), TrackerObserver(tracker), recorder, prompter, max_missing=20)
    if state.status == "failed":
        raise UsageError(f"calibration failed: {state.feedback}")
    if state.profile is None:
        raise UsageError(f"camera {args.camera}: stopped delivering frames before the calibration finished")
    try:
        path = save_profile(state.profile)
    except CalibrationError as e:
        raise UsageError(str(e)) from None
    samples = recorder.samples
    neutral = check_neutral(samples["neutral"])
    stats = [neutral, check_smile(samples["smile"], neutral)]
    if "closed" in samples:
        stats.append(check_closed(samples["closed"], neutral))
    _print_calibration(state.profile, path, [_phase_line(st) for st in stats])
    return EXIT_OK


# -- argument parsing ------------------------------------------------------------------
def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def _time_window(text: str):  # noqa: ANN202 - calibration_run.Window
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


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2
        self.exit(EXIT_BAD_INPUT, f"posecoach: error: {message} (see posecoach --help)\n")


def build_parser() -> argparse.ArgumentParser:
    from posecoach import __version__

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
    a.set_defaults(func=cmd_analyze)

    t = sub.add_parser("targets", help="list the target looks")
    t.set_defaults(func=cmd_targets)

    live = sub.add_parser("live", parents=[common], help="a mirror window coaching you live (needs a display)")
    src = live.add_mutually_exclusive_group()
    src.add_argument("--camera", type=int, default=0, help="camera index (default 0)")
    src.add_argument("--video", help="a video file instead of the camera")
    live.add_argument("--no-mirror", action="store_true", help="show the raw camera image, not a mirror image")
    live.add_argument("--no-window", action="store_true", help="print score and cue changes instead of a window")
    live.set_defaults(func=cmd_live)

    c = sub.add_parser(
        "calibrate",
        help="learn your neutral face, smile and eyes (from a video file or live from a camera)",
        description="Learn a person's neutral face, smile and eye range so coaching is relative to their own face. "
        "From a video file, give the time ranges of each phase; with --camera, follow the prompts (about 14 s).",
    )
    csrc = c.add_mutually_exclusive_group()
    csrc.add_argument("source", nargs="?", help="a video file holding the phases")
    csrc.add_argument("--camera", type=int, help="calibrate live from this camera index, with prompts")
    c.add_argument("--name", required=True, help="profile name (letters, digits, _ or -): calibration/NAME.json")
    window = {"type": _time_window, "metavar": "START:END"}
    c.add_argument("--neutral", **window, help="seconds of a relaxed face looking into the lens")
    c.add_argument("--smile", **window, help="seconds of the biggest natural smile")
    c.add_argument("--closed", **window, help="seconds with the eyes gently closed (optional)")
    c.add_argument("--no-closed", action="store_true", help="with --camera: skip the eyes-closed phase")
    c.add_argument("--model", help="FaceLandmarker .task file (default: $POSECOACH_MODEL or the bundled model)")
    c.add_argument("--verbose", action="store_true", help="show MediaPipe's and FFmpeg's native log lines")
    c.set_defaults(func=cmd_calibrate)

    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    with native_stderr_silenced(not getattr(args, "verbose", False)):
        try:
            return args.func(args)
        except UsageError as e:
            print(f"posecoach: error: {e}", file=sys.stderr)
            return EXIT_BAD_INPUT
        except KeyboardInterrupt:
            print("posecoach: interrupted", file=sys.stderr)
            return EXIT_INTERRUPTED
        except BrokenPipeError:
            # `posecoach analyze clip.mp4 --out - | head`: the reader left; not an error.
            with contextlib.suppress(OSError):
                sys.stdout = open(os.devnull, "w")  # noqa: SIM115
            return EXIT_OK


if __name__ == "__main__":
    raise SystemExit(main())
