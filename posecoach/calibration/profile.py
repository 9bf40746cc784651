"""A person's calibration as a value: what it maps, its limits, and its file schema.

:class:`CalibrationProfile` maps raw :class:`~posecoach.results.Metrics` to metrics relative to
*this* face and *this* camera (:meth:`CalibrationProfile.apply`, on the per-frame path: the
:class:`~posecoach.pipeline.Pipeline` calls it before smoothing and scoring).
:class:`CalibrationLimits` says when a phase is usable and bounds what a profile may hold;
:func:`profile_from_dict` is the strict schema check every profile passes, whether just learned
(:mod:`posecoach.calibration.phases`) or read from a file (:mod:`posecoach.calibration.store`).

Nothing here imports MediaPipe, OpenCV or Streamlit.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from posecoach.results import EyeState, Metrics

#: Schema version of the profile files this code writes and reads.
PROFILE_VERSION = 1
#: What a profile name looks like (names become file names; see :func:`validate_name`).
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")  # use fullmatch: "$" would let "me\n" pass
_RESERVED_NAMES = frozenset(
    {"con", "prn", "aux", "nul"} | {f"com{i}" for i in range(10)} | {f"lpt{i}" for i in range(10)}
)


class CalibrationError(ValueError):
    """A calibration profile that cannot be used. The message names the file, the field and why."""


# -- limits ----------------------------------------------------------------------------
@dataclass(frozen=True)
class CalibrationLimits:
    """When a phase is usable, and how its frames are summarised.

    Attributes:
        min_face_frames: frames with a face a phase needs.
        max_face_lost: largest fraction of a phase's frames without a face.
        min_luma: darkest usable median frame brightness (mean luma, 0..255).
        max_angle_spread_deg: largest head movement in a phase (10th-90th percentile range
            of yaw, pitch or roll).
        max_position_spread: largest movement of the face centre, as a fraction of the frame.
        max_yaw_deg, max_pitch_deg, max_roll_deg: largest neutral head angle accepted as
            "looking into the lens" (the camera may sit well below eye level: pitch is generous).
        min_smile_range: how far the smile phase's smile must rise above the neutral one.
        min_eye_open: smallest relaxed-open eye reading (below it the eyes were closed or hidden).
        max_closed_fraction: the closed phase's eye reading must fall below this fraction of
            the open one.
        default_closed_fraction: without a closed phase, "closed" is this fraction of "open"
            (eyelids never meet exactly in landmark geometry).
        outlier_mad: frames further than this many robust standard deviations (1.4826 MAD)
            from a phase's median are left out of that metric's statistics (blinks, glitches).
    """

    min_face_frames: int = 5
    max_face_lost: float = 0.34
    min_luma: float = 40.0
    max_angle_spread_deg: float = 15.0
    max_position_spread: float = 0.15
    max_yaw_deg: float = 30.0
    max_pitch_deg: float = 35.0
    max_roll_deg: float = 25.0
    min_smile_range: float = 0.15
    min_eye_open: float = 0.05
    max_closed_fraction: float = 0.6
    default_closed_fraction: float = 0.15
    outlier_mad: float = 3.0


DEFAULT_LIMITS = CalibrationLimits()


# -- the profile -----------------------------------------------------------------------
def _unit(x: float) -> float:
    return 0.0 if x < 0.0 else (1.0 if x > 1.0 else x)


def _wrap_deg(a: float) -> float:
    if a > 180.0:
        return a - 360.0
    if a < -180.0:
        return a + 360.0
    return a


#: Fields of a profile file, in file order: (name, kind, low, high). ``kind`` is "int" or
#: "float"; the range is inclusive. Cross-field rules are checked in ``profile_from_dict``.
_LIMIT_YAW = DEFAULT_LIMITS.max_yaw_deg
_LIMIT_PITCH = DEFAULT_LIMITS.max_pitch_deg
_LIMIT_ROLL = DEFAULT_LIMITS.max_roll_deg
PROFILE_FIELDS: tuple[tuple[str, str, float, float], ...] = (
    ("yaw_offset_deg", "float", -_LIMIT_YAW, _LIMIT_YAW),
    ("pitch_offset_deg", "float", -_LIMIT_PITCH, _LIMIT_PITCH),
    ("roll_offset_deg", "float", -_LIMIT_ROLL, _LIMIT_ROLL),
    ("smile_neutral", "float", 0.0, 0.95),
    ("smile_full", "float", 0.0, 1.0),
    ("eye_open_left", "float", 0.0, 1.0),
    ("eye_open_right", "float", 0.0, 1.0),
    ("eye_closed_left", "float", 0.0, 1.0),
    ("eye_closed_right", "float", 0.0, 1.0),
    ("mouth_open_neutral", "float", 0.0, 0.95),
    ("squinch_neutral", "float", 0.0, 0.95),
    ("genuine_smile_neutral", "float", 0.0, 0.95),
    ("brow_raise_neutral", "float", 0.0, 0.95),
    ("gaze_on_lens_neutral", "float", 0.0, 1.0),
    ("face_height_neutral", "float", 0.01, 5.0),
    ("neutral_frames", "int", 1, 1_000_000),
    ("smile_frames", "int", 1, 1_000_000),
    ("closed_frames", "int", 0, 1_000_000),
)
#: What :meth:`CalibrationProfile.before_after` reports, in display order.
BEFORE_AFTER_METRICS: tuple[str, ...] = (
    "smile", "eye_open", "pitch", "yaw", "roll", "squinch", "genuine_smile", "brow_raise", "gaze_on_lens", "mouth_open",
)
#: Smallest open-minus-closed eye range a profile may hold (guards the division in ``apply``).
MIN_EYE_RANGE = 0.02
#: ``gaze_on_lens`` is divided by the neutral reading, but never by less than this: a person
#: who looked at the screen instead of the lens must not teach posecoach that the screen is the lens.
GAZE_BASELINE_FLOOR = 0.5
#: Calibrated mean eye openness (0 = the person's closed eyes, 1 = their relaxed open eyes) at
#: or above which a raw CLOSED is re-read as OPEN ...
CALIBRATED_OPEN_AT = 0.5
#: ... and below which a raw OPEN is re-read as CLOSED. Not :data:`posecoach.metrics.EYES_CLOSED_BELOW`:
#: that one is on the raw, uncalibrated eye_open scale.
CALIBRATED_CLOSED_BELOW = 0.2


@dataclass(frozen=True)
class CalibrationProfile:
    """One person's calibration: raw metrics -> metrics relative to their own face.

    :meth:`apply` (pure, a few microseconds):

    * ``yaw``/``pitch``/``roll``: minus the neutral "looking into the lens" angles, so 0 means
      "as during calibration" (removes camera-height and camera-offset bias);
    * ``smile``: their resting smile -> 0, their broad natural smile -> 1;
    * ``eye_open_left``/``eye_open_right``: closed -> 0, relaxed open -> 1 (per eye);
    * ``mouth_open``, ``squinch``, ``genuine_smile``, ``brow_raise``: relative to the neutral
      baseline, ``(x - b) / (1 - b)``;
    * ``gaze_on_lens``: over the neutral "looking into the lens" reading (floored at
      :data:`GAZE_BASELINE_FLOOR`), so their own look into the lens reads 1;
    * ``eyes``: re-read with the calibrated openness (OPEN <-> CLOSED; LOOKING_DOWN kept);
    * framing (``face_x``, ``face_y``, ``face_height``) unchanged: framing targets are about
      the picture; :attr:`face_height_neutral` is the face's size at rest (1.0 = as calibrated).

    Every 0..1 score is clipped to 0..1. Angles are in degrees, signs as in
    :class:`~posecoach.results.Metrics`.
    """

    name: str
    created: str
    yaw_offset_deg: float
    pitch_offset_deg: float
    roll_offset_deg: float
    smile_neutral: float
    smile_full: float
    eye_open_left: float
    eye_open_right: float
    eye_closed_left: float
    eye_closed_right: float
    mouth_open_neutral: float
    squinch_neutral: float
    genuine_smile_neutral: float
    brow_raise_neutral: float
    gaze_on_lens_neutral: float
    face_height_neutral: float
    neutral_frames: int
    smile_frames: int
    closed_frames: int
    _k: tuple[float, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Precomputed scale factors: apply() is on the per-frame hot path.
        object.__setattr__(
            self,
            "_k",
            (
                1.0 / max(self.smile_full - self.smile_neutral, 1e-6),
                1.0 / max(self.eye_open_left - self.eye_closed_left, 1e-6),
                1.0 / max(self.eye_open_right - self.eye_closed_right, 1e-6),
                1.0 / max(1.0 - self.mouth_open_neutral, 1e-6),
                1.0 / max(1.0 - self.squinch_neutral, 1e-6),
                1.0 / max(1.0 - self.genuine_smile_neutral, 1e-6),
                1.0 / max(1.0 - self.brow_raise_neutral, 1e-6),
                1.0 / max(self.gaze_on_lens_neutral, GAZE_BASELINE_FLOOR),
            ),
        )

    @property
    def closed_measured(self) -> bool:
        """True when the eye range came from an eyes-closed phase, not the default."""
        return self.closed_frames > 0

    def apply(self, m: Metrics) -> Metrics:
        """``m`` relative to this person (pure; never raises for finite input)."""
        k_smile, k_el, k_er, k_mouth, k_sq, k_gs, k_br, k_gaze = self._k
        eol = _unit((m.eye_open_left - self.eye_closed_left) * k_el)
        eor = _unit((m.eye_open_right - self.eye_closed_right) * k_er)
        eyes = m.eyes
        if eyes is EyeState.CLOSED and eol + eor >= 2.0 * CALIBRATED_OPEN_AT:
            eyes = EyeState.OPEN
        elif eyes is EyeState.OPEN and eol + eor < 2.0 * CALIBRATED_CLOSED_BELOW:
            eyes = EyeState.CLOSED
        return Metrics(
            _wrap_deg(m.yaw - self.yaw_offset_deg),
            _wrap_deg(m.pitch - self.pitch_offset_deg),
            _wrap_deg(m.roll - self.roll_offset_deg),
            _unit((m.smile - self.smile_neutral) * k_smile),
            _unit((m.mouth_open - self.mouth_open_neutral) * k_mouth),
            eol,
            eor,
            eyes,
            _unit((m.squinch - self.squinch_neutral) * k_sq),
            _unit((m.genuine_smile - self.genuine_smile_neutral) * k_gs),
            _unit(m.gaze_on_lens * k_gaze),
            _unit((m.brow_raise - self.brow_raise_neutral) * k_br),
            m.face_x,
            m.face_y,
            m.face_height,
        )

    def before_after(self, m: Metrics) -> tuple[tuple[str, float, float], ...]:
        """``(metric, uncalibrated, calibrated)`` for the metrics calibration changes, for a
        side-by-side view (angles in degrees, the rest 0..1)."""
        c = self.apply(m)
        return tuple((name, m.value(name), c.value(name)) for name in BEFORE_AFTER_METRICS)

    def to_dict(self) -> dict[str, Any]:
        """The profile as the JSON object saved to disk (numbers and two strings)."""
        out: dict[str, Any] = {"version": PROFILE_VERSION, "name": self.name, "created": self.created}
        for name, kind, _, _ in PROFILE_FIELDS:
            v = getattr(self, name)
            out[name] = int(v) if kind == "int" else round(float(v), 6)
        return out

    def summary_lines(self) -> list[str]:
        """A few human lines: what was learned."""
        closed = "measured" if self.closed_measured else "default"
        return [
            f"head zero: yaw {self.yaw_offset_deg:+.1f}°, pitch {self.pitch_offset_deg:+.1f}°, "
            f"roll {self.roll_offset_deg:+.1f}°",
            f"smile: rest {self.smile_neutral:.2f} -> 0, broad smile {self.smile_full:.2f} -> 1",
            f"eyes open: left {self.eye_open_left:.2f}, right {self.eye_open_right:.2f} -> 1; "
            f"closed: {self.eye_closed_left:.2f}, {self.eye_closed_right:.2f} -> 0 ({closed})",
            f"baselines: squinch {self.squinch_neutral:.2f}, genuine smile {self.genuine_smile_neutral:.2f}, "
            f"brows {self.brow_raise_neutral:.2f}, mouth open {self.mouth_open_neutral:.2f}, "
            f"gaze {self.gaze_on_lens_neutral:.2f}, "
            f"face height {self.face_height_neutral:.3f}",
        ]


def validate_name(name: object) -> str:
    """A profile name: 1-64 letters, digits, ``_`` or ``-``, starting with a letter or digit.

    Raises:
        CalibrationError: for anything else (names become file names).
    """
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name) or name.lower() in _RESERVED_NAMES:
        raise CalibrationError(
            f"invalid profile name {name!r}: use 1-64 letters, digits, '_' or '-', starting with a letter or digit"
        )
    return name


# -- the schema ------------------------------------------------------------------------
def _field_error(source: str, name: str, reason: str) -> CalibrationError:
    return CalibrationError(f"{source}: field '{name}': {reason}")


def _type_name(v: object) -> str:
    if v is None:
        return "null"
    return {bool: "a boolean", str: "a string", list: "a list", dict: "an object"}.get(type(v), type(v).__name__)


def profile_from_dict(data: object, source: str) -> CalibrationProfile:
    """Validate a decoded profile object strictly and build the profile.

    Raises:
        CalibrationError: ``"<source>: field '<name>': <reason>"`` for the first bad field.
    """
    if not isinstance(data, dict):
        raise CalibrationError(f"{source}: not a calibration profile (expected a JSON object, got {_type_name(data)})")
    if "version" not in data:
        raise _field_error(source, "version", "missing (not a posecoach calibration profile)")
    version = data["version"]
    if type(version) is not int:
        raise _field_error(source, "version", f"expected an integer, got {_type_name(version)}")
    if version != PROFILE_VERSION:
        raise _field_error(
            source,
            "version",
            f"unsupported version {version} (this posecoach reads version {PROFILE_VERSION}): "
            "redo the calibration with `posecoach calibrate`",
        )
    known = {"version", "name", "created"} | {f[0] for f in PROFILE_FIELDS}
    for key in data:
        if key not in known:
            raise _field_error(source, str(key)[:64], "unknown field")
    name = data.get("name")
    if name is None:
        raise _field_error(source, "name", "missing")
    try:
        validate_name(name)
    except CalibrationError:
        raise _field_error(source, "name", f"invalid profile name {str(name)[:80]!r}") from None
    created = data.get("created")
    if not isinstance(created, str):
        raise _field_error(source, "created", f"expected an ISO 8601 time string, got {_type_name(created)}")
    try:
        if len(created) > 64:
            raise ValueError
        datetime.fromisoformat(created)
    except ValueError:
        raise _field_error(source, "created", f"not an ISO 8601 time: {created[:64]!r}") from None
    values: dict[str, float | int] = {}
    for fname, kind, lo, hi in PROFILE_FIELDS:
        if fname not in data:
            raise _field_error(source, fname, "missing")
        v = data[fname]
        if kind == "int":
            if type(v) is not int:
                raise _field_error(source, fname, f"expected an integer, got {_type_name(v)}")
        else:
            if type(v) not in (int, float):
                raise _field_error(source, fname, f"expected a number, got {_type_name(v)}")
            if not math.isfinite(v):
                raise _field_error(source, fname, f"expected a finite number, got {v}")
            v = float(v)
        if not lo <= v <= hi:
            raise _field_error(source, fname, f"out of range: {v:g} (expected {lo:g} to {hi:g})")
        values[fname] = v
    if values["smile_full"] - values["smile_neutral"] < DEFAULT_LIMITS.min_smile_range - 1e-9:
        raise _field_error(
            source,
            "smile_full",
            f"must be at least {DEFAULT_LIMITS.min_smile_range:g} above smile_neutral "
            f"({values['smile_neutral']:g}), got {values['smile_full']:g}",
        )
    for side in ("left", "right"):
        o, c = values[f"eye_open_{side}"], values[f"eye_closed_{side}"]
        if o - c < MIN_EYE_RANGE - 1e-9:
            raise _field_error(
                source,
                f"eye_closed_{side}",
                f"must be at least {MIN_EYE_RANGE:g} below eye_open_{side} ({o:g}), got {c:g}",
            )
    return CalibrationProfile(name=name, created=created, **values)  # type: ignore[arg-type]
