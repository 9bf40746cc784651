"""Per-person calibration: coach relative to *this* face and *this* camera.

Faces differ (one person's resting mouth already reads as a slight smile, another's open
eyes read half-closed) and camera placement biases head pitch (a laptop camera below eye
level makes a level head look chin-up). A short guided calibration learns the person:

1. **neutral** - a relaxed face looking into the lens (~3 s): head-angle zero offsets, the
   resting smile, relaxed-open eyes, squinch / cheek / brow / mouth baselines, face size;
2. **smile** - the biggest natural smile (~3 s): what "1" on the smile scale means;
3. **closed** - eyes gently closed (~2 s, optional): what "0" on the eye scale means
   (without it, a fixed fraction of the open aperture is used).

The pure core is :func:`build_profile` (per-frame samples in, a :class:`CalibrationProfile`
out, or :class:`PhaseRejected` with a reason a person understands). A profile's
:meth:`CalibrationProfile.apply` maps raw :class:`~posecoach.results.Metrics` to metrics
relative to the person; the :class:`~posecoach.pipeline.Pipeline` calls it before smoothing
and scoring. :class:`CalibrationRecorder` is the stateful, timed version for live use
(``update(result, t_ms) -> CalibrationState``).

Profiles are small versioned JSON files of numbers (never images) in ``calibration/`` (or
``$POSECOACH_CALIBRATION_DIR``): :func:`save_profile`, :func:`load_profile`,
:func:`load_profile_or_warn`. Loading is strict: anything wrong raises
:class:`CalibrationError` naming the file, the field and the reason.

Example::

    profile = build_profile("ana", neutral_samples, smile_samples, None)
    save_profile(profile)                       # calibration/ana.json
    calibrated = load_profile("ana").apply(raw_metrics)

Nothing here imports MediaPipe, OpenCV or Streamlit.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from posecoach.results import NUMERIC_METRICS, EyeState, FrameResult, Metrics

log = logging.getLogger(__name__)

#: Schema version of the profile files this code writes and reads.
PROFILE_VERSION = 1
#: Environment variable that overrides the profile folder.
CALIBRATION_DIR_ENV = "POSECOACH_CALIBRATION_DIR"
#: The default profile folder (repository layout; the package is installed editable).
DEFAULT_CALIBRATION_DIR = Path(__file__).resolve().parents[2] / "calibration"
#: The phases, in the order they are recorded.
PHASES: tuple[str, ...] = ("neutral", "smile", "closed")
#: Profile files larger than this are not calibration profiles.
MAX_PROFILE_BYTES = 64 * 1024

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
_RESERVED_NAMES = frozenset(
    {"con", "prn", "aux", "nul"} | {f"com{i}" for i in range(10)} | {f"lpt{i}" for i in range(10)}
)


# -- errors ----------------------------------------------------------------------------
class CalibrationError(ValueError):
    """A calibration profile that cannot be used. The message names the file, the field and why."""


class PhaseRejected(ValueError):
    """A calibration phase whose frames cannot be used.

    Attributes:
        phase: ``"neutral"``, ``"smile"`` or ``"closed"``.
        reason: what went wrong and what to do, for the person being calibrated.
    """

    def __init__(self, phase: str, reason: str) -> None:
        super().__init__(f"{phase} phase rejected: {reason}")
        self.phase = phase
        self.reason = reason


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


# -- samples and per-phase statistics --------------------------------------------------
@dataclass(frozen=True)
class PhaseSamples:
    """What one phase recorded, frame by frame.

    Attributes:
        metrics: the raw (uncalibrated, unsmoothed) metrics per frame, None without a face.
        luma: each frame's mean brightness 0..255 (see ``frame_luma`` in
            :mod:`posecoach.calibration_run`); empty when unknown (brightness is then not checked).
    """

    metrics: tuple[Metrics | None, ...]
    luma: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "metrics", tuple(self.metrics))
        object.__setattr__(self, "luma", tuple(float(v) for v in self.luma))
        if self.luma and len(self.luma) != len(self.metrics):
            raise ValueError(f"PhaseSamples: {len(self.luma)} luma values for {len(self.metrics)} frames")

    @property
    def frames(self) -> int:
        return len(self.metrics)

    @property
    def with_face(self) -> int:
        return sum(m is not None for m in self.metrics)


@dataclass(frozen=True)
class PhaseStats:
    """A usable phase, summarised robustly.

    Attributes:
        phase: the phase name.
        frames: frames recorded; ``with_face``: of which with a face.
        luma: median brightness 0..255 (None when unknown).
        median: per numeric metric (and ``eye_open``), the median of the frames left after
            MAD outlier rejection.
        spread: per numeric metric, the 10th-90th percentile range over all face frames.
    """

    phase: str
    frames: int
    with_face: int
    luma: float | None
    median: Mapping[str, float]
    spread: Mapping[str, float]

    @property
    def face_fraction(self) -> float:
        return self.with_face / self.frames if self.frames else 0.0


def robust_median(values: Sequence[float] | np.ndarray, k: float = DEFAULT_LIMITS.outlier_mad) -> float:
    """The median of ``values`` after dropping points more than ``k`` robust SDs from it.

    The robust SD is 1.4826 x the median absolute deviation. NaN values are ignored. Returns
    NaN for no finite values.
    """
    x = np.asarray(values, dtype=np.float64)
    x = x[np.isfinite(x)]
    if x.size == 0:
        return math.nan
    med = float(np.median(x))
    mad = float(np.median(np.abs(x - med)))
    if mad > 0.0:
        keep = np.abs(x - med) <= k * 1.4826 * mad
        if keep.any():
            med = float(np.median(x[keep]))
    return med


def _phase_stats(phase: str, samples: PhaseSamples, limits: CalibrationLimits) -> PhaseStats:
    """Check what every phase needs (light, a face, stillness) and summarise it.

    Raises:
        PhaseRejected: the frames are too dark, the face was missing or moved too much.
    """
    n = samples.frames
    if n == 0:
        raise PhaseRejected(phase, "no frames were recorded: check that the camera or video delivers frames")
    luma = float(np.median(samples.luma)) if samples.luma else None
    faces = [m for m in samples.metrics if m is not None]
    if luma is not None and luma < limits.min_luma:
        raise PhaseRejected(
            phase, f"too dark (brightness {luma:.0f}/255, need {limits.min_luma:.0f}): turn on a light in front of you"
        )
    if not faces:
        raise PhaseRejected(phase, "no face found: sit in front of the camera with your whole face in view")
    lost = 1.0 - len(faces) / n
    if lost > limits.max_face_lost:
        raise PhaseRejected(
            phase,
            f"your face was lost in {lost:.0%} of the frames: "
            "keep your whole face in view, in good light, and hold still",
        )
    if len(faces) < limits.min_face_frames:
        raise PhaseRejected(
            phase,
            f"only {len(faces)} frames with a face (need {limits.min_face_frames}): hold the pose a little longer",
        )
    table = {name: np.array([getattr(m, name) for m in faces], dtype=np.float64) for name in NUMERIC_METRICS}
    table["eye_open"] = 0.5 * (table["eye_open_left"] + table["eye_open_right"])
    median = {name: robust_median(v, limits.outlier_mad) for name, v in table.items()}
    spread = {name: float(np.percentile(v, 90) - np.percentile(v, 10)) for name, v in table.items()}
    turn = max(spread["yaw"], spread["pitch"], spread["roll"])
    if turn > limits.max_angle_spread_deg:
        raise PhaseRejected(
            phase,
            f"you moved too much (your head turned through {turn:.0f}°): hold your head still for the whole phase",
        )
    shift = max(spread["face_x"], spread["face_y"])
    if shift > limits.max_position_spread:
        raise PhaseRejected(
            phase, f"you moved too much (your face moved {shift:.0%} of the frame): hold still for the whole phase"
        )
    return PhaseStats(phase, n, len(faces), luma, median, spread)


def check_neutral(samples: PhaseSamples, limits: CalibrationLimits = DEFAULT_LIMITS) -> PhaseStats:
    """Summarise the neutral phase, or raise :class:`PhaseRejected` saying why it is unusable."""
    st = _phase_stats("neutral", samples, limits)
    m = st.median
    for angle, limit, what in (
        ("yaw", limits.max_yaw_deg, "turned"),
        ("pitch", limits.max_pitch_deg, "tipped"),
        ("roll", limits.max_roll_deg, "tilted"),
    ):
        if abs(m[angle]) > limit:
            raise PhaseRejected(
                "neutral",
                f"your head was {what} {abs(m[angle]):.0f}° away from the camera: "
                "face the lens squarely and look into it",
            )
    if min(m["eye_open_left"], m["eye_open_right"]) < limits.min_eye_open:
        raise PhaseRejected("neutral", "your eyes looked closed or hidden: keep them open and look into the lens")
    return st


def check_smile(
    samples: PhaseSamples, neutral: PhaseStats, limits: CalibrationLimits = DEFAULT_LIMITS
) -> PhaseStats:
    """Summarise the smile phase against the neutral one, or raise :class:`PhaseRejected`."""
    st = _phase_stats("smile", samples, limits)
    s0, s1 = neutral.median["smile"], st.median["smile"]
    if s1 - s0 < limits.min_smile_range:
        raise PhaseRejected(
            "smile",
            f"your smile was not clearly bigger than your neutral face (smile {s1:.2f} vs {s0:.2f} at rest): "
            "smile as broadly as feels natural and hold it",
        )
    return st


def check_closed(
    samples: PhaseSamples, neutral: PhaseStats, limits: CalibrationLimits = DEFAULT_LIMITS
) -> PhaseStats:
    """Summarise the eyes-closed phase against the neutral one, or raise :class:`PhaseRejected`."""
    st = _phase_stats("closed", samples, limits)
    open_, closed = neutral.median["eye_open"], st.median["eye_open"]
    if not closed <= limits.max_closed_fraction * open_:
        raise PhaseRejected(
            "closed",
            f"your eyes did not look closed (openness {closed:.2f} vs {open_:.2f} open): "
            "close them gently and keep them closed until the phase ends",
        )
    return st


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
      the picture; :attr:`face_height_neutral` is the baseline for "forehead forward" (see
      :meth:`face_scale`).

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

    #: Calibrated mean openness at or above which CLOSED is re-read as OPEN, and below which
    #: OPEN is re-read as CLOSED.
    EYES_OPEN_AT = 0.5
    EYES_CLOSED_BELOW = 0.2

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
        if eyes is EyeState.CLOSED and eol + eor >= 2.0 * self.EYES_OPEN_AT:
            eyes = EyeState.OPEN
        elif eyes is EyeState.OPEN and eol + eor < 2.0 * self.EYES_CLOSED_BELOW:
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

    def face_scale(self, m: Metrics) -> float:
        """Face size relative to the neutral calibration (1.0 = as calibrated, >1 = closer)."""
        return m.face_height / self.face_height_neutral

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
    if not isinstance(name, str) or not _NAME_RE.match(name) or name.lower() in _RESERVED_NAMES:
        raise CalibrationError(
            f"invalid profile name {name!r}: use 1-64 letters, digits, '_' or '-', starting with a letter or digit"
        )
    return name


def build_profile(
    name: str,
    neutral: PhaseSamples,
    smile: PhaseSamples,
    closed: PhaseSamples | None = None,
    *,
    limits: CalibrationLimits = DEFAULT_LIMITS,
    created: str | None = None,
) -> CalibrationProfile:
    """Learn a person from their calibration phases.

    Args:
        name: the profile name (see :func:`validate_name`).
        neutral: relaxed face looking into the lens.
        smile: the biggest natural smile.
        closed: eyes gently closed, or None to use ``limits.default_closed_fraction``.
        limits: when a phase is usable.
        created: ISO 8601 creation time (default: now, UTC).

    Raises:
        PhaseRejected: a phase is unusable (checked in order neutral, smile, closed).
        CalibrationError: an invalid name.
    """
    validate_name(name)
    n = check_neutral(neutral, limits)
    s = check_smile(smile, n, limits)
    c = check_closed(closed, n, limits) if closed is not None else None
    nm = n.median
    open_l, open_r = nm["eye_open_left"], nm["eye_open_right"]
    if c is not None:
        closed_l, closed_r = c.median["eye_open_left"], c.median["eye_open_right"]
    else:
        closed_l = limits.default_closed_fraction * open_l
        closed_r = limits.default_closed_fraction * open_r
    # Keep a usable range per eye whatever one eye did.
    closed_l = min(max(closed_l, 0.0), open_l - MIN_EYE_RANGE)
    closed_r = min(max(closed_r, 0.0), open_r - MIN_EYE_RANGE)

    def base(metric: str) -> float:
        return float(min(max(nm[metric], 0.0), 0.95))

    profile = CalibrationProfile(
        name=name,
        created=created or datetime.now(timezone.utc).isoformat(timespec="seconds"),
        yaw_offset_deg=float(nm["yaw"]),
        pitch_offset_deg=float(nm["pitch"]),
        roll_offset_deg=float(nm["roll"]),
        smile_neutral=base("smile"),
        smile_full=float(min(s.median["smile"], 1.0)),
        eye_open_left=float(open_l),
        eye_open_right=float(open_r),
        eye_closed_left=float(max(closed_l, 0.0)),
        eye_closed_right=float(max(closed_r, 0.0)),
        mouth_open_neutral=base("mouth_open"),
        squinch_neutral=base("squinch"),
        genuine_smile_neutral=base("genuine_smile"),
        brow_raise_neutral=base("brow_raise"),
        gaze_on_lens_neutral=float(min(max(nm["gaze_on_lens"], 0.0), 1.0)),
        face_height_neutral=float(nm["face_height"]),
        neutral_frames=n.with_face,
        smile_frames=s.with_face,
        closed_frames=c.with_face if c is not None else 0,
    )
    # What we write must be what we can read back.
    return profile_from_dict(profile.to_dict(), f"profile {name!r}")


# -- files -----------------------------------------------------------------------------
def profile_dir() -> Path:
    """Where profiles live: ``$POSECOACH_CALIBRATION_DIR`` or the repository's ``calibration/``."""
    env = os.environ.get(CALIBRATION_DIR_ENV)
    return Path(env) if env else DEFAULT_CALIBRATION_DIR


