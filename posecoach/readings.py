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

``gaze_v2.json`` holds the model of ``gaze_on_lens`` (:class:`GazeModel`): what MediaPipe's eye
sensors read on a face looking into the lens, for each head pose, fitted by the same script on
faces that look into the camera.

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

from posecoach.files import FieldError

#: Where the shipped coefficient files live (a source checkout or an editable install).
READINGS_DIR = Path(__file__).resolve().parent.parent / "assets" / "readings"
#: The smile model in use.
SMILE_MODEL_FILE = READINGS_DIR / "smile_v2.json"

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
    "lower_lid_rise",  # minus the lower lids' height below the eye corners, over eye width (AU6, cheek raise)
    "upper_lip_in_smile",  # min(mouthUpperUp, mouthSmile), means: the upper lip raised within a smile (AU10 with AU12)
    "lower_lip_in_smile",  # min(mouthLowerDown, mouthSmile), means: the lower lip dropped within a smile (AU16/25 with AU12)
    "closed_lip_lift",  # corner_lift while the lips are closed (fading out as lip_gap reaches 0.1): a closed-mouth smile
)

_KEYS = ("name", "version", "features", "centre", "scale", "weights", "bias", "threshold", "gain", "cap", "fitted_on", "notes")


class ReadingsError(FieldError):
    """A coefficient file that cannot be used: ``"<file>: <field>: <reason>"``."""


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
        cap: per feature, the value above which it adds nothing more (None: no cap); empty
            for no caps at all. A feature that says "this smile is a broad one" saturates.
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
    cap: tuple[float | None, ...] = ()
    fitted_on: str = ""
    notes: str = ""

    def __post_init__(self) -> None:
        # Folded once: logit = offset + sum(k_i * min(x_i, cap_i)); reading = sigmoid(gain * logit + shift).
        k = tuple(w / s for w, s in zip(self.weights, self.scale))
        object.__setattr__(self, "_k", k)
        caps = self.cap or (None,) * len(k)
        object.__setattr__(self, "_caps", tuple(math.inf if c is None else c for c in caps))
        object.__setattr__(self, "_offset", self.bias - sum(ki * c for ki, c in zip(k, self.centre)))
        object.__setattr__(self, "_shift", math.log(self.threshold / (1.0 - self.threshold)))

    def logit(self, x: tuple[float, ...]) -> float:
        """The fitted logit of one feature vector (in :attr:`features` order); 0 = the boundary."""
        z = self._offset  # type: ignore[attr-defined]
        for ki, xi, ci in zip(self._k, x, self._caps):  # type: ignore[attr-defined]
            z += ki * (xi if xi < ci else ci)
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
    cap = data.get("cap", [])
    if not isinstance(cap, list) or (cap and len(cap) != len(features)):
        raise ReadingsError(p, "cap", f"expected a list of {len(features)} numbers or nulls (one per feature), got {cap!r}")
    caps = tuple(None if c is None else _number(p, f"cap[{i}]", c) for i, c in enumerate(cap))
    return LinearReading(
        name, version, tuple(features), vectors["centre"], vectors["scale"], vectors["weights"], bias, threshold,
        gain, caps, *_texts(data, p),
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
GAZE_MODEL_FILE = READINGS_DIR / "gaze_v2.json"
_GAZE_KEYS = (
    "name", "version", "look_bias", "yaw_knots", "look_x", "pitch_knots", "look_y", "upper_lid", "per_deg",
    "vertical_mix", "sigma_deg", "edge", "fitted_on", "notes",
)  # fmt: skip


def _interp(x: float, xs: tuple[float, ...], ys: tuple[float, ...]) -> float:
    """Piecewise-linear through ``(xs, ys)``, flat beyond the ends (plain floats: no numpy per call)."""
    if x <= xs[0]:
        return ys[0]
    for i in range(1, len(xs)):
        if x <= xs[i]:
            t = (x - xs[i - 1]) / (xs[i] - xs[i - 1])
            return ys[i - 1] + t * (ys[i] - ys[i - 1])
    return ys[-1]


@dataclass(frozen=True)
class GazeModel:
    """Where the eyes point, from ``eyeLook*`` and the upper lids, fitted on faces that look
    into the camera (see ``benchmarks/fit_readings.py``).

    A face looking into the lens with its head turned or tipped turns its eyes back against
    the head; MediaPipe's sensors then read an *on-lens value* that depends on the head pose.
    The model holds those values as curves, and reads a gaze as its distance from them:

    * horizontal: ``look_x`` (both eyes' ``eyeLook*`` toward the image's right, see
      :func:`posecoach.metrics.gaze_features`) minus ``look_bias`` (MediaPipe's own lean
      toward the image's right, the same in a mirrored image) is, on the lens, an odd
      function of the head's yaw: ``look_x`` values at ``yaw_knots`` (> 0), mirrored for
      negative yaw, flat beyond the last knot (the sensor saturates);
    * vertical: ``look_y`` (``eyeLookUp - eyeLookDown``) and ``upper_lid`` (the upper lids'
      height, which follows the eye up and down and not a smile) against the head's pitch,
      at ``pitch_knots``, mixed with ``vertical_mix`` on ``look_y``.

    ``per_deg`` = (look_x, look_y, upper_lid) change per degree of eye rotation (toward the
    image's right, up), the slope of each curve through a frontal head. With ``dh``, ``dv``
    the misses in degrees over ``sigma_deg`` = (horizontal, vertical), the score is
    ``exp(-(dh**edge + dv**edge) / 2)``, the product of one flat-topped score per axis: 0.61
    when one axis misses by its sigma, near 1 well inside both, and a short fall to "away"
    (0.3 at ``1.245**(4 / edge)`` sigmas).
    """

    name: str
    version: int
    look_bias: float
    yaw_knots: tuple[float, ...]
    look_x: tuple[float, ...]
    pitch_knots: tuple[float, ...]
    look_y: tuple[float, ...]
    upper_lid: tuple[float, ...]
    per_deg: tuple[float, float, float]
    vertical_mix: float
    sigma_deg: tuple[float, float]
    edge: float
    fitted_on: str = ""
    notes: str = ""

    def misses(self, yaw: float, pitch: float, look_x: float, look_y: float, upper_lid: float) -> tuple[float, float]:
        """(toward the image's right, up) degrees by which the gaze misses the lens."""
        yx = (0.0, *self.yaw_knots)
        on_x = _interp(abs(yaw), yx, (0.0, *self.look_x))
        h = (look_x - self.look_bias - (on_x if yaw >= 0.0 else -on_x)) / self.per_deg[0]
        vy = (look_y - _interp(pitch, self.pitch_knots, self.look_y)) / self.per_deg[1]
        vu = (upper_lid - _interp(pitch, self.pitch_knots, self.upper_lid)) / self.per_deg[2]
        return h, self.vertical_mix * vy + (1.0 - self.vertical_mix) * vu

    def score(self, miss_h: float, miss_v: float) -> float:
        """0..1 for a gaze that misses the lens by ``miss_h`` / ``miss_v`` degrees."""
        dh, dv = abs(miss_h) / self.sigma_deg[0], abs(miss_v) / self.sigma_deg[1]
        return math.exp(-0.5 * (dh**self.edge + dv**self.edge))

    def to_dict(self) -> dict[str, Any]:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in ((k, getattr(self, k)) for k in _GAZE_KEYS)}


