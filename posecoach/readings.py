"""Fitted readings: small logistic models whose coefficients live in a versioned asset file.

A reading that can be learned from labelled faces (today: ``smile``) is not hand-tuned: a
regularised logistic regression over a few named features is fitted by
``benchmarks/fit_readings.py`` with k-fold cross-validation, and its coefficients are written
to ``assets/readings/<name>_v<N>.json``. This module loads and validates such a file (strict at
the door, like the targets: a bad file raises :class:`ReadingsError` naming the file, the field
and the reason) and applies it as a pure function.

The model's output is mapped to the documented 0..1 scale::

    z = bias + sum(weight_i * (feature_i - centre_i) / scale_i)     # the fitted logit
    reading = 1 / (1 + exp(-(gain * z + logit(threshold))))

so the fitted decision boundary ``z = 0`` sits exactly at ``threshold`` (0.35 for smile: the
documented "a person would call this smiling"), and ``gain`` spreads the scale so a broad smile
reads near 1 and a relaxed face near 0 (see the file's ``notes`` for how it was chosen).

``gaze_v1.json`` holds the eye-in-head rotation model of ``gaze_on_lens`` (:class:`GazeModel`),
fitted by the same script on faces that look into the camera.

Example::

    model = smile_model()
    model.reading((0.8, 0.12, ...))  # one value per name in model.features -> 0..1
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

#: Where the shipped coefficient files live (a source checkout or an editable install).
READINGS_DIR = Path(__file__).resolve().parent.parent / "assets" / "readings"
#: The smile model in use.
SMILE_MODEL_FILE = READINGS_DIR / "smile_v1.json"

#: Feature names a smile model may use (computed by :func:`posecoach.metrics.smile_features`).
SMILE_FEATURES: tuple[str, ...] = (
    "mouth_smile_sqrt",  # sqrt of the mean of mouthSmileLeft/Right (MediaPipe's AU12)
    "corner_lift",  # mouth corners above the inner-lip centre, head frame, over interocular
    "lip_gap",  # inner lips apart, over interocular
    "mouth_press",  # mean mouthPress* (AU24)
    "mouth_frown",  # mean mouthFrown* (AU15)
    "mouth_stretch",  # mean mouthStretch* (AU20)
    "mouth_pucker",  # mouthPucker (AU18)
    "mouth_shrug_lower",  # mouthShrugLower (AU17, chin raiser)
    "mouth_roll_lower",  # mouthRollLower (AU28)
    "brow_down",  # mean browDown* (AU4)
)

_KEYS = ("name", "version", "features", "centre", "scale", "weights", "bias", "threshold", "gain", "fitted_on", "notes")


class ReadingsError(ValueError):
    """A coefficient file that cannot be used: ``"<file>: <field>: <reason>"``."""

    def __init__(self, path: str | Path, field: str, reason: str) -> None:
        self.path = str(path)
        self.field = field
        self.reason = reason
        super().__init__(": ".join(part for part in (self.path, field, reason) if part))


@dataclass(frozen=True)
class LinearReading:
    """A fitted logistic reading (see the module doc for the formula).

    Attributes:
        name: the reading (``"smile"``).
        version: the file's version number.
        features: feature names, a subset of the reading's known features, in order.
        centre, scale: per-feature standardisation (the training mean and standard deviation).
        weights: per-feature weight on the standardised feature.
        bias: the logit's constant.
        threshold: the reading at the fitted decision boundary (0..1, exclusive).
        gain: spread of the 0..1 scale around ``threshold`` (> 0).
        fitted_on: what the coefficients were fitted on (free text).
        notes: how, and the cross-validated figures (free text).
    """

    name: str
    version: int
    features: tuple[str, ...]
    centre: tuple[float, ...]
    scale: tuple[float, ...]
    weights: tuple[float, ...]
    bias: float
    threshold: float
    gain: float
    fitted_on: str = ""
    notes: str = ""

    def __post_init__(self) -> None:
        # Folded once: logit = offset + sum(k_i * x_i); reading = sigmoid(gain * logit + shift).
        k = tuple(w / s for w, s in zip(self.weights, self.scale))
        object.__setattr__(self, "_k", k)
        object.__setattr__(self, "_offset", self.bias - sum(ki * c for ki, c in zip(k, self.centre)))
        object.__setattr__(self, "_shift", math.log(self.threshold / (1.0 - self.threshold)))

    def logit(self, x: tuple[float, ...]) -> float:
        """The fitted logit of one feature vector (in :attr:`features` order); 0 = the boundary."""
        z = self._offset  # type: ignore[attr-defined]
        for ki, xi in zip(self._k, x):  # type: ignore[attr-defined]
            z += ki * xi
        return z

    def reading(self, x: tuple[float, ...]) -> float:
        """The 0..1 reading of one feature vector (``threshold`` at the boundary)."""
        t = self.gain * self.logit(x) + self._shift  # type: ignore[attr-defined]
        if t < -40.0:
            return 0.0
        return 1.0 / (1.0 + math.exp(-t))

    def to_dict(self) -> dict[str, Any]:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in ((k, getattr(self, k)) for k in _KEYS)}


def _header(data: object, p: Path, keys: tuple[str, ...], required: int) -> tuple[str, int]:
    """Check a decoded file's shape, unknown and missing fields, name and version."""
    if not isinstance(data, Mapping):
        raise ReadingsError(p, "", f"expected a JSON object, got {type(data).__name__}")
    unknown = sorted(set(data) - set(keys))
    if unknown:
        raise ReadingsError(p, unknown[0], f"unknown field; expected one of {', '.join(keys)}")
    for key in keys[:required]:
        if key not in data:
            raise ReadingsError(p, key, "missing")
    name = data["name"]
    if not isinstance(name, str) or not name:
        raise ReadingsError(p, "name", f"expected a non-empty string, got {name!r}")
    version = data["version"]
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ReadingsError(p, "version", f"expected an integer >= 1, got {version!r}")
    return name, version


