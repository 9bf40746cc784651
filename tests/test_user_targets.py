"""A person's own targets: names that stay in their folder, atomic files, real deletes, and
everywhere the library's targets are."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import pytest
from skimage import data as skdata

from posecoach.cli import main
from posecoach.targets import DEFAULT_LIBRARY_DIR, MetricRange, Target, TargetError, load_library, load_target
from posecoach.user_targets import (
    check_name,
    delete_user_target,
    load_catalog,
    load_user_targets,
    save_user_target,
    target_to_toml,
    user_targets_dir,
)

LIBRARY = load_library()


def mine(name: str = "my_look", **changes: object) -> Target:
    """A small valid target (as a person's own)."""
    values = {
        "name": name,
        "title": "My look (from a \"quoted\" photo.jpg)",
        "description": "A soft smile, eyes on the lens.\nSecond line.",
        "ranges": (MetricRange("smile", 0.4, 0.6, 0.15, 1.5), MetricRange("eye_open", 0.5, 1.0, 0.2, 1.5),
                   MetricRange("yaw", -5.0, 5.0, 6.5, 0.7)),  # fmt: skip
        "hold_s": 1.5,
        "threshold": 83.0,
        "hold_cue": "Hold it",
    }
    values.update(changes)
    return Target(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("../x", "'../x' is not a target name: use lowercase letters, digits, '_' or '-' (e.g. my_look), no folders, dots or spaces"),
        ("/", "'/' is not a target name"),
        ("a/b", "'a/b' is not a target name"),
        (".hidden", "'.hidden' is not a target name"),
        ("x\x00y", "'x\\x00y' is not a target name"),
        ("..", "'..' is not a target name"),
        ("My Look", "'My Look' is not a target name"),
        ("", "a target name is lowercase letters, digits, '_' or '-' (e.g. my_look), got nothing"),
        ("x" * 65, "a target name is at most 64 characters, got 65"),
        ("corporate_headshot", "'corporate_headshot' is a library target: choose another name (your targets never replace the library's)"),
    ],
)  # fmt: skip
def test_names_that_would_leave_the_folder_or_shadow_the_library_are_refused(name: str, reason: str) -> None:
    with pytest.raises(TargetError) as e:
        check_name(name, LIBRARY)
    assert str(e.value).startswith(reason)
    assert "\n" not in str(e.value)


def test_save_writes_the_library_format_atomically_and_it_loads_back(_private_user_dir: Path) -> None:
    t = mine()
    path = save_user_target(t, comment="Made by a test.\nSecond comment line.")
    assert path == _private_user_dir / "targets" / "my_look.toml" == user_targets_dir() / "my_look.toml"
    assert sorted(p.name for p in path.parent.iterdir()) == ["my_look.toml"], "no temporary file is left behind"
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# Made by a test.\n# Second comment line.\nname = \"my_look\"")
    back = load_target(path)
    assert back == t  # titles with quotes, descriptions with newlines: all round-trip


def test_an_existing_target_is_only_replaced_when_asked() -> None:
    save_user_target(mine())
    with pytest.raises(TargetError, match="a target named 'my_look' already exists: choose another name or replace it"):
        save_user_target(mine(title="Other"))
    assert load_user_targets().targets["my_look"].title.startswith("My look")
    save_user_target(mine(title="Other"), replace=True)
    assert load_user_targets().targets["my_look"].title == "Other"


def test_an_invalid_target_is_never_written() -> None:
    bad = mine(ranges=(MetricRange("smile", 0.8, 0.2, 0.1),))  # low above high
    with pytest.raises(TargetError, match=r"ranges\.smile\.low: expected at most high"):
        save_user_target(bad)
    assert not user_targets_dir().exists() or not any(user_targets_dir().iterdir())


