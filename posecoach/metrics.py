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
* Expression scores are 0..1 and *uncalibrated*: they are absolute readings meant to be
  made relative to the person's neutral by the calibration stage.

Landmark geometry is measured in pixels, in 3-D: ``x * width``, ``y * height`` and
``z * width`` (MediaPipe's ``z`` is in roughly the scale of ``x``). Distances in 3-D do not
shrink when the head turns or tilts, which keeps ratios such as eye aperture / eye width
steady across poses. Every metric needs a handful of landmarks only; they are gathered
once with one integer index array (:data:`_IDX`) instead of touching all 478 points.

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
from posecoach.readings import SMILE_FEATURES, LinearReading, smile_model
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
_PRESS = (BS["mouthPressLeft"], BS["mouthPressRight"])
_PUCKER = BS["mouthPucker"]
_SHRUG_LOWER = BS["mouthShrugLower"]
_ROLL_LOWER = BS["mouthRollLower"]

# --- calibration-free constants, measured on the shared clips (see tests/test_metrics.py)
#: Eye aperture / eye width at which eye_open reads 0 (lids shut; MediaPipe never reaches 0)
#: and 1 (wide). A relaxed open eye is ~0.33-0.37 -> eye_open ~0.7-0.8.
_APERTURE_SHUT, _APERTURE_WIDE = 0.08, 0.44
#: Below this mean eye_open the lids are shut (the recorded blink reads 0.00-0.19, the
#: narrowed eyes of a broad smile >= 0.44).
EYES_CLOSED_BELOW = 0.25
#: Below this mean eye_open the lids count as lowered (a downward glance lowers them).
EYES_LOWERED_BELOW = 0.5
#: Gaze-down evidence (see :func:`looking_down_score`) above which lowered lids mean
#: "looking down" rather than "blinking". A blink raises eyeLookDown too, but by no more
#: than ~0.2 over eyeBlink (0.14-0.19 on the recorded blink).
LOOKING_DOWN_ABOVE = 0.3


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
    pushes the lids). Uncalibrated: a relaxed open eye reads ~0.7-0.8, a smile-narrowed
    eye ~0.5-0.65, a blink < 0.25.
    """
    a = _geom(face, geom).eye_aperture
    return _ramp(a[0], _APERTURE_SHUT, _APERTURE_WIDE), _ramp(a[1], _APERTURE_SHUT, _APERTURE_WIDE)


def looking_down_score(face: FaceFrame, pitch: float = 0.0) -> float:
    """Evidence, roughly 0..1, that lowered lids come from a downward glance, not a blink.

    ``mean(eyeLookDown) - mean(eyeBlink)``: MediaPipe raises eyeLookDown during a blink as
    well (0.5-0.76 on the recorded blink), but there eyeBlink rises almost as much; a
    glance down raises eyeLookDown far more than eyeBlink. A head bowed by more than 10
    degrees (``pitch`` < -10, degrees) adds to the evidence, up to +0.3 at -40.
    """
    b = face.blendshapes
    gaze = _mean2(b, _LOOK_DOWN) - _mean2(b, _BLINK)
    return gaze + 0.3 * _ramp(-pitch, 10.0, 40.0)


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
    the whole mouth), so a mirrored image reads the same. See ``SMILE_FEATURES`` for each one.
    """
    g = _geom(face, geom)
    b = face.blendshapes.tolist()
    smile_bs = 0.5 * (b[_SMILE[0]] + b[_SMILE[1]])
    return (
        math.sqrt(max(0.0, smile_bs)),
        g.corner_lift_head,
        g.lip_gap,
        0.5 * (b[_PRESS[0]] + b[_PRESS[1]]),
        0.5 * (b[_FROWN[0]] + b[_FROWN[1]]),
        0.5 * (b[_STRETCH[0]] + b[_STRETCH[1]]),
        b[_PUCKER],
        b[_SHRUG_LOWER],
        b[_ROLL_LOWER],
        0.5 * (b[_BROW_DOWN[0]] + b[_BROW_DOWN[1]]),
    )


@lru_cache(maxsize=4)
def _model_index(model: LinearReading) -> tuple[int, ...]:
    return tuple(SMILE_FEATURES.index(f) for f in model.features)


