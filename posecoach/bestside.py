"""Your best side: a three-quarter turn one way, then the other, with the same expression,
compared on what a photographer looks at.

Which side is shown. In the raw camera image, ``yaw`` < 0 is the head turned to the person's
own right, which brings their LEFT cheek toward the camera: the LEFT side is shown. ``yaw``
> 0 shows the RIGHT side. The near eye is then the person's left eye (on the raw image's
right, ``eye_open_right``), the near mouth corner ``mouthSmileLeft`` (MediaPipe names the
person's own sides), the near jaw corner landmark 397 (172 on the right).

What is compared (per frame, on frames turned :data:`MIN_TURN_DEG`-:data:`MAX_TURN_DEG` either way):

* ``eye_open``: how open the eyes read, both eyes' mean (bigger reads more engaged);
* ``eye_asymmetry``: near eye minus far eye, absolute (smaller reads more even);
* ``near_smile``: ``mouthSmile*`` of the near side (a fuller smile on the side shown);
* ``jaw_angle``: the angle at the near jaw corner as the camera sees it, between the line up
  to the ear and the line to the chin, in degrees (smaller reads as a more defined jaw).

How sure. Each feature's difference between the sides is estimated with the turn amount
held equal (a least-squares fit of the feature on ``|yaw|`` and the side, so turning further
one way does not pass for a better side), then divided by :data:`MIRROR_NOISE`: how much
MediaPipe itself disagrees with a mirrored copy of the same face. On a perfectly symmetric
face both sides differ by about that much, so it is the floor under which a difference is no
evidence. The weighted sum of these effects (Stouffer's ``sum(w e) / sqrt(sum(w^2))``, about
standard normal for a symmetric face) must reach :data:`MIN_EVIDENCE`, and a block bootstrap
over the frames (blocks of :data:`BLOCK_FRAMES`, neighbouring frames being alike) must agree
on the side in at least :data:`MIN_AGREEMENT` of the resamples; otherwise the answer is "no
clear difference", which is a valid answer. A changed expression between the turns makes
the comparison unfair and is said so.
"""

from __future__ import annotations

import enum
import math
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from posecoach.records import BestSide
from posecoach.results import BS, EyeState, FrameResult
from posecoach.routines import Routine, Step

if TYPE_CHECKING:  # pragma: no cover - typing only
    from posecoach.session import CoachSession

#: Frames turned less than this (degrees of yaw, either way) are not a three-quarter view.
MIN_TURN_DEG = 10.0
#: Beyond this MediaPipe's far eye and jaw readings fall apart (and yaw is under-read).
MAX_TURN_DEG = 45.0
#: Frames needed on each side (a third of a second at 30 fps).
MIN_FRAMES = 10
#: Neighbouring video frames are nearly the same picture: resample them in blocks.
BLOCK_FRAMES = 8
BOOTSTRAP = 400
MIN_EVIDENCE = 2.0
MIN_AGREEMENT = 0.95
#: A difference in mean smile between the turns above this is a changed expression.
MAX_SMILE_CHANGE = 0.15

#: (feature, weight, +1 if larger is better / -1 if smaller is better, what a person reads)
FEATURES: tuple[tuple[str, float, int, str], ...] = (
    ("eye_open", 1.0, +1, "eyes open"),
    ("eye_asymmetry", 0.5, -1, "eyes uneven"),
    ("near_smile", 1.0, +1, "smile on the near side"),
    ("jaw_angle", 0.5, -1, "jaw corner angle (°)"),
)
#: MediaPipe's own left-right disagreement per feature: the root mean square of
#: ``feature(face) - feature(mirrored face)`` over 143 GENKI-4K training faces read turned
#: 10-45 degrees (of 600 labelled so; 64 px crops prepared as the truth harness does):
#: eye_open 0.072, eye_asymmetry 0.053, near_smile 0.121, jaw_angle 1.9 degrees (medians of
#: |d|: 0.042, 0.030, 0.052, 1.2). Reproduce: benchmarks/look_noise.py --mirror --faces 120.
#: (On a full-size face turned by re-drawing its mesh, tests/turns.py, they were about the
#: same: 0.069, 0.060, 0.060, 2.9.)
MIRROR_NOISE = {"eye_open": 0.072, "eye_asymmetry": 0.053, "near_smile": 0.121, "jaw_angle": 1.9}