def test_delete_removes_the_file_and_refuses_what_it_cannot_delete() -> None:
    path = save_user_target(mine())
    assert delete_user_target("my_look") == path
    assert not path.exists() and "my_look" not in load_catalog().targets
    with pytest.raises(TargetError, match=r"no target of yours is named 'my_look' \(see `posecoach target list`\)"):
        delete_user_target("my_look")
    with pytest.raises(TargetError, match="'passport_neutral' is a library target: only your own targets can be deleted"):
        delete_user_target("passport_neutral")
    with pytest.raises(TargetError, match="'../targets' is not a target name"):
        delete_user_target("../targets")
    assert (DEFAULT_LIBRARY_DIR / "passport_neutral.toml").is_file()


def test_the_catalog_merges_and_a_broken_or_shadowing_file_is_skipped_with_its_reason() -> None:
    save_user_target(mine())
    folder = user_targets_dir()
    (folder / "broken.toml").write_text('name = "broken"\ntitle = "Broken"\n[ranges.smile]\nlow = "abc"\nhigh = 1\ntolerance = 0.1\n')
    (folder / "corporate_headshot.toml").write_text(target_to_toml(LIBRARY["corporate_headshot"]).replace(
        'title = "Corporate headshot"', 'title = "Hijacked"'))  # fmt: skip
    (folder / "other.toml").write_text(target_to_toml(mine("not_other")))
    (folder / ".my_look.toml.abc.tmp").write_text("half a file")  # an interrupted write's leftover
    catalog = load_catalog()
    assert catalog.user == {"my_look"}
    assert catalog.targets["corporate_headshot"].title == "Corporate headshot", "the library is never shadowed"
    assert set(LIBRARY) < set(catalog.targets)
    problems = "\n".join(catalog.problems)
    assert f"{folder / 'broken.toml'}: ranges.smile.low: expected a number, got 'abc'" in problems
    assert f"{folder / 'corporate_headshot.toml'}: name: 'corporate_headshot' is a library target" in problems
    assert f"{folder / 'other.toml'}: name: expected the file's name 'other', got 'not_other'" in problems
    assert len(catalog.problems) == 3
    with pytest.raises(TargetError, match="broken.toml: ranges.smile.low: expected a number"):
        catalog.find("broken")  # asked for by name: its own reason, not "unknown target"
    assert catalog.find("my_look").name == "my_look"


def test_no_folder_means_no_targets_and_nothing_is_created() -> None:
    assert load_user_targets() == load_user_targets()  # repeatable
    assert load_user_targets().targets == {} and not user_targets_dir().exists()


# -- everywhere library targets are --------------------------------------------------------------
def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_the_command_line_lists_uses_and_deletes_a_user_target(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    save_user_target(mine(description="A soft smile, eyes on the lens."))
    code, out, _ = run(["targets"], capsys)
    assert code == 0 and any(line.startswith("my_look ") and line.endswith("[yours]") for line in out.splitlines())
    code, out, _ = run(["target", "list"], capsys)
    assert code == 0 and out.splitlines()[0].startswith("my_look  My look")
    photo = tmp_path / "astronaut.png"
    cv2.imwrite(str(photo), cv2.cvtColor(skdata.astronaut(), cv2.COLOR_RGB2BGR))
    code, out, err = run(["analyze", str(photo), "--target", "my_look"], capsys)
    assert code == 0, err
    assert out.splitlines()[0] == 'target: My look (from a "quoted" photo.jpg)'
    code, out, _ = run(["target", "delete", "my_look"], capsys)
    assert code == 0 and out.startswith("deleted my_look (")
    code, _, err = run(["analyze", str(photo), "--target", "my_look"], capsys)
    assert code == 2 and err.startswith("posecoach: error: unknown target 'my_look'")
    code, out, _ = run(["target", "list"], capsys)
    assert code == 0 and out.startswith("no targets of yours yet")


def test_user_folder_setting_is_honoured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POSECOACH_USER_DIR", os.fspath(tmp_path / "elsewhere"))
    path = save_user_target(mine())
    assert path == tmp_path / "elsewhere" / "targets" / "my_look.toml"
