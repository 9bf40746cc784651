"""Pure per-frame measurements: :class:`FaceFrame` in, :class:`Metrics` out.

No I/O, no state, no OpenCV: every function here is a plain function of one observation,
so it can be tested with synthetic faces and called from any thread.

Conventions (all in the raw, un-mirrored camera image):

* Angles are degrees. ``yaw`` > 0 when the nose points toward the image's right edge,
  ``pitch`` > 0 when the chin lifts, ``roll`` > 0 when the eye on the image's right side
  is higher than the other (the face turned counter-clockwise in the image). They are
  measured against the line of sight from the lens to the face, so 0/0 means "facing the
  lens" wherever the face sits in the frame (see :func:`head_angles`).
* ``*_left`` / ``*_right`` are the image's left / right side. MediaPipe's ``*Left`` /
  ``*Right`` blendshapes are the subject's own sides, so the image's left eye is the
  subject's *right* eye (``eyeBlinkRight``).
* Expression scores are 0..1 and *uncalibrated*, on a documented scale that means the same
  for everyone (calibration then makes them relative to the person's neutral): ``smile``
  >= 0.35 is a face a person would call smiling, ``gaze_on_lens`` >= 0.6 is looking into
  the lens (see the README). ``smile`` and ``gaze_on_lens`` are fitted on labelled faces
  (coefficients in ``assets/readings/``, see :mod:`posecoach.readings`); sadness, crying
  and the glance down follow FACS rules (:func:`distress`, :func:`looking_down_score`).

Landmark geometry (:mod:`posecoach.geometry`) is measured in pixels, in 3-D: ``x * width``,
``y * height`` and ``z * width``. Distances in 3-D do not shrink when the head turns or
tilts, which keeps ratios such as eye aperture / eye width steady across poses.

MediaPipe sometimes reports a face in a cartoon or a logo for a frame or two; check
:func:`is_plausible_face` before trusting the metrics of a frame.

Example::

    with FaceTracker(mode=TrackerMode.IMAGE) as tracker:
        face = tracker.process(image_bgr)
    if face.has_face and is_plausible_face(face):
        m = compute_metrics(face)
        print(f"yaw {m.yaw:+.0f} deg, smile {m.smile:.2f}, eyes {m.eyes.value}")
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from posecoach.geometry import (
    FaceGeometry,
    face_geometry,
    head_angles,
    is_plausible_face,
    plausible_geometry,
    rotation_matrix,
)
from posecoach.readings import SMILE_FEATURES, GazeModel, LinearReading, gaze_model, smile_model
from posecoach.results import BS, EyeState, FaceFrame, Metrics

__all__ = [
    "EYES_CLOSED_BELOW",
    "EYES_LOWERED_BELOW",
    "LOOKING_DOWN_ABOVE",
    "FaceGeometry",
    "brow_raise",
    "cheek_raise",
    "compute_metrics",
    "eye_openness",
    "eye_state",
    "face_geometry",
    "framing",
    "gaze_features",
    "gaze_on_lens",
    "genuine_smile",
    "distress",
    "head_angles",
    "is_plausible_face",
    "plausible_geometry",
    "looking_down_score",
    "mouth_open",
    "rotation_matrix",
    "smile",
    "smile_features",
    "squinch",
]

# --- blendshape indices (image-left eye = subject's right) ------------------------------
_BLINK = (BS["eyeBlinkRight"], BS["eyeBlinkLeft"])
_SQUINT = (BS["eyeSquintRight"], BS["eyeSquintLeft"])
_LOOK_DOWN = (BS["eyeLookDownLeft"], BS["eyeLookDownRight"])
_SMILE = (BS["mouthSmileLeft"], BS["mouthSmileRight"])
_STRETCH = (BS["mouthStretchLeft"], BS["mouthStretchRight"])
_FROWN = (BS["mouthFrownLeft"], BS["mouthFrownRight"])
_BROW_DOWN = (BS["browDownLeft"], BS["browDownRight"])
_BROW_INNER_UP = BS["browInnerUp"]
_BROW_OUTER_UP = (BS["browOuterUpLeft"], BS["browOuterUpRight"])
_LOOK_UP = (BS["eyeLookUpLeft"], BS["eyeLookUpRight"])
_LOOK_IN_L, _LOOK_IN_R = BS["eyeLookInLeft"], BS["eyeLookInRight"]
_LOOK_OUT_L, _LOOK_OUT_R = BS["eyeLookOutLeft"], BS["eyeLookOutRight"]
_UPPER_UP = (BS["mouthUpperUpLeft"], BS["mouthUpperUpRight"])
_LOWER_DOWN = (BS["mouthLowerDownLeft"], BS["mouthLowerDownRight"])
_PRESS = (BS["mouthPressLeft"], BS["mouthPressRight"])
_PUCKER = BS["mouthPucker"]
_SHRUG_LOWER = BS["mouthShrugLower"]
_ROLL_LOWER = BS["mouthRollLower"]

# --- eye constants: set on the recorded blink of single_face.mp4 and checked on GENKI-4K,
# where 6.6 % of the (mostly open-eyed) faces read closed, nearly all of them eyes squeezed
# shut by a broad laugh (benchmarks/truth.py); tests/test_metrics.py holds the measurements.
#: Eye aperture / eye width at which eye_open reads 0 (lids shut; MediaPipe never reaches 0),
#: 0.5 (lids lowered: the blink and glance-down rules work below it) and 1 (wide). Two slopes:
#: steep where the lids close, half as steep above, where a relaxed open eye (~0.33-0.37 ->
#: eye_open ~0.63-0.69) moves with the picture (MediaPipe reads a blurred or compressed eye
#: up to 0.027 wider: 0.047 of eye_open, not 0.076; tests/test_robustness.py).
_APERTURE_SHUT, _APERTURE_LOWERED, _APERTURE_WIDE = 0.08, 0.26, 0.55
#: Below this mean eye_open the lids are shut (the recorded blink reads 0.00-0.19, the
#: narrowed eyes of a broad smile >= 0.44).
EYES_CLOSED_BELOW = 0.25
#: Below this mean eye_open the lids count as lowered (a downward glance lowers them).
EYES_LOWERED_BELOW = 0.5
#: Gaze-down evidence (see :func:`looking_down_score`) above which lowered lids mean
#: "looking down" rather than "blinking" (the recorded blink: 0.15-0.18).
LOOKING_DOWN_ABOVE = 0.25


def _ramp(x: float, lo: float, hi: float) -> float:
    """0 at ``lo``, 1 at ``hi``, linear between, clipped (``lo`` may exceed ``hi``)."""
    t = (x - lo) / (hi - lo)
    return 0.0 if t <= 0.0 else 1.0 if t >= 1.0 else t


def _mean2(b: np.ndarray, pair: tuple[int, int]) -> float:
    return 0.5 * float(b[pair[0]] + b[pair[1]])


def _geom(face: FaceFrame, geom: FaceGeometry | None) -> FaceGeometry:
    return face_geometry(face) if geom is None else geom


# --- expression --------------------------------------------------------------------------
def eye_openness(face: FaceFrame, geom: FaceGeometry | None = None) -> tuple[float, float]:
    """Openness of the (image-left, image-right) eye, 0 (shut) .. 1 (wide open).

    From the lid aperture (mean of three lid-to-lid distances over the corner-to-corner
    width, in 3-D), not from ``eyeBlink*`` (which rises to 0.2-0.6 when a broad smile
    pushes the lids). Uncalibrated: a relaxed open eye reads ~0.6-0.7, a smile-narrowed
    eye ~0.45-0.6, a blink < 0.25.
    """
    a = _geom(face, geom).eye_aperture
    return _eye_open(a[0]), _eye_open(a[1])


def _eye_open(aperture: float) -> float:
    if aperture < _APERTURE_LOWERED:
        return 0.5 * _ramp(aperture, _APERTURE_SHUT, _APERTURE_LOWERED)
    return 0.5 + 0.5 * _ramp(aperture, _APERTURE_LOWERED, _APERTURE_WIDE)


def looking_down_score(face: FaceFrame, pitch: float = 0.0) -> float:
    """Evidence, roughly 0..1, that lowered lids come from a downward glance, not a blink.

    In a glance down the upper lid follows the eye down while the eye rotates down
    (``eyeLookDown*`` high); in a blink the lids meet, and MediaPipe raises eyeLookDown too,
    but ``eyeBlink*`` almost as much (the recorded blink in single_face.mp4: eyeLookDown
    0.54-0.75, eyeLookDown - eyeBlink 0.15-0.18). So::

        mean(eyeLookDown) - mean(eyeBlink)
          + 0.5 * ramp(mean(eyeLookDown), 0.80, 1.00)   # an eye turned further down than a blink shows
          + 0.3 * ramp(-pitch, 10, 30)                  # a bowed head (pitch, degrees)

    A blink with the head bowed 12 degrees stays below the threshold (0.21-0.23); of the
    GENKI-4K faces that look down with lowered lids by eye, see benchmarks/truth.py.
    """
    b = face.blendshapes
    down = _mean2(b, _LOOK_DOWN)
    return down - _mean2(b, _BLINK) + 0.5 * _ramp(down, 0.8, 1.0) + 0.3 * _ramp(-pitch, 10.0, 30.0)


def eye_state(face: FaceFrame, eye_open: tuple[float, float], pitch: float = 0.0) -> EyeState:
    """OPEN, CLOSED or LOOKING_DOWN from the eye openness and the gaze-down evidence.

    Lids that are lowered (mean eye_open < :data:`EYES_LOWERED_BELOW`) with strong
    gaze-down evidence (:func:`looking_down_score` > :data:`LOOKING_DOWN_ABOVE`) are a
    glance down, even when the aperture is as small as in a blink; otherwise lids below
    :data:`EYES_CLOSED_BELOW` are closed.
    """
    mean_open = 0.5 * (eye_open[0] + eye_open[1])
    if mean_open >= EYES_LOWERED_BELOW:
        return EyeState.OPEN
    if looking_down_score(face, pitch) > LOOKING_DOWN_ABOVE:
        return EyeState.LOOKING_DOWN
    return EyeState.CLOSED if mean_open < EYES_CLOSED_BELOW else EyeState.OPEN


def smile_features(face: FaceFrame, geom: FaceGeometry | None = None) -> tuple[float, ...]:
    """Every feature a smile model may use, in :data:`~posecoach.readings.SMILE_FEATURES` order.

    Symmetric by construction (means of the left/right blendshapes, landmark measures across
    the whole mouth and both eyes), so a mirrored image reads the same. See ``SMILE_FEATURES``
    for each one.
    """
    g = _geom(face, geom)
    b = face.blendshapes.tolist()
    smile_bs = max(0.0, 0.5 * (b[_SMILE[0]] + b[_SMILE[1]]))
    upper_up = max(0.0, 0.5 * (b[_UPPER_UP[0]] + b[_UPPER_UP[1]]))
    lower_down = max(0.0, 0.5 * (b[_LOWER_DOWN[0]] + b[_LOWER_DOWN[1]]))
    return (
        math.sqrt(smile_bs),
        g.corner_lift_head,
        g.lip_gap,
        0.5 * (b[_PRESS[0]] + b[_PRESS[1]]),
        0.5 * (b[_FROWN[0]] + b[_FROWN[1]]),
        0.5 * (b[_STRETCH[0]] + b[_STRETCH[1]]),
        b[_PUCKER],
        b[_SHRUG_LOWER],
        b[_ROLL_LOWER],
        0.5 * (b[_BROW_DOWN[0]] + b[_BROW_DOWN[1]]),
        -0.5 * (g.lower_lid[0] + g.lower_lid[1]),
        min(upper_up, smile_bs),
        min(lower_down, smile_bs),
        g.corner_lift_head * _ramp(g.lip_gap, 0.1, 0.0),
    )


@lru_cache(maxsize=4)
def _model_index(model: LinearReading) -> tuple[int, ...]:
    return tuple(SMILE_FEATURES.index(f) for f in model.features)


def smile(face: FaceFrame, geom: FaceGeometry | None = None, model: LinearReading | None = None) -> float:
    """How much the person smiles, 0 (neutral) .. 1 (broad smile); >= 0.35 is a smile.

    The fitted smile model (``assets/readings/smile_v2.json``, see :mod:`posecoach.readings`)
    over :func:`smile_features`: MediaPipe's ``mouthSmile*``, the mouth corners lifted in the
    head's own frame (a closed-mouth smile counts), the cheek raise and a laugh's lips within
    a smile, with the lip and brow actions of other expressions weighing against. Its decision boundary is 0.35: at or above it, a face a
    person would call smiling (cross-validated on GENKI-4K, see benchmarks/truth.py).
    Then :func:`distress` (sadness, crying) scales the reading down: a face in tears is not
    a smile, whatever the mouth corners do.
    """
    g = _geom(face, geom)
    m = smile_model() if model is None else model
    x = smile_features(face, g)
    value = m.reading(tuple(x[i] for i in _model_index(m)))
    return value * (1.0 - distress(face, g))


def distress(face: FaceFrame, geom: FaceGeometry | None = None) -> float:
    """Sadness or crying, 0 (none) .. 1: a FACS rule, since no labelled data exists.

    Sadness raises and knits the inner brows (AU1 + AU4: ``browInnerUp`` and ``browDown*``
    together) and pulls the lips down, presses them or raises the chin (AU15 ``mouthFrown*``,
    AU24 ``mouthPress*``, AU17 ``mouthShrugLower``, AU20 ``mouthStretch*``); crying adds eyes
    squeezed shut (``eyeBlink*`` on both eyes) over pressed lips. A laugh squeezes the eyes
    too, but opens the mouth and raises the upper lip (AU25-27, AU10), which cancels it::

        knit    = ramp(min(browInnerUp, browDown), 0.10, 0.30)
        mouth   = ramp(max(frown, press, shrugLower, stretch), 0.10, 0.35)
        pressed = ramp(max(frown, press, shrugLower, rollLower), 0.20, 0.45)
        shut    = ramp(min(eyeBlink of both eyes), 0.45, 0.65)
        laugh   = ramp(lip gap, 0.10, 0.20) * ramp(mouthUpperUp, 0.15, 0.35)
        distress = max(knit * max(mouth, shut), shut * pressed) * (1 - laugh)

    The lower ends sit above what smiling GENKI-4K faces show (99th percentiles: knit 0.07,
    both eyes' blink 0.47, press 0.33): checked in benchmarks/truth.py, where it takes no
    labelled smile below 0.35 that the model put above.
    """
    g = _geom(face, geom)
    b = face.blendshapes.tolist()
    brow_down = 0.5 * (b[_BROW_DOWN[0]] + b[_BROW_DOWN[1]])
    frown = 0.5 * (b[_FROWN[0]] + b[_FROWN[1]])
    press = 0.5 * (b[_PRESS[0]] + b[_PRESS[1]])
    stretch = 0.5 * (b[_STRETCH[0]] + b[_STRETCH[1]])
    knit = _ramp(min(b[_BROW_INNER_UP], brow_down), 0.10, 0.30)
    mouth = _ramp(max(frown, press, b[_SHRUG_LOWER], stretch), 0.10, 0.35)
    pressed = _ramp(max(frown, press, b[_SHRUG_LOWER], b[_ROLL_LOWER]), 0.20, 0.45)
    shut = _ramp(min(b[_BLINK[0]], b[_BLINK[1]]), 0.45, 0.65)
    laugh = _ramp(g.lip_gap, 0.10, 0.20) * _ramp(0.5 * (b[_UPPER_UP[0]] + b[_UPPER_UP[1]]), 0.15, 0.35)
    return max(knit * max(mouth, shut), shut * pressed) * (1.0 - laugh)


def _open_gate(eye_open: tuple[float, float]) -> float:
    """1 for open eyes, fading to 0 as the mean eye_open falls from 0.45 to 0.2 (a blink)."""
    return _ramp(0.5 * (eye_open[0] + eye_open[1]), 0.2, 0.45)


def _visible_gate(eye_open: tuple[float, float]) -> float:
    """1 while the eyes are open at all (mean eye_open >= EYES_CLOSED_BELOW), 0 when shut (0.1)."""
    return _ramp(0.5 * (eye_open[0] + eye_open[1]), 0.1, EYES_CLOSED_BELOW)


def cheek_raise(
    face: FaceFrame, geom: FaceGeometry | None = None, eye_open: tuple[float, float] | None = None
) -> float:
    """Lower lids pushed up and eyes narrowed (AU6, the eye half of a real smile), 0..1.

    The lower-lid rise (lower-lid height below the eye-corner line: 0 at 0.16 of the eye
    width, 1 at -0.04) weighted 0.6, and ``eyeSquint*`` (0 at 0.2, 1 at 1.1) weighted 0.4.
    Both on both eyes. Gentle slopes and two sensors that fail apart: MediaPipe reads a
    blurred eye with up to 0.1 less ``eyeSquint*``, and a mirrored one with up to 0.014
    lower lids, each moving this reading by <= 0.05 (tests/test_robustness.py). While the
    lids are shut their meeting line says nothing about the cheeks, so the lid term fades
    out with :func:`_open_gate` and ``eyeSquint*`` carries the reading through a blink.
    ``cheekSquint*`` is not used: it reads 0 on real faces.
    """
    g = _geom(face, geom)
    if eye_open is None:
        eye_open = eye_openness(face, g)
    w = 0.6 * _open_gate(eye_open)
    lid = _ramp(0.5 * (g.lower_lid[0] + g.lower_lid[1]), 0.16, -0.04)
    squint = _ramp(_mean2(face.blendshapes, _SQUINT), 0.2, 1.1)
    return (w * lid + 0.4 * squint) / (w + 0.4)


def squinch(
    face: FaceFrame, geom: FaceGeometry | None = None, eye_open: tuple[float, float] | None = None
) -> float:
    """The photographer's squinch, 0..1: lower lids raised while the eyes stay open.

    :func:`cheek_raise` times :func:`_open_gate`, so a blink or a squeeze is not a
    squinch. Uncalibrated: a relaxed face reads 0.1-0.3 (``eyeSquint*`` rests at 0.2-0.4
    for some people), a squinching smile 0.35-0.6.
    """
    g = _geom(face, geom)
    if eye_open is None:
        eye_open = eye_openness(face, g)
    return cheek_raise(face, g, eye_open) * _open_gate(eye_open)


def genuine_smile(
    face: FaceFrame,
    geom: FaceGeometry | None = None,
    smile_value: float | None = None,
    eye_open: tuple[float, float] | None = None,
) -> float:
    """Duchenne smile, 0..1: a smile *and* a cheek raise together.

    ``sqrt(ramp(smile, 0.1, 0.8) * cheek_raise)``: 0 unless both are present, so a posed
    mouth-only smile scores low and a squint without a smile scores 0 (a relaxed face's
    smile reads ~0.05, which the ramp takes off). Any broad smile (>= 0.8) counts in full, so
    the eyes decide between two broad smiles, and a broad smile's own jitter does not move it.
    """
    g = _geom(face, geom)
    s = smile(face, g) if smile_value is None else smile_value
    return math.sqrt(_ramp(s, 0.1, 0.8) * cheek_raise(face, g, eye_open))


def gaze_features(face: FaceFrame, geom: FaceGeometry | None = None) -> tuple[float, float, float]:
    """The eye sensors ``gaze_on_lens`` reads: ``(look_x, look_y, upper_lid)``, both eyes alike.

    ``look_x``: ``eyeLook*`` toward the image's right, ``(In + Out toward it) - (away)`` over
    both eyes, halved; ``look_y``: ``(eyeLookUp - eyeLookDown)`` over both eyes, halved;
    ``upper_lid``: the mean of both upper lids' heights (:attr:`FaceGeometry.upper_lid`).
    Each is a sum over both eyes, so a mirrored face reads ``-look_x`` and the same rest.
    The iris landmarks are not used: ``eyeLook*`` is computed from them and reads the same
    rotation with a third of their scatter (benchmarks/fit_readings.py).
    """
    g = _geom(face, geom)
    b = face.blendshapes.tolist()
    # The image-left eye is the subject's right: its "In" points to the image's right.
    look_x = 0.5 * ((b[_LOOK_IN_R] + b[_LOOK_OUT_L]) - (b[_LOOK_OUT_R] + b[_LOOK_IN_L]))
    look_y = 0.5 * ((b[_LOOK_UP[0]] + b[_LOOK_UP[1]]) - (b[_LOOK_DOWN[0]] + b[_LOOK_DOWN[1]]))
    return look_x, look_y, 0.5 * (g.upper_lid[0] + g.upper_lid[1])


def gaze_on_lens(
    face: FaceFrame,
    geom: FaceGeometry | None = None,
    yaw: float = 0.0,
    pitch: float = 0.0,
    eye_open: tuple[float, float] | None = None,
    model: GazeModel | None = None,
) -> float:
    """How directly the eyes look into the camera, 0..1 (1 = into the lens; >= 0.6 = on it).

    Head pose (``yaw``, ``pitch``, degrees, view-relative as from :func:`head_angles`) and
    the eye sensors (:func:`gaze_features`) together: the fitted
    :class:`~posecoach.readings.GazeModel` knows what the sensors read when a face with that
    head pose looks into the lens (a head turned or lowered with the eyes brought back to the
    lens reads on it) and scores how far they are from it (0.6 about 12 degrees to the side or
    22 up or down, 0.3 at 13 / 25; eyes that follow a turned head read away). Times
    :func:`_visible_gate` (shut eyes look nowhere; eyes narrowed by a smile still look where
    they look).
    """
    g = _geom(face, geom)
    if eye_open is None:
        eye_open = eye_openness(face, g)
    m = gaze_model() if model is None else model
    return m.score(*m.misses(yaw, pitch, *gaze_features(face, g))) * _visible_gate(eye_open)


def mouth_open(face: FaceFrame, geom: FaceGeometry | None = None) -> float:
    """Lips apart, 0 (closed) .. 1 (wide): inner-lip gap over interocular, 0.02 -> 0.47.

    A broad smile showing teeth reads ~0.45, a surprised "O" ~0.7.
    """
    return _ramp(_geom(face, geom).lip_gap, 0.02, 0.47)


def brow_raise(face: FaceFrame) -> float:
    """Eyebrows raised, 0..1, from ``browInnerUp`` (weight 0.6) and ``browOuterUp*`` (0.4).

    Brow height over eye landmarks varies more between people than with expression, so
    the blendshapes carry this one. Uncalibrated: some people rest at ~0.5 (calibrate).
    """
    b = face.blendshapes
    raw = 0.6 * float(b[_BROW_INNER_UP]) + 0.4 * _mean2(b, _BROW_OUTER_UP)
    return _ramp(raw, 0.03, 0.6)


def framing(face: FaceFrame, geom: FaceGeometry | None = None) -> tuple[float, float, float]:
    """``(face_x, face_y, face_height)`` as fractions of the frame.

    ``face_x``/``face_y``: the face centre (mean of forehead, chin and both cheek
    landmarks), 0..1 from the left/top edge of the raw frame. ``face_height``: the
    forehead-to-chin distance in the image over the frame height.
    """
    g = _geom(face, geom)
    return g.centre_xy[0], g.centre_xy[1], g.height_frac


# --- everything --------------------------------------------------------------------------
def compute_metrics(face: FaceFrame, geom: FaceGeometry | None = None) -> Metrics:
    """All metrics of one face (see :class:`~posecoach.results.Metrics` for units and signs).

    ``geom``: the face's :class:`FaceGeometry` when already measured (e.g. by
    :func:`plausible_geometry`); measured here otherwise.

    Raises:
        ValueError: ``face`` has no face (``FaceFrame.empty()``); check ``face.has_face``.
    """
    if not face.has_face:
        raise ValueError("compute_metrics needs a face; got FaceFrame.empty()")
    g = _geom(face, geom)
    yaw, pitch, roll = head_angles(face.matrix)
    eyes_open = eye_openness(face, g)
    eyes = eye_state(face, eyes_open, pitch)
    s = smile(face, g)
    # Eyes glancing down or shut are not on the lens, whatever the iris landmarks suggest.
    gaze = gaze_on_lens(face, g, yaw, pitch, eyes_open) if eyes is EyeState.OPEN else 0.0
    fx, fy, fh = framing(face, g)
    return Metrics(
        yaw=yaw,
        pitch=pitch,
        roll=roll,
        smile=s,
        mouth_open=mouth_open(face, g),
        eye_open_left=eyes_open[0],
        eye_open_right=eyes_open[1],
        eyes=eyes,
        squinch=squinch(face, g, eyes_open),
        genuine_smile=genuine_smile(face, g, s, eyes_open),
        gaze_on_lens=gaze,
        brow_raise=brow_raise(face),
        face_x=fx,
        face_y=fy,
        face_height=fh,
    )