def profile_path(name_or_path: str | os.PathLike[str]) -> Path:
    """The file for a profile name (``<dir>/<name>.json``) or a path given as such.

    A value containing a path separator or ending in ``.json`` is a path; anything else must
    be a valid name.

    Raises:
        CalibrationError: an invalid name.
    """
    text = os.fspath(name_or_path)
    if isinstance(name_or_path, os.PathLike) or "/" in text or os.sep in text or text.lower().endswith(".json"):
        return Path(text)
    return profile_dir() / f"{validate_name(text)}.json"


def save_profile(profile: CalibrationProfile, directory: str | os.PathLike[str] | None = None) -> Path:
    """Write ``<directory>/<name>.json`` atomically (an interrupted write leaves the old file).

    Returns the path written. Raises :class:`CalibrationError` for a folder that cannot be
    created or written.
    """
    from posecoach.export import atomic_write_bytes

    validate_name(profile.name)
    folder = Path(directory) if directory is not None else profile_dir()
    path = folder / f"{profile.name}.json"
    data = (json.dumps(profile.to_dict(), indent=2, allow_nan=False) + "\n").encode("utf-8")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path, data)
    except OSError as e:
        raise CalibrationError(f"{path}: cannot write calibration profile ({e.strerror or e})") from None
    return path


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


