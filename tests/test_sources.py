"""Frame sources: images and videos decode sequentially; bad files give one clear line."""

from __future__ import annotations

import io
import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
from skimage import data as skdata

from posecoach.sources import (
    CameraSource,
    ImageSource,
    MediaKind,
    SourceError,
    VideoFileSource,
    decode_image_bytes,
    media_kind,
    open_source,
    read_image,
)


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 20-frame 10 fps video whose frame index is written into the pixels."""
    path = tmp_path_factory.mktemp("clip") / "count.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (64, 48))
    for i in range(20):
        writer.write(np.full((48, 64, 3), i * 10, np.uint8))
    writer.release()
    return path


def test_video_frames_come_in_order_with_times(clip: Path) -> None:
    source = open_source(clip)
    assert isinstance(source, VideoFileSource) and source.fps == pytest.approx(10.0)
    frames = list(source)
    source.close()
    assert [f.index for f in frames] == list(range(20))
    assert [round(f.t_ms) for f in frames] == [i * 100 for i in range(20)]
    # Sequential decode: the pixel value written into frame i comes back in frame i.
    assert [int(round(f.image.mean() / 10)) for f in frames] == list(range(20))


def test_image_source_is_one_frame(tmp_path: Path) -> None:
    path = tmp_path / "astronaut.png"
    cv2.imwrite(str(path), cv2.cvtColor(skdata.astronaut(), cv2.COLOR_RGB2BGR))
    source = open_source(path)
    assert isinstance(source, ImageSource) and source.is_image
    (frame,) = list(source)
    assert frame.image.shape == (512, 512, 3) and frame.t_ms == 0.0


def test_image_with_alpha_grey_and_16_bit_read_as_bgr(tmp_path: Path) -> None:
    rgb = skdata.astronaut()
    bgra = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGRA)
    cv2.imwrite(str(tmp_path / "a.png"), bgra)
    cv2.imwrite(str(tmp_path / "g.png"), cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY))
    cv2.imwrite(str(tmp_path / "w.png"), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR).astype(np.uint16) * 257)
    for name in ("a.png", "g.png", "w.png"):
        image = read_image(tmp_path / name)
        assert image.shape == (512, 512, 3) and image.dtype == np.uint8, name


def test_huge_image_is_bounded(tmp_path: Path) -> None:
    path = tmp_path / "huge.jpg"
    cv2.imwrite(str(path), np.zeros((6000, 8000, 3), np.uint8))
    image = read_image(path)
    assert image.shape[0] * image.shape[1] <= 4096 * 4096
    assert image.shape[1] / image.shape[0] == pytest.approx(8000 / 6000, rel=0.01)


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_claiming(width: int, height: int) -> bytes:
    """A 69-byte PNG whose header claims ``width`` x ``height`` RGB pixels."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    data = b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", zlib.compress(b"\x00" * 4)[:12])
    return data + _png_chunk(b"IEND", b"")


