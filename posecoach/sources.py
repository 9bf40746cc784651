"""Frames from an image, a video file or a camera, with clear one-line errors.

Every source yields :class:`Frame` values (a BGR uint8 image, its 0-based index and its time
in milliseconds). Videos are decoded strictly sequentially: seeking by frame number lands on
the wrong frame in some containers.
"""

from __future__ import annotations

import enum
import io
import math
import os
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from posecoach.files import FileRefused, check_regular_file, read_capped

#: Photos declaring more pixels than this are refused before decoding (decompression bombs);
#: 64 megapixels covers every common camera (a 61 MP full-frame sensor, 48/50 MP phones).
MAX_DECODE_PIXELS = 64_000_000
#: Baseline JPEGs are decoded at 1/2, 1/4 or 1/8 scale inside libjpeg (no full-size buffer),
#: so larger ones are taken up to this (200 MP phone photos).
MAX_JPEG_PIXELS = 256_000_000
#: Video frames larger than this are refused when the file is opened (8K is 33 megapixels).
MAX_VIDEO_PIXELS = MAX_DECODE_PIXELS
#: Photo files larger than this are not read into memory.
MAX_IMAGE_FILE_BYTES = 256 * 2**20
#: Images larger than this many pixels are decoded at reduced size (bounded memory).
MAX_IMAGE_PIXELS = 4096 * 4096
#: Camera numbers OpenCV takes as plain indices (from 100 up they select a capture back end).
MAX_CAMERA_INDEX = 99

# OpenCV's FFmpeg backend reads these when it first loads; they keep its native warnings
# ("moov atom not found", ...) out of the one-line errors we promise. OpenCV's own bound on
# decoded pixels is read at the first decode: a second guard for formats Pillow cannot size.
os.environ.setdefault("OPENCV_LOG_LEVEL", "ERROR")
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
os.environ.setdefault("OPENCV_IO_MAX_IMAGE_PIXELS", str(MAX_DECODE_PIXELS))

import cv2  # noqa: E402
import numpy as np  # noqa: E402

IMAGE_EXTENSIONS = frozenset(
    {".jpg", ".jpeg", ".jfif", ".png", ".bmp", ".webp", ".tif", ".tiff", ".jp2", ".pgm", ".ppm", ".pbm", ".pnm",
     ".sr", ".ras", ".heic", ".heif", ".avif"}
)  # fmt: skip
_WHAT = "an image or video file"
_UNREADABLE_IMAGE = "not an image posecoach can read (corrupt, truncated or unsupported format)"


class SourceError(ValueError):
    """A file or camera posecoach cannot read. The message is one line naming it and why."""


class MediaKind(str, enum.Enum):
    """What a file holds: one picture or a sequence of frames."""

    PHOTO = "photo"
    VIDEO = "video"


@dataclass(frozen=True, eq=False)
class Frame:
    """One frame: ``image`` BGR uint8 ``(H, W, 3)``, ``index`` 0-based, ``t_ms`` milliseconds."""

    image: np.ndarray
    index: int
    t_ms: float


# -- photo or video, by content ------------------------------------------------------------------
#: First bytes of still-image formats OpenCV decodes.
_PHOTO_MAGIC = (
    b"\xff\xd8\xff",  # JPEG / JFIF / EXIF
    b"\x89PNG\r\n\x1a\n",
    b"II*\x00", b"MM\x00*",  # TIFF
    b"BM",  # BMP
    b"\x00\x00\x00\x0cjP  \r\n\x87\n", b"\xff\x4f\xff\x51",  # JPEG 2000 file / codestream
    b"\x59\xa6\x6a\x95",  # Sun raster
    b"#?RADIANCE", b"#?RGBE",  # Radiance HDR
    b"PF\n", b"Pf\n",  # portable float map
)  # fmt: skip
#: ISO-BMFF brands of still images (HEIC/HEIF/AVIF photos share the container with MP4).
_PHOTO_BRANDS = (b"heic", b"heix", b"heim", b"heis", b"mif1", b"avif")
#: First bytes of video containers FFmpeg reads.
_VIDEO_MAGIC = (
    b"\x1a\x45\xdf\xa3",  # Matroska / WebM
    b"OggS", b"FLV\x01",
    b"\x30\x26\xb2\x75\x8e\x66\xcf\x11",  # ASF / WMV
    b"\x00\x00\x01\xba", b"\x00\x00\x01\xb3",  # MPEG program stream / elementary video
)  # fmt: skip


