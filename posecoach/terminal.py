"""The command line's side of the terminal: printing safely, and stopping cleanly.

* :func:`say` prints one line with control characters escaped (:func:`printable`: a target's
  cue or a file name must not drive the terminal); a full or broken standard output is one
  :class:`UsageError`, not a traceback at exit.
* :func:`stop_on_signals` makes SIGTERM, SIGHUP and SIGQUIT unwind like Ctrl-C
  (:class:`Stopped`), so an output being written is removed, not left half-written.
* :func:`standard_streams_open` gives a closed stdin/stdout/stderr ``/dev/null``.

Standard library only: the command line imports this before it can turn a Ctrl-C into one line.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Callable
from typing import IO

#: Signals that stop posecoach as Ctrl-C does (no partial output left); exit status 128+N.
STOP_SIGNALS = ("SIGTERM", "SIGHUP", "SIGQUIT")
#: Unicode format characters that reorder text on a terminal (bidirectional overrides).
_BIDI = frozenset("\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


class UsageError(Exception):
    """Bad input the user can fix; the message is printed as one line."""


class Stopped(BaseException):
    """A stop signal (SIGTERM, SIGHUP, SIGQUIT) arrived: unwind as Ctrl-C does."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


# -- printing ------------------------------------------------------------------------------------
def printable(text: str) -> str:
    """``text`` safe to print on a terminal: whitespace controls (newline, tab...) become a
    space; any other control character (an escape sequence's ESC, a bell, a bidirectional
    override) is shown escaped as ``\\x1b`` / ``\\u202e``. Target files and file names are
    written by anyone; their bytes must not drive the terminal."""
    if text.isprintable():
        return text
    out = []
    for c in text:
        code = ord(c)
        if c in "\t\n\r\v\f":
            out.append(" ")
        elif code < 0x20 or 0x7F <= code < 0xA0 or c in _BIDI:
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            out.append(c)  # printable, or a space separator (no-break space...)
    return "".join(out)


def write_failed(e: OSError) -> UsageError:
    """Standard output could not be written (a full device, an I/O error): fd 1 is pointed at
    /dev/null so Python's flush at exit does not fail again, and the error is one line."""
    from posecoach.files import write_reason

    silence_stdout()
    return UsageError(f"standard output: cannot write ({write_reason(e)})")


def silence_stdout() -> None:
    """Point file descriptor 1 at /dev/null: what could not be written must not fail again
    when Python flushes standard output at exit."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


def say(text: str, *, err: bool = False, flush: bool = False) -> None:
    """Print one line (control characters escaped) to stdout, or stderr with ``err``.

    A closed stream prints nothing. A full disk or a device error on stdout is a
    :class:`UsageError`; a reader that left raises :class:`BrokenPipeError` (not an error).
    """
    stream = sys.stderr if err else sys.stdout
    if stream is None:
        return
    try:
        print(printable(text), file=stream, flush=flush)
    except BrokenPipeError:
        raise
    except OSError as e:
        if err:
            return  # nowhere left to say it
        raise write_failed(e) from None


def print_raw(line: str) -> None:
    """A line already made printable (a calibration prompt may start with a deliberate bell)."""
    if sys.stdout is not None:
        with contextlib.suppress(BrokenPipeError):
            print(line, flush=True)


def flush_stdout() -> None:
    """Flush standard output now, while an error can still be one line."""
    if sys.stdout is None:
        return
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        raise
    except OSError as e:
        raise write_failed(e) from None


def is_tty(stream: IO[str] | None) -> bool:
    try:
        return stream is not None and stream.isatty()
    except (OSError, ValueError):
        return False


# -- stopping ------------------------------------------------------------------------------------
def _raise_stopped(signum: int, _frame: object) -> None:
    # Later stop signals are ignored while this one unwinds (the cleanup must finish).
    for name in STOP_SIGNALS:
        with contextlib.suppress(AttributeError, ValueError, OSError):
            signal.signal(getattr(signal, name), signal.SIG_IGN)
    raise Stopped(signum)


def stop_on_signals() -> Callable[[], None]:
    """SIGTERM, SIGHUP and SIGQUIT unwind like Ctrl-C (an output being written is removed);
    returns what puts the previous handlers back. A signal the user ignores (``nohup``) stays
    ignored; only the main thread can set handlers."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    previous = {}
    for name in STOP_SIGNALS:
        sig = getattr(signal, name, None)
        if sig is None:
            continue
        with contextlib.suppress(ValueError, OSError):
            old = signal.getsignal(sig)
            if old is not signal.SIG_IGN:
                signal.signal(sig, _raise_stopped)
                previous[sig] = old

    def restore() -> None:
        for sig, old in previous.items():
            with contextlib.suppress(ValueError, OSError, TypeError):
                signal.signal(sig, old if old is not None else signal.SIG_DFL)

    return restore


def standard_streams_open() -> None:
    """Give a closed stdin, stdout or stderr (``posecoach ... >&-``) /dev/null, so no file
    posecoach opens takes its number and receives what native code prints there."""
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            with contextlib.suppress(OSError):
                devnull = os.open(os.devnull, os.O_RDWR)
                if devnull != fd:
                    os.dup2(devnull, fd)
                    os.close(devnull)
