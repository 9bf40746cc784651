"""The fitted coefficient files: loaded strictly, applied as documented."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from posecoach.readings import (
    GAZE_MODEL_FILE,
    SMILE_FEATURES,
    SMILE_MODEL_FILE,
    LinearReading,
    ReadingsError,
    gaze_model,
    load_gaze,
    load_reading,
    smile_model,
)


def test_the_shipped_files_load_and_say_what_they_were_fitted_on() -> None:
    smile = smile_model()
    assert smile.name == "smile" and smile.version == 2 and smile.threshold == 0.35
    assert "GENKI-4K" in smile.fitted_on and "held-out" in smile.notes
    assert set(smile.features) <= set(SMILE_FEATURES) and "mouth_smile_sqrt" in smile.features
    # The lip actions of a laugh count only within a smile, and saturate at a typical smile's value.
    caps = dict(zip(smile.features, smile.cap))
    assert 0.0 < caps["upper_lip_in_smile"] < 0.6 and 0.0 < caps["lower_lip_in_smile"] < 0.6 and caps["mouth_smile_sqrt"] is None
    gaze = gaze_model()
    assert gaze.name == "gaze" and gaze.version == 2 and "GENKI-4K" in gaze.fitted_on
    assert 5.0 < gaze.sigma_deg[0] < 25.0 and gaze.sigma_deg[1] > gaze.sigma_deg[0]
    # On the lens, a head turned toward the image's right has its eyes turned back to the left:
    # eyeLook* falls with yaw and saturates; the upper lids rise as the head bows.
    assert all(b < a < 0.0 for a, b in zip(gaze.look_x, gaze.look_x[1:]))
    assert all(b < a for a, b in zip(gaze.upper_lid, gaze.upper_lid[1:]))
    assert min(gaze.per_deg) > 0.0


def test_the_boundary_reads_the_threshold_and_the_scale_is_monotonic() -> None:
    m = LinearReading("smile", 1, ("mouth_smile_sqrt",), (0.5,), (0.25,), (2.0,), 0.0, 0.35, 0.6)
    assert m.reading((0.5,)) == pytest.approx(0.35)  # logit 0 -> the threshold
    values = [m.reading((x / 10,)) for x in range(11)]
    assert values == sorted(values) and values[0] < 0.1 and values[-1] > 0.8
    assert m.logit((0.75,)) == pytest.approx(2.0)


def test_gaze_score_is_flat_topped() -> None:
    g = gaze_model()
    sh, sv = g.sigma_deg
    assert g.edge == 8.0
    assert g.score(0.0, 0.0) == 1.0
    assert g.score(sh, 0.0) == pytest.approx(math.exp(-0.5)) == g.score(0.0, -sv)
    assert g.score(1.116 * sh, 0.0) == pytest.approx(0.30, abs=0.01)  # a short fall from "on" to "away"
    assert g.score(0.75 * sh, 0.0) > 0.95 and g.score(0.6 * sh, 0.6 * sv) > 0.98  # a flat top


def test_gaze_reads_the_miss_from_the_on_lens_curve() -> None:
    """A frontal face on the lens misses by nothing; one turned 15 degrees with its eyes back
    at the lens reads the curve's value; mirrored, the same miss mirrored."""
    g = gaze_model()
    up0 = g.upper_lid[g.pitch_knots.index(0.0)]
    look_y0 = g.look_y[g.pitch_knots.index(0.0)]
    assert g.misses(0.0, 0.0, g.look_bias, look_y0, up0) == pytest.approx((0.0, 0.0))
    on_15 = g.look_x[g.yaw_knots.index(15.0)]
    assert g.misses(15.0, 0.0, g.look_bias + on_15, look_y0, up0) == pytest.approx((0.0, 0.0))
    h, _ = g.misses(15.0, 0.0, g.look_bias, look_y0, up0)  # eyes following the head
    assert h == pytest.approx(-on_15 / g.per_deg[0]) and h > 15.0
    assert g.misses(-15.0, 0.0, g.look_bias, look_y0, up0)[0] == pytest.approx(-h)


