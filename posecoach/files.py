"""Reading files a person names: regular files only, a byte cap, and a one-line reason.

Photos, videos, target looks and calibration profiles all come from paths a person types or
picks. Such a path can name a FIFO (reading it waits forever), a device (``/dev/zero`` never
ends, ``/dev/urandom`` has no size), a folder, a symbolic link loop or a name the system
refuses. :func:`check_regular_file` says which in words, and :func:`read_capped` reads a
regular file without ever waiting on it or reading past a cap.

Both raise :class:`FileRefused`, whose message is ``"<path>: <reason>"``; ``reason`` is kept
so callers can wrap it in their own error (``SourceError``, ``TargetError``, ...).
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

#: The longest single file or folder name most file systems accept (bytes).
NAME_MAX = 255


class FileRefused(ValueError):
    """A path that cannot be read as a regular file; ``reason`` says why in a few words."""

    def __init__(self, path: str | os.PathLike[str], reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


class FieldError(ValueError):
    """A file a person gave whose content cannot be used: ``"<file>: <field>: <reason>"``
    (parts left out when they do not apply); the parts are kept as ``path``, ``field`` and
    ``reason``. The base of the target, routine and readings errors."""

    def __init__(self, path: str | os.PathLike[str], field: str, reason: str) -> None:
        self.path = str(path)
        self.field = field
        self.reason = reason
        super().__init__(": ".join(part for part in (self.path, field, reason) if part))


def human_size(n: int) -> str:
    """``512 bytes``, ``64 KiB``, ``1.5 MiB``, ``293 KiB``, ``2 GiB``."""
    if n < 1024:
        return f"{n} bytes"
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        n /= 1024
        if n < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if n >= 100 or n == int(n) else f"{n:.1f} {unit}"
    raise AssertionError("unreachable")


def _os_reason(path: str | os.PathLike[str], e: OSError) -> str:
    code = e.errno
    if code == errno.ENOENT:
        return "file not found"
    if code == errno.ELOOP:
        return "symbolic link loop (the path never reaches a file)"
    if code == errno.ENAMETOOLONG:
        if any(len(os.fsencode(part)) > NAME_MAX for part in Path(path).parts):
            return f"a name in the path is longer than {NAME_MAX} bytes"
        return "path too long"
    if code == errno.ENOTDIR:
        return "a part of the path is not a folder"
    if code in (errno.EACCES, errno.EPERM):
        return "permission denied"
    return f"cannot read ({e.strerror or e})"


def _kind_reason(mode: int, what: str) -> str | None:
    """Why a file of this mode is not read, or None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return f"is a directory, not {what}"
    if stat.S_ISFIFO(mode):
        return f"is a named pipe (FIFO), not {what}"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return f"is a device, not {what}"
    if stat.S_ISSOCK(mode):
        return f"is a socket, not {what}"
    return f"is a special file, not {what}"


def check_regular_file(path: str | os.PathLike[str], what: str = "a file", *, max_bytes: int | None = None) -> os.stat_result:
    """The ``stat`` of ``path`` (symbolic links followed) if it is a non-empty regular file.

    Args:
        path: the file.
        what: how the expected file is named in messages ("an image or video file").
        max_bytes: refuse larger files.

    Raises:
        FileRefused: missing, unreadable, a folder, FIFO, device or socket, a symbolic link
            loop, a name too long, empty, or over ``max_bytes``.
    """
    try:
        st = os.stat(path)
    except OSError as e:
        raise FileRefused(path, _os_reason(path, e)) from None
    except ValueError:  # an embedded NUL byte
        raise FileRefused(path, "invalid path (contains a NUL byte)") from None
    reason = _kind_reason(st.st_mode, what)
    if reason is not None:
        raise FileRefused(path, reason)
    if st.st_size == 0:
        raise FileRefused(path, "empty file (0 bytes)")
    if max_bytes is not None and st.st_size > max_bytes:
        raise FileRefused(path, f"file too large ({human_size(st.st_size)}; at most {human_size(max_bytes)})")
    return st


def check_output_file(path: str | os.PathLike[str], what: str = "a file to write") -> Path:
    """Where to write ``path``, checked before any work is done: the file it names (a symbolic
    link is followed, so the link stays and its file is replaced).

    ``path`` may be missing (it is created) or a regular file (it is replaced); its folder
    must exist. Whether the folder is writable shows when the file is opened.

    Raises:
        FileRefused: a folder, FIFO, device or socket, a symbolic link loop, a name too long,
            a missing folder, or a part of the path that is not a folder.
    """
    p = Path(path)
    if any(len(os.fsencode(part)) > NAME_MAX for part in p.parts):
        raise FileRefused(path, f"a name in the path is longer than {NAME_MAX} bytes")
    try:
        st: os.stat_result | None = os.stat(p)
    except FileNotFoundError:
        st = None
    except OSError as e:
        raise FileRefused(path, _os_reason(path, e)) from None
    except ValueError:  # an embedded NUL byte
        raise FileRefused(path, "invalid path (contains a NUL byte)") from None
    if st is not None:
        reason = _kind_reason(st.st_mode, what)
        if reason is not None:
            raise FileRefused(path, reason)
    target = Path(os.path.realpath(p)) if p.is_symlink() else p
    try:
        folder = os.stat(target.parent)
    except FileNotFoundError:
        raise FileRefused(path, "output folder does not exist") from None
    except OSError as e:
        raise FileRefused(path, _os_reason(path, e)) from None
    if not stat.S_ISDIR(folder.st_mode):
        raise FileRefused(path, "a part of the path is not a folder")
    return target


def write_reason(e: OSError) -> str:
    """Why a write failed, in words: ``no space left on device``, ``permission denied``..."""
    text = e.strerror or str(e) or type(e).__name__
    return text[:1].lower() + text[1:]


def read_capped(path: str | os.PathLike[str], max_bytes: int, what: str = "a file") -> bytes:
    """The bytes of a regular file of at most ``max_bytes`` bytes.

    The file is opened without blocking (a FIFO swapped in after the check cannot hang the
    read) and checked again on the open descriptor.

    Raises:
        FileRefused: as :func:`check_regular_file`, or when it cannot be read.
    """
    check_regular_file(path, what, max_bytes=max_bytes)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as e:
        raise FileRefused(path, _os_reason(path, e)) from None
    try:
        reason = _kind_reason(os.fstat(fd).st_mode, what)
        if reason is not None:
            raise FileRefused(path, reason)
        chunks, size = [], 0
        while size <= max_bytes:
            chunk = os.read(fd, min(1 << 20, max_bytes + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as e:
        raise FileRefused(path, _os_reason(path, e)) from None
    finally:
        os.close(fd)
    if size > max_bytes:  # it grew after the check
        raise FileRefused(path, f"file too large (more than {human_size(max_bytes)})")
    if size == 0:
        raise FileRefused(path, "empty file (0 bytes)")
    return b"".join(chunks)