def _texts(data: Mapping[str, Any], p: Path) -> tuple[str, str]:
    """The free-text ``fitted_on`` and ``notes`` (optional)."""
    out = []
    for key in ("fitted_on", "notes"):
        v = data.get(key, "")
        if not isinstance(v, str):
            raise ReadingsError(p, key, f"expected a string, got {v!r}")
        out.append(v)
    return out[0], out[1]


def _read_json(p: Path) -> object:
    try:
        return json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ReadingsError(p, "", "file not found") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ReadingsError(p, "", f"unreadable: {e}") from None
    except json.JSONDecodeError as e:
        raise ReadingsError(p, "", f"not valid JSON: {e.msg} (line {e.lineno})") from None


def _number(path: Path, field: str, v: object) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(float(v)):
        raise ReadingsError(path, field, f"expected a finite number, got {v!r}")
    return float(v)


def reading_from_dict(data: object, path: str | os.PathLike[str], known: tuple[str, ...]) -> LinearReading:
    """Validate a decoded coefficient file; ``known`` lists the feature names allowed.

    Raises:
        ReadingsError: naming the file, the field and the reason.
    """
    p = Path(path)
    name, version = _header(data, p, _KEYS, 9)
    assert isinstance(data, Mapping)
    features = data["features"]
    if not isinstance(features, list) or not features or not all(isinstance(f, str) for f in features):
        raise ReadingsError(p, "features", f"expected a non-empty list of names, got {features!r}")
    for i, f in enumerate(features):
        if f not in known:
            raise ReadingsError(p, f"features[{i}]", f"unknown feature {f!r}; expected one of {', '.join(known)}")
    if len(set(features)) != len(features):
        raise ReadingsError(p, "features", "a feature is listed twice")
    vectors: dict[str, tuple[float, ...]] = {}
    for key in ("centre", "scale", "weights"):
        v = data[key]
        if not isinstance(v, list) or len(v) != len(features):
            raise ReadingsError(p, key, f"expected a list of {len(features)} numbers (one per feature), got {v!r}")
        vectors[key] = tuple(_number(p, f"{key}[{i}]", x) for i, x in enumerate(v))
    for i, s in enumerate(vectors["scale"]):
        if s <= 0.0:
            raise ReadingsError(p, f"scale[{i}]", f"expected a number > 0, got {s!r}")
    bias = _number(p, "bias", data["bias"])
    threshold = _number(p, "threshold", data["threshold"])
    if not 0.0 < threshold < 1.0:
        raise ReadingsError(p, "threshold", f"expected a number between 0 and 1 (exclusive), got {threshold!r}")
    gain = _number(p, "gain", data["gain"])
    if gain <= 0.0:
        raise ReadingsError(p, "gain", f"expected a number > 0, got {gain!r}")
    return LinearReading(
        name, version, tuple(features), vectors["centre"], vectors["scale"], vectors["weights"], bias, threshold,
        gain, *_texts(data, p),
    )  # fmt: skip


def load_reading(path: str | os.PathLike[str], known: tuple[str, ...] = SMILE_FEATURES) -> LinearReading:
    """Load and validate a coefficient file (see :func:`reading_from_dict`).

    Raises:
        ReadingsError: the file is missing, unreadable, not JSON or not a valid model.
    """
    p = Path(path)
    return reading_from_dict(_read_json(p), p, known)


@lru_cache(maxsize=1)
def smile_model() -> LinearReading:
    """The shipped smile model (:data:`SMILE_MODEL_FILE`), loaded once per process."""
    return load_reading(SMILE_MODEL_FILE, SMILE_FEATURES)


