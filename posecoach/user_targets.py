"""A person's own target looks: TOML files in ``$POSECOACH_USER_DIR/targets/``, beside the library.

User targets are written by :func:`save_user_target` (atomically, after the same validation
as a library target), listed by :func:`load_user_targets`, removed for real by
:func:`delete_user_target`, and merged with the library by :func:`load_catalog`, which every
place that offers targets uses (``--target NAME``, ``posecoach targets``, the app's picker,
routines).

Names. A user target's name is its file name: ``<folder>/<name>.toml``. It must be a slug
(lowercase letters, digits, ``_`` or ``-``, at most :data:`MAX_NAME_LEN` characters), so
nothing a person types can leave the folder (``../x``, ``/``, a NUL byte, a dot file).
A user target may not take a library target's name: the library's looks mean the same
thing for everyone (routines and shared instructions name them), so a user file may never
silently replace one. Saving such a name is refused; a file placed there by hand is
skipped with a warning (see :class:`Catalog`).

Example::

    path = save_user_target(target)          # ~/.local/share/posecoach/targets/my_look.toml
    catalog = load_catalog()
    catalog.targets["my_look"]               # the Target, as validated on load
    delete_user_target("my_look")
"""

from __future__ import annotations

import json
import math
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from posecoach.export import atomic_write_bytes
from posecoach.targets import (
    _SLUG,
    DEFAULT_MAX_RATIO_STOPS,
    Target,
    TargetError,
    find_target,
    load_library,
    load_target,
    target_from_dict,
)
from posecoach.userdir import user_dir

#: The sub-folder of the user folder that holds user targets.
TARGETS_SUBDIR = "targets"
#: Longest name accepted (it becomes a file name; 64 keeps it readable in any listing).
MAX_NAME_LEN = 64
_NAME_RULE = "lowercase letters, digits, '_' or '-' (e.g. my_look)"


def user_targets_dir() -> Path:
    """``<user folder>/targets`` (see :func:`posecoach.userdir.user_dir`); not created here."""
    return user_dir() / TARGETS_SUBDIR


def check_name(name: object, library: Mapping[str, Target] | None = None) -> str:
    """``name`` if it can name a user target, else :class:`TargetError` with a one-line reason.

    ``library``: the library targets a user target may not shadow (loaded when None).
    """
    if not isinstance(name, str) or not name:
        raise TargetError("", "", f"a target name is {_NAME_RULE}, got nothing")
    if len(name) > MAX_NAME_LEN:
        raise TargetError("", "", f"a target name is at most {MAX_NAME_LEN} characters, got {len(name)}")
    if not _SLUG.match(name):
        # Covers every way out of the folder: '/', '..', a leading dot, NUL, backslash.
        raise TargetError("", "", f"{name!r} is not a target name: use {_NAME_RULE}, no folders, dots or spaces")
    lib = load_library() if library is None else library
    if name in lib:
        raise TargetError(
            "", "", f"{name!r} is a library target: choose another name (your targets never replace the library's)"
        )
    return name


def user_target_path(name: str, library: Mapping[str, Target] | None = None) -> Path:
    """Where user target ``name`` lives (the name is checked first)."""
    return user_targets_dir() / f"{check_name(name, library)}.toml"


# -- writing -----------------------------------------------------------------------------------
def _toml_string(text: str) -> str:
    # A JSON string is a valid TOML basic string for these escapes (\", \\, \n, \uXXXX ...).
    return json.dumps(text, ensure_ascii=False)


def _toml_number(value: float) -> str:
    if not math.isfinite(value):
        raise ValueError(f"not a finite number: {value!r}")
    return repr(round(float(value), 4))


def target_to_toml(target: Target, comment: str = "") -> str:
    """The TOML text of ``target``, in the library's layout (read back by :func:`load_target`).

    ``comment``: lines put at the top as ``#`` comments (where the target came from).
    """
    lines = [f"# {line}".rstrip() for line in comment.splitlines()] if comment else []
    lines += [
        f"name = {_toml_string(target.name)}",
        f"title = {_toml_string(target.title)}",
        f"description = {_toml_string(target.description)}",
        f"hold_s = {_toml_number(target.hold_s)}",
        f"threshold = {_toml_number(target.threshold)}",
    ]
    if target.hold_cue:
        lines.append(f"hold_cue = {_toml_string(target.hold_cue)}")
    for r in target.ranges:
        lines += [
            "",
            f"[ranges.{r.metric}]",
            f"low = {_toml_number(r.low)}",
            f"high = {_toml_number(r.high)}",
            f"tolerance = {_toml_number(r.tolerance)}",
            f"weight = {_toml_number(r.weight)}",
        ]
    for c in target.cues:
        if not (c.up or c.down):
            continue
        lines += ["", f"[cues.{c.metric}]"]
        if c.up:
            lines.append(f"up = {_toml_string(c.up)}")
        if c.down:
            lines.append(f"down = {_toml_string(c.down)}")
    if target.max_ratio_stops != DEFAULT_MAX_RATIO_STOPS:
        lines += ["", "[light]", f"max_ratio_stops = {_toml_number(target.max_ratio_stops)}"]
    return "\n".join(lines) + "\n"


