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
    assert smile.name == "smile" and smile.version == 1 and smile.threshold == 0.35
    assert "GENKI-4K" in smile.fitted_on and "held-out" in smile.notes
    assert set(smile.features) <= set(SMILE_FEATURES) and "mouth_smile_sqrt" in smile.features
    gaze = gaze_model()
    assert gaze.name == "gaze" and "GENKI-4K" in gaze.fitted_on
    assert 5.0 < gaze.sigma_deg[0] < 25.0 and gaze.sigma_deg[1] > gaze.sigma_deg[0]


def test_the_boundary_reads_the_threshold_and_the_scale_is_monotonic() -> None:
    m = LinearReading("smile", 1, ("mouth_smile_sqrt",), (0.5,), (0.25,), (2.0,), 0.0, 0.35, 0.6)
    assert m.reading((0.5,)) == pytest.approx(0.35)  # logit 0 -> the threshold
    values = [m.reading((x / 10,)) for x in range(11)]
    assert values == sorted(values) and values[0] < 0.1 and values[-1] > 0.8
    assert m.logit((0.75,)) == pytest.approx(2.0)


def test_gaze_score_is_flat_topped() -> None:
    g = gaze_model()
    sh = g.sigma_deg[0]
    assert g.score(0.0, 0.0) == 1.0
    assert g.score(sh, 0.0) == pytest.approx(math.exp(-0.5))
    assert g.score(1.25 * sh, 0.0) == pytest.approx(0.30, abs=0.01)
    assert g.score(0.5 * sh, 0.0) > 0.95


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


def test_a_bad_gaze_file(tmp_path: Path) -> None:
    data = json.loads(GAZE_MODEL_FILE.read_text())
    data["sigma_deg"] = [10.0, -1.0]
    p = tmp_path / "gaze.json"
    p.write_text(json.dumps(data))
    with pytest.raises(ReadingsError) as e:
        load_gaze(p)
    assert str(e.value) == f"{p}: sigma_deg: expected two numbers > 0, got [10.0, -1.0]"
    data["sigma_deg"], data["iris_x"] = [10.0, 20.0], [0.1, 0.0]
    p.write_text(json.dumps(data))
    with pytest.raises(ReadingsError, match=r"iris_x: expected a non-zero slope, got \[0.1, 0.0\]$"):
        load_gaze(p)
