"""``posecoach drill shutter`` on the real clip, and its bad input (one line, exit 2, nothing written)."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import pytest
from skimage import data as skdata

from posecoach.cli import main
from posecoach.drills import Miss, ShotSchedule
from posecoach.drills.flows import run_shutter
from posecoach.runs import CoachSettings
from posecoach.sources import open_source
from posecoach.user_targets import load_catalog

CLIP = "single_face.mp4"
#: The clip's own look: a broad smile with teeth (see shared/media/README.md).
TARGET = "genuine_laugh"


def _segments(labels: dict, field: str, value: str) -> list[int]:
    return [f for seg in labels[CLIP]["segments"] if seg[field] == value
            for f in range(seg["frames"][0], seg["frames"][1] + 1)]  # fmt: skip


@pytest.fixture(scope="module")
def every_frame_shot(shared_media: Path):  # noqa: ANN201 - drills.flows.ShutterRun
    """The clip with a click on every frame: each frame judged as a shot would be."""
    target = load_catalog().find(TARGET)
    source = open_source(str(shared_media / CLIP))
    try:
        # Frame i is stamped ~i * 33.3 ms (whole ms): one click just before each.
        schedule = ShotSchedule.at([i * 1000.0 / 30.0 - 10.0 for i in range(1, 200)])
        return run_shutter(source, target, CoachSettings(TARGET), schedule=schedule)
    finally:
        source.close()


def test_the_clips_blink_frames_are_never_keepers(every_frame_shot, media_labels: dict) -> None:  # noqa: ANN001
    shots = {s.frame: s for s in every_frame_shot.summary.shots}
    assert len(shots) == 71  # frames 1-71: every one judged (frame 0 starts the clock)
    closed = _segments(media_labels, "eyes", "closed")
    assert closed == [26, 27, 28]
    for f in closed:
        assert not shots[f].keeper and Miss.BLINK in shots[f].misses and shots[f].eyes == "closed", f


def test_the_held_smile_is_kept_and_the_neutral_face_is_not(every_frame_shot, media_labels: dict) -> None:  # noqa: ANN001
    shots = {s.frame: s for s in every_frame_shot.summary.shots}
    big_open = [f for f in _segments(media_labels, "smiling", "big") if f in _segments(media_labels, "eyes", "open")]
    kept = sum(shots[f].keeper for f in big_open if f in shots)
    # Measured: 43 of 44 (frame 20, the smile's first big frame, scores 79: the score is smoothed); margin for drift.
    assert kept >= 0.9 * len(big_open)
    assert not any(shots[f].keeper for f in _segments(media_labels, "smiling", "none") if f in shots)
    # A head that holds still reads steady: measured at most 3.3 degrees over 150 ms (the smile
    # coming on and going moves the pitch reading), under the 4-degree rule.
    assert all(s.head_moved_deg is not None and s.head_moved_deg < 4.0 for s in shots.values())
    summary = every_frame_shot.summary
    assert summary.blinks == 1 and summary.recovery_s is not None and summary.recovery_s < 0.5


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_drill_shutter_on_the_clip_writes_json_and_a_contact_sheet(shared_media: Path, tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    clip = str(shared_media / CLIP)
    args = ["drill", "shutter", clip, "--target", TARGET, "--every", "0.2:0.4", "--seed", "8"]
    code, out, err = run(args + ["--json", str(tmp_path / "a.json"), "--sheet", str(tmp_path / "sheet.jpg")], capsys)
    assert code == 0, err
    doc = json.loads((tmp_path / "a.json").read_text())
    shots = doc["shots"]
    assert all(set(s) == {"frame", "t_ms", "score", "eyes", "gaze_on_lens", "keeper", "why"} for s in shots)
    # Measured with seed 8: 8 shots, one on the blink (frame 26), 4 keepers.
    assert len(shots) == 8 and doc["summary"]["shots"] == 8
    blink = [s for s in shots if s["frame"] in (26, 27, 28)]
    assert blink and all(not s["keeper"] and "blink at the click" in s["why"] for s in blink)
    assert doc["summary"]["keepers"] == sum(s["keeper"] for s in shots) == 4
    assert all((s["why"] == "") == s["keeper"] for s in shots)
    assert doc["summary"]["habit"] and doc["summary"]["blinks"] == 1
    assert "keepers: 4 of 8 shots" in out and "work on: " in out and "blink at the click" in out
    sheet = cv2.imread(str(tmp_path / "sheet.jpg"))
    assert sheet is not None and sheet.shape[1] > sheet.shape[0]  # 4 across, 2 down
    # The same seed gives the same shots; another seed, other shots.
    code, _, _ = run(args + ["--json", str(tmp_path / "b.json")], capsys)
    assert code == 0 and json.loads((tmp_path / "b.json").read_text())["shots"] == shots
    code, _, _ = run(args[:-1] + ["9", "--json", str(tmp_path / "c.json")], capsys)
    assert code == 0 and [s["frame"] for s in json.loads((tmp_path / "c.json").read_text())["shots"]] != [s["frame"] for s in shots]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json", "b.json", "c.json", "sheet.jpg"]


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (["--every", "4:2"], "argument --every: shot interval must be LO:HI seconds with 0.2 <= LO <= HI <= 60, got 4:2"),
        (["--every", "often"], "argument --every: expected --every LO:HI in seconds (e.g. 2:4), got 'often'"),
        (["--seed", "-3"], "argument --seed: expected a seed from 0 to 9223372036854775807, got -3"),
        (["--seed", "lucky"], "argument --seed: expected a whole number from 0 to 9223372036854775807, got 'lucky'"),
    ],
)
def test_bad_options_are_one_line_and_exit_2(option: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as e:
        main(["drill", "shutter", "clip.mp4"] + option)
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert err == f"posecoach: error: {message} (see posecoach --help)\n"


def test_bad_outputs_and_sources_are_one_line_and_nothing_is_written(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    photo = tmp_path / "me.png"
    cv2.imwrite(str(photo), cv2.cvtColor(skdata.astronaut(), cv2.COLOR_RGB2BGR))
    (tmp_path / "folder.json").mkdir()
    cases = [
        (["--json", str(tmp_path / "nodir" / "s.json")], f"{tmp_path / 'nodir' / 's.json'}: output folder does not exist"),
        (["--json", str(tmp_path / "folder.json")], f"{tmp_path / 'folder.json'}: is a directory, not a JSON file to write"),
        (["--sheet", str(tmp_path / "sheet.gif")], f"{tmp_path / 'sheet.gif'}: a contact sheet is written as .jpg or .png"),
        (["--target", "no_such_look"], "unknown target 'no_such_look'"),
        ([], f"{photo}: the shutter drill needs a video (a few seconds of you), not a photo"),
    ]
    for option, message in cases:
        code, out, err = run(["drill", "shutter", str(photo)] + option, capsys)
        assert code == 2, option
        assert err.count("\n") == 1 and err.startswith(f"posecoach: error: {message}"), (option, err)
        assert out == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["folder.json", "me.png"]
