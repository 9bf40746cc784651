"""The one reader of files a person names: regular files only, capped, with a reason in words."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from posecoach.files import FileRefused, check_regular_file, human_size, read_capped


def _refusals(tmp: Path) -> list[tuple[Path, str]]:
    (tmp / "dir").mkdir()
    os.mkfifo(tmp / "fifo")
    (tmp / "loop").symlink_to(tmp / "loop")
    (tmp / "dangling").symlink_to(tmp / "nowhere")
    (tmp / "file").write_text("x")
    (tmp / "empty").write_bytes(b"")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(tmp / "sock"))
    sock.close()
    deep = tmp / "/".join(["d" * 200] * 25)  # 5,000 characters, every name legal
    return [
        (tmp / "missing", "file not found"),
        (tmp / "dangling", "file not found"),
        (tmp / "dir", "is a directory, not a thing"),
        (tmp / "fifo", "is a named pipe (FIFO), not a thing"),
        (Path("/dev/urandom"), "is a device, not a thing"),
        (Path("/dev/zero"), "is a device, not a thing"),
        (tmp / "sock", "is a socket, not a thing"),
        (tmp / "loop", "symbolic link loop (the path never reaches a file)"),
        (tmp / ("n" * 256), "a name in the path is longer than 255 bytes"),
        (deep, "path too long"),
        (tmp / "file" / "x", "a part of the path is not a folder"),
        (tmp / "empty", "empty file (0 bytes)"),
        (Path(str(tmp / "nul") + "\x00"), "invalid path (contains a NUL byte)"),
    ]


def test_every_refusal_says_why_in_one_line(tmp_path: Path) -> None:
    for path, reason in _refusals(tmp_path):
        for call in (lambda p: check_regular_file(p, "a thing"), lambda p: read_capped(p, 100, "a thing")):
            with pytest.raises(FileRefused) as e:
                call(path)
            assert (e.value.path, e.value.reason) == (str(path), reason)
            assert str(e.value) == f"{path}: {reason}" and "\n" not in reason


def test_reads_are_capped(tmp_path: Path) -> None:
    (tmp_path / "small").write_bytes(b"a" * 100)
    (tmp_path / "big").write_bytes(b"a" * 3000)
    assert read_capped(tmp_path / "small", 100) == b"a" * 100
    with pytest.raises(FileRefused) as e:
        read_capped(tmp_path / "big", 2048)
    assert e.value.reason == "file too large (2.9 KiB; at most 2 KiB)"
    (tmp_path / "link").symlink_to(tmp_path / "small")
    assert read_capped(tmp_path / "link", 100) == b"a" * 100  # links to regular files are fine


@pytest.mark.parametrize(("n", "text"), [(0, "0 bytes"), (1023, "1023 bytes"), (1024, "1 KiB"), (1536, "1.5 KiB"),
                                         (300_000, "293 KiB"), (5 * 2**30, "5 GiB")])  # fmt: skip
def test_sizes_read_as_a_person_would_say_them(n: int, text: str) -> None:
    assert human_size(n) == text
