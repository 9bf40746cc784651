"""Calibration profiles on disk: small versioned JSON files of numbers (never images).

Profiles live in ``calibration/`` (or ``$POSECOACH_CALIBRATION_DIR``) as ``<name>.json``:
:func:`save_profile` (atomic), :func:`load_profile` (strict: anything wrong raises
:class:`~posecoach.calibration.profile.CalibrationError` naming the file, the field and the
reason), :func:`load_profile_or_warn` (never fatal), :func:`list_profiles`.

Only regular files are read (:mod:`posecoach.files`: a FIFO named ``x.json`` is refused at
once, never opened for a blocking read), and a file holds the profile its name says: a profile
whose ``name`` differs from its file name (``ana.json`` copied to ``ben.json``) is refused, so
the name a person picks is always the name coached and shown.

Example::

    save_profile(profile)                       # calibration/ana.json
    calibrated = load_profile("ana").apply(raw_metrics)
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from posecoach.files import FileRefused, check_regular_file, read_capped

from posecoach.calibration.profile import (
    NAME_PATTERN,
    CalibrationError,
    CalibrationProfile,
    profile_from_dict,
    validate_name,
)

#: Environment variable that overrides the profile folder.
CALIBRATION_DIR_ENV = "POSECOACH_CALIBRATION_DIR"
#: The default profile folder (repository layout; the package is installed editable).
DEFAULT_CALIBRATION_DIR = Path(__file__).resolve().parents[2] / "calibration"
#: Profile files larger than this are not calibration profiles.
MAX_PROFILE_BYTES = 64 * 1024


def profile_dir() -> Path:
    """Where profiles live: ``$POSECOACH_CALIBRATION_DIR`` or the repository's ``calibration/``."""
    env = os.environ.get(CALIBRATION_DIR_ENV)
    return Path(env) if env else DEFAULT_CALIBRATION_DIR


def profile_path(name_or_path: str | os.PathLike[str]) -> Path:
    """The file for a profile name (``<dir>/<name>.json``) or a path given as such.

    A value containing a path separator or ending in ``.json`` is a path; anything else must
    be a valid name.

    Raises:
        CalibrationError: an invalid name.
    """
    text = os.fspath(name_or_path)
    if isinstance(name_or_path, os.PathLike) or "/" in text or os.sep in text or text.lower().endswith(".json"):
        return Path(text)
    return profile_dir() / f"{validate_name(text)}.json"


def save_profile(profile: CalibrationProfile, directory: str | os.PathLike[str] | None = None) -> Path:
    """Write ``<directory>/<name>.json`` atomically (an interrupted write leaves the old file).

    Returns the path written. Raises :class:`CalibrationError` for a folder that cannot be
    created or written.
    """
    from posecoach.export import atomic_write_bytes

    validate_name(profile.name)
    folder = Path(directory) if directory is not None else profile_dir()
    path = folder / f"{profile.name}.json"
    data = (json.dumps(profile.to_dict(), indent=2, allow_nan=False) + "\n").encode("utf-8")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path, data)
    except OSError as e:
        raise CalibrationError(f"{path}: cannot write calibration profile ({e.strerror or e})") from None
    return path


def load_profile(name_or_path: str | os.PathLike[str]) -> CalibrationProfile:
    """Load and validate a profile by name (``<dir>/<name>.json``) or path.

    Raises:
        CalibrationError: the only exception raised, for anything (missing, unreadable,
            corrupt, truncated, wrong version, wrong types, NaN/inf, out of range, a
            folder...). The message names the file, the field (when there is one) and why.
    """
    try:
        path = profile_path(name_or_path)
    except CalibrationError:
        raise
    except Exception as e:  # noqa: BLE001 - e.g. a NUL byte in the name
        raise CalibrationError(f"{name_or_path!r}: invalid profile name or path ({e})") from None
    try:
        return _load_file(path)
    except CalibrationError:
        raise
    except Exception as e:  # noqa: BLE001 - the loader promises one exception type
        raise CalibrationError(f"{path}: cannot read calibration profile ({type(e).__name__}: {e})") from None


def _load_file(path: Path) -> CalibrationProfile:
    hint = f"create it with `posecoach calibrate ... --name {path.stem}`"
    try:
        raw = read_capped(path, MAX_PROFILE_BYTES, "a calibration profile")
    except FileRefused as e:
        if e.reason == "file not found":
            raise CalibrationError(f"{path}: calibration profile not found ({hint})") from None
        if e.reason == "empty file (0 bytes)":
            raise CalibrationError(f"{path}: empty calibration profile (redo the calibration)") from None
        if e.reason.startswith("file too large"):
            raise CalibrationError(
                f"{path}: not a calibration profile (larger than {MAX_PROFILE_BYTES // 1024} KiB)"
            ) from None
        raise CalibrationError(str(e)) from None
    if not raw.strip():
        raise CalibrationError(f"{path}: empty calibration profile (redo the calibration)")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise CalibrationError(f"{path}: not a calibration profile (binary data, not UTF-8 JSON)") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise CalibrationError(
            f"{path}: corrupt or truncated calibration profile (invalid JSON at line {e.lineno}, column {e.colno}: "
            f"{e.msg}): redo the calibration"
        ) from None
    except (RecursionError, ValueError) as e:
        raise CalibrationError(f"{path}: corrupt calibration profile ({type(e).__name__})") from None
    profile = profile_from_dict(data, str(path))
    if path.suffix.lower() == ".json" and profile.name != path.stem:
        raise CalibrationError(
            f"{path}: holds the profile of {profile.name!r}, not {path.stem!r} (a renamed or copied file): "
            f"rename it to {profile.name}.json or calibrate again as {path.stem}"
        )
    return profile


def load_profile_or_warn(name: str | os.PathLike[str] | None) -> tuple[CalibrationProfile | None, str]:
    """``(profile, "")``, or ``(None, warning)`` so the coach carries on uncalibrated.

    The warning is one line: the loader's reason followed by ``": coaching uncalibrated"``.
    ``name=None`` means no profile was asked for: ``(None, "")``.
    """
    if name is None:
        return None, ""
    try:
        return load_profile(name), ""
    except CalibrationError as e:
        return None, f"{e}: coaching uncalibrated"


def list_profiles(directory: str | os.PathLike[str] | None = None) -> list[str]:
    """Names of the ``*.json`` profiles in the profile folder, sorted: regular files with a
    valid profile name (their content is checked when loaded). Nothing is opened, so a FIFO
    or a device named like a profile is left out without waiting on it."""
    folder = Path(directory) if directory is not None else profile_dir()
    names = []
    try:
        for p in folder.glob("*.json"):
            if not NAME_PATTERN.fullmatch(p.stem):
                continue
            try:
                check_regular_file(p, "a calibration profile")
            except FileRefused as e:
                if e.reason != "empty file (0 bytes)":  # an empty profile is listed: loading says why
                    continue  # a FIFO, a device, a folder, a link loop, vanished
            names.append(p.stem)
    except OSError:
        return []
    return sorted(names)
