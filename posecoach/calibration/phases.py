"""Calibration phases: what each recorded, whether it is usable, and what they teach.

A short guided calibration learns the person:

1. **neutral** - a relaxed face looking into the lens (~3 s): head-angle zero offsets, the
   resting smile, relaxed-open eyes, squinch / cheek / brow / mouth baselines, face size;
2. **smile** - the biggest natural smile (~3 s): what "1" on the smile scale means;
3. **closed** - eyes gently closed (~2 s, optional): what "0" on the eye scale means
   (without it, a fixed fraction of the open aperture is used).

Each phase's frames are :class:`PhaseSamples`, from a live
:class:`~posecoach.calibration.recorder.CalibrationRecorder` or from time windows of a video
(:func:`collect_windows`). :func:`check_phase` summarises one phase as :class:`PhaseStats`
or raises :class:`PhaseRejected` with a reason a person understands.
:func:`build_calibration` checks all of them and returns the profile *and* the statistics,
so no caller runs the checks twice.

Nothing here imports MediaPipe or Streamlit.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING

import numpy as np

from posecoach.calibration.profile import (
    DEFAULT_LIMITS,
    MIN_EYE_RANGE,
    CalibrationLimits,
    CalibrationProfile,
    profile_from_dict,
    validate_name,
)
from posecoach.metrics import compute_metrics, is_plausible_face
from posecoach.results import NUMERIC_METRICS, Metrics

if TYPE_CHECKING:  # pragma: no cover - typing only
    from posecoach.detector import FaceTracker
    from posecoach.sources import Frame

#: The phases, in the order they are recorded ("closed" is optional).
PHASES: tuple[str, ...] = ("neutral", "smile", "closed")


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


def frame_luma(image: np.ndarray) -> float:
    """Mean brightness (Rec. 601 luma, 0..255) of a BGR(A) or grayscale uint8 frame.

    Every 4th pixel in each direction is enough (about 0.1 ms for 640x360).
    """
    if not isinstance(image, np.ndarray) or image.size == 0:
        return 0.0
    sub = image[::4, ::4]
    if sub.ndim == 2 or sub.shape[2] == 1:
        value = float(sub.mean())
    else:
        means = sub[..., :3].reshape(-1, 3).mean(axis=0)
        value = float(0.114 * means[0] + 0.587 * means[1] + 0.299 * means[2])
    if image.dtype == np.uint16:
        value /= 257.0
    elif np.issubdtype(image.dtype, np.floating):
        value *= 255.0
    return value


@dataclass(frozen=True)
class PhaseSamples:
    """What one phase recorded, frame by frame.

    Attributes:
        metrics: the raw (uncalibrated, unsmoothed) metrics per frame, None without a face.
        luma: each frame's mean brightness 0..255 (see :func:`frame_luma`); empty when unknown
            (brightness is then not checked).
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


def check_phase(
    phase: str, samples: PhaseSamples, neutral: PhaseStats | None = None, limits: CalibrationLimits = DEFAULT_LIMITS
) -> PhaseStats:
    """:func:`check_neutral`, :func:`check_smile` or :func:`check_closed` by phase name
    (``neutral`` is the accepted neutral phase, needed by the other two)."""
    if phase == "neutral":
        return check_neutral(samples, limits)
    if neutral is None:
        raise ValueError(f"the {phase} phase is checked against an accepted neutral phase")
    return (check_smile if phase == "smile" else check_closed)(samples, neutral, limits)


# -- what the phases teach ---------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Calibration:
    """A calibration just learned: the profile, and each phase's statistics in the order
    neutral, smile[, closed] (for a report of what was measured)."""

    profile: CalibrationProfile
    stats: tuple[PhaseStats, ...]


