"""The landmarker model file: where it is, checking it once per process, and what to do when
it is broken. No MediaPipe here: a broken file is named before MediaPipe is loaded.
"""

from __future__ import annotations

import hashlib
import os
import threading
import zipfile
import zlib
from pathlib import Path

from posecoach.files import FileRefused, check_regular_file

#: sha256 of the official MediaPipe Face Landmarker v1 float16 bundle shipped in assets/models/.
MODEL_SHA256 = "64184e229b263107bc2b804c6625db1341ff2bb731874b0bcc2fe6544e0bc9ff"
#: Where the bundled model lives (repository layout; the package is installed editable).
DEFAULT_MODEL_PATH = Path(__file__).resolve().parent.parent / "assets" / "models" / "face_landmarker.task"


class ModelError(RuntimeError):
    """The landmarker model is missing, unreadable or not the expected file."""


#: (resolved path, size, mtime) -> "" for a good model file, else the message template.
_verified: dict[tuple[str, int, int], str] = {}
_verified_lock = threading.Lock()


def resolve_model_path(model: str | os.PathLike[str] | None = None) -> Path:
    """The model to load: ``model`` if given, else ``$POSECOACH_MODEL``, else the bundled file."""
    if model:
        return Path(model)
    env = os.environ.get("POSECOACH_MODEL")
    if env:
        return Path(env)
    return DEFAULT_MODEL_PATH


#: What a FaceLandmarker bundle holds (a .task file is a zip archive) for the outputs we ask for.
BUNDLE_MEMBERS = ("face_detector.tflite", "face_landmarks_detector.tflite", "face_blendshapes.tflite")
_MAX_BUNDLE_BYTES = 512 * 2**20  # unpacked; the shipped bundle is 3.6 MiB


def model_fix(model: str | os.PathLike[str] | None = None) -> str:
    """What to do about a broken model, for how it was named: ``model`` (``--model``),
    ``$POSECOACH_MODEL``, or neither (the bundled file)."""
    if model:
        return "check the file given by --model, or leave --model out to use the bundled model"
    if os.environ.get("POSECOACH_MODEL"):
        return f"check the file POSECOACH_MODEL names, or unset POSECOACH_MODEL to use the bundled {DEFAULT_MODEL_PATH.name}"
    return (
        "restore assets/models/face_landmarker.task from the repository, "
        "or name another copy with --model PATH or POSECOACH_MODEL"
    )


def checked_model_path(model: str | os.PathLike[str] | None = None) -> Path:
    """The model to load (see :func:`resolve_model_path`), checked by :func:`verify_model`:
    the bundled file against :data:`MODEL_SHA256`, another file against its bundle's own
    checksums.

    Raises:
        ModelError: with one line naming the file and what to do.
    """
    path = resolve_model_path(model)
    return verify_model(path, MODEL_SHA256 if path == DEFAULT_MODEL_PATH else None, model_fix(model))


def verify_model(path: Path, expected_sha256: str | None = MODEL_SHA256, fix: str | None = None) -> Path:
    """Check that ``path`` is a readable, intact model file; checked once per process.

    The bundled model's sha256 is compared with :data:`MODEL_SHA256`. A file given
    explicitly (``--model`` or ``$POSECOACH_MODEL``, ``expected_sha256=None``) may be another
    model build: it must be a zip archive holding :data:`BUNDLE_MEMBERS` whose checksums all
    hold (a corrupt bundle otherwise loads and silently finds no face, or wrong expressions).

    ``fix`` says what to do (default: as for the bundled model, see :func:`model_fix`).

    Raises:
        ModelError: with one line naming the file and what to do.
    """
    fix = fix or model_fix()
    try:
        st = check_regular_file(path, "a model file (.task)")
    except FileRefused as e:
        if e.reason == "file not found":
            raise ModelError(f"model file not found: {path} ({fix})") from None
        raise ModelError(f"model file unusable: {path}: {e.reason} ({fix})") from None
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    with _verified_lock:
        if key in _verified:
            problem = _verified[key]
        else:
            problem = _bundle_problem(path) if expected_sha256 is None else _digest_problem(path, expected_sha256)
            _verified[key] = problem
    if problem:
        raise ModelError(problem.format(path=path, fix=fix))
    return path


def _digest_problem(path: Path, expected_sha256: str) -> str:
    """"" when the file's sha256 is ``expected_sha256``, else a message template."""
    h = hashlib.sha256()
    try:
        with path.open("rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
    except OSError as e:
        return f"model file unreadable: {{path}}: {e.strerror} ({{fix}})"
    return "" if h.hexdigest() == expected_sha256 else "model file is corrupt (sha256 mismatch): {path} ({fix})"


def _bundle_problem(path: Path) -> str:
    """"" for an intact FaceLandmarker bundle, else a message template (``{path}``, ``{fix}``)."""
    try:
        with zipfile.ZipFile(path) as bundle:
            infos = bundle.infolist()
            missing = [name for name in BUNDLE_MEMBERS if name not in {i.filename for i in infos}]
            if missing:
                return f"cannot load model {{path}}: not a face landmarker bundle (missing {', '.join(missing)}) ({{fix}})"
            if sum(i.file_size for i in infos) > _MAX_BUNDLE_BYTES:
                return "cannot load model {path}: not a face landmarker bundle (it unpacks to over 512 MiB) ({fix})"
            broken = bundle.testzip()  # reads every member and checks its CRC-32
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError, NotImplementedError, zlib.error):
        return "cannot load model {path}: not a model bundle (a .task file is a zip archive) or corrupt ({fix})"
    except OSError as e:
        return f"model file unreadable: {{path}}: {e.strerror} ({{fix}})"
    if broken is not None:
        return f"model file is corrupt ({broken} fails its checksum): {{path}} ({{fix}})"
    return ""