#: The gaze model in use.
GAZE_MODEL_FILE = READINGS_DIR / "gaze_v1.json"
_GAZE_PAIRS = ("iris_x", "look_x", "iris_y", "look_y")
_GAZE_KEYS = ("name", "version", *_GAZE_PAIRS, "iris_weight", "sigma_deg", "fitted_on", "notes")


@dataclass(frozen=True)
class GazeModel:
    """Eye-in-head rotation from the iris landmarks and ``eyeLook*``, fitted on faces that
    look into the camera (see ``benchmarks/fit_readings.py``).

    Each of ``iris_x``, ``look_x``, ``iris_y``, ``look_y`` is ``(offset, per_deg)``: the sensor
    reads ``offset + per_deg * eye_angle_deg`` (horizontal: toward the image's right;
    vertical: up). The two sensors of an axis are mixed with ``iris_weight`` on the iris.
    ``sigma_deg`` = (horizontal, vertical) miss in degrees at which ``gaze_on_lens`` reads
    exp(-1/2) = 0.61: with ``d`` the misses over ``sigma_deg`` (an ellipse), the score is
    ``exp(-d^4 / 2)``, flat-topped, so the fall from "on the lens" (0.6 at d = 1) to "away"
    (0.3 at d = 1.25) is short.
    """

    name: str
    version: int
    iris_x: tuple[float, float]
    look_x: tuple[float, float]
    iris_y: tuple[float, float]
    look_y: tuple[float, float]
    iris_weight: float
    sigma_deg: tuple[float, float]
    fitted_on: str = ""
    notes: str = ""

    def eye_angles(self, iris_x: float, look_x: float, iris_y: float, look_y: float) -> tuple[float, float]:
        """(toward the image's right, up) eye-in-head rotation in degrees."""
        w = self.iris_weight
        h = w * (iris_x - self.iris_x[0]) / self.iris_x[1] + (1 - w) * (look_x - self.look_x[0]) / self.look_x[1]
        v = w * (iris_y - self.iris_y[0]) / self.iris_y[1] + (1 - w) * (look_y - self.look_y[0]) / self.look_y[1]
        return h, v

    def score(self, miss_h: float, miss_v: float) -> float:
        """0..1 for a gaze that misses the lens by ``miss_h`` / ``miss_v`` degrees."""
        dh, dv = miss_h / self.sigma_deg[0], miss_v / self.sigma_deg[1]
        d2 = dh * dh + dv * dv
        return math.exp(-0.5 * d2 * d2)

    def to_dict(self) -> dict[str, Any]:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in ((k, getattr(self, k)) for k in _GAZE_KEYS)}


def gaze_from_dict(data: object, path: str | os.PathLike[str]) -> GazeModel:
    """Validate a decoded gaze coefficient file (raises :class:`ReadingsError`)."""
    p = Path(path)
    name, version = _header(data, p, _GAZE_KEYS, 8)
    assert isinstance(data, Mapping)
    if name != "gaze":
        raise ReadingsError(p, "name", f"expected 'gaze', got {name!r}")
    pairs: dict[str, tuple[float, float]] = {}
    for key in (*_GAZE_PAIRS, "sigma_deg"):
        v = data[key]
        if not isinstance(v, list) or len(v) != 2:
            raise ReadingsError(p, key, f"expected a list of 2 numbers, got {v!r}")
        a, b = (_number(p, f"{key}[{i}]", x) for i, x in enumerate(v))
        if b == 0.0 or (key == "sigma_deg" and (a <= 0.0 or b <= 0.0)):
            raise ReadingsError(p, key, f"expected {'two numbers > 0' if key == 'sigma_deg' else 'a non-zero slope'}, got {v!r}")
        pairs[key] = (a, b)
    w = _number(p, "iris_weight", data["iris_weight"])
    if not 0.0 <= w <= 1.0:
        raise ReadingsError(p, "iris_weight", f"expected a number between 0 and 1, got {w!r}")
    return GazeModel(
        "gaze", version, pairs["iris_x"], pairs["look_x"], pairs["iris_y"], pairs["look_y"], w, pairs["sigma_deg"],
        *_texts(data, p),
    )  # fmt: skip


def load_gaze(path: str | os.PathLike[str]) -> GazeModel:
    """Load and validate a gaze coefficient file (raises :class:`ReadingsError`)."""
    p = Path(path)
    return gaze_from_dict(_read_json(p), p)


@lru_cache(maxsize=1)
def gaze_model() -> GazeModel:
    """The shipped gaze model (:data:`GAZE_MODEL_FILE`), loaded once per process."""
    return load_gaze(GAZE_MODEL_FILE)
