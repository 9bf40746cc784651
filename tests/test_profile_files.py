"""Calibration profiles as files: names, odd files in the folder, the picker and the loader."""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import cv2
import pytest
from skimage import data as skdata

from factories import synthetic_profile
from posecoach.calibration import CalibrationError, list_profiles, load_profile, save_profile, validate_name
from posecoach.cli import main

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "profiles"
    folder.mkdir()
    monkeypatch.setenv("POSECOACH_CALIBRATION_DIR", str(folder))
    return folder


@pytest.mark.parametrize("name", ["me2\n", "me\r", "me\n\n", "\nme"])
def test_a_name_with_a_line_break_is_refused(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    """`calibrate --name $'me2\\n'` was accepted (`$` matches before a final newline)."""
    with pytest.raises(CalibrationError):
        validate_name(name)
    assert main(["calibrate", "--camera", "0", "--name", name]) == 2
    assert capsys.readouterr() == ("", f"posecoach: error: invalid profile name {name!r}: use 1-64 letters, digits, "
                                       "'_' or '-', starting with a letter or digit\n")  # fmt: skip


def test_a_profile_under_another_name_is_refused_with_one_line(
    folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """ana.json copied to ben.json loaded silently as ben (coached and shown as 'ana')."""
    save_profile(synthetic_profile("ana"))
    shutil.copy(folder / "ana.json", folder / "ben.json")
    assert load_profile("ana").name == "ana"
    message = (f"{folder / 'ben.json'}: holds the profile of 'ana', not 'ben' (a renamed or copied file): "
               "rename it to ana.json or calibrate again as ben")  # fmt: skip
    with pytest.raises(CalibrationError) as e:
        load_profile("ben")
    assert str(e.value) == message
    photo = tmp_path / "astronaut.png"
    cv2.imwrite(str(photo), cv2.cvtColor(skdata.astronaut(), cv2.COLOR_RGB2BGR))
    assert main(["analyze", str(photo), "--profile", "ben"]) == 0
    out, err = capsys.readouterr()
    assert err == f"posecoach: warning: {message}: coaching uncalibrated\n" and "score: " in out


def _in_time(call, seconds: float = 10.0):  # noqa: ANN001, ANN202
    """``call()``'s result, failing (not hanging) when it does not return in time."""
    box: list = []
    worker = threading.Thread(target=lambda: box.append(_outcome(call)), daemon=True)
    worker.start()
    worker.join(seconds)
    assert box, "hung"
    return box[0]


def _outcome(call):  # noqa: ANN001, ANN202
    try:
        return call()
    except Exception as e:  # noqa: BLE001
        return e


def test_odd_files_in_the_profile_folder(folder: Path) -> None:
    """A FIFO named x.json appeared in the picker and hung the session when chosen."""
    save_profile(synthetic_profile("ana"))
    os.mkfifo(folder / "x.json")
    (folder / "dir.json").mkdir()
    (folder / "loop.json").symlink_to(folder / "loop.json")
    (folder / "dev.json").symlink_to("/dev/urandom")
    (folder / "bad name.json").write_text("{}")
    assert list_profiles() == ["ana"]
    for name, reason in [
        ("x", "is a named pipe (FIFO), not a calibration profile"),
        ("dir", "is a directory, not a calibration profile"),
        ("loop", "symbolic link loop (the path never reaches a file)"),
        ("dev", "is a device, not a calibration profile"),
    ]:
        error = _in_time(lambda n=name: load_profile(n))
        assert isinstance(error, CalibrationError) and str(error) == f"{folder / (name + '.json')}: {reason}"


def test_devices_and_link_loops_through_every_entry_point(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """/dev/urandom was "not a calibration profile (larger than 64 KiB)" and a link loop
    "cannot read calibration profile (Too many levels of symbolic links)"."""
    (tmp_path / "loop.json").symlink_to(tmp_path / "loop.json")
    for path in ("loop.mp4", "loop.toml", "loop.task", "loop.jsonl"):
        (tmp_path / path).symlink_to(tmp_path / "loop.json")
    photo = tmp_path / "astronaut.png"
    cv2.imwrite(str(photo), cv2.cvtColor(skdata.astronaut(), cv2.COLOR_RGB2BGR))
    loop = "symbolic link loop (the path never reaches a file)"
    for args, line in [
        (["analyze", "/dev/urandom"], "posecoach: error: /dev/urandom: is a device, not an image or video file"),
        (["analyze", str(tmp_path / "loop.mp4")], f"posecoach: error: {tmp_path / 'loop.mp4'}: {loop}"),
        (["live", "--video", "/dev/urandom", "--no-window"],
         "posecoach: error: /dev/urandom: is a device, not an image or video file"),
        (["calibrate", str(tmp_path / "loop.mp4"), "--name", "me", "--neutral", "0:1", "--smile", "1:2"],
         f"posecoach: error: {tmp_path / 'loop.mp4'}: {loop}"),
        (["analyze", str(photo), "--target", "/dev/urandom"],
         "posecoach: error: /dev/urandom: is a device, not a target file (.toml)"),
        (["analyze", str(photo), "--target", str(tmp_path / "loop.toml")],
         f"posecoach: error: {tmp_path / 'loop.toml'}: {loop}"),
        (["analyze", str(photo), "--model", "/dev/urandom"],
         "posecoach: error: model file unusable: /dev/urandom: is a device, not a model file (.task) "
         "(check the file given by --model, or leave --model out to use the bundled model)"),
        (["analyze", str(photo), "--model", str(tmp_path / "loop.task")],
         f"posecoach: error: model file unusable: {tmp_path / 'loop.task'}: {loop} "
         "(check the file given by --model, or leave --model out to use the bundled model)"),
        (["analyze", str(photo), "--out", str(tmp_path / "loop.jsonl")],
         f"posecoach: error: {tmp_path / 'loop.jsonl'}: {loop}"),
    ]:  # fmt: skip
        assert main(args) == 2, args
        assert capsys.readouterr() == ("", line + "\n"), args
    for profile, reason in [("/dev/urandom", "is a device, not a calibration profile"),
                            (str(tmp_path / "loop.json"), loop)]:  # fmt: skip
        assert main(["analyze", str(photo), "--profile", profile]) == 0
        out, err = capsys.readouterr()
        assert err == f"posecoach: warning: {profile}: {reason}: coaching uncalibrated\n" and "score: " in out


def test_model_fix_text_fits_how_the_model_was_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The fix said "or pass --model PATH" to someone who had passed --model."""
    from posecoach.model_file import DEFAULT_MODEL_PATH, ModelError
    from posecoach.runs import open_tracker

    broken = tmp_path / "broken.task"
    broken.write_bytes(b"not a zip" * 100)
    with pytest.raises(ModelError) as e:
        open_tracker(str(broken))
    assert str(e.value).endswith("(check the file given by --model, or leave --model out to use the bundled model)")
    monkeypatch.setenv("POSECOACH_MODEL", str(broken))
    with pytest.raises(ModelError) as e:
        open_tracker()
    assert str(e.value).endswith(f"(check the file POSECOACH_MODEL names, or unset POSECOACH_MODEL to use the "
                                 f"bundled {DEFAULT_MODEL_PATH.name})")  # fmt: skip
    monkeypatch.delenv("POSECOACH_MODEL")
    import posecoach.model_file

    monkeypatch.setattr(posecoach.model_file, "DEFAULT_MODEL_PATH", tmp_path / "gone" / "face_landmarker.task")
    with pytest.raises(ModelError) as e:
        open_tracker()
    assert str(e.value).endswith("(restore assets/models/face_landmarker.task from the repository, "
                                 "or name another copy with --model PATH or POSECOACH_MODEL)")  # fmt: skip
