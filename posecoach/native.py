"""Keep native libraries' log lines off the terminal.

MediaPipe (glog, TFLite) and FFmpeg write straight to file descriptor 2, bypassing Python;
``GLOG_minloglevel`` does not silence them. A CLI that promises one clear line on error has to
point fd 2 elsewhere while Python's own ``sys.stderr`` keeps writing to the real terminal.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator


@contextlib.contextmanager
def native_stderr_silenced(enabled: bool) -> Iterator[None]:
    """Point fd 2 at /dev/null for native libraries while Python keeps the real stderr."""
    if not enabled:
        yield
        return
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):
        yield
        return
    old_stderr = sys.stderr
    try:
        python_uses_fd2 = sys.stderr.fileno() == 2
    except (OSError, ValueError, AttributeError):  # already redirected (e.g. captured by a test)
        python_uses_fd2 = False
    if python_uses_fd2:
        sys.stderr = open(saved, "w", buffering=1, encoding="utf-8", errors="replace", closefd=False)  # noqa: SIM115
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    os.close(devnull)
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        sys.stderr = old_stderr
