"""Uploads read from memory: photo or video by their bytes, and photos decoded like files."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from skimage import data as skdata

from factories import gif
from posecoach.sources import MAX_IMAGE_PIXELS, SourceError, decode_image_bytes, read_image


def test_in_memory_file_round_trip() -> None:
    from posecoach.uploads import in_memory_file

    with in_memory_file(b"hello", ".txt") as path:
        assert Path(path).read_bytes() == b"hello"
    assert not Path(path).exists() or not Path(path).read_bytes() == b"hello"


@pytest.mark.parametrize(
    ("head", "name", "photo"),
    [
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "a.mp4", True),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "a.mov", True),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "a.mp4", True),
        (b"\x00\x00\x00\x18ftypheic\x00\x00", "IMG_1.MOV", True),
        (b"\x00\x00\x00\x18ftypisom\x00\x00", "a.mp4", False),
        (b"\x00\x00\x00\x18ftypqt  \x00\x00", "a.mov", False),
        (b"\x1aE\xdf\xa3", "a.webm", False),
        (b"anything", "photo.JPG", True),
        (b"", "a.mp4", False),
    ],
)
def test_looks_like_photo(head: bytes, name: str, photo: bool) -> None:
    from posecoach.uploads import looks_like_photo

    assert looks_like_photo(head, name) is photo


def test_photo_bytes_decode_exactly_as_the_file_does(tmp_path: Path) -> None:
    """The page's snapshots and the CLI's photos go through one decoder."""
    path = tmp_path / "astronaut.jpg"
    cv2.imwrite(str(path), cv2.cvtColor(skdata.astronaut(), cv2.COLOR_RGB2BGR))
    from_file = read_image(path)
    from_bytes = decode_image_bytes(path.read_bytes(), "shot.jpg")
    assert from_bytes.shape == from_file.shape == (512, 512, 3) and (from_bytes == from_file).all()


def test_huge_photo_bytes_are_bounded() -> None:
    ok, png = cv2.imencode(".png", np.zeros((5000, 4000, 3), np.uint8))
    image = decode_image_bytes(png.tobytes(), "huge.png")
    assert image.shape[0] * image.shape[1] <= MAX_IMAGE_PIXELS and image.shape[0] > image.shape[1]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "shot.jpg: empty file (0 bytes)"),
        (b"this is not a photo", "shot.jpg: not an image posecoach can read (corrupt, truncated or unsupported format)"),
    ],
)
def test_bad_photo_bytes_are_one_line(data: bytes, message: str) -> None:
    with pytest.raises(SourceError) as e:
        decode_image_bytes(data, "shot.jpg")
    assert str(e.value) == message


def test_an_animated_gif_is_a_clip_in_the_app_as_on_the_command_line(tmp_path: Path) -> None:
    """The CLI coached an animated GIF as a video, the app refused it as a photo."""
    from posecoach.runs import CoachSettings, PhotoCoach, run_clip
    from posecoach.sources import MediaKind, media_kind, open_source
    from posecoach.targets import find_target
    from posecoach.uploads import looks_like_photo

    animated, still = gif(8), gif(1)
    (tmp_path / "anim.gif").write_bytes(animated)
    file_source = open_source(tmp_path / "anim.gif")
    file_source.close()
    assert media_kind(animated, "anim.gif") is MediaKind.VIDEO and not file_source.is_image
    assert not looks_like_photo(animated, "anim.gif") and looks_like_photo(still, "still.gif")
    target = find_target("corporate_headshot")
    settings = CoachSettings(target.name)
    run = run_clip(animated, "anim.gif", target, settings)
    assert run.frames == 8 and run.best_score is not None
    coach = PhotoCoach()
    try:
        with pytest.raises(SourceError) as e:
            coach.run(animated, "anim.gif", target, settings)
        assert str(e.value) == "anim.gif: is a video, not a photo (use Practise on a video for clips)"
        assert coach.run(still, "still.gif", target, settings).result.has_face
    finally:
        coach.close()