def save_user_target(target: Target, *, replace: bool = False, comment: str = "") -> Path:
    """Write ``target`` to ``<user folder>/targets/<name>.toml`` atomically and return the path.

    The text is read back through the library's validator before it replaces anything, so a
    saved target always loads. Raises :class:`TargetError` for a bad name, a library name, an
    existing target without ``replace``, or a folder that cannot be written.
    """
    path = user_target_path(target.name)
    if path.exists() and not replace:
        raise TargetError(
            path, "", f"a target named {target.name!r} already exists: choose another name or replace it (--replace)"
        )
    text = target_to_toml(target, comment)
    target_from_dict(tomllib.loads(text), path)  # the same checks as on load, before writing
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path, text.encode("utf-8"))
    except OSError as e:
        raise TargetError(path, "", f"cannot write ({e.strerror or e})") from None
    return path


def delete_user_target(name: str) -> Path:
    """Delete user target ``name`` (the file is removed, not hidden) and return its path.

    Raises :class:`TargetError`: a bad name, a library target, or no such user target.
    """
    library = load_library()
    if isinstance(name, str) and name in library:
        raise TargetError("", "", f"{name!r} is a library target: only your own targets can be deleted")
    path = user_target_path(name, library)
    try:
        path.unlink()
    except FileNotFoundError:
        raise TargetError("", "", f"no target of yours is named {name!r} (see `posecoach target list`)") from None
    except OSError as e:
        raise TargetError(path, "", f"cannot delete ({e.strerror or e})") from None
    return path


# -- reading -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class UserTargets:
    """The user folder's targets: the valid ones by name, and the problems of the others
    (each a one-line :class:`TargetError` message)."""

    targets: Mapping[str, Target]
    problems: tuple[str, ...] = ()


def load_user_targets(folder: str | os.PathLike[str] | None = None,
                      library: Mapping[str, Target] | None = None) -> UserTargets:  # fmt: skip
    """Every valid ``*.toml`` in the user targets folder (missing folder: none).

    A file that fails validation, whose ``name`` is not its file name, or that would shadow a
    library target is left out and reported in ``problems``: one broken file never hides the
    others or the library.
    """
    where = Path(folder) if folder is not None else user_targets_dir()
    lib = load_library() if library is None else library
    try:
        files = sorted(f for f in where.iterdir() if f.suffix == ".toml" and not f.name.startswith("."))
    except (FileNotFoundError, NotADirectoryError):
        return UserTargets({})
    except OSError as e:
        return UserTargets({}, (f"{where}: cannot read ({e.strerror or e})",))
    targets: dict[str, Target] = {}
    problems: list[str] = []
    for f in files:
        try:
            t = load_target(f)
            if t.name != f.stem:
                raise TargetError(f, "name", f"expected the file's name {f.stem!r}, got {t.name!r}")
            if t.name in lib:
                raise TargetError(f, "name", f"{t.name!r} is a library target: rename the file to use it")
        except TargetError as e:
            problems.append(str(e))
            continue
        targets[t.name] = t
    return UserTargets(targets, tuple(problems))


@dataclass(frozen=True)
class Catalog:
    """Every target a person can pick: the library's and their own.

    ``targets`` holds both (library names first, never shadowed); ``user`` names the ones
    from the user folder; ``problems`` are the user files that could not be used (to show
    as warnings).
    """

    targets: Mapping[str, Target]
    user: frozenset[str]
    problems: tuple[str, ...] = ()

    def is_user(self, name: str) -> bool:
        return name in self.user

    def find(self, name_or_path: str | os.PathLike[str]) -> Target:
        """A target by name (library or user) or by ``.toml`` path, as :func:`find_target`.

        A user target that exists but is broken raises its own problem (file, field, reason)
        rather than "unknown target".
        """
        if isinstance(name_or_path, str) and name_or_path not in self.targets:
            for problem in self.problems:
                if problem.startswith(f"{user_targets_dir() / name_or_path}.toml:"):
                    raise TargetError("", "", problem)
        return find_target(name_or_path, self.targets)


def load_catalog(library: Mapping[str, Target] | None = None) -> Catalog:
    """The library (strict: raises :class:`TargetError` as :func:`load_library`) plus the
    user's valid targets."""
    lib = load_library() if library is None else library
    user = load_user_targets(library=lib)
    merged = dict(lib)
    merged.update(user.targets)
    return Catalog(merged, frozenset(user.targets), user.problems)