_JAW = {  # (corner, ear-level point on the face outline, chin) per side shown
    "left": (397, 454, 152),
    "right": (172, 234, 152),
}


class Side(str, enum.Enum):
    """A side of the person's face (their own left or right)."""

    LEFT = "left"
    RIGHT = "right"

    @property
    def turn(self) -> str:
        """Which way to turn the head to show this side."""
        return "right" if self is Side.LEFT else "left"


class Verdict(str, enum.Enum):
    LEFT = "left"
    RIGHT = "right"
    NO_CLEAR_DIFFERENCE = "no clear difference"
    NOT_ENOUGH = "not enough frames"


@dataclass(frozen=True)
class SideSample:
    """One frame's view of a side: ``yaw`` (degrees, raw image), the overall ``smile``, and
    the compared features (see the module docstring)."""

    t_ms: float
    yaw: float
    smile: float
    eye_open: float
    eye_asymmetry: float
    near_smile: float
    jaw_angle: float

    @property
    def side(self) -> Side:
        return Side.LEFT if self.yaw < 0 else Side.RIGHT

    def value(self, name: str) -> float:
        return float(getattr(self, name))


def jaw_angle(result: FrameResult, side: Side) -> float:
    """The angle (degrees) at the jaw corner of ``side`` in the image (see the module doc)."""
    w, h = result.face.image_wh
    corner, ear, chin = (result.face.landmarks[i, :2].astype(np.float64) * (w, h) for i in _JAW[side.value])
    a, b = ear - corner, chin - corner
    cos = float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b) or 1.0))
    return math.degrees(math.acos(max(-1.0, min(1.0, cos))))


def sample(result: FrameResult) -> SideSample | None:
    """The frame as a :class:`SideSample`, or None (no face, covered, eyes shut, not turned
    :data:`MIN_TURN_DEG`-:data:`MAX_TURN_DEG`). Raw (uncalibrated) readings: the two sides of
    one face are compared with each other, so a person's calibration changes nothing."""
    m = result.raw_metrics
    if m is None or result.occluded or m.eyes is not EyeState.OPEN or not MIN_TURN_DEG <= abs(m.yaw) <= MAX_TURN_DEG:
        return None
    side = Side.LEFT if m.yaw < 0 else Side.RIGHT
    # The near eye: the person's left eye is on the raw image's right (eye_open_right).
    near, far = (m.eye_open_right, m.eye_open_left) if side is Side.LEFT else (m.eye_open_left, m.eye_open_right)
    b = result.face.blendshapes
    near_smile = float(b[BS["mouthSmileLeft"] if side is Side.LEFT else BS["mouthSmileRight"]])
    return SideSample(float(result.t_ms), m.yaw, m.smile, 0.5 * (near + far), abs(near - far), near_smile,
                      jaw_angle(result, side))  # fmt: skip


@dataclass(frozen=True)
class FeatureComparison:
    """One feature on each side (means), the difference with the turn held equal (left minus
    right, the feature's unit) and that difference in :data:`MIRROR_NOISE` units, signed so
    that > 0 favours the left side."""

    name: str
    label: str
    left: float
    right: float
    difference: float
    effect: float

    @property
    def favours(self) -> Side | None:
        if abs(self.effect) < 1.0:  # within MediaPipe's own left-right disagreement
            return None
        return Side.LEFT if self.effect > 0 else Side.RIGHT


@dataclass(frozen=True)
class SideStats:
    """What was seen of one side: frames used, the mean turn (degrees) and mean smile."""

    side: Side
    frames: int
    turn_deg: float
    smile: float