def _sniff(head: bytes) -> MediaKind | None:
    """PHOTO or VIDEO from a file's first bytes (at least 16), or None when they say nothing."""
    if head.startswith(_PHOTO_MAGIC) or (head[:1] == b"P" and head[1:2] in b"1234567" and head[2:3].isspace()):
        return MediaKind.PHOTO
    if head[:4] == b"RIFF":
        return {b"WEBP": MediaKind.PHOTO, b"AVI ": MediaKind.VIDEO}.get(head[8:12])
    if head[4:8] == b"ftyp":
        return MediaKind.PHOTO if head[8:12] in _PHOTO_BRANDS else MediaKind.VIDEO
    if head.startswith(_VIDEO_MAGIC) or (head[:1] == b"\x47" and head[188:189] == b"\x47"):  # MPEG-TS packets
        return MediaKind.VIDEO
    return None


def _gif_kind(data: bytes | Path) -> MediaKind:
    """An animated GIF is a clip, a still one a photo."""
    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(io.BytesIO(data) if isinstance(data, bytes) else data) as im:
                return MediaKind.VIDEO if getattr(im, "is_animated", False) else MediaKind.PHOTO
    except Exception:  # noqa: BLE001 - a broken GIF: let the photo decoder say so
        return MediaKind.PHOTO


def media_kind(data: bytes, name: str = "") -> MediaKind:
    """Whether ``data`` (a whole upload, or at least its first 200 bytes) is a photo or a video.

    Decided by content (magic numbers), so ``photo.jfif``, ``photo.heic`` holding a JPEG or a
    photo without an extension are photos; the extension of ``name`` decides only when the
    bytes say nothing. An animated GIF is a video when the whole file is given. The app calls
    this for uploads; :func:`open_source` makes the same decision for files.
    """
    head = bytes(data[:256])
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return _gif_kind(bytes(data)) if len(data) > len(head) else MediaKind.PHOTO
    kind = _sniff(head)
    if kind is not None:
        return kind
    return MediaKind.PHOTO if os.path.splitext(name)[1].lower() in IMAGE_EXTENSIONS else MediaKind.VIDEO


# -- photos --------------------------------------------------------------------------------------
def _check_file(path: Path, max_bytes: int | None = None) -> None:
    try:
        check_regular_file(path, _WHAT, max_bytes=max_bytes)
    except FileRefused as e:
        raise SourceError(str(e)) from None


def _declared_size(data: bytes) -> tuple[str, int, int, bool] | None:
    """``(format, width, height, progressive)`` from an image's header, without decoding it;
    None when Pillow does not know the format (OpenCV's own pixel bound then applies)."""
    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Pillow's DecompressionBombWarning: we decide below
            with Image.open(io.BytesIO(data)) as im:
                w, h = im.size
                return str(im.format), int(w), int(h), bool(im.info.get("progressive") or im.info.get("progression"))
    except Image.DecompressionBombError as e:  # over twice Pillow's own limit: beyond ours too
        found = re.search(r"\((\d+) pixels\)", str(e))
        pixels = int(found.group(1)) if found else MAX_JPEG_PIXELS + 1
        return "", pixels, 1, False
    except Exception:  # noqa: BLE001 - unknown or broken header: OpenCV decides
        return None


def _too_large(pixels: int, limit: int) -> str:
    return f"image too large ({pixels / 1e6:,.0f} megapixels; posecoach reads photos up to {limit / 1e6:.0f} megapixels)"


