"""Uploaded files (a clip or a photo from the browser) as posecoach sources, read from memory.

Nothing an upload holds is written to disk on Linux (an anonymous memory file stands in for
a path); errors are one line naming the upload, never the in-memory path behind it.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

from posecoach.sources import MediaKind, SourceError, VideoFileSource, media_kind, open_source


@contextmanager
def in_memory_file(data: bytes, suffix: str = "") -> Iterator[str]:
    """A path other libraries can open that holds ``data`` without writing it to disk.

    Linux: an anonymous memory file (``memfd``) seen through ``/proc/self/fd``. Elsewhere: a
    temporary file removed when the block ends.
    """
    if hasattr(os, "memfd_create") and os.path.isdir("/proc/self/fd"):
        fd = os.memfd_create("posecoach-upload")
        try:
            view = memoryview(data)
            while view:
                n = os.write(fd, view)
                view = view[n:]
            os.lseek(fd, 0, os.SEEK_SET)
            yield f"/proc/self/fd/{fd}"
        finally:
            os.close(fd)
        return
    f = tempfile.NamedTemporaryFile(suffix=suffix, delete=False)  # noqa: SIM115
    try:
        with f:
            f.write(data)
        yield f.name
    finally:
        try:
            os.unlink(f.name)
        except OSError:
            pass


def looks_like_photo(data: bytes, name: str = "") -> bool:
    """True when an upload is a photo, not a video: decided by its content exactly as for a
    file (:func:`~posecoach.sources.media_kind`), so an animated GIF is a clip in the app as
    on the command line, and ``photo.mp4`` holding a JPEG is a photo."""
    return media_kind(data, name) is MediaKind.PHOTO


@contextmanager
def open_upload(data: bytes, name: str) -> Iterator[VideoFileSource]:
    """An uploaded clip as a :class:`~posecoach.sources.VideoFileSource`, read from memory.

    Errors are one line naming the upload (never the in-memory path behind it).

    Raises:
        SourceError: empty, a photo, or not a video posecoach can read.
    """
    if not data:
        raise SourceError(f"{name}: empty file (0 bytes)")
    if looks_like_photo(data, name):
        raise SourceError(f"{name}: is a photo, not a video (use Snapshot for photos)")
    suffix = os.path.splitext(name)[1].lower()
    with in_memory_file(data, suffix) as path:
        try:
            source = open_source(path)
        except SourceError as e:
            raise SourceError(str(e).replace(path, name)) from None
        try:
            if source.is_image:
                raise SourceError(f"{name}: is a photo, not a video (use Snapshot for photos)")
            yield source
        finally:
            source.close()