@dataclass(frozen=True)
class BestSideResult:
    """The answer: ``verdict``, the combined ``evidence`` (> 0 favours the left side; about
    standard normal for a symmetric face), ``agreement`` (the share of bootstrap resamples on
    the leading side), the numbers behind it and ``notes`` for the person."""

    verdict: Verdict
    evidence: float
    agreement: float
    features: tuple[FeatureComparison, ...]
    left: SideStats
    right: SideStats
    notes: tuple[str, ...] = ()

    @property
    def side(self) -> Side | None:
        return Side(self.verdict.value) if self.verdict in (Verdict.LEFT, Verdict.RIGHT) else None

    @property
    def sureness(self) -> str:
        """"clear", "likely" or "" (no verdict)."""
        if self.side is None:
            return ""
        return "clear" if abs(self.evidence) >= 1.5 * MIN_EVIDENCE and self.agreement >= 0.99 else "likely"

    @property
    def headline(self) -> str:
        if self.side is not None:
            return f"Show your {self.side.value} side ({self.sureness}): turn your head to your {self.side.turn}"
        if self.verdict is Verdict.NOT_ENOUGH:
            return "Not enough to compare: turn about a third of the way each way and hold each for a few seconds"
        return "No clear difference: both sides work, pick the one the light favours"

    def kept(self) -> BestSide:
        """The verdict as a kept session holds it (the hand-off card's "Best side")."""
        side = self.side
        return BestSide(side.value if side is not None else "none", self.agreement if side is not None else None,
                        self.headline)  # fmt: skip

    def record(self) -> dict[str, object]:
        """The result as plain JSON-able values (for a session report or a hand-off card)."""
        return {
            "verdict": self.verdict.value,
            "side": self.side.value if self.side is not None else None,
            "sureness": self.sureness,
            "headline": self.headline,
            "evidence": round(self.evidence, 3),
            "agreement": round(self.agreement, 3),
            "features": [{"name": f.name, "left": _finite(f.left), "right": _finite(f.right),
                          "difference": round(f.difference, 4), "effect": round(f.effect, 3)} for f in self.features],
            "left": {"frames": self.left.frames, "turn_deg": round(self.left.turn_deg, 1), "smile": round(self.left.smile, 3)},
            "right": {"frames": self.right.frames, "turn_deg": round(self.right.turn_deg, 1),
                      "smile": round(self.right.smile, 3)},
            "notes": list(self.notes),
        }  # fmt: skip

    def lines(self) -> list[str]:
        out = [
            self.headline,
            f"evidence {self.evidence:+.1f} ({MIN_EVIDENCE:g} or more either way is a difference: + left side, "
            f"- right side); {self.agreement:.0%} of resampled frames give the same sign",
            f"frames: left side {self.left.frames} (turned {self.left.turn_deg:.0f}°), "
            f"right side {self.right.frames} (turned {self.right.turn_deg:.0f}°)",
        ]
        for f in self.features:
            if self.verdict is Verdict.NOT_ENOUGH:
                continue
            fav = f" -> {f.favours.value}" if f.favours is not None else ""
            out.append(f"  {f.label:<24} left {f.left:6.2f}  right {f.right:6.2f}  effect {f.effect:+.1f}{fav}")
        return out + list(self.notes)


def _fit(values: np.ndarray, turn: np.ndarray, is_left: np.ndarray) -> float:
    """The left-minus-right difference of ``values`` with the turn amount held equal."""
    design = np.column_stack([np.ones_like(turn), turn, is_left])
    coef, *_ = np.linalg.lstsq(design, values, rcond=None)
    return float(coef[2])


def _effects(x: np.ndarray, turn: np.ndarray, is_left: np.ndarray) -> np.ndarray:
    """Per feature: the adjusted difference in noise units, + favouring the left side."""
    out = np.empty(len(FEATURES))
    for k, (name, _w, better, _label) in enumerate(FEATURES):
        out[k] = better * _fit(x[:, k], turn, is_left) / MIRROR_NOISE[name]
    return out


_WEIGHTS = np.array([w for _n, w, _b, _l in FEATURES])


