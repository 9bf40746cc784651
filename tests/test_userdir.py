"""The folder for what a person keeps: explicit setting first, then the platform's default."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from posecoach.userdir import user_dir


def test_the_setting_wins_and_expands_the_home_folder() -> None:
    assert user_dir({"POSECOACH_USER_DIR": "/srv/pc", "HOME": "/home/x"}) == Path("/srv/pc")
    assert user_dir({"POSECOACH_USER_DIR": "~/pc", "HOME": "/home/x"}) == Path.home() / "pc"


@pytest.mark.skipif(sys.platform in ("darwin", "win32"), reason="the XDG layout is the Linux/Unix default")
def test_linux_follows_xdg_and_ignores_a_relative_xdg_data_home() -> None:
    assert user_dir({"HOME": "/home/x"}) == Path("/home/x/.local/share/posecoach")
    assert user_dir({"HOME": "/home/x", "XDG_DATA_HOME": "/data"}) == Path("/data/posecoach")
    assert user_dir({"HOME": "/home/x", "XDG_DATA_HOME": "rel"}) == Path("/home/x/.local/share/posecoach")
    assert user_dir({"HOME": "/home/x", "POSECOACH_USER_DIR": "  "}) == Path("/home/x/.local/share/posecoach")


def test_the_test_run_never_reaches_the_real_user_folder() -> None:
    assert user_dir() != Path.home() / ".local" / "share" / "posecoach"
