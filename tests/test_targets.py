"""Target files: the shipped library and strict validation with exact messages."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from posecoach.coaching import HOLD_TEXT, Coach
from posecoach.results import TARGET_METRICS, EyeState, Metrics
from posecoach.scoring import score_metrics
from posecoach.targets import (
    DEFAULT_LIBRARY_DIR,
    MetricRange,
    Target,
    TargetError,
    find_target,
    load_library,
    load_target,
    target_from_dict,
)

ANGLES = ("yaw", "pitch", "roll")

VALID = """\
name = "t"
title = "T"
description = "A test look."

[ranges.smile]
low = 0.2
high = 0.4
tolerance = 0.1
"""


def _write(tmp_path: Path, text: str | bytes, name: str = "x.toml") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def _ideal(target: Target) -> Metrics:
    """Metrics at the middle of every range of ``target`` (neutral elsewhere)."""
    values: dict[str, float] = dict(
        yaw=0.0, pitch=0.0, roll=0.0, smile=0.0, mouth_open=0.0, eye_open_left=0.8, eye_open_right=0.8,
        squinch=0.0, genuine_smile=0.0, gaze_on_lens=0.9, brow_raise=0.0, face_x=0.5, face_y=0.45, face_height=0.4,
    )  # fmt: skip
    for r in target.ranges:
        mid = 0.5 * (r.low + r.high)
        if r.metric == "eye_open":
            values["eye_open_left"] = values["eye_open_right"] = mid
        else:
            values[r.metric] = mid
    return Metrics(eyes=EyeState.OPEN, **values)


# -- the shipped library ---------------------------------------------------------------------
LIBRARY = load_library()


def test_library_has_the_promised_looks() -> None:
    expected = {
        "corporate_headshot", "friendly_profile", "actor_commercial", "actor_theatrical", "confident_no_smile",
        "three_quarter_left", "three_quarter_right", "soft_smile_squinch", "genuine_laugh", "passport_neutral",
    }  # fmt: skip
    assert expected <= set(LIBRARY)
    assert len(LIBRARY) >= 9


@pytest.mark.parametrize("path", sorted(DEFAULT_LIBRARY_DIR.glob("*.toml")), ids=lambda p: p.stem)
def test_every_shipped_target_is_valid(path: Path) -> None:
    t = load_target(path)
    assert t.name == path.stem
    assert t.title and 10 <= len(t.description) <= 200
    assert 0.5 <= t.hold_s <= 3.0 and 70 <= t.threshold <= 90
    assert len(t.ranges) >= 5
    names = [r.metric for r in t.ranges]
    assert len(set(names)) == len(names) and set(names) <= set(TARGET_METRICS)
    for r in t.ranges:
        assert r.low <= r.high and r.weight > 0
        if r.metric in ANGLES:
            # Single-camera head pose is good to about +-5 degrees: never ask for more.
            assert r.tolerance >= 5.0, r
        else:
            assert 0 < r.tolerance <= 0.3, r
    # The middle of every range is the look itself: full score, and the coach says "hold".
    score = score_metrics(_ideal(t), t)
    assert score.score == pytest.approx(100.0)
    assert Coach(t).update(score, 0).text == (t.hold_cue or HOLD_TEXT)


@pytest.mark.parametrize("name", sorted(LIBRARY))
def test_missing_a_defining_metric_or_blinking_is_never_a_hold(name: str) -> None:
    t = LIBRARY[name]
    ideal = _ideal(t)
    defining = [r for r in t.ranges if r.weight >= 1.5]
    assert "eye_open" in {r.metric for r in defining}
    for r in defining:
        # Fully outside the band on whichever side the metric's domain leaves room for.
        lo, hi = (-90.0, 90.0) if r.metric in ANGLES else (0.0, 1.0)
        miss = r.low - r.tolerance - 0.01 if r.low - r.tolerance - 0.01 >= lo else r.high + r.tolerance + 0.01
        assert lo <= miss <= hi, r
        if r.metric == "eye_open":
            m = ideal.replace(eye_open_left=miss, eye_open_right=miss)
        else:
            m = ideal.replace(**{r.metric: miss})
        assert score_metrics(m, t).score < t.threshold, r.metric
    assert score_metrics(ideal.replace(eye_open_left=0.0, eye_open_right=0.0), t).score < t.threshold


@pytest.mark.parametrize(
    ("name", "yaw_sign"),
    [("three_quarter_left", +1), ("three_quarter_right", -1), ("corporate_headshot", +1), ("passport_neutral", 0)],
)
def test_turn_direction_uses_raw_image_yaw(name: str, yaw_sign: int) -> None:
    # The subject's own left is the raw image's right, where yaw > 0 points.
    r = LIBRARY[name].range("yaw")
    assert r is not None
    if yaw_sign == 0:
        assert r.low < 0 < r.high
    else:
        assert min(abs(r.low), abs(r.high)) >= 8 and (r.low > 0) == (yaw_sign > 0) and (r.high < 0) == (yaw_sign < 0)


@pytest.mark.parametrize(
    ("name", "metric", "inside", "outside"),
    [
        ("corporate_headshot", "smile", 0.45, 0.9),  # a soft closed-mouth smile; a broad grin
        ("corporate_headshot", "mouth_open", 0.02, 0.3),
        ("corporate_headshot", "pitch", -5.0, 10.0),
        ("actor_commercial", "smile", 0.8, 0.1),
        ("actor_theatrical", "smile", 0.05, 0.5),
        ("actor_theatrical", "squinch", 0.45, 0.1),  # strong on the squinch scale of issue 9 (a full one ~0.55)
        ("confident_no_smile", "pitch", -6.0, 5.0),
        ("genuine_laugh", "mouth_open", 0.5, 0.0),
        ("passport_neutral", "smile", 0.0, 0.5),
        ("soft_smile_squinch", "squinch", 0.35, 0.0),
    ],
)
def test_looks_constrain_what_photographers_ask_for(name: str, metric: str, inside: float, outside: float) -> None:
    r = LIBRARY[name].range(metric)
    assert r is not None
    assert r.low <= inside <= r.high
    assert outside < r.low - r.tolerance or outside > r.high + r.tolerance


# -- validation: exact messages ----------------------------------------------------------------
def _range(body: str, metric: str = "smile") -> str:
    return f'name = "t"\n[ranges.{metric}]\n{body}\n'


SMILE_OK = "low = 0.2\nhigh = 0.4\ntolerance = 0.1"

BAD = [
    pytest.param(_range('low = "abc"\nhigh = 0.4\ntolerance = 0.1'), "ranges.smile.low: expected a number, got 'abc'",
                 id="low-string"),
    pytest.param(_range("low = true\nhigh = 0.4\ntolerance = 0.1"), "ranges.smile.low: expected a number, got true",
                 id="low-bool"),
    pytest.param(_range("low = 0.2\nhigh = nan\ntolerance = 0.1"), "ranges.smile.high: expected a finite number, got nan",
                 id="high-nan"),
    pytest.param(_range("low = 0.2\nhigh = 0.4\ntolerance = inf"),
                 "ranges.smile.tolerance: expected a finite number, got inf", id="tolerance-inf"),
    pytest.param(_range("low = 0.6\nhigh = 0.3\ntolerance = 0.1"), "ranges.smile.low: expected at most high (0.3), got 0.6",
                 id="low-above-high"),
    pytest.param(_range("low = 0.2\nhigh = 0.4\ntolerance = -0.1"),
                 "ranges.smile.tolerance: expected a number in [0, 1], got -0.1", id="negative-tolerance"),
    pytest.param(_range("low = 0.2\nhigh = 0.4\ntolerance = 1e308"),
                 "ranges.smile.tolerance: expected a number in [0, 1], got 1e+308", id="huge-tolerance"),
    pytest.param('name = "t"\n[ranges.yaw]\nlow = -5\nhigh = 5\ntolerance = 181',
                 "ranges.yaw.tolerance: expected a number in [0, 180], got 181", id="tolerance-wider-than-angles"),
    pytest.param(_range(SMILE_OK + "\nweight = -1"), "ranges.smile.weight: expected a number in [0, 100], got -1",
                 id="negative-weight"),
    pytest.param(_range(SMILE_OK + "\nweight = 1e308"), "ranges.smile.weight: expected a number in [0, 100], got 1e+308",
                 id="huge-weight"),
    pytest.param(_range(SMILE_OK + "\nweight = 0"), "ranges: expected at least one metric with weight > 0",
                 id="all-weights-zero"),
    pytest.param(_range("low = 20\nhigh = 40\ntolerance = 10"), "ranges.smile.low: expected a number in [0, 1], got 20",
                 id="percent-not-fraction"),
    pytest.param(_range("low = 10\nhigh = 100\ntolerance = 5", "yaw"),
                 "ranges.yaw.high: expected a number in [-90, 90], got 100", id="yaw-out-of-domain"),
    pytest.param(_range("low = 0.2\nhigh = 0.4"), "ranges.smile.tolerance: missing (expected a number)",
                 id="missing-tolerance"),
    pytest.param(_range(SMILE_OK + "\ntol = 1"), "ranges.smile.tol: unknown key (expected one of: low, high, tolerance, weight)",
                 id="unknown-range-key"),
    pytest.param(_range(SMILE_OK, "smiles"), "ranges.smiles: unknown metric (expected one of: " + ", ".join(TARGET_METRICS) + ")",
                 id="unknown-metric"),
    pytest.param('name = "t"\nranges = { smile = 0.3 }\n', "ranges.smile: expected a table, got 0.3", id="range-not-table"),
    pytest.param('name = "t"\n', "ranges: missing (expected a table of metric ranges)", id="no-ranges"),
    pytest.param('name = "t"\nranges = {}\n', "ranges: expected at least one metric with weight > 0", id="empty-ranges"),
    pytest.param(_range(SMILE_OK).replace('name = "t"\n', ""),
                 "name: missing (expected a slug such as 'corporate_headshot')", id="missing-name"),
    pytest.param(_range(SMILE_OK).replace('"t"', "3"), "name: expected a string, got 3", id="name-not-string"),
    pytest.param(_range(SMILE_OK).replace('"t"', '"My Look"'),
                 "name: expected a slug of lowercase letters, digits, '_' or '-', got 'My Look'", id="name-not-slug"),
    pytest.param('colour = "red"\n' + _range(SMILE_OK),
                 "colour: unknown key (expected one of: name, title, description, hold_s, threshold, hold_cue, ranges, cues, light)",
                 id="unknown-top-key"),
    pytest.param('title = ""\n' + _range(SMILE_OK), "title: expected a non-empty string, got ''", id="empty-title"),
    pytest.param("description = [1]\n" + _range(SMILE_OK), "description: expected a string, got an array",
                 id="description-array"),
    pytest.param("hold_s = 0\n" + _range(SMILE_OK), "hold_s: expected seconds in (0, 60], got 0", id="hold-zero"),
    pytest.param('hold_s = "2s"\n' + _range(SMILE_OK), "hold_s: expected a number, got '2s'", id="hold-string"),
    pytest.param("threshold = 120\n" + _range(SMILE_OK), "threshold: expected a score in (0, 100], got 120",
                 id="threshold-above-100"),
    pytest.param(_range(SMILE_OK) + '[cues.yaw]\nup = "x"\n', "cues.yaw: expected a metric that has a range in this target",
                 id="cue-for-unconstrained-metric"),
    pytest.param(_range(SMILE_OK) + '[cues.smile]\nsideways = "x"\n',
                 "cues.smile.sideways: unknown key (expected one of: up, down)", id="cue-unknown-direction"),
    pytest.param(_range(SMILE_OK) + "[cues.smile]\nup = 1\n", "cues.smile.up: expected a string, got 1", id="cue-not-string"),
    pytest.param('cues = "loud"\n' + _range(SMILE_OK), "cues: expected a table, got 'loud'", id="cues-not-table"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "message"), BAD)
def test_bad_target_files_name_file_field_and_reason(tmp_path: Path, text: str, message: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(TargetError) as e:
        load_target(path)
    assert str(e.value) == f"{path}: {message}"
    assert e.value.path == str(path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param(b"name = \"t\"\n\xff\xfe\x00garbage", "expected UTF-8 text, got an undecodable byte at offset 11",
                     id="not-utf8"),
        pytest.param(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "expected UTF-8 text, got an undecodable byte at offset 0",
                     id="binary"),
    ],
)  # fmt: skip
def test_binary_files_are_target_errors(tmp_path: Path, content: bytes, message: str) -> None:
    path = _write(tmp_path, content)
    with pytest.raises(TargetError) as e:
        load_target(path)
    assert str(e.value) == f"{path}: {message}"


@pytest.mark.parametrize("text", ["name = ", "[ranges.smile\nlow=1", "name = \"t\"\nname = \"u\"\n", "\x00", "a = [" * 5000])
def test_invalid_toml_is_a_target_error(tmp_path: Path, text: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(TargetError) as e:
        load_target(path)
    assert str(e.value).startswith(f"{path}: not valid TOML (")


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(TargetError) as e:
        load_target(tmp_path / "nope.toml")
    assert str(e.value) == f"{tmp_path / 'nope.toml'}: file not found"
    with pytest.raises(TargetError) as e:
        load_target(tmp_path)
    assert str(e.value) == f"{tmp_path}: is a directory, not a target file (.toml)"
    with pytest.raises(TargetError) as e:
        load_target(42)  # type: ignore[arg-type]
    assert str(e.value) == "42: expected a file path, got int"


def test_valid_file_with_bom_and_defaults(tmp_path: Path) -> None:
    t = load_target(_write(tmp_path, b"\xef\xbb\xbf" + _range(SMILE_OK).encode()))
    assert t == Target("t", "T", "", (MetricRange("smile", 0.2, 0.4, 0.1, 1.0),), hold_s=1.5, threshold=80.0)


def test_full_valid_file(tmp_path: Path) -> None:
    text = 'hold_s = 2\nthreshold = 90\nhold_cue = "Stay"\n' + VALID + '[cues.smile]\nup = " Bigger "\n'
    t = load_target(_write(tmp_path, text))
    assert (t.name, t.title, t.description) == ("t", "T", "A test look.")
    assert (t.hold_s, t.threshold, t.hold_cue) == (2.0, 90.0, "Stay")
    assert t.cue_for("smile", +1) == "Bigger" and t.cue_for("smile", -1) == "" and t.cue_for("yaw", +1) == ""
    assert t.range("smile") == MetricRange("smile", 0.2, 0.4, 0.1, 1.0) and t.range("yaw") is None


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=st.binary(max_size=200))
def test_garbage_bytes_never_raise_anything_but_target_error(tmp_path: Path, content: bytes) -> None:
    path = _write(tmp_path, content)
    try:
        load_target(path)
    except TargetError:
        pass


_KEYS = st.sampled_from(["low", "high", "tolerance", "weight", "up", "x"])
_toml_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_KEYS, inner, max_size=4),
    max_leaves=10,
)


@settings(max_examples=120, deadline=None)
@given(
    doc=st.dictionaries(
        st.sampled_from(["name", "title", "description", "hold_s", "threshold", "hold_cue", "ranges", "cues", "zz"]),
        _toml_values | st.dictionaries(st.sampled_from([*TARGET_METRICS, "nope"]), _toml_values, max_size=3),
        max_size=8,
    )
)
def test_any_document_gives_a_target_or_a_target_error(doc: dict) -> None:
    try:
        t = target_from_dict(doc, "f.toml")
    except TargetError as e:
        assert str(e).startswith("f.toml: ")
    else:
        assert isinstance(t, Target) and any(r.weight > 0 for r in t.ranges)


# -- library and lookup ----------------------------------------------------------------------
def test_library_errors(tmp_path: Path) -> None:
    with pytest.raises(TargetError) as e:
        load_library(tmp_path / "none")
    assert str(e.value) == f"{tmp_path / 'none'}: cannot read: no such folder"
    with pytest.raises(TargetError) as e:
        load_library(tmp_path)
    assert str(e.value) == f"{tmp_path}: no target files (*.toml) found"
    _write(tmp_path, VALID, "a.toml")
    _write(tmp_path, VALID, "b.toml")
    with pytest.raises(TargetError) as e:
        load_library(tmp_path)
    assert str(e.value) == f"{tmp_path / 'b.toml'}: name: expected a unique name, got 't' (also in a.toml)"
    _write(tmp_path, VALID.replace('"t"', '"u"'), "b.toml")
    _write(tmp_path, "name = 1", "c.toml")
    with pytest.raises(TargetError) as e:
        load_library(tmp_path)
    assert str(e.value) == f"{tmp_path / 'c.toml'}: name: expected a string, got 1"
    (tmp_path / "c.toml").unlink()
    _write(tmp_path, "not a target", "notes.txt")  # only *.toml files count
    assert sorted(load_library(tmp_path)) == ["t", "u"]


def test_find_target_by_name_path_or_error(tmp_path: Path) -> None:
    assert find_target("corporate_headshot", LIBRARY) is LIBRARY["corporate_headshot"]
    assert find_target("passport_neutral").name == "passport_neutral"  # default library
    path = _write(tmp_path, VALID, "mine.toml")
    assert find_target(str(path), LIBRARY).name == "t"
    assert find_target(path, LIBRARY).name == "t"
    with pytest.raises(TargetError) as e:
        find_target("corprate", {"b": LIBRARY["friendly_profile"], "a": LIBRARY["genuine_laugh"]})
    assert str(e.value) == "unknown target 'corprate': expected a .toml file or one of: a, b"
    with pytest.raises(TargetError) as e:
        find_target("x" * 5000, LIBRARY)  # too long for a file name: still just unknown
    assert str(e.value).startswith("unknown target 'xxxxxxxx") and len(str(e.value)) < 500
    with pytest.raises(TargetError) as e:
        find_target(str(tmp_path / "missing.toml"), LIBRARY)
    assert str(e.value) == f"{tmp_path / 'missing.toml'}: file not found"


def test_target_error_is_a_value_error() -> None:
    assert issubclass(TargetError, ValueError)


def _special_files(tmp_path: Path) -> list[tuple[Path, str]]:
    os.mkfifo(tmp_path / "pipe.toml")
    (tmp_path / "zero.toml").symlink_to("/dev/zero")
    (tmp_path / "loop.toml").symlink_to(tmp_path / "loop.toml")
    (tmp_path / "big.toml").write_text("# " + "x" * 300_000 + "\n")
    (tmp_path / "empty.toml").write_bytes(b"")
    return [
        (tmp_path / "pipe.toml", "is a named pipe (FIFO), not a target file (.toml)"),
        (Path("/dev/zero"), "is a device, not a target file (.toml)"),
        (tmp_path / "zero.toml", "is a device, not a target file (.toml)"),
        (tmp_path / "loop.toml", "symbolic link loop (the path never reaches a file)"),
        (tmp_path / "big.toml", "file too large (293 KiB; at most 256 KiB)"),
        (tmp_path / "empty.toml", "empty file (0 bytes)"),
        (tmp_path / ("n" * 300 + ".toml"), "a name in the path is longer than 255 bytes"),
    ]


def test_only_regular_target_files_are_read_and_only_so_much(tmp_path: Path) -> None:
    """A FIFO would hang the read, /dev/zero (or a .toml link to it) would never end."""
    for path, reason in _special_files(tmp_path):
        with pytest.raises(TargetError) as e:
            find_target(str(path), LIBRARY)
        assert str(e.value) == f"{path}: {reason}"