def _evidence(effects: np.ndarray) -> float:
    return float(np.dot(_WEIGHTS, effects) / math.sqrt(float(np.dot(_WEIGHTS, _WEIGHTS))))


def _blocks(n: int, rng: np.random.Generator) -> np.ndarray:
    """Indices of a block-bootstrap resample of ``n`` frames in time order."""
    size = min(BLOCK_FRAMES, n)
    starts = rng.integers(0, n - size + 1, size=math.ceil(n / size))
    return np.concatenate([np.arange(s, s + size) for s in starts])[:n]


def best_side(samples: Iterable[SideSample | None], *, seed: int = 0) -> BestSideResult:
    """Compare the two sides over a clip's samples (None entries are skipped). Pure."""
    frames = sorted((s for s in samples if s is not None), key=lambda s: s.t_ms)
    by_side = {side: [s for s in frames if s.side is side] for side in Side}
    stats = {
        side: SideStats(side, len(v), float(np.mean([abs(s.yaw) for s in v])) if v else 0.0,
                        float(np.mean([s.smile for s in v])) if v else 0.0)  # fmt: skip
        for side, v in by_side.items()
    }
    names = [f[0] for f in FEATURES]
    empty = tuple(
        FeatureComparison(n, label, _mean(by_side[Side.LEFT], n), _mean(by_side[Side.RIGHT], n), 0.0, 0.0)
        for n, _w, _b, label in FEATURES
    )
    short = [side.value for side in Side if stats[side].frames < MIN_FRAMES]
    if short:
        note = (f"too few frames turned {MIN_TURN_DEG:.0f}-{MAX_TURN_DEG:.0f}° showing your {' and '.join(short)} side "
                f"(need {MIN_FRAMES} each)")  # fmt: skip
        return BestSideResult(Verdict.NOT_ENOUGH, 0.0, 0.0, empty, stats[Side.LEFT], stats[Side.RIGHT], (note,))
    left, right = by_side[Side.LEFT], by_side[Side.RIGHT]

    def arrays(a: Sequence[SideSample], b: Sequence[SideSample]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        both = list(a) + list(b)
        x = np.array([[s.value(n) for n in names] for s in both])
        turn = np.array([abs(s.yaw) for s in both])
        return x, turn, np.r_[np.ones(len(a)), np.zeros(len(b))]

    x, turn, is_left = arrays(left, right)
    effects = _effects(x, turn, is_left)
    evidence = _evidence(effects)
    rng = np.random.default_rng(seed)
    boot = []
    for _ in range(BOOTSTRAP):
        li, ri = _blocks(len(left), rng), _blocks(len(right), rng)
        bx, bt, bl = arrays([left[i] for i in li], [right[i] for i in ri])
        boot.append(_evidence(_effects(bx, bt, bl)))
    boot_arr = np.array(boot)
    agreement = float(np.mean(boot_arr > 0) if evidence >= 0 else np.mean(boot_arr < 0))
    features = tuple(
        FeatureComparison(n, label, _mean(left, n), _mean(right, n),
                          effects[k] * MIRROR_NOISE[n] * better, float(effects[k]))  # fmt: skip
        for k, (n, _w, better, label) in enumerate(FEATURES)
    )
    notes: list[str] = []
    verdict = Verdict.LEFT if evidence > 0 else Verdict.RIGHT
    if abs(evidence) < MIN_EVIDENCE or agreement < MIN_AGREEMENT:
        verdict = Verdict.NO_CLEAR_DIFFERENCE
    change = stats[Side.LEFT].smile - stats[Side.RIGHT].smile
    if abs(change) > MAX_SMILE_CHANGE:
        verdict = Verdict.NO_CLEAR_DIFFERENCE
        notes.append(f"your expression changed between the turns (smile {stats[Side.LEFT].smile:.2f} showing the left "
                     f"side, {stats[Side.RIGHT].smile:.2f} the right): do both with the same expression")  # fmt: skip
    gap = stats[Side.LEFT].turn_deg - stats[Side.RIGHT].turn_deg
    if abs(gap) > 10.0:
        notes.append(f"you turned {stats[Side.LEFT].turn_deg:.0f}° one way and {stats[Side.RIGHT].turn_deg:.0f}° the "
                     "other: the comparison allows for it, but turning about as far each way is fairer")  # fmt: skip
    return BestSideResult(verdict, evidence, agreement, features, stats[Side.LEFT], stats[Side.RIGHT], tuple(notes))


def _finite(value: float) -> float | None:
    return round(value, 4) if math.isfinite(value) else None


def _mean(samples: Sequence[SideSample], name: str) -> float:
    return float(np.mean([s.value(name) for s in samples])) if samples else float("nan")


def best_side_source(source: object, *, model: str | None = None, verbose: bool = False) -> BestSideResult:
    """Run an opened video (the caller closes it) and compare the sides the person showed.

    Raises:
        ValueError (a :class:`~posecoach.sources.SourceError`): the source is a photo.
        ModelError: the model is missing or broken.
    """
    return best_side_run(source, model=model, verbose=verbose)[0]


def best_side_run(source: object, *, model: str | None = None, verbose: bool = False) -> tuple[BestSideResult, CoachSession]:
    """:func:`best_side_source`, and the coached session (for ``--keep``/``--report``)."""
    from posecoach.runs import CoachSettings, run_source
    from posecoach.sources import SourceError
    from posecoach.targets import MetricRange, Target

    if getattr(source, "is_image", False):
        raise SourceError(f"{getattr(source, 'name', 'photo')}: the best-side check needs a video "
                          "(turn a third of the way one way, then the other), not a photo")  # fmt: skip
    samples: list[SideSample | None] = []
    probe = Target("best_side", "Best side", "", (MetricRange("smile", 0.0, 1.0, 0.1),))

    def on_frame(_frame, result: FrameResult | None) -> None:  # noqa: ANN001
        if result is not None:
            samples.append(sample(result))

    run = run_source(source, probe, CoachSettings(probe.name), on_frame, model=model, verbose=verbose)  # type: ignore[arg-type]
    return best_side(samples), run.session


def best_side_upload(data: bytes, name: str) -> BestSideResult:
    """:func:`best_side_source` on an uploaded clip, read from memory.

    Raises:
        SourceError: the upload is not a video posecoach can read (a photo included).
        ModelError: the model is missing or broken.
    """
    from posecoach.uploads import open_upload

    with open_upload(data, name) as source:
        return best_side_source(source)


# -- the guided check (the page's live camera) -------------------------------------------------------
#: Seconds for each turn, and how long the turn is held before moving on.
GUIDED_TURN_S = 12.0
GUIDED_HOLD_S = 3.0


def guided_routine() -> Routine:
    """The guided check as a two-step routine: turn to the right (the camera sees the left
    side), then to the left, with the same soft smile; each step ends once the turn is held."""
    same = "Keep the same soft smile for both turns."
    return Routine(
        "best_side_check",
        "Best-side check",
        "A three-quarter turn one way, then the other, with the same expression.",
        (
            Step("three_quarter_right", GUIDED_TURN_S, GUIDED_HOLD_S,
                 f"Turn your head about a third of the way to your RIGHT, eyes back to the lens. {same}"),
            Step("three_quarter_left", GUIDED_TURN_S, GUIDED_HOLD_S,
                 f"Now the same to your LEFT, eyes back to the lens. {same}"),
        ),
    )  # fmt: skip


class SampleCollector:
    """Keeps the :class:`SideSample` of every coached frame handed to it (thread-safe): pass
    :meth:`add` as a :class:`~posecoach.routines.LiveRoutine`'s ``observe``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._samples: list[SideSample] = []

    def add(self, result: FrameResult) -> None:
        s = sample(result)
        if s is not None:
            with self._lock:
                self._samples.append(s)

    def result(self) -> BestSideResult:
        with self._lock:
            samples = list(self._samples)
        return best_side(samples)
