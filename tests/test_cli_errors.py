"""What the command line says when the output cannot be written, when it is stopped, and when
what it prints came from a file: one line, the documented exit status, nothing left behind."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest
from skimage import data as skdata

from posecoach.cli import main

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def astronaut() -> np.ndarray:
    return cv2.cvtColor(skdata.astronaut(), cv2.COLOR_RGB2BGR)


@pytest.fixture(scope="module")
def photo(tmp_path_factory: pytest.TempPathFactory, astronaut: np.ndarray) -> Path:
    path = tmp_path_factory.mktemp("photo") / "astronaut.png"
    cv2.imwrite(str(path), astronaut)
    return path


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory, astronaut: np.ndarray) -> Path:
    """200 frames of a real face: long enough to be stopped in the middle."""
    path = tmp_path_factory.mktemp("clip") / "face.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 25.0, (256, 256))
    small = cv2.resize(astronaut, (256, 256), interpolation=cv2.INTER_AREA)
    for _ in range(200):
        writer.write(small)
    writer.release()
    return path


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def posecoach(*args: str, timeout: float = 180, **kwargs) -> subprocess.CompletedProcess[str]:  # noqa: ANN003
    return subprocess.run([sys.executable, "-m", "posecoach", *args], capture_output=kwargs.pop("capture", True),
                          text=True, timeout=timeout, cwd=ROOT, **kwargs)  # fmt: skip


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# -- --out that cannot be written -----------------------------------------------------------------
def test_out_naming_a_folder_is_refused_before_the_analysis(
    photo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """It was an IsADirectoryError traceback (exit 1) after the whole analysis."""
    import posecoach.runs

    def no_analysis(*_args, **_kwargs):  # noqa: ANN002, ANN003, ANN202
        pytest.fail("the analysis ran before the output was checked")

    monkeypatch.setattr(posecoach.runs, "run_source", no_analysis)
    (tmp_path / "rows.jsonl").mkdir()
    (tmp_path / "rows").mkdir()
    for out in ("rows.jsonl", "rows"):
        path = tmp_path / out
        assert run(["analyze", str(photo), "--out", str(path)], capsys) == (
            2, "", f"posecoach: error: {path}: is a directory, not a file to write rows to\n"
        )
    assert run(["analyze", str(photo), "--out", "/dev/full"], capsys) == (
        2, "", "posecoach: error: /dev/full: is a device, not a file to write rows to\n"
    )
    os.mkfifo(tmp_path / "pipe.csv")
    assert run(["analyze", str(photo), "--out", str(tmp_path / "pipe.csv")], capsys) == (
        2, "", f"posecoach: error: {tmp_path / 'pipe.csv'}: is a named pipe (FIFO), not a file to write rows to\n"
    )


def test_a_legal_244_character_out_name_is_written(photo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The temporary name beside it was the name plus 14 characters: over 255, a traceback."""
    name = "r" * 238 + ".jsonl"
    assert len(name) == 244
    code, out, err = run(["analyze", str(photo), "--out", str(tmp_path / name)], capsys)
    assert (code, err) == (0, "") and out.endswith(f"wrote 1 rows to {tmp_path / name}\n")
    assert leftovers(tmp_path) == [name]


def test_names_longer_than_255_bytes_are_one_line_everywhere(photo: Path, tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    long = "n" * 256
    reason = "a name in the path is longer than 255 bytes"
    for args, named in [
        (["analyze", f"{long}.mp4"], f"{long}.mp4"),
        (["analyze", str(tmp_path / long / "clip.mp4")], str(tmp_path / long / "clip.mp4")),
        (["analyze", str(photo), "--target", f"{long}.toml"], f"{long}.toml"),
        (["analyze", str(photo), "--out", str(tmp_path / f"{long}.jsonl")], str(tmp_path / f"{long}.jsonl")),
        (["analyze", str(photo), "--out", str(tmp_path / long / "rows.csv")], str(tmp_path / long / "rows.csv")),
        (["live", "--video", f"{long}.mp4", "--no-window"], f"{long}.mp4"),
        (["calibrate", f"{long}.mp4", "--name", "me", "--neutral", "0:1", "--smile", "1:2"], f"{long}.mp4"),
    ]:
        assert run(args, capsys) == (2, "", f"posecoach: error: {named}: {reason}\n"), args
    assert leftovers(tmp_path) == []


def _mount_tmpfs(folder: Path, options: str) -> bool:
    folder.mkdir()
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)], capture_output=True)
    return proc.returncode == 0