def build_calibration(
    name: str,
    neutral: PhaseSamples,
    smile: PhaseSamples,
    closed: PhaseSamples | None = None,
    *,
    limits: CalibrationLimits = DEFAULT_LIMITS,
    created: str | None = None,
) -> Calibration:
    """Learn a person from their calibration phases.

    Args:
        name: the profile name (see :func:`~posecoach.calibration.profile.validate_name`).
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
    profile = profile_from_stats(name, n, s, c, limits=limits, created=created)
    return Calibration(profile, (n, s) if c is None else (n, s, c))


def build_profile(
    name: str,
    neutral: PhaseSamples,
    smile: PhaseSamples,
    closed: PhaseSamples | None = None,
    *,
    limits: CalibrationLimits = DEFAULT_LIMITS,
    created: str | None = None,
) -> CalibrationProfile:
    """Only the profile of :func:`build_calibration` (same arguments, same errors)."""
    return build_calibration(name, neutral, smile, closed, limits=limits, created=created).profile


def profile_from_stats(
    name: str,
    n: PhaseStats,
    s: PhaseStats,
    c: PhaseStats | None = None,
    *,
    limits: CalibrationLimits = DEFAULT_LIMITS,
    created: str | None = None,
) -> CalibrationProfile:
    """The profile accepted phases teach (``n``, ``s``, ``c``: neutral, smile and the
    optional closed phase, as the checks returned them).

    Raises:
        CalibrationError: the profile would not pass its own schema (not expected after the checks).
    """
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


# -- phases from time windows of a video ---------------------------------------------------
#: Frame -> (raw metrics or None without a usable face, mean luma 0..255).
Observer = Callable[["Frame"], tuple[Metrics | None, float]]


class TrackerObserver:
    """Observe calibration frames with a :class:`~posecoach.detector.FaceTracker` (owned by
    the caller): ``(raw metrics or None, mean luma)``. A face that
    :func:`~posecoach.metrics.is_plausible_face` rejects counts as no face."""

    def __init__(self, tracker: FaceTracker) -> None:
        self.tracker = tracker

    def __call__(self, frame: Frame) -> tuple[Metrics | None, float]:
        face = self.tracker.process(frame.image, frame.t_ms)
        metrics = compute_metrics(face) if face.has_face and is_plausible_face(face) else None
        return metrics, frame_luma(frame.image)


@dataclass(frozen=True)
class Window:
    """A phase's time range in a video, seconds from its start: ``start <= t < end``."""

    start_s: float
    end_s: float

    def __post_init__(self) -> None:
        if not (math.isfinite(self.start_s) and math.isfinite(self.end_s) and 0 <= self.start_s < self.end_s):
            raise ValueError(f"invalid time window {self.start_s}:{self.end_s}: need 0 <= START < END")

    def contains(self, t_ms: float) -> bool:
        return self.start_s * 1000.0 <= t_ms < self.end_s * 1000.0

    def __str__(self) -> str:
        return f"{self.start_s:g}-{self.end_s:g} s"


class EmptyWindow(PhaseRejected):
    """A phase's time window holds no frame of the video.

    Attributes:
        window: the phase's :class:`Window`; ``end_s``: the time of the last frame read (s).
    """

    def __init__(self, phase: str, window: Window, end_s: float) -> None:
        super().__init__(phase, f"the range {window} holds no frames (the clip ends at {end_s:.1f} s)")
        self.window = window
        self.end_s = end_s


def collect_windows(
    frames: Iterable[Frame | None],
    observe: Observer,
    windows: Mapping[str, Window],
) -> dict[str, PhaseSamples]:
    """Observe the frames inside each phase's window (decoding sequentially).

    Frames before the first window are skipped without inference; decoding stops after the
    last window ends. Windows may overlap. Returns the samples per phase.

    Raises:
        EmptyWindow: a phase's window holds no frame (checked in the windows' order).
    """
    metrics: dict[str, list[Metrics | None]] = {p: [] for p in windows}
    luma: dict[str, list[float]] = {p: [] for p in windows}
    last_ms = max(w.end_s for w in windows.values()) * 1000.0 if windows else 0.0
    end_ms = 0.0
    for frame in frames:
        if frame is None:
            continue
        end_ms = frame.t_ms
        if frame.t_ms >= last_ms:
            break
        inside = [p for p, w in windows.items() if w.contains(frame.t_ms)]
        if not inside:
            continue
        m, y = observe(frame)
        for p in inside:
            metrics[p].append(m)
            luma[p].append(y)
    for phase, window in windows.items():
        if not metrics[phase]:
            raise EmptyWindow(phase, window, end_ms / 1000.0)
    return {p: PhaseSamples(tuple(metrics[p]), tuple(luma[p])) for p in windows}