def decode_image_bytes(data: bytes, name: str) -> np.ndarray:
    """Decode a photo's bytes to upright BGR uint8 (EXIF orientation applied, alpha dropped).

    The declared pixel size is checked before anything is decoded: more than
    :data:`MAX_DECODE_PIXELS` is refused (baseline JPEGs up to :data:`MAX_JPEG_PIXELS` are
    decoded at reduced scale instead), so a small file claiming a gigantic picture costs
    nothing. The result has at most :data:`MAX_IMAGE_PIXELS` pixels (downscaled otherwise).
    CLI and app both decode through here.

    Raises:
        SourceError: ``"<name>: <reason>"``: empty, too large, or not an image.
    """
    if len(data) == 0:
        raise SourceError(f"{name}: empty file (0 bytes)")
    flags = cv2.IMREAD_COLOR
    declared = _declared_size(data)
    if declared is not None:
        fmt, w, h, progressive = declared
        pixels = w * h
        jpeg = fmt == "JPEG" and not progressive
        limit = MAX_JPEG_PIXELS if jpeg else MAX_DECODE_PIXELS
        if pixels > limit:
            raise SourceError(f"{name}: {_too_large(pixels, limit)}")
        if jpeg and pixels > MAX_IMAGE_PIXELS:
            # libjpeg scales while decoding (in the DCT): the full-size picture never exists.
            scale = next(s for s in (2, 4, 8) if pixels <= MAX_IMAGE_PIXELS * s * s or s == 8)
            flags = {2: cv2.IMREAD_REDUCED_COLOR_2, 4: cv2.IMREAD_REDUCED_COLOR_4, 8: cv2.IMREAD_REDUCED_COLOR_8}[scale]
    try:
        image = cv2.imdecode(np.frombuffer(data, np.uint8), flags)
    except cv2.error as e:
        if "MAX_IMAGE_PIXELS" in str(e):
            raise SourceError(f"{name}: image too large (posecoach reads photos up to "
                              f"{MAX_DECODE_PIXELS / 1e6:.0f} megapixels)") from None  # fmt: skip
        image = None
    if image is None or image.size == 0:
        raise SourceError(f"{name}: {_UNREADABLE_IMAGE}")
    h, w = image.shape[:2]
    if h * w > MAX_IMAGE_PIXELS:
        # Keep what flows downstream bounded; the tracker downscales further for inference.
        scale = math.sqrt(MAX_IMAGE_PIXELS / (h * w))
        image = cv2.resize(image, (max(1, int(w * scale)), max(1, int(h * scale))), interpolation=cv2.INTER_AREA)
    return image


def read_image(path: str | os.PathLike[str]) -> np.ndarray:
    """Read a photo file as upright BGR uint8; see :func:`decode_image_bytes`.

    Raises:
        SourceError: missing, not a regular file, empty, too large, unreadable or not an image.
    """
    try:
        data = read_capped(path, MAX_IMAGE_FILE_BYTES, _WHAT)
    except FileRefused as e:
        raise SourceError(str(e)) from None
    return decode_image_bytes(data, str(path))


class ImageSource:
    """A single photo as a one-frame source."""

    is_image = True
    fps = None
    n_frames = 1

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.name = str(path)
        self.image = read_image(path)

    def __iter__(self) -> Iterator[Frame]:
        yield Frame(self.image, 0, 0.0)

    def close(self) -> None:
        pass


