"""The ``posecoach`` command's entry point, kept tiny: a Ctrl-C while :mod:`posecoach.cli` and
the standard-library modules it needs are still importing says one line, not a traceback
(``cli.main`` guards the rest, NumPy, OpenCV and MediaPipe included). Only the interpreter's
own start-up, before this module runs, is left uncovered."""

from __future__ import annotations

import sys

#: The command's exit statuses (``posecoach.cli`` uses them too): done, bad input (one line
#: on stderr), interrupted by Ctrl-C (128 + SIGINT).
EXIT_OK = 0
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130


def main() -> int:
    try:
        from posecoach.cli import main as run
    except KeyboardInterrupt:
        sys.stderr.write("posecoach: interrupted\n")
        return EXIT_INTERRUPTED
    return run()