def load_profile(name_or_path: str | os.PathLike[str]) -> CalibrationProfile:
    """Load and validate a profile by name (``<dir>/<name>.json``) or path.

    Raises:
        CalibrationError: the only exception raised, for anything (missing, unreadable,
            corrupt, truncated, wrong version, wrong types, NaN/inf, out of range, a
            folder...). The message names the file, the field (when there is one) and why.
    """
    try:
        path = profile_path(name_or_path)
    except CalibrationError:
        raise
    except Exception as e:  # noqa: BLE001 - e.g. a NUL byte in the name
        raise CalibrationError(f"{name_or_path!r}: invalid profile name or path ({e})") from None
    try:
        return _load_file(path)
    except CalibrationError:
        raise
    except Exception as e:  # noqa: BLE001 - the loader promises one exception type
        raise CalibrationError(f"{path}: cannot read calibration profile ({type(e).__name__}: {e})") from None


def _load_file(path: Path) -> CalibrationProfile:
    hint = f"create it with `posecoach calibrate ... --name {path.stem}`"
    try:
        if path.is_dir():
            raise CalibrationError(f"{path}: is a directory, not a calibration profile")
        with path.open("rb") as f:
            raw = f.read(MAX_PROFILE_BYTES + 1)
    except FileNotFoundError:
        raise CalibrationError(f"{path}: calibration profile not found ({hint})") from None
    except OSError as e:
        raise CalibrationError(f"{path}: cannot read calibration profile ({e.strerror or e})") from None
    if len(raw) > MAX_PROFILE_BYTES:
        raise CalibrationError(f"{path}: not a calibration profile (larger than {MAX_PROFILE_BYTES // 1024} KiB)")
    if not raw.strip():
        raise CalibrationError(f"{path}: empty calibration profile (redo the calibration)")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise CalibrationError(f"{path}: not a calibration profile (binary data, not UTF-8 JSON)") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise CalibrationError(
            f"{path}: corrupt or truncated calibration profile (invalid JSON at line {e.lineno}, column {e.colno}: "
            f"{e.msg}): redo the calibration"
        ) from None
    except (RecursionError, ValueError) as e:
        raise CalibrationError(f"{path}: corrupt calibration profile ({type(e).__name__})") from None
    return profile_from_dict(data, str(path))