class VideoFileSource:
    """A video file decoded sequentially with OpenCV.

    ``t_ms`` comes from the container's timestamps when they increase, otherwise from the
    frame index and the nominal frame rate (broken or variable timestamps are repaired).
    """

    is_image = False

    def __init__(self, path: str | os.PathLike[str]) -> None:
        path = Path(path)
        _check_file(path)
        self.name = str(path)
        self._cap = cv2.VideoCapture(str(path))
        if not self._cap.isOpened():
            self._cap.release()
            raise SourceError(f"{path}: not a video or image posecoach can read (corrupt, truncated or unsupported format)")
        w, h = int(self._cap.get(cv2.CAP_PROP_FRAME_WIDTH) or 0), int(self._cap.get(cv2.CAP_PROP_FRAME_HEIGHT) or 0)
        if w * h > MAX_VIDEO_PIXELS:  # checked before the first frame is decoded
            self._cap.release()
            raise SourceError(f"{path}: video frames too large ({w}x{h}; posecoach reads video up to "
                              f"{MAX_VIDEO_PIXELS / 1e6:.0f} megapixels per frame)")  # fmt: skip
        fps = self._cap.get(cv2.CAP_PROP_FPS)
        self.fps = float(fps) if math.isfinite(fps) and 1.0 <= fps <= 1000.0 else None
        count = int(self._cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        self.n_frames = count if count > 0 else None
        ok, first = self._cap.read()
        if not ok or first is None or first.size == 0:
            self._cap.release()
            raise SourceError(f"{path}: video has no readable frames (corrupt or truncated)")
        self._first: np.ndarray | None = first
        self._first_ms = self._cap.get(cv2.CAP_PROP_POS_MSEC)
        self.decoded = 0

    @property
    def ended_early(self) -> bool:
        """After iterating: the container promised clearly more frames than could be decoded
        (a truncated file). Frame counts in headers are approximate, hence the 10% slack."""
        return self.n_frames is not None and self.decoded < 0.9 * self.n_frames

    def __iter__(self) -> Iterator[Frame]:
        step = 1000.0 / (self.fps or 30.0)
        last_t = -math.inf
        index = 0
        frame, pos = self._first, self._first_ms
        self._first = None
        while frame is not None:
            t = pos if math.isfinite(pos) and pos > last_t and (index == 0 or pos > 0) else max(index * step, last_t + step)
            last_t = t
            yield Frame(frame, index, t)
            index += 1
            self.decoded = index
            ok, frame = self._cap.read()
            if not ok or frame is None or frame.size == 0:
                break
            pos = self._cap.get(cv2.CAP_PROP_POS_MSEC)

    def close(self) -> None:
        self._cap.release()


def _file_kind(path: Path) -> MediaKind | None:
    """PHOTO or VIDEO from a (checked, regular) file's content; None when it says nothing."""
    try:
        with path.open("rb") as f:
            head = f.read(256)
    except OSError as e:
        raise SourceError(f"{path}: cannot read ({e.strerror})") from None
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return _gif_kind(path)
    return _sniff(head)


def open_source(path: str | os.PathLike[str]) -> ImageSource | VideoFileSource:
    """Open a photo or a video file, deciding which by its content (see :func:`media_kind`).

    A file whose first bytes are not a known format is opened as a photo when its extension
    says so, else as a video, and as a photo if that fails.

    Raises:
        SourceError: with one line naming the file and the reason.
    """
    p = Path(path)
    _check_file(p)
    kind = _file_kind(p)
    if kind is MediaKind.PHOTO or (kind is None and p.suffix.lower() in IMAGE_EXTENSIONS):
        return ImageSource(p)
    try:
        return VideoFileSource(p)
    except SourceError as video_error:
        if kind is MediaKind.VIDEO:
            raise
        try:
            return ImageSource(p)
        except SourceError:
            raise video_error from None


class CameraSource:
    """A local camera through OpenCV. Iterating yields a :class:`Frame`, or None when a read
    fails (unplugged, laptop asleep): the caller keeps its state and tries again.

    ``t_ms`` is wall-clock time since the source opened.
    """

    is_image = False
    n_frames = None

    def __init__(self, index: int = 0, *, retry_s: float = 0.5) -> None:
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index <= MAX_CAMERA_INDEX:
            # OpenCV crashes on negative numbers and overflows on huge ones; from 100 up a
            # number selects a capture back end, not a camera.
            raise SourceError(f"camera {index}: not a camera number (expected 0 to {MAX_CAMERA_INDEX})")
        self.name = f"camera {index}"
        self.index = index
        self.retry_s = retry_s
        self._cap = cv2.VideoCapture(index)
        if not self._cap.isOpened():
            self._cap.release()
            raise SourceError(f"camera {index}: not available (no camera, in use by another program, or permission denied)")
        fps = self._cap.get(cv2.CAP_PROP_FPS)
        self.fps = float(fps) if math.isfinite(fps) and fps > 0 else None
        self._closed = False

    def __iter__(self) -> Iterator[Frame | None]:
        import time

        start = time.monotonic()
        index = 0
        while not self._closed:
            try:
                ok, image = self._cap.read()
            except cv2.error:  # a driver error is a hiccup like any other failed read
                ok, image = False, None
            if not ok or image is None or image.size == 0:
                yield None
                time.sleep(self.retry_s)
                if not self._cap.isOpened():
                    self._cap.open(self.index)
                continue
            yield Frame(image, index, (time.monotonic() - start) * 1000.0)
            index += 1

    def close(self) -> None:
        self._closed = True
        self._cap.release()