def _write(tmp_path: Path, data: object) -> Path:
    p = tmp_path / "smile_test.json"
    p.write_text(json.dumps(data) if not isinstance(data, str) else data)
    return p


def _valid() -> dict:
    return json.loads(SMILE_MODEL_FILE.read_text())


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.pop("bias"), "bias: missing"),
        (lambda d: d.update(gain=0), "gain: expected a number > 0, got 0.0"),
        (lambda d: d.update(threshold=1.5), "threshold: expected a number between 0 and 1 (exclusive), got 1.5"),
        (lambda d: d.update(features=["mouth_smile_sqrt", "teeth"], weights=[1, 1], centre=[0, 0], scale=[1, 1]),
         "features[1]: unknown feature 'teeth'; expected one of "),
        (lambda d: d.update(weights=[1.0]), "weights: expected a list of"),
        (lambda d: d.update(bias="high"), "bias: expected a finite number, got 'high'"),
        (lambda d: d.update(scale=[0.0] * len(d["features"])), "scale[0]: expected a number > 0, got 0.0"),
        (lambda d: d.update(colour="red"), "colour: unknown field; expected one of name, version"),
        (lambda d: d.update(version=0), "version: expected an integer >= 1, got 0"),
        (lambda d: d.update(cap=[0.3]), "cap: expected a list of"),
        (lambda d: d.update(cap=["high"] + [None] * (len(d["features"]) - 1)), "cap[0]: expected a finite number, got 'high'"),
    ],
)  # fmt: skip
def test_a_bad_file_names_the_file_the_field_and_the_reason(tmp_path: Path, change, message: str) -> None:
    data = _valid()
    change(data)
    path = _write(tmp_path, data)
    with pytest.raises(ReadingsError) as e:
        load_reading(path)
    assert str(e.value).startswith(f"{path}: {message}")


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(ReadingsError, match=r"missing\.json: file not found$"):
        load_reading(tmp_path / "missing.json")
    with pytest.raises(ReadingsError, match=r"not valid JSON: Expecting property name enclosed in double quotes \(line 1\)$"):
        load_reading(_write(tmp_path, "{oops"))
    with pytest.raises(ReadingsError, match=r": expected a JSON object, got list$"):
        load_reading(_write(tmp_path, [1, 2]))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(sigma_deg=[10.0, -1.0]), "sigma_deg: expected two numbers > 0, got [10.0, -1.0]"),
        (lambda d: d.update(per_deg=[0.04, 0.0, 0.005]), "per_deg: expected three non-zero slopes, got [0.04, 0.0, 0.005]"),
        (lambda d: d.update(yaw_knots=[5, 15, 10, 20, 25]), "yaw_knots: expected increasing degrees above 0, got [5.0, 15.0, 10.0, 20.0, 25.0]"),
        (lambda d: d.update(look_x=[-0.2, -0.4]), "look_x: expected a list of 5 numbers, got [-0.2, -0.4]"),
        (lambda d: d.update(upper_lid=[0.2, 0.2, 0.2, 0.2, None]), "upper_lid[4]: expected a finite number, got None"),
        (lambda d: d.update(vertical_mix=1.5), "vertical_mix: expected a number between 0 and 1, got 1.5"),
        (lambda d: d.update(edge=1), "edge: expected a number between 2 and 16, got 1.0"),
        (lambda d: d.update(iris_x=[0.1, 0.0]), "iris_x: unknown field; expected one of name, version, look_bias"),
        (lambda d: d.pop("look_bias"), "look_bias: missing"),
        (lambda d: d.update(name="smile"), "name: expected 'gaze', got 'smile'"),
    ],
)  # fmt: skip
def test_a_bad_gaze_file(tmp_path: Path, change, message: str) -> None:  # noqa: ANN001
    data = json.loads(GAZE_MODEL_FILE.read_text())
    change(data)
    p = tmp_path / "gaze.json"
    p.write_text(json.dumps(data))
    with pytest.raises(ReadingsError) as e:
        load_gaze(p)
    assert str(e.value).startswith(f"{p}: {message}")