def load_profile_or_warn(name: str | os.PathLike[str] | None) -> tuple[CalibrationProfile | None, str]:
    """``(profile, "")``, or ``(None, warning)`` so the coach carries on uncalibrated.

    The warning is one line: the loader's reason followed by ``": coaching uncalibrated"``.
    ``name=None`` means no profile was asked for: ``(None, "")``.
    """
    if name is None:
        return None, ""
    try:
        return load_profile(name), ""
    except CalibrationError as e:
        return None, f"{e}: coaching uncalibrated"


def list_profiles(directory: str | os.PathLike[str] | None = None) -> list[str]:
    """Names of the ``*.json`` profiles in the profile folder (not validated), sorted."""
    folder = Path(directory) if directory is not None else profile_dir()
    try:
        return sorted(p.stem for p in folder.glob("*.json") if _NAME_RE.match(p.stem))
    except OSError:
        return []


# -- live recording --------------------------------------------------------------------
@dataclass(frozen=True)
class PhasePlan:
    """One timed phase: what to ask for and for how long to record (seconds)."""

    phase: str
    title: str
    prompt: str
    record_s: float


#: The default guided calibration: about 14 s with the 2 s get-ready countdowns.
DEFAULT_PLAN: tuple[PhasePlan, ...] = (
    PhasePlan("neutral", "Neutral face", "Relax your face and look straight into the lens", 3.0),
    PhasePlan("smile", "Big smile", "Give your biggest natural smile and hold it", 3.0),
    PhasePlan("closed", "Eyes closed", "Gently close your eyes and keep them closed", 2.0),
)