def png_of_zeros(width: int, height: int) -> bytes:
    """A complete, valid grey PNG of zeros (30000x30000 packs into 3.9 MB)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    deflate = zlib.compressobj(1)
    rows = (b"\x00" * (1 + width)) * 300
    idat = b"".join(deflate.compress(rows) for _ in range(height // 300)) + deflate.compress(
        b"\x00" * (1 + width) * (height % 300)) + deflate.flush()  # fmt: skip
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", idat) + _png_chunk(b"IEND", b"")


def _bad_files(tmp: Path, clip: Path) -> list[tuple[Path, str]]:
    (tmp / "empty.mp4").write_bytes(b"")
    (tmp / "noise.mp4").write_bytes(np.random.default_rng(0).integers(0, 256, 5000, np.uint8).tobytes())
    (tmp / "notes.txt").write_text("not a picture")
    (tmp / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0" + b"\x00" * 50)
    (tmp / "cut.avi").write_bytes(clip.read_bytes()[:300])
    (tmp / "folder").mkdir()
    os.mkfifo(tmp / "pipe.mp4")
    (tmp / "loop.mp4").symlink_to(tmp / "loop.mp4")
    (tmp / "bomb.png").write_bytes(png_claiming(100_000, 100_000))
    cannot = "not a video or image posecoach can read (corrupt, truncated or unsupported format)"
    return [
        (tmp / "missing.mp4", "file not found"),
        (tmp / "empty.mp4", "empty file (0 bytes)"),
        (tmp / "noise.mp4", cannot),
        (tmp / "notes.txt", cannot),
        (tmp / "broken.jpg", "not an image posecoach can read (corrupt, truncated or unsupported format)"),
        (tmp / "cut.avi", cannot),
        (tmp / "folder", "is a directory, not an image or video file"),
        (tmp / "pipe.mp4", "is a named pipe (FIFO), not an image or video file"),
        (Path("/dev/urandom"), "is a device, not an image or video file"),
        (tmp / "loop.mp4", "symbolic link loop (the path never reaches a file)"),
        (tmp / ("x" * 256 + ".mp4"), "a name in the path is longer than 255 bytes"),
        (tmp / "bomb.png", "image too large (10,000 megapixels; posecoach reads photos up to 64 megapixels)"),
    ]


def test_bad_files_give_one_line_naming_file_and_reason(tmp_path: Path, clip: Path) -> None:
    for path, reason in _bad_files(tmp_path, clip):
        with pytest.raises(SourceError) as e:
            open_source(path)
        assert str(e.value) == f"{path}: {reason}"


class _BrokenClock:
    """A stand-in for cv2.VideoCapture whose container timestamps are broken."""

    def __init__(self, stamps: list[float]) -> None:
        self.stamps = stamps
        self.i = 0

    def read(self) -> tuple[bool, np.ndarray | None]:
        if self.i >= len(self.stamps):
            return False, None
        self.i += 1
        return True, np.zeros((4, 4, 3), np.uint8)

    def get(self, prop: int) -> float:
        return self.stamps[self.i - 1]

    def release(self) -> None:
        pass


@pytest.mark.parametrize(
    "stamps",
    [
        [0, 33, 33, 33, 100, 90, 150],  # repeated and going back
        [0, 0, 0, 0, 0],  # no timestamps at all
        [0, float("nan"), 66, float("inf"), 132],  # garbage
        [0, 10, 70, 75, 200],  # variable frame rate: kept as it is
    ],
)
def test_broken_or_variable_timestamps_are_repaired(clip: Path, stamps: list[float]) -> None:
    source = VideoFileSource(clip)
    source._cap.release()
    source._cap = _BrokenClock(stamps)
    source._first, source._first_ms = source._cap.read()[1], source._cap.get(0)
    times = [f.t_ms for f in source]
    assert len(times) == len(stamps)
    assert all(b > a for a, b in zip(times, times[1:])), times
    if stamps == [0, 10, 70, 75, 200]:
        assert times == stamps


# -- decompression bombs ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def zeros_30k(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("bomb") / "zeros.png"
    path.write_bytes(png_of_zeros(30_000, 30_000))
    return path


def test_a_png_claiming_a_gigantic_size_is_refused_from_its_header(zeros_30k: Path) -> None:
    assert len(png_claiming(100_000, 100_000)) == 69
    with pytest.raises(SourceError) as e:
        decode_image_bytes(png_claiming(100_000, 100_000), "upload.png")
    assert str(e.value) == "upload.png: image too large (10,000 megapixels; posecoach reads photos up to 64 megapixels)"
    with pytest.raises(SourceError) as e:
        decode_image_bytes(zeros_30k.read_bytes(), "zeros.png")
    assert str(e.value) == "zeros.png: image too large (900 megapixels; posecoach reads photos up to 64 megapixels)"


# VmHWM is this process's own peak (ru_maxrss would carry pytest's across fork and exec).
_PEAK = """
import re, sys
from posecoach.cli import main
code = main(["analyze", sys.argv[1]])
peak_kib = int(re.search(r"VmHWM:\\s+(\\d+) kB", open("/proc/self/status").read()).group(1))
print(code, peak_kib // 1024, file=sys.stderr)
"""


@pytest.mark.parametrize("bomb", ["zeros", "header"])
def test_the_cli_refuses_a_bomb_in_one_line_without_allocating_it(bomb: str, zeros_30k: Path, tmp_path: Path) -> None:
    """Today's main decoded the 30000x30000 PNG of zeros: 31 s and 5.2 GB."""
    path = zeros_30k
    if bomb == "header":
        path = tmp_path / "header.png"
        path.write_bytes(png_claiming(100_000, 100_000))
    proc = subprocess.run([sys.executable, "-c", _PEAK, str(path)], capture_output=True, text=True, timeout=300)
    message, stats = proc.stderr.splitlines()
    megapixels = "900" if bomb == "zeros" else "10,000"
    assert message == (f"posecoach: error: {path}: image too large ({megapixels} megapixels; "
                       "posecoach reads photos up to 64 megapixels)")  # fmt: skip
    code, peak_mib = map(int, stats.split())
    assert code == 2 and peak_mib < 600, f"peak RSS {peak_mib} MiB"  # the image alone would be 2575 MiB


def test_a_large_jpeg_is_decoded_at_reduced_scale_and_upright() -> None:
    """A 20-megapixel phone photo stored sideways: libjpeg decodes it at half size, EXIF applied."""
    from PIL import Image

    stored = np.zeros((4000, 5000, 3), np.uint8)
    stored[:, :100] = 255  # the left edge, which is the top once turned upright
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to view
    buf = io.BytesIO()
    Image.fromarray(stored).save(buf, "JPEG", exif=exif, quality=90)
    image = decode_image_bytes(buf.getvalue(), "phone.jpg")
    assert image.shape == (2500, 2000, 3)
    assert image[:40].mean() > 250 and image[60:].max() < 30


# -- photo or video, by content -----------------------------------------------------------------
def _astronaut_jpeg() -> bytes:
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(skdata.astronaut(), cv2.COLOR_RGB2BGR))
    return buf.tobytes()


