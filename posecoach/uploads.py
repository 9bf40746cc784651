"""Uploaded files (a clip or a photo from the browser) as posecoach sources, read from memory.

Nothing an upload holds is written to disk on Linux (an anonymous memory file stands in for
a path); errors are one line naming the upload, never the in-memory path behind it.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

from posecoach.sources import IMAGE_EXTENSIONS, SourceError, VideoFileSource, open_source


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


#: First bytes of the photo formats phones, cameras and browsers produce.
_PHOTO_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a", b"II*\x00", b"MM\x00*")
#: ISO-BMFF brands of still images (HEIC/HEIF/AVIF photos share the container with mp4).
_PHOTO_BRANDS = (b"heic", b"heix", b"heim", b"heis", b"mif1", b"avif")


def looks_like_photo(data: bytes, name: str = "") -> bool:
    """True when an upload is a photo (by its extension or its first bytes), not a video."""
    ext = os.path.splitext(name)[1].lower()
    if ext in IMAGE_EXTENSIONS or ext in (".gif", ".heic", ".heif", ".avif"):
        return True
    head = bytes(data[:16])
    if head.startswith(_PHOTO_MAGIC):
        return True
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return True
    return head[4:8] == b"ftyp" and head[8:12] in _PHOTO_BRANDS


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
