"""``posecoach target ...``, ``posecoach bestside`` and ``posecoach analyze --routine``.

Like :mod:`posecoach.cli` (which registers these with :func:`add_parsers`): parse, call the
core (:mod:`posecoach.looks`, :mod:`posecoach.user_targets`, :mod:`posecoach.routines`,
:mod:`posecoach.bestside`), print. Bad input is one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys

from posecoach import cli_history as history_cli
from posecoach.cli import EXIT_OK, UsageError, _load_profile, _positive_float
from posecoach.terminal import say


@contextlib.contextmanager
def _one_line():  # noqa: ANN202
    """The looks' own refusals as one line (the rest is handled by the CLI's main)."""
    from posecoach.looks import LookRefused
    from posecoach.routines import RoutineError

    try:
        yield
    except (LookRefused, RoutineError) as e:
        raise UsageError(str(e)) from None


# -- posecoach target ... ------------------------------------------------------------------------
def cmd_target_from_photo(args: argparse.Namespace) -> int:
    from posecoach.looks import draft_target, measure_photo
    from posecoach.targets import load_library
    from posecoach.user_targets import check_name, save_user_target

    library = load_library()
    check_name(args.name, library)  # before the model loads: a bad name costs nothing
    with _one_line():
        look = measure_photo(args.photo, model=args.model, verbose=args.verbose)
    centres = None
    if args.mirror:
        centres = {"yaw": -look.values["yaw"], "roll": -look.values["roll"]}
    draft = draft_target(look, args.name, library, centres=centres, ease=args.ease, title=args.title)
    path = save_user_target(draft.target, replace=args.replace, comment=draft.comment)
    for line in draft.lines():
        say(line)
    say(f"saved: {path}")
    say(f"practise it: posecoach live --target {args.name}   (in the app: pick \u201c{draft.target.title}\u201d)")
    return EXIT_OK


def cmd_target_list(args: argparse.Namespace) -> int:  # noqa: ARG001
    from posecoach.user_targets import load_user_targets, user_targets_dir

    user = load_user_targets()
    for problem in user.problems:
        say(f"posecoach: warning: {problem} (skipped)", err=True)
    if not user.targets:
        say(f"no targets of yours yet (they live in {user_targets_dir()})")
        say("make one: posecoach target from-photo PHOTO --name NAME")
        return EXIT_OK
    width = max(len(n) for n in user.targets)
    for name in sorted(user.targets):
        t = user.targets[name]
        say(f"{name:<{width}}  {t.title}: {t.description}")
    say(f"({len(user.targets)} in {user_targets_dir()})")
    return EXIT_OK


def cmd_target_delete(args: argparse.Namespace) -> int:
    from posecoach.user_targets import delete_user_target

    path = delete_user_target(args.name)
    say(f"deleted {args.name} ({path})")
    return EXIT_OK


# -- posecoach bestside ----------------------------------------------------------------------------
def cmd_bestside(args: argparse.Namespace) -> int:
    from posecoach.bestside import best_side_run
    from posecoach.sources import open_source

    history_cli.check_options(args)
    source = open_source(args.source)
    with contextlib.closing(source):
        result, session = best_side_run(source, model=args.model, verbose=args.verbose)
    for line in result.lines():
        say(line)
    # Kept, the verdict goes on the session's report and hand-off card.
    history_cli.after_run(args, session, source=os.path.basename(args.source), profile=None, out=sys.stdout,
                          best_side=result.kept())  # fmt: skip
    return EXIT_OK


# -- posecoach analyze --routine ------------------------------------------------------------------
def cmd_analyze_routine(args: argparse.Namespace) -> int:
    """``analyze SOURCE --routine NAME``: the clip through the routine, then its summary."""
    from posecoach.routine_runs import run_routine
    from posecoach.routines import find_routine
    from posecoach.runs import CoachSettings
    from posecoach.sources import open_source
    from posecoach.user_targets import load_catalog

    if args.target is not None:
        raise UsageError("--target and --routine do not go together: a routine names its own targets")
    if args.out or args.timings:
        raise UsageError("--out and --timings are for a single target; leave them out with --routine")
    history_cli.check_options(args)
    catalog = load_catalog()
    with _one_line():
        routine = find_routine(args.routine, catalog.targets)
    profile = _load_profile(args.profile)
    settings = CoachSettings(routine.steps[0].target, strictness=args.strictness, profile=profile)
    source = open_source(args.source)
    shown = [-1]

    def on_state(state) -> None:  # noqa: ANN001 - RoutineState
        if state.advanced:
            say(f"  step {state.index}/{state.n_steps} {state.last_outcome.value}", flush=True)
        if not state.finished and state.index != shown[0]:
            shown[0] = state.index
            step = state.step
            title = catalog.targets[step.target].title
            say(f"step {state.index + 1}/{state.n_steps}: {title} (up to {step.time_s:g} s)"
                  + (f": {step.prompt}" if step.prompt else ""), flush=True)  # fmt: skip

    with contextlib.closing(source), _one_line():
        run = run_routine(source, routine, catalog.targets, settings, on_state=on_state,
                          model=args.model, verbose=args.verbose)  # fmt: skip
    for line in run.result.lines():
        say(line)
    history_cli.after_run(args, run.session, source=os.path.basename(args.source), profile=profile,
                          out=sys.stdout, kind="routine", routine=routine.title)  # fmt: skip
    return EXIT_OK


# -- registration ---------------------------------------------------------------------------------
def add_analyze_options(analyze: argparse.ArgumentParser) -> None:
    analyze.add_argument("--routine", help="run the clip through a routine (a name from assets/routines or a .toml file)")


def add_parsers(sub: argparse._SubParsersAction, parser_class: type[argparse.ArgumentParser]) -> None:
    """Register ``target`` and ``bestside`` on the main parser's subcommands."""
    model = {"help": "FaceLandmarker .task file (default: $POSECOACH_MODEL or the bundled model)"}
    verbose = {"action": "store_true", "help": "show MediaPipe's and FFmpeg's native log lines"}

    t = sub.add_parser("target", help="your own target looks: make one from a photo, list, delete",
                       description="Your own target looks, kept in $POSECOACH_USER_DIR/targets (default: "
                       "~/.local/share/posecoach/targets). They work everywhere library targets do.")  # fmt: skip
    tsub = t.add_subparsers(dest="target_command", required=True, parser_class=parser_class)
    fp = tsub.add_parser("from-photo", help="measure a photo of a look you like and save it as a target")
    fp.add_argument("photo", help="a photo with one face (a headshot you like, your own best shot)")
    fp.add_argument("--name", required=True, help="the new target's name: lowercase letters, digits, _ or -")
    fp.add_argument("--title", help="a title for the picker (default: from the name and the photo)")
    fp.add_argument("--ease", type=_positive_float, default=1.0,
                    help="widen (>1) or narrow (<1) every range and tolerance (default 1)")  # fmt: skip
    fp.add_argument("--mirror", action="store_true",
                    help="the photo is mirrored (a selfie) or you want the turn and tilt the other way")  # fmt: skip
    fp.add_argument("--replace", action="store_true", help="replace a target of yours with the same name")
    fp.add_argument("--model", **model)
    fp.add_argument("--verbose", **verbose)
    fp.set_defaults(func=cmd_target_from_photo)
    tl = tsub.add_parser("list", help="list your targets")
    tl.set_defaults(func=cmd_target_list)
    td = tsub.add_parser("delete", help="delete one of your targets (the file is removed)")
    td.add_argument("name", help="the target's name")
    td.set_defaults(func=cmd_target_delete)

    b = sub.add_parser("bestside", help="which side of your face to show: a clip turning one way, then the other",
                       description="Compare your two sides on a clip where you turn about a third of the way to one "
                       "side, then to the other, with the same expression.")  # fmt: skip
    b.add_argument("source", help="a video file")
    history_cli.add_keep_options(b)
    b.add_argument("--model", **model)
    b.add_argument("--verbose", **verbose)
    b.set_defaults(func=cmd_bestside)
