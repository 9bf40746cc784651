"""Where posecoach keeps what a person chooses to keep: their own targets, kept sessions.

Nothing is created here: the folder is made by the first write a person asks for.
Calibration profiles keep their own folder (``calibration/``, see
:mod:`posecoach.calibration.store`).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

#: Set this to keep everything posecoach saves for a person in another folder.
USER_DIR_ENV = "POSECOACH_USER_DIR"


def user_dir(environ: os._Environ[str] | dict[str, str] | None = None) -> Path:
    """``$POSECOACH_USER_DIR``, else the platform's user data folder + ``posecoach``.

    Linux and other Unix: ``$XDG_DATA_HOME/posecoach`` (default ``~/.local/share/posecoach``);
    macOS: ``~/Library/Application Support/posecoach``; Windows: ``%LOCALAPPDATA%\\posecoach``.
    """
    env = os.environ if environ is None else environ
    explicit = env.get(USER_DIR_ENV, "").strip()
    if explicit:
        return Path(explicit).expanduser()
    home = Path(env.get("HOME") or Path.home())
    if sys.platform == "darwin":
        return home / "Library" / "Application Support" / "posecoach"
    if os.name == "nt":
        return Path(env.get("LOCALAPPDATA") or home / "AppData" / "Local") / "posecoach"
    xdg = env.get("XDG_DATA_HOME", "").strip()
    return (Path(xdg) if xdg and Path(xdg).is_absolute() else home / ".local" / "share") / "posecoach"
