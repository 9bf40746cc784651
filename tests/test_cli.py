"""The CLI through its entry point: exit codes, one-line errors, the row schema, summaries."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from skimage import data as skdata

from posecoach.cli import main
from posecoach.export import COLUMNS

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def astronaut_png(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("img") / "astronaut.png"
    cv2.imwrite(str(path), cv2.cvtColor(skdata.astronaut(), cv2.COLOR_RGB2BGR))
    return path


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_targets_lists_the_library(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["targets"], capsys)
    lines = out.splitlines()
    assert code == 0 and len(lines) >= 8
    assert any(line.startswith("corporate_headshot ") for line in lines)


def test_analyze_a_photo(astronaut_png: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["analyze", str(astronaut_png), "--target", "friendly_profile", "--out", "-"], capsys)
    assert code == 0
    (row,) = [json.loads(line) for line in out.splitlines()]
    assert tuple(row) == COLUMNS and row["face"] is True and row["n_faces"] == 1
    assert 0 <= row["score"] <= 100 and row["cue"]
    assert "frames: 1, with a face: 1 (100%)" in err  # with --out - the summary goes to stderr


@pytest.fixture(scope="module")
def no_face_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("clip") / "grey.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (160, 120))
    rng = np.random.default_rng(1)
    for _ in range(15):
        writer.write(rng.integers(90, 110, (120, 160, 3), np.uint8))
    writer.release()
    return path


def test_a_video_without_a_face_is_not_an_error(no_face_clip: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_csv = tmp_path / "rows.csv"
    code, out, _ = run(["analyze", str(no_face_clip), "--out", str(out_csv)], capsys)
    assert code == 0
    assert "frames: 15, with a face: 0 (0%)" in out and "no face found" in out
    lines = out_csv.read_text().splitlines()
    assert lines[0] == ",".join(COLUMNS) and len(lines) == 16
    assert all(",False,0,,,," in line for line in lines[1:])


def test_timings_lists_every_stage(no_face_clip: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["analyze", str(no_face_clip), "--timings"], capsys)
    assert code == 0
    for stage in ("decode", "preprocess", "inference", "metrics+scoring+cues", "frames per second"):
        assert stage in out


def _bad(tmp: Path) -> list[tuple[list[str], str]]:
    (tmp / "empty.mp4").write_bytes(b"")
    (tmp / "junk.mov").write_bytes(bytes(range(256)) * 20)
    (tmp / "bad.toml").write_text("name = 3\n")
    img = str(tmp / "none.jpg")
    return [
        (["analyze", str(tmp / "missing.mp4")], f"posecoach: error: {tmp / 'missing.mp4'}: file not found"),
        (["analyze", str(tmp / "empty.mp4")], f"posecoach: error: {tmp / 'empty.mp4'}: empty file (0 bytes)"),
        (
            ["analyze", str(tmp / "junk.mov")],
            f"posecoach: error: {tmp / 'junk.mov'}: not a video or image posecoach can read "
            "(corrupt, truncated or unsupported format)",
        ),
        (["analyze", img, "--target", "no_such_look"], "posecoach: error: unknown target 'no_such_look'"),
        (["analyze", img, "--target", str(tmp / "bad.toml")], f"posecoach: error: {tmp / 'bad.toml'}: name: "),
        (["analyze", img, "--out", "rows.xlsx"], "posecoach: error: rows.xlsx: unknown output format '.xlsx'"),
        (["analyze", img, "--out", str(tmp / "nodir" / "a.jsonl")], f"posecoach: error: {tmp / 'nodir' / 'a.jsonl'}: output folder does not exist"),
        (
            ["analyze", img, "--model", str(tmp / "m.task")],
            f"posecoach: error: model file not found: {tmp / 'm.task'} (check the file given by --model",
        ),
    ]


def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, astronaut_png: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "none.jpg").write_bytes(astronaut_png.read_bytes())
    for args, message in _bad(tmp_path):
        code, out, err = run(args, capsys)
        assert code == 2, args
        assert err.count("\n") == 1 and err.startswith(message), (args, err)
        assert out == ""


def test_bad_option_value_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as e:
        main(["analyze", "x.mp4", "--strictness", "-1"])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "expected a positive number, got '-1'" in err


def test_real_process_has_no_native_noise_or_traceback(tmp_path: Path) -> None:
    """Through the real entry point, MediaPipe's native log lines stay off stderr."""
    (tmp_path / "cut.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 100)
    proc = subprocess.run(
        [sys.executable, "-m", "posecoach", "analyze", str(tmp_path / "cut.mp4")],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr == (
        f"posecoach: error: {tmp_path / 'cut.mp4'}: not a video or image posecoach can read "
        "(corrupt, truncated or unsupported format)\n"
    )


def test_real_process_analyze_photo_stderr_is_clean(astronaut_png: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "posecoach", "analyze", str(astronaut_png)],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
    )
    assert proc.returncode == 0 and proc.stderr == ""
    assert "frames: 1, with a face: 1 (100%)" in proc.stdout


@pytest.mark.media
def test_analyze_the_smiling_clip(shared_media: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "rows.jsonl"
    # The clip holds its smile ~1.1 s after the blink at frames 26-28 (which resets a hold).
    args = ["analyze", str(shared_media / "single_face.mp4"), "--target", "actor_commercial", "--hold", "0.8"]
    code, summary, _ = run([*args, "--out", str(out)], capsys)
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert code == 0 and len(rows) == 72 and [r["frame"] for r in rows] == list(range(72))
    assert all(tuple(r) == COLUMNS for r in rows)
    assert sum(r["face"] for r in rows) >= 68
    neutral = [r["score"] for r in rows[3:16]]
    smiling = [r["score"] for r in rows[35:68]]
    assert max(neutral) + 20 < min(smiling)  # a big-smile target scores the smile far higher
    assert rows[10]["cue"] != "" and rows[10]["held"] is False
    assert not any(r["held"] for r in rows[:30]) and any(r["held"] for r in rows[50:])
    assert "holds: 1 (at " in summary


@pytest.mark.media
def test_face_then_no_face(shared_media: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["analyze", str(shared_media / "face_noface.mov"), "--out", "-"], capsys)
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and len(rows) == 169
    assert all(r["face"] for r in rows[3:70])
    assert not any(r["face"] for r in rows[75:])
    assert all(r["score"] is None and r["smile"] is None for r in rows[75:])


@pytest.mark.media
def test_live_loop_on_a_video_prints_cue_changes(shared_media: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["live", "--video", str(shared_media / "single_face.mp4"), "--no-window", "--target", "actor_commercial"], capsys)
    lines = out.splitlines()
    assert code == 0 and lines[-1].startswith("holds: ")
    cues = [line.split(maxsplit=4)[-1] for line in lines[:-1]]  # "  0.07 s  score  45  <cue>"
    assert cues[0] == "Bigger! Show some teeth" and "That's the one, hold it" in cues


def test_live_without_a_display_is_one_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, astronaut_png: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    clip = tmp_path / "c.avi"
    writer = cv2.VideoWriter(str(clip), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (64, 48))
    writer.write(np.zeros((48, 64, 3), np.uint8))
    writer.release()
    code, out, err = run(["live", "--video", str(clip)], capsys)
    assert code == 2 and err == (
        "posecoach: error: no display available: posecoach live needs a desktop session (try --no-window or the app)\n"
    )


def test_a_photo_summary_ends_with_the_one_thing_to_change(astronaut_png: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """It printed a score but never the cue."""
    from posecoach.targets import find_target

    code, out, _ = run(["analyze", str(astronaut_png), "--target", "corporate_headshot", "--out", "-"], capsys)
    assert code == 0
    (row,) = [json.loads(line) for line in out.splitlines()]
    code, out, _ = run(["analyze", str(astronaut_png), "--target", "corporate_headshot"], capsys)
    lines = out.splitlines()
    assert lines[-2] == f"to change: {row['cue']}" and row["cue"]
    assert lines[-1].startswith("off target: ")
    target = find_target("corporate_headshot")
    for item in lines[-1].removeprefix("off target: ").split(", "):
        name, value, aim = item.split(" ", 2)
        low, _, high = aim.removeprefix("(aim ").removesuffix(")").replace("°", "").partition(" to ")
        v = float(value.replace("°", ""))
        r = target.range(name)
        assert (float(low), float(high)) == (r.low, r.high) and not r.low <= v <= r.high, item
        if name in row:  # the rows carry the same value (rounded)
            assert row[name] == pytest.approx(v, abs=0.051)


@pytest.mark.media
def test_a_video_summary_ends_with_the_cues_that_held_longest(shared_media: Path, capsys: pytest.CaptureFixture[str]) -> None:
    clip = str(shared_media / "single_face.mp4")
    code, out, _ = run(["analyze", clip, "--out", "-"], capsys)
    rows = [json.loads(line) for line in out.splitlines()]
    shown: dict[str, float] = {}
    for row, nxt in zip(rows, rows[1:] + [None]):
        step = (nxt["t_ms"] - row["t_ms"]) if nxt else rows[-1]["t_ms"] - rows[-2]["t_ms"]
        if row["face"] and row["cue"]:
            shown[row["cue"]] = shown.get(row["cue"], 0.0) + step / 1000.0
    longest = max(shown, key=shown.get)
    code, out, _ = run(["analyze", clip], capsys)
    last = out.splitlines()[-1]
    assert code == 0 and last.startswith(f'cues that held longest: "{longest}" {shown[longest]:.1f} s'), (last, shown)