@pytest.mark.parametrize("name", ["photo.jfif", "photo.heic", "photo", "photo.mp4", "photo.mov"])
def test_a_photo_is_a_photo_whatever_its_name(tmp_path: Path, name: str) -> None:
    data = _astronaut_jpeg()
    assert media_kind(data, name) is MediaKind.PHOTO
    (tmp_path / name).write_bytes(data)
    source = open_source(tmp_path / name)
    assert isinstance(source, ImageSource) and source.image.shape == (512, 512, 3)


def test_a_video_is_a_video_whatever_its_name(tmp_path: Path) -> None:
    clip = tmp_path / "clip.mp4"
    writer = cv2.VideoWriter(str(clip), cv2.VideoWriter_fourcc(*"mp4v"), 10.0, (64, 48))
    for i in range(5):
        writer.write(np.full((48, 64, 3), i * 40, np.uint8))
    writer.release()
    for name in ("clip.jpg", "clip.png", "clip"):
        (tmp_path / name).write_bytes(clip.read_bytes())
        assert media_kind(clip.read_bytes(), name) is MediaKind.VIDEO
        source = open_source(tmp_path / name)
        assert isinstance(source, VideoFileSource) and len(list(source)) == 5
        source.close()


def test_bytes_that_say_nothing_fall_back_to_the_extension() -> None:
    assert media_kind(b"\x00" * 64, "odd.png") is MediaKind.PHOTO
    assert media_kind(b"\x00" * 64, "odd.mov") is MediaKind.VIDEO


def test_an_animated_gif_is_a_clip_and_a_still_gif_a_photo(tmp_path: Path) -> None:
    from PIL import Image

    face = skdata.astronaut()
    Image.fromarray(face).save(tmp_path / "still.gif")
    frames = [Image.fromarray(face), Image.fromarray(np.ascontiguousarray(face[:, ::-1]))]
    frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:], duration=100, loop=0)
    assert media_kind((tmp_path / "still.gif").read_bytes(), "still.gif") is MediaKind.PHOTO
    assert media_kind((tmp_path / "anim.gif").read_bytes(), "anim.gif") is MediaKind.VIDEO
    assert isinstance(open_source(tmp_path / "still.gif"), ImageSource)
    anim = open_source(tmp_path / "anim.gif")
    assert isinstance(anim, VideoFileSource) and len(list(anim)) == 2
    anim.close()


# -- cameras ------------------------------------------------------------------------------------
@pytest.mark.parametrize("index", [-1, -2, -5, 100, 2**31, 2**31 - 1])
def test_a_camera_number_out_of_range_is_one_line(index: int) -> None:
    """-1 made OpenCV crash (exit 139), 2147483648 overflowed; from 100 up a number picks a back end."""
    with pytest.raises(SourceError) as e:
        CameraSource(index)
    assert str(e.value) == f"camera {index}: not a camera number (expected 0 to 99)"