def smile(face: FaceFrame, geom: FaceGeometry | None = None, model: LinearReading | None = None) -> float:
    """How much the person smiles, 0 (neutral) .. 1 (broad smile); >= 0.35 is a smile.

    The fitted smile model (``assets/readings/smile_v1.json``, see :mod:`posecoach.readings`)
    over :func:`smile_features`: MediaPipe's ``mouthSmile*`` and the mouth corners lifted
    in the head's own frame (a closed-mouth smile counts), with the lip actions of other
    expressions weighing against. Its decision boundary is 0.35: at or above it, a face a
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
    """Sadness or crying, 0..1 (placeholder)."""
    return 0.0


def _open_gate(eye_open: tuple[float, float]) -> float:
    """1 for open eyes, fading to 0 as the mean eye_open falls from 0.45 to 0.2 (a blink)."""
    return _ramp(0.5 * (eye_open[0] + eye_open[1]), 0.2, 0.45)


def cheek_raise(
    face: FaceFrame, geom: FaceGeometry | None = None, eye_open: tuple[float, float] | None = None
) -> float:
    """Lower lids pushed up and eyes narrowed (AU6, the eye half of a real smile), 0..1.

    Mean of the lower-lid rise (lower-lid height below the eye-corner line: 0 at 0.14 of
    the eye width, 1 at 0.04) and ``eyeSquint*`` (0 at 0.2, 1 at 0.7). While the lids are
    shut their meeting line says nothing about the cheeks, so the lid term fades out with
    :func:`_open_gate` and ``eyeSquint*`` carries the reading through a blink.
    ``cheekSquint*`` is not used: it reads 0 on real faces.
    """
    g = _geom(face, geom)
    if eye_open is None:
        eye_open = eye_openness(face, g)
    w = _open_gate(eye_open)
    lid = _ramp(0.5 * (g.lower_lid[0] + g.lower_lid[1]), 0.14, 0.04)
    squint = _ramp(_mean2(face.blendshapes, _SQUINT), 0.2, 0.7)
    return (w * lid + squint) / (w + 1.0)


def squinch(
    face: FaceFrame, geom: FaceGeometry | None = None, eye_open: tuple[float, float] | None = None
) -> float:
    """The photographer's squinch, 0..1: lower lids raised while the eyes stay open.

    :func:`cheek_raise` times :func:`_open_gate`, so a blink or a squeeze is not a
    squinch. Uncalibrated: a relaxed face reads 0.05-0.35 (``eyeSquint*`` rests at 0.2-0.4
    for some people), a squinching smile 0.5-0.9.
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

    ``sqrt(smile * cheek_raise)``: 0 unless both are present, so a posed mouth-only smile
    scores low and a squint without a smile scores 0.
    """
    g = _geom(face, geom)
    s = smile(face, g) if smile_value is None else smile_value
    return math.sqrt(max(0.0, s) * cheek_raise(face, g, eye_open))


def gaze_on_lens(
    face: FaceFrame,
    geom: FaceGeometry | None = None,
    yaw: float = 0.0,
    pitch: float = 0.0,
    eye_open: tuple[float, float] | None = None,
    sigma_deg: float = 10.0,
) -> float:
    """How directly the eyes look into the camera, 0..1 (1 = into the lens).

    Gaze direction = head pose (``yaw``, ``pitch``, degrees, view-relative as from
    :func:`head_angles`) + eye-in-head rotation. The eye rotation comes from the iris
    centres (468, 473) relative to the eye corners: an eyeball of radius ~0.4 eye widths
    turns by ``asin(offset / 0.4)``. Vertically the iris sits ~0.06 eye widths above the
    corner line in primary gaze (measured on four people), which is taken off first.
    Scored with a Gaussian of ``sigma_deg`` on the total angular miss, times
    :func:`_open_gate` (shut eyes look nowhere).
    """
    g = _geom(face, geom)
    if eye_open is None:
        eye_open = eye_openness(face, g)
    ix = 0.5 * (g.iris_x[0] + g.iris_x[1])
    iy = 0.5 * (g.iris_y[0] + g.iris_y[1]) + 0.06
    eye_yaw = math.degrees(math.asin(max(-1.0, min(1.0, ix / 0.4))))
    eye_down = math.degrees(math.asin(max(-1.0, min(1.0, iy / 0.4))))
    miss_yaw = yaw + eye_yaw
    miss_pitch = pitch - eye_down
    miss2 = (miss_yaw * miss_yaw + miss_pitch * miss_pitch) / (sigma_deg * sigma_deg)
    return math.exp(-0.5 * miss2) * _open_gate(eye_open)


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
    # Eyes glancing down are not on the lens, whatever the iris landmarks suggest.
    gaze = 0.0 if eyes is EyeState.LOOKING_DOWN else gaze_on_lens(face, g, yaw, pitch, eyes_open)
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