@pytest.fixture
def mounts(tmp_path: Path) -> Iterator[list[Path]]:
    mounted: list[Path] = []
    yield mounted
    for folder in mounted:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)


def test_a_folder_that_cannot_be_written_is_one_line_before_the_analysis(
    photo: Path, tmp_path: Path, mounts: list[Path]
) -> None:
    if os.geteuid() != 0:
        folder = tmp_path / "locked"
        folder.mkdir()
        folder.chmod(0o555)
        reason = "permission denied"
    else:  # root writes through permissions: a read-only file system then
        folder = tmp_path / "readonly"
        if not _mount_tmpfs(folder, "ro,size=64k"):
            pytest.skip("running as root without the right to mount a read-only tmpfs")
        mounts.append(folder)
        reason = "read-only file system"
    out = folder / "rows.jsonl"
    proc = posecoach("analyze", str(photo), "--out", str(out))
    assert (proc.returncode, proc.stdout) == (2, "")
    assert proc.stderr == f"posecoach: error: {out}: cannot write ({reason}); nothing was written\n"


def test_a_full_disk_is_one_line_and_leaves_nothing(clip: Path, tmp_path: Path, mounts: list[Path]) -> None:
    """A file size limit stands in for a full disk everywhere; a 16 KiB tmpfs where posecoach
    may mount one (root)."""

    def small_files() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (8192, 8192))

    out = tmp_path / "rows.jsonl"
    proc = posecoach("analyze", str(clip), "--out", str(out), preexec_fn=small_files)
    assert (proc.returncode, proc.stdout) == (2, "")
    assert proc.stderr == f"posecoach: error: {out}: cannot write (file too large); nothing was written\n"
    assert leftovers(tmp_path) == []

    full = tmp_path / "full"
    if not _mount_tmpfs(full, "size=16k"):
        pytest.skip("cannot mount a small tmpfs here (needs root): the file size limit above stood in")
    mounts.append(full)
    out = full / "rows.csv"
    proc = posecoach("analyze", str(clip), "--out", str(out))
    assert (proc.returncode, proc.stdout) == (2, "")
    assert proc.stderr == f"posecoach: error: {out}: cannot write (no space left on device); nothing was written\n"
    assert leftovers(full) == []


@pytest.mark.parametrize("rows", [False, True])
def test_stdout_on_a_full_device_is_one_line(photo: Path, rows: bool) -> None:
    """`posecoach analyze photo.jpg > /dev/full` was an OSError traceback (exit 1)."""
    with open("/dev/full", "w") as full:
        proc = subprocess.run([sys.executable, "-m", "posecoach", "analyze", str(photo), *(["--out", "-"] if rows else [])],
                              stdout=full, stderr=subprocess.PIPE, text=True, timeout=180, cwd=ROOT)  # fmt: skip
    assert proc.returncode == 2
    assert proc.stderr == "posecoach: error: standard output: cannot write (no space left on device)\n"


def test_closed_stdout(photo: Path) -> None:
    """Rows for a closed stdout were an AttributeError traceback; the summary has nowhere to go
    and is not an error."""

    def close_stdout() -> None:
        os.close(1)

    for args, code, err in [
        (["--out", "-"], 2, "posecoach: error: standard output is closed: nowhere to write the rows (use --out FILE)\n"),
        ([], 0, ""),
    ]:
        proc = subprocess.run([sys.executable, "-m", "posecoach", "analyze", str(photo), *args], stdout=None,
                              stderr=subprocess.PIPE, text=True, timeout=180, cwd=ROOT, preexec_fn=close_stdout)  # fmt: skip
        assert (proc.returncode, proc.stderr) == (code, err), args


# -- stopped ------------------------------------------------------------------------------------------
def _wait_for(predicate, proc: subprocess.Popen[str], what: str, timeout: float = 120.0) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while not predicate():
        if proc.poll() is not None:
            pytest.fail(f"posecoach ended before {what}: {proc.communicate()}")
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.002)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGINT])
def test_a_stop_signal_mid_analysis_leaves_no_partial_file(clip: Path, tmp_path: Path, sig: signal.Signals) -> None:
    """SIGTERM, SIGHUP and SIGQUIT left a hidden `.rows.jsonl.*.tmp` beside the output."""
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    proc = subprocess.Popen([sys.executable, "-m", "posecoach", "analyze", str(clip), "--out", str(out_dir / "rows.jsonl")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)  # fmt: skip

    def rows_being_written() -> bool:
        return any(p.name.endswith(".tmp") and p.stat().st_size > 0 for p in out_dir.iterdir())

    _wait_for(rows_being_written, proc, "rows were written")
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=120)
    if sig == signal.SIGINT:
        assert err == "posecoach: interrupted\n" and proc.returncode in (130, -signal.SIGINT)
    else:
        assert err == f"posecoach: stopped ({sig.name})\n"
        assert proc.returncode == 128 + sig
    assert out == "" and leftovers(out_dir) == []


