"""The frozen values every stage of posecoach speaks.

Data flows one way::

    frame (ndarray) -> FaceFrame -> Metrics -> (calibrated, smoothed) Metrics
        -> TargetScore -> Cue -> FrameResult -> overlay / UI / export

Everything here is immutable so results can cross the video thread safely.
Nothing in this module imports MediaPipe, OpenCV or Streamlit.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, fields

import numpy as np

#: MediaPipe Face Landmarker's 52 blendshape names, in the model's output order.
BLENDSHAPE_NAMES: tuple[str, ...] = (
    "_neutral",
    "browDownLeft",
    "browDownRight",
    "browInnerUp",
    "browOuterUpLeft",
    "browOuterUpRight",
    "cheekPuff",
    "cheekSquintLeft",
    "cheekSquintRight",
    "eyeBlinkLeft",
    "eyeBlinkRight",
    "eyeLookDownLeft",
    "eyeLookDownRight",
    "eyeLookInLeft",
    "eyeLookInRight",
    "eyeLookOutLeft",
    "eyeLookOutRight",
    "eyeLookUpLeft",
    "eyeLookUpRight",
    "eyeSquintLeft",
    "eyeSquintRight",
    "eyeWideLeft",
    "eyeWideRight",
    "jawForward",
    "jawLeft",
    "jawOpen",
    "jawRight",
    "mouthClose",
    "mouthDimpleLeft",
    "mouthDimpleRight",
    "mouthFrownLeft",
    "mouthFrownRight",
    "mouthFunnel",
    "mouthLeft",
    "mouthLowerDownLeft",
    "mouthLowerDownRight",
    "mouthPressLeft",
    "mouthPressRight",
    "mouthPucker",
    "mouthRight",
    "mouthRollLower",
    "mouthRollUpper",
    "mouthShrugLower",
    "mouthShrugUpper",
    "mouthSmileLeft",
    "mouthSmileRight",
    "mouthStretchLeft",
    "mouthStretchRight",
    "mouthUpperUpLeft",
    "mouthUpperUpRight",
    "noseSneerLeft",
    "noseSneerRight",
)
#: Index of each blendshape name in :data:`BLENDSHAPE_NAMES` (and in ``FaceFrame.blendshapes``).
BS: dict[str, int] = {name: i for i, name in enumerate(BLENDSHAPE_NAMES)}

N_LANDMARKS = 478


@dataclass(frozen=True, eq=False)
class FaceFrame:
    """One observation of the coached face, as the tracker saw it.

    Attributes:
        landmarks: ``(478, 3)`` float32. ``x`` and ``y`` are normalised to the *original*
            frame (0..1, origin top-left of the raw, un-mirrored image); ``z`` is depth in
            roughly the same scale as ``x`` (smaller = closer to the camera). Shape
            ``(0, 3)`` when there is no face.
        blendshapes: ``(52,)`` float32 scores 0..1 in :data:`BLENDSHAPE_NAMES` order
            (``*Left``/``*Right`` are the subject's own sides). Shape ``(0,)`` without a face.
        matrix: ``(4, 4)`` float32 facial transformation matrix (canonical face -> camera
            space, centimetres, OpenGL-style camera looking down -z). Zeros without a face.
        image_wh: ``(width, height)`` in pixels of the frame as the source delivered it.
        n_faces: how many faces MediaPipe found; the largest one is the one described here.
        t_ms: the timestamp, in milliseconds, fed to the landmarker (strictly increasing).
    """

    landmarks: np.ndarray
    blendshapes: np.ndarray
    matrix: np.ndarray
    image_wh: tuple[int, int]
    n_faces: int
    t_ms: int

    @property
    def has_face(self) -> bool:
        return self.landmarks.shape[0] > 0

    @classmethod
    def empty(cls, image_wh: tuple[int, int] = (0, 0), t_ms: int = 0) -> FaceFrame:
        """The explicit "no face" observation."""
        return cls(
            landmarks=np.zeros((0, 3), np.float32),
            blendshapes=np.zeros((0,), np.float32),
            matrix=np.zeros((4, 4), np.float32),
            image_wh=image_wh,
            n_faces=0,
            t_ms=t_ms,
        )


class EyeState(str, enum.Enum):
    """What the eyes are doing, as a person would describe it."""

    OPEN = "open"
    CLOSED = "closed"
    LOOKING_DOWN = "looking_down"


@dataclass(frozen=True)
class Metrics:
    """What posecoach measures on one face. Pure numbers, no references to the frame.

    Angles are in degrees, in the raw (un-mirrored) camera image:

    * ``yaw`` > 0 when the nose points toward the right edge of the raw image;
    * ``pitch`` > 0 when the chin lifts;
    * ``roll`` > 0 when the eye on the image's right side is higher than the eye on the
      image's left (the face turned counter-clockwise in the raw image).

    Yaw and pitch are measured against the line of sight from the lens to the face
    (0/0 = facing the lens wherever the face sits in the frame); see
    :func:`posecoach.metrics.head_angles`.

    Expression scores are 0..1. ``eye_open_left``/``eye_open_right`` are the eyes on the
    image's left/right side. Framing values are fractions of the frame: ``face_x``,
    ``face_y`` the face centre (0..1 from the left/top edge), ``face_height`` the face
    height (forehead to chin) over the frame height.
    """

    yaw: float
    pitch: float
    roll: float
    smile: float
    mouth_open: float
    eye_open_left: float
    eye_open_right: float
    eyes: EyeState
    squinch: float
    genuine_smile: float
    gaze_on_lens: float
    brow_raise: float
    face_x: float
    face_y: float
    face_height: float

    @property
    def eye_open(self) -> float:
        """Mean openness of both eyes, 0..1."""
        return 0.5 * (self.eye_open_left + self.eye_open_right)

    def value(self, name: str) -> float:
        """A numeric metric by name (``eye_open`` included)."""
        return float(getattr(self, name))

    def replace(self, **changes: float | EyeState) -> Metrics:
        """A copy with some fields changed."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values.update(changes)
        return Metrics(**values)  # type: ignore[arg-type]


#: Names of the numeric metric fields (everything but ``eyes``), in declaration order.
NUMERIC_METRICS: tuple[str, ...] = tuple(f.name for f in fields(Metrics) if f.name != "eyes")
#: Metric names a target may constrain.
TARGET_METRICS: tuple[str, ...] = NUMERIC_METRICS + ("eye_open",)


@dataclass(frozen=True)
class MetricScore:
    """How one metric compares with its target range.

    Attributes:
        name: metric name.
        value: the (calibrated, smoothed) value.
        score: 1.0 inside the range, falling smoothly to 0.0 across the tolerance.
        direction: +1 if the value must rise to reach the range, -1 if it must fall, 0 inside.
        weight: the target's weight for this metric.
    """

    name: str
    value: float
    score: float
    direction: int
    weight: float

    @property
    def shortfall(self) -> float:
        """Weighted distance from perfect: ``weight * (1 - score)``."""
        return self.weight * (1.0 - self.score)


@dataclass(frozen=True)
class TargetScore:
    """The whole face against one target. ``score`` is 0..100 (weighted mean)."""

    target: str
    score: float
    metrics: tuple[MetricScore, ...]

    def metric(self, name: str) -> MetricScore | None:
        for m in self.metrics:
            if m.name == name:
                return m
        return None


@dataclass(frozen=True)
class Cue:
    """One instruction to the person, phrased for someone looking at a mirror image.

    ``metric`` is the metric the cue is about (``""`` for general cues such as
    "move into the frame"); ``direction`` as in :class:`MetricScore`.
    """

    text: str
    metric: str = ""
    direction: int = 0

    @classmethod
    def none(cls) -> Cue:
        return cls(text="")

    def __bool__(self) -> bool:
        return bool(self.text)


@dataclass(frozen=True)
class HoldState:
    """Progress toward holding the look.

    Attributes:
        progress: 0..1, the fraction of the hold time the score has stayed at or above
            the threshold so far.
        held: True while the current hold has reached the full hold time.
        holds: how many holds have been achieved in this session so far.
        just_completed: True only on the frame the current hold was first achieved.
    """

    progress: float = 0.0
    held: bool = False
    holds: int = 0
    just_completed: bool = False


class Lighting(str, enum.Enum):
    """The one-word verdict on the light (see :func:`posecoach.lighting.classify`)."""

    OK = "ok"
    BACKLIT = "backlit"  # the background is much brighter than the face
    DARK = "dark"  # the face is near black, or much of it is crushed to black
    BRIGHT = "bright"  # much of the face is clipped white
    UNEVEN = "uneven"  # one side much brighter than the other (beyond the look's ratio)


@dataclass(frozen=True)
class LightReading:
    """The light on one face (see :mod:`posecoach.lighting` for how each is read).

    Attributes:
        face_luma: median gamma-encoded luma Y' of the face oval, 0..255.
        light_balance_stops: log2 of the linear luminance of the subject's own LEFT cheek and
            forehead over their RIGHT; > 0 = lit from the subject's left.
        top_bottom_stops: log2(forehead / chin), linear; < 0 = lit from below.
        shadows_clipped: fraction 0..1 of face pixels crushed to black (Y' <= 8).
        highlights_clipped: fraction 0..1 of face pixels with a channel clipped (>= 250).
        backlight_stops: log2(background beside and above the head / face), linear; NaN
            when no background is in the frame.
        background_clipped: fraction 0..1 of that background clipped white (all channels
            >= 250): a light source behind the person, not a pale wall.
        cast_chroma: how far (CIE a*b* units) the face's mean colour lies outside skin's
            hue band: 0 = no colour cast.
        cast: the cast's direction: "blue", "green", "magenta", "orange" or "".
    """

    face_luma: float
    light_balance_stops: float
    top_bottom_stops: float
    shadows_clipped: float
    highlights_clipped: float
    backlight_stops: float
    background_clipped: float = 0.0
    cast_chroma: float = 0.0
    cast: str = ""

    @property
    def light_ratio_stops(self) -> float:
        """The lighting ratio in stops, >= 0: <= 1 flat, 1-2 portrait, more is dramatic."""
        return abs(self.light_balance_stops)


@dataclass(frozen=True, eq=False)
class FrameResult:
    """Everything posecoach knows about one frame. ``metrics``/``score`` are None without a face.

    ``occluded`` names the parts of the face hidden from the camera (``"mouth"``, ``"eyes"``,
    e.g. by a hand): their readings are guesses, so such a frame has metrics but no
    ``score``, its cue asks to uncover the face, and it is never a hold or a best frame.

    ``light`` is the light on the face (read every few frames, held in between) and
    ``lighting`` its verdict against the look's ``[light]`` range; None without a face.
    """

    frame: int
    t_ms: int
    face: FaceFrame
    metrics: Metrics | None
    raw_metrics: Metrics | None
    score: TargetScore | None
    cue: Cue
    hold: HoldState = field(default_factory=HoldState)
    occluded: tuple[str, ...] = ()
    light: LightReading | None = None
    lighting: Lighting | None = None

    @property
    def has_face(self) -> bool:
        return self.metrics is not None

    @property
    def n_faces(self) -> int:
        return self.face.n_faces

