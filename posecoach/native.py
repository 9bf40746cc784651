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


# -- keeping MediaPipe's native code off the network -------------------------------------------
#: A proxy nobody can listen on: loopback port 0. MediaPipe's bundled libcurl is sent there,
#: so every request it makes fails at once, on this machine, without even a DNS lookup.
DEAD_PROXY = "http://127.0.0.1:0"
#: Hosts that still go direct (Python clients talking to the local Streamlit server).
LOOPBACK_HOSTS = "localhost,127.0.0.1,::1"
_PROXY_VARIABLES = ("https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY")
_NO_PROXY_VARIABLES = ("no_proxy", "NO_PROXY")


_offline = False


def keep_native_code_offline() -> None:
    """Make MediaPipe's native HTTP client unable to reach anything, for this process only.

    Since 0.10.22 the MediaPipe wheels upload usage logs to ``play.googleapis.com`` from
    ``libmediapipe.so`` (a "clearcut" uploader on a background thread; google-ai-edge/mediapipe
    issue 6291) with a statically linked libcurl, which Python's socket hooks cannot see and no
    option turns off. libcurl reads the standard proxy variables at request time, so pointing
    them at :data:`DEAD_PROXY` makes every upload fail locally (``tests/test_network.py`` checks
    this with ``strace``). posecoach itself never connects anywhere, so replacing a proxy the
    user set costs nothing in this process, while keeping it would route the uploads through
    it; ``no_proxy`` is replaced too, since ``no_proxy=*`` would send them direct. The
    environment of the shell that started posecoach is not touched. Done once per process,
    before MediaPipe is loaded (``setenv`` must not race the uploader thread's ``getenv``).
    """
    global _offline
    if _offline:
        return
    _offline = True
    for name in _PROXY_VARIABLES:
        os.environ[name] = DEAD_PROXY
    for name in _NO_PROXY_VARIABLES:
        os.environ[name] = LOOPBACK_HOSTS


@contextlib.contextmanager
def matplotlib_cache_outside_home() -> Iterator[None]:
    """While MediaPipe is imported, point matplotlib's cache at a temporary folder.

    MediaPipe's vision package imports ``matplotlib.pyplot``, which writes a font list to
    ``~/.cache/matplotlib`` on first use. Unless the user chose a folder (``MPLCONFIGDIR``),
    matplotlib gets a fresh temporary one that is removed as soon as the import is done
    (matplotlib has read its font list into memory by then) and the variable is restored, so
    nothing is left in the user's home or the temporary folder. Costs ~0.1-0.5 s per process
    (building the font list).
    """
    if os.environ.get("MPLCONFIGDIR") or "matplotlib.font_manager" in sys.modules:
        yield
        return
    import logging
    import shutil
    import tempfile

    # Its "could not save font_manager cache" (a full disk) would break the one-line promise.
    mpl_log = logging.getLogger("matplotlib")
    level = mpl_log.level
    mpl_log.setLevel(logging.ERROR)
    try:
        folder = tempfile.mkdtemp(prefix="posecoach-matplotlib-")
    except OSError:  # no room even for a folder: matplotlib falls back on its own
        folder = None
    if folder is not None:
        os.environ["MPLCONFIGDIR"] = folder
    try:
        yield
    finally:
        mpl_log.setLevel(level)
        if folder is not None:
            os.environ.pop("MPLCONFIGDIR", None)
            shutil.rmtree(folder, ignore_errors=True)
