"""Frame sources: images and videos decode sequentially; bad files give one clear line."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from skimage import data as skdata

from posecoach.sources import ImageSource, SourceError, VideoFileSource, open_source, read_image


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


def _bad_files(tmp: Path, clip: Path) -> list[tuple[Path, str]]:
    (tmp / "empty.mp4").write_bytes(b"")
    (tmp / "noise.mp4").write_bytes(np.random.default_rng(0).integers(0, 256, 5000, np.uint8).tobytes())
    (tmp / "notes.txt").write_text("not a picture")
    (tmp / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0" + b"\x00" * 50)
    (tmp / "cut.avi").write_bytes(clip.read_bytes()[:300])
    (tmp / "folder").mkdir()
    cannot = "not a video or image posecoach can read (corrupt, truncated or unsupported format)"
    return [
        (tmp / "missing.mp4", "file not found"),
        (tmp / "empty.mp4", "empty file (0 bytes)"),
        (tmp / "noise.mp4", cannot),
        (tmp / "notes.txt", cannot),
        (tmp / "broken.jpg", "not an image posecoach can read (corrupt, truncated or unsupported format)"),
        (tmp / "cut.avi", cannot),
        (tmp / "folder", "is a directory, not an image or video file"),
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