@dataclass(frozen=True)
class CalibrationState:
    """Everything a page or terminal needs to show the calibration, as plain data.

    Attributes:
        status: ``"prepare"`` (countdown before a phase records), ``"record"`` (recording),
            ``"done"`` (``profile`` is set) or ``"failed"`` (``feedback`` says why).
        phase: the current phase name (None when done/failed).
        title: the phase's short title ("Big smile").
        phase_number: 1-based number of the current phase; ``n_phases``: how many.
        seconds_left: of the current countdown or recording.
        prompt: the instruction to show now (for a person looking at a mirror image).
        face_found: the last frame had a face.
        feedback: the last finished phase's outcome ("" before the first), for the person.
        feedback_ok: whether that phase was accepted (None before the first).
        attempt: 1-based attempt at the current phase.
        progress: 0..1 through the whole calibration (recording time).
        profile: the result once ``status == "done"``.
    """

    status: str
    phase: str | None
    title: str
    phase_number: int
    n_phases: int
    seconds_left: float
    prompt: str
    face_found: bool
    feedback: str
    feedback_ok: bool | None
    attempt: int
    progress: float
    profile: CalibrationProfile | None = None

    @property
    def finished(self) -> bool:
        return self.status in ("done", "failed")

    @property
    def recording(self) -> bool:
        return self.status == "record"