def _maps(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return ""


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="needs /proc to see what the process has loaded")
@pytest.mark.parametrize("stage", ["numpy/_core/_multiarray_umath", "cv2.abi3.so", "libmediapipe.so"])
def test_ctrl_c_during_start_up_is_one_line(clip: Path, stage: str) -> None:
    """A Ctrl-C while NumPy, OpenCV or MediaPipe were loading was a KeyboardInterrupt traceback.

    The signal is sent once the process has mapped the stage's library. (The interpreter's own
    first ~30 ms, before ``posecoach.entry`` runs, cannot be covered by Python code.) Python
    may end by re-raising SIGINT after the message (status -2 here, 130 in a shell): MediaPipe's
    native start-up code marks the interrupt as unhandled."""
    proc = subprocess.Popen([sys.executable, "-m", "posecoach", "analyze", str(clip)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)  # fmt: skip
    _wait_for(lambda: stage in _maps(proc.pid), proc, f"{stage} was loaded")
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert err == "posecoach: interrupted\n" and proc.returncode in (130, -signal.SIGINT), (proc.returncode, err)


def test_ctrl_c_while_the_command_line_imports_is_one_line() -> None:
    """The ~40 ms of importing ``posecoach.cli`` ran before ``main`` could catch a Ctrl-C: a
    traceback. The entry point now imports it under its own guard. (A finder that raises
    KeyboardInterrupt stands in for the signal arriving during that import.)"""
    code = ("import sys\n"
            "class Interrupt:\n"
            "    def find_spec(self, name, path=None, target=None):\n"
            "        if name == 'posecoach.cli':\n"
            "            raise KeyboardInterrupt\n"
            "sys.meta_path.insert(0, Interrupt())\n"
            "import runpy\n"
            "runpy.run_module('posecoach', run_name='__main__')\n")  # fmt: skip
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert (proc.returncode, proc.stderr, proc.stdout) == (130, "posecoach: interrupted\n", "")


# -- what is printed ---------------------------------------------------------------------------------
ESCAPING_TARGET = r"""name = "escapes"
title = "Escapes \u001b[31mred"
description = "A look whose words try to drive the terminal"
hold_cue = "Hold \u001b]0;pwned\u0007"
[ranges.smile]
low = 0.95
high = 1.0
tolerance = 0.1
[cues.smile]
up = "\u001b[2J\u001b[31mSmile more\u0007"
down = "Less"
"""


def test_control_characters_never_reach_the_terminal(clip: Path, tmp_path: Path) -> None:
    """A target's cue `\\x1b[2J...` cleared the screen in `live --no-window`."""
    target = tmp_path / "escapes.toml"
    target.write_text(ESCAPING_TARGET)
    live = posecoach("live", "--video", str(clip), "--no-window", "--target", str(target))
    assert live.returncode == 0 and "\x1b" not in live.stdout + live.stderr and "\x07" not in live.stdout
    assert "score  " in live.stdout and "  \\x1b[2J\\x1b[31mSmile more\\x07\n" in live.stdout, live.stdout
    analyze = posecoach("analyze", str(clip), "--target", str(target))
    assert analyze.returncode == 0 and "\x1b" not in analyze.stdout
    assert "target: Escapes \\x1b[31mred\n" in analyze.stdout
    assert 'cues that held longest: "\\x1b[2J\\x1b[31mSmile more\\x07" ' in analyze.stdout
    named = tmp_path / "bad\x1b[2Jname\n.mp4"
    proc = posecoach("analyze", str(named))
    assert (proc.returncode, proc.stdout) == (2, "")
    assert proc.stderr == f"posecoach: error: {tmp_path}/bad\\x1b[2Jname .mp4: file not found\n"


def test_printable_escapes_what_drives_a_terminal() -> None:
    from posecoach.terminal import printable

    assert printable("Lower your chin a little · 15°") == "Lower your chin a little · 15°"
    assert printable("a\tb\nc\r") == "a b c "
    assert printable("\x1b[31mred\x07\x9b") == "\\x1b[31mred\\x07\\x9b"
    assert printable("abc\u202eevil") == "abc\\u202eevil"