def _numbers(p: Path, data: Mapping[str, Any], key: str, n: int | None = None) -> tuple[float, ...]:
    v = data[key]
    if not isinstance(v, list) or not v or (n is not None and len(v) != n):
        raise ReadingsError(p, key, f"expected a list of {n if n is not None else 'one or more'} numbers, got {v!r}")
    return tuple(_number(p, f"{key}[{i}]", x) for i, x in enumerate(v))


def gaze_from_dict(data: object, path: str | os.PathLike[str]) -> GazeModel:
    """Validate a decoded gaze coefficient file (raises :class:`ReadingsError`)."""
    p = Path(path)
    name, version = _header(data, p, _GAZE_KEYS, 12)
    assert isinstance(data, Mapping)
    if name != "gaze":
        raise ReadingsError(p, "name", f"expected 'gaze', got {name!r}")
    yk, pk = _numbers(p, data, "yaw_knots"), _numbers(p, data, "pitch_knots")
    for key, knots, low in (("yaw_knots", yk, 0.0), ("pitch_knots", pk, -90.0)):
        if knots[0] <= low or any(b <= a for a, b in zip(knots, knots[1:])):
            raise ReadingsError(p, key, f"expected increasing degrees above {low:g}, got {list(knots)!r}")
    look_x = _numbers(p, data, "look_x", len(yk))
    look_y, upper = _numbers(p, data, "look_y", len(pk)), _numbers(p, data, "upper_lid", len(pk))
    per_deg = _numbers(p, data, "per_deg", 3)
    if any(g == 0.0 for g in per_deg):
        raise ReadingsError(p, "per_deg", f"expected three non-zero slopes, got {list(per_deg)!r}")
    sigma = _numbers(p, data, "sigma_deg", 2)
    if min(sigma) <= 0.0:
        raise ReadingsError(p, "sigma_deg", f"expected two numbers > 0, got {list(sigma)!r}")
    mix = _number(p, "vertical_mix", data["vertical_mix"])
    if not 0.0 <= mix <= 1.0:
        raise ReadingsError(p, "vertical_mix", f"expected a number between 0 and 1, got {mix!r}")
    edge = _number(p, "edge", data["edge"])
    if not 2.0 <= edge <= 16.0:
        raise ReadingsError(p, "edge", f"expected a number between 2 and 16, got {edge!r}")
    return GazeModel(
        "gaze", version, _number(p, "look_bias", data["look_bias"]), yk, look_x, pk, look_y, upper,
        per_deg, mix, sigma, edge, *_texts(data, p),  # type: ignore[arg-type]
    )  # fmt: skip


def load_gaze(path: str | os.PathLike[str]) -> GazeModel:
    """Load and validate a gaze coefficient file (raises :class:`ReadingsError`)."""
    p = Path(path)
    return gaze_from_dict(_read_json(p), p)


@lru_cache(maxsize=1)
def gaze_model() -> GazeModel:
    """The shipped gaze model (:data:`GAZE_MODEL_FILE`), loaded once per process."""
    return load_gaze(GAZE_MODEL_FILE)