class CalibrationRecorder:
    """The guided, timed calibration for live use: ``update(result, t_ms) -> CalibrationState``.

    Each phase has a get-ready countdown (``prepare_s``) and then records for its
    ``record_s``. When a phase ends it is checked at once: a usable phase moves on with
    positive feedback; an unusable one is repeated (up to ``max_attempts``) with the reason
    as feedback. After the last phase the profile is built (``status == "done"``). Time
    comes from ``t_ms`` only, so a frame without a face still advances it.

    Feed it raw metrics: a :class:`~posecoach.results.FrameResult` (its ``raw_metrics`` are
    used, never the calibrated/smoothed ones), a :class:`Metrics`, or None (no face).

    Thread-safety: ``update`` (video worker thread) and ``state``/``skip_phase``/``restart``
    (page thread) may be called from different threads.

    Example::

        rec = CalibrationRecorder("ana")
        for frame in frames:
            result = pipeline.process(frame.image, frame.t_ms)
            state = rec.update(result, frame.t_ms, luma=frame_luma(frame.image))
            if state.finished:
                break
        if state.status == "done":
            save_profile(state.profile)
    """

    def __init__(
        self,
        name: str,
        *,
        include_closed: bool = True,
        plan: Sequence[PhasePlan] = DEFAULT_PLAN,
        prepare_s: float = 2.0,
        max_attempts: int = 3,
        limits: CalibrationLimits = DEFAULT_LIMITS,
    ) -> None:
        self.name = validate_name(name)
        plans = [p for p in plan if include_closed or p.phase != "closed"]
        phases = [p.phase for p in plans]
        if phases[:2] != ["neutral", "smile"] or phases[2:] not in ([], ["closed"]):
            raise ValueError(f"calibration plan must be neutral, smile[, closed], got {phases}")
        self.plan = tuple(plans)
        self.prepare_s = float(prepare_s)
        self.max_attempts = max_attempts
        self.limits = limits
        self._lock = threading.Lock()
        self.restart()

    # -- control (any thread) ----------------------------------------------------------
    def restart(self) -> None:
        """Start over from the first phase (keeps nothing)."""
        with self._lock:
            self._index = 0
            self._attempt = 1
            self._stage = "prepare"
            self._stage_t0: float | None = None
            self._t = 0.0
            self._metrics: list[Metrics | None] = []
            self._luma: list[float] = []
            self._samples: dict[str, PhaseSamples] = {}
            self._stats: dict[str, PhaseStats] = {}
            self._feedback = ""
            self._feedback_ok: bool | None = None
            self._face_found = False
            self._profile: CalibrationProfile | None = None
            self._state = self._make_state()

    def skip_phase(self) -> CalibrationState:
        """Skip the optional eyes-closed phase (no effect in other phases)."""
        with self._lock:
            if self._stage in ("prepare", "record") and self.plan[self._index].phase == "closed":
                self._feedback, self._feedback_ok = "Eyes closed: skipped (a default is used)", True
                self._finish()
                self._state = self._make_state()
            return self._state

    @property
    def state(self) -> CalibrationState:
        """The latest state (an immutable value; safe to read from any thread)."""
        return self._state

    @property
    def samples(self) -> dict[str, PhaseSamples]:
        """The accepted phases' samples so far (e.g. for a before/after view)."""
        with self._lock:
            return dict(self._samples)

    # -- the per-frame path (video thread) ---------------------------------------------
    def update(
        self,
        observation: FrameResult | Metrics | None,
        t_ms: float,
        *,
        luma: float | None = None,
    ) -> CalibrationState:
        """Advance to ``t_ms`` with one frame's observation; never raises for a bad frame.

        Args:
            observation: a FrameResult (``raw_metrics`` used), raw Metrics, or None.
            t_ms: the frame's time in milliseconds (non-decreasing).
            luma: the frame's mean brightness 0..255, if known (enables the "too dark" check).
        """
        metrics = observation.raw_metrics if isinstance(observation, FrameResult) else observation
        if not isinstance(metrics, Metrics):
            metrics = None
        with self._lock:
            try:
                return self._update(metrics, t_ms, luma)
            except Exception as e:  # noqa: BLE001 - the stream must live on
                log.warning("calibration frame skipped: %s", e)
                return self._state

    # -- internals (lock held) ---------------------------------------------------------
    def _update(self, metrics: Metrics | None, t_ms: float, luma: float | None) -> CalibrationState:
        if self._stage in ("done", "failed"):
            return self._state
        t = float(t_ms) / 1000.0 if t_ms is not None and math.isfinite(t_ms) else self._t
        t = max(t, self._t)
        self._t = t
        self._face_found = metrics is not None
        if self._stage_t0 is None:
            self._stage_t0 = t
        if self._stage == "prepare" and t - self._stage_t0 >= self.prepare_s:
            self._stage, self._stage_t0 = "record", t
            self._metrics, self._luma = [], []
        if self._stage == "record":
            plan = self.plan[self._index]
            if t - self._stage_t0 < plan.record_s:
                self._metrics.append(metrics)
                self._luma.append(float(luma) if luma is not None and math.isfinite(luma) else math.nan)
            else:
                self._end_phase()
        self._state = self._make_state()
        return self._state

    def _end_phase(self) -> None:
        plan = self.plan[self._index]
        lumas = self._luma if self._luma and all(math.isfinite(v) for v in self._luma) else []
        samples = PhaseSamples(tuple(self._metrics), tuple(lumas))
        try:
            if plan.phase == "neutral":
                stats = check_neutral(samples, self.limits)
            elif plan.phase == "smile":
                stats = check_smile(samples, self._stats["neutral"], self.limits)
            else:
                stats = check_closed(samples, self._stats["neutral"], self.limits)
        except PhaseRejected as e:
            self._attempt += 1
            if self._attempt > self.max_attempts:
                self._feedback = f"{plan.title}: {e.reason}"
                self._feedback_ok = False
                self._stage = "failed"
            else:
                self._feedback = f"{plan.title}: let's try that again - {e.reason}"
                self._feedback_ok = False
                self._stage, self._stage_t0 = "prepare", self._t
            self._metrics, self._luma = [], []
            return
        self._samples[plan.phase] = samples
        self._stats[plan.phase] = stats
        self._feedback = f"{plan.title}: done ({stats.with_face} frames with your face)"
        self._feedback_ok = True
        self._metrics, self._luma = [], []
        if self._index + 1 < len(self.plan):
            self._index += 1
            self._attempt = 1
            self._stage, self._stage_t0 = "prepare", self._t
        else:
            self._finish()

    def _finish(self) -> None:
        try:
            self._profile = build_profile(
                self.name,
                self._samples["neutral"],
                self._samples["smile"],
                self._samples.get("closed"),
                limits=self.limits,
            )
            self._stage = "done"
        except (PhaseRejected, CalibrationError) as e:  # not expected: each phase was checked
            self._feedback, self._feedback_ok = str(e), False
            self._stage = "failed"

    def _make_state(self) -> CalibrationState:
        n = len(self.plan)
        total = sum(p.record_s for p in self.plan)
        done_s = sum(p.record_s for p in self.plan[: self._index])
        if self._stage in ("done", "failed"):
            ok = self._stage == "done"
            return CalibrationState(
                status=self._stage,
                phase=None,
                title="Calibration done" if ok else "Calibration failed",
                phase_number=n,
                n_phases=n,
                seconds_left=0.0,
                prompt="All set: coaching now follows your own face" if ok else "Calibration stopped: try again",
                face_found=self._face_found,
                feedback=self._feedback,
                feedback_ok=self._feedback_ok,
                attempt=self._attempt,
                progress=1.0 if ok else done_s / total,
                profile=self._profile,
            )
        plan = self.plan[self._index]
        elapsed = self._t - self._stage_t0 if self._stage_t0 is not None else 0.0
        if self._stage == "prepare":
            left = max(0.0, self.prepare_s - elapsed)
            prompt = f"Get ready: {plan.prompt[0].lower()}{plan.prompt[1:]}"
            progress = done_s / total
        else:
            left = max(0.0, plan.record_s - elapsed)
            prompt = plan.prompt
            progress = (done_s + min(elapsed, plan.record_s)) / total
        return CalibrationState(
            status=self._stage,
            phase=plan.phase,
            title=plan.title,
            phase_number=self._index + 1,
            n_phases=n,
            seconds_left=left,
            prompt=prompt,
            face_found=self._face_found,
            feedback=self._feedback,
            feedback_ok=self._feedback_ok,
            attempt=self._attempt,
            progress=progress,
            profile=None,
        )
