"""Landmark geometry and head pose: pure measurements of one :class:`FaceFrame`.

No I/O, no state, no OpenCV. Conventions are those of :mod:`posecoach.metrics`: the raw,
un-mirrored camera image; angles in degrees (``yaw`` > 0 nose toward the image's right edge,
``pitch`` > 0 chin up, ``roll`` > 0 the image-right eye higher); ``*_left`` / ``*_right`` the
image's sides. Landmark geometry is measured in pixels, in 3-D (``x * width``, ``y * height``,
``z * width``); every measurement needs a handful of landmarks only, gathered once with one
integer index array (:data:`_IDX`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from posecoach.results import FaceFrame

# --- landmark indices -------------------------------------------------------------------
# Per eye, ordered (image-left eye, image-right eye) = (subject's right, subject's left).
_EYE_CORNER_A = (33, 362)  # the corner on the image-left end of each eye
_EYE_CORNER_B = (133, 263)  # the corner on the image-right end of each eye
_EYE_UPPER = ((160, 159, 158), (385, 386, 387))  # upper lid, paired with _EYE_LOWER
_EYE_LOWER = ((144, 145, 153), (380, 374, 373))
_IRIS = (468, 473)  # iris centres (refined landmarks)
_MOUTH = (61, 291, 13, 14)  # corner image-left, corner image-right, inner upper lip, inner lower lip
_FACE = (10, 152, 234, 454, 1)  # forehead top, chin, cheek image-left, cheek image-right, nose tip

#: Every landmark the metrics read, gathered once per frame.
_IDX = np.array(
    [
        *_EYE_CORNER_A,
        *_EYE_CORNER_B,
        *np.ravel(_EYE_UPPER),
        *np.ravel(_EYE_LOWER),
        *_IRIS,
        *_MOUTH,
        *_FACE,
    ],
    dtype=np.intp,
)
# Row slices into the gathered array, in the order above.
_CA, _CB, _UP, _LO, _IR = slice(0, 2), slice(2, 4), slice(4, 10), slice(10, 16), slice(16, 18)
_M_L, _M_R, _LIP_U, _LIP_D = 18, 19, 20, 21
_FOREHEAD, _CHIN = 22, 23
_FACE_ROWS = slice(22, 26)  # forehead, chin, both cheeks (the nose tip, row 26, adds relief)

# --- head pose ---------------------------------------------------------------------------
def head_angles(matrix: np.ndarray, *, view_relative: bool = True) -> tuple[float, float, float]:
    """Yaw, pitch and roll in degrees from MediaPipe's 4x4 facial transformation matrix.

    The matrix maps the canonical face (x to the image's right, y up, z out of the face
    toward the camera when frontal) into an OpenGL-style camera space (x right, y up, the
    camera looking down -z). Its rotation is decomposed as ``Ry(yaw) @ Rx(-pitch) @
    Rz(roll)``: ``pitch = asin(R[1,2])`` is the forward vector's climb and stays within
    ±90 degrees, so no axis order flip can turn a level head into ±180 degrees.

    Signs: ``yaw`` > 0 when the nose points toward the image's right edge; ``pitch`` > 0
    when the chin lifts; ``roll`` > 0 when the face turns counter-clockwise in the image
    (the image-right eye higher).

    Args:
        matrix: ``(4, 4)`` facial transformation matrix (rotation may carry a scale).
        view_relative: measure the pose against the line of sight from the camera to the
            face (the translation) instead of the optical axis. A face near the top of a
            wide frame that looks into the lens then reads pitch ~0, as a photographer
            would see it, and rotating the image leaves yaw and pitch unchanged.

    Returns:
        ``(yaw, pitch, roll)`` in degrees; ``(0, 0, 0)`` for a zero (no-face) matrix.
    """
    # Plain floats: on a 4x4 matrix numpy's per-call overhead is most of the cost.
    (r00, r01, r02, tx), (r10, r11, r12, ty), (r20, r21, r22, tz) = np.asarray(matrix).tolist()[:3]
    n0 = math.sqrt(r00 * r00 + r10 * r10 + r20 * r20)
    n1 = math.sqrt(r01 * r01 + r11 * r11 + r21 * r21)
    n2 = math.sqrt(r02 * r02 + r12 * r12 + r22 * r22)
    if not (n0 > 1e-9 and n1 > 1e-9 and n2 > 1e-9):  # also False for NaN
        return 0.0, 0.0, 0.0
    # Remove any uniform scale so asin sees a unit vector.
    r = ((r00 / n0, r01 / n1, r02 / n2), (r10 / n0, r11 / n1, r12 / n2), (r20 / n0, r21 / n1, r22 / n2))
    if view_relative:
        dist = math.sqrt(tx * tx + ty * ty + tz * tz)
        if dist > 1e-9:
            r = _t_matmul(_view_rotation((-tx / dist, -ty / dist, -tz / dist)), r)
    yaw = math.degrees(math.atan2(r[0][2], r[2][2]))
    pitch = math.degrees(math.asin(max(-1.0, min(1.0, r[1][2]))))
    roll = math.degrees(math.atan2(r[1][0], r[1][1]))
    return yaw, pitch, roll


_Mat3 = tuple[tuple[float, float, float], tuple[float, float, float], tuple[float, float, float]]


def _view_rotation(to_camera: tuple[float, float, float]) -> _Mat3:
    """The rotation ``Ry(a) @ Rx(-b)`` that turns the +z axis onto the unit vector ``to_camera``."""
    a = math.atan2(to_camera[0], to_camera[2])
    b = math.asin(max(-1.0, min(1.0, to_camera[1])))
    ca, sa, cb, sb = math.cos(a), math.sin(a), math.cos(b), math.sin(b)
    # Ry(a) @ Rx(-b), written out: columns are the rotated x, y and z axes.
    return ((ca, -sa * sb, sa * cb), (0.0, cb, sb), (-sa, -ca * sb, ca * cb))


def _t_matmul(a: _Mat3, b: _Mat3) -> _Mat3:
    """``a.T @ b`` for 3x3 matrices as nested tuples."""
    return tuple(  # type: ignore[return-value]
        tuple(a[0][i] * b[0][j] + a[1][i] * b[1][j] + a[2][i] * b[2][j] for j in range(3)) for i in range(3)
    )


def rotation_matrix(yaw: float, pitch: float, roll: float) -> np.ndarray:
    """The 3x3 rotation with the given angles (degrees), inverse of :func:`head_angles`.

    ``Ry(yaw) @ Rx(-pitch) @ Rz(roll)`` in the conventions of :func:`head_angles`
    (useful to build synthetic faces and test fixtures).
    """
    y, p, r = (math.radians(v) for v in (yaw, pitch, roll))
    ry = np.array([[math.cos(y), 0.0, math.sin(y)], [0.0, 1.0, 0.0], [-math.sin(y), 0.0, math.cos(y)]])
    rx = np.array([[1.0, 0.0, 0.0], [0.0, math.cos(p), math.sin(p)], [0.0, -math.sin(p), math.cos(p)]])
    rz = np.array([[math.cos(r), -math.sin(r), 0.0], [math.sin(r), math.cos(r), 0.0], [0.0, 0.0, 1.0]])
    return ry @ rx @ rz


# --- landmark geometry -------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class FaceGeometry:
    """Pose-independent landmark measurements of one face, computed once per frame.

    Lengths are ratios (unitless). Per-eye pairs are ``(image-left eye, image-right eye)``.
    The face frame: ``x`` from the image-left eye to the image-right eye, ``y`` from the
    eyes toward the mouth (down the face), both in 3-D.

    Attributes:
        interocular_px: distance between the eye centres, pixels (3-D).
        eye_aperture: mean lid-to-lid distance over eye width, per eye (~0.36 relaxed,
            ~0.29 in a broad smile, ~0.08 shut).
        lower_lid: lower-lid height below the eye-corner line over eye width, per eye
            (smaller = lower lid raised; ~0.12 relaxed, ~0.04-0.09 with a cheek raise).
        upper_lid: upper-lid height above the eye-corner line over eye width, per eye
            (~0.2 looking ahead; it follows the eye: higher looking up, lower looking down,
            and unlike ``lower_lid`` a smile's cheek raise barely moves it).
        iris_x: iris centre offset from the eye-corner midpoint along face x over eye
            width, per eye (> 0 toward the image's right).
        iris_y: the same along face y (> 0 down the face; ~-0.03..-0.09 looking ahead).
        mouth_width: corner-to-corner over interocular (~0.7 relaxed, ~1.1 broad smile).
        corner_lift: height of the lip-line centre below the mouth corners, over mouth
            width (> 0 when the corners are above the centre, i.e. turned up).
        corner_lift_head: height of the mouth corners above the inner-lip centre along the
            head's own up axis (from the transformation matrix, so a bowed or raised head
            does not bend the mouth line), over interocular (~0 relaxed, ~0.1-0.2 smiling).
        lip_gap: inner-lip gap over interocular (0 closed).
        eye_mouth: eye-midpoint to mouth-midpoint distance over interocular (~0.9-1.3).
        face_length: forehead-to-chin over interocular (~2.4-2.9).
        relief: depth spread of the sampled landmarks along the face normal (nose tip to
            cheeks) over interocular (~1.4-1.7; does not change with head turns).
        centre_xy: face centre as fractions of the frame width and height.
        height_frac: forehead-to-chin distance in the image over the frame height.
    """

    interocular_px: float
    eye_aperture: tuple[float, float]
    lower_lid: tuple[float, float]
    upper_lid: tuple[float, float]
    iris_x: tuple[float, float]
    iris_y: tuple[float, float]
    mouth_width: float
    corner_lift: float
    corner_lift_head: float
    lip_gap: float
    eye_mouth: float
    face_length: float
    relief: float
    centre_xy: tuple[float, float]
    height_frac: float


def face_geometry(face: FaceFrame) -> FaceGeometry:
    """Measure the landmark geometry every metric uses (see :class:`FaceGeometry`).

    ``face`` must have a face (478 landmarks). Works in pixels, in 3-D (``z * width``).
    """
    return _face_geometry(face.landmarks[_IDX].tolist(), face.image_wh, head_up(face.matrix))


def head_up(matrix: np.ndarray) -> _V3 | None:
    """The head's up axis in the landmarks' pixel space (x right, y down, z away), unit length.

    The transformation matrix's second column is the canonical face's up axis in an
    OpenGL-style camera space (y up, z toward the viewer); the landmarks' image y and
    MediaPipe's z (smaller = closer) both point the other way. None for a degenerate matrix.
    """
    (_, r01, _, _), (_, r11, _, _), (_, r21, _, _) = np.asarray(matrix).tolist()[:3]
    n = math.sqrt(r01 * r01 + r11 * r11 + r21 * r21)
    if not n > 1e-9:
        return None
    return (r01 / n, -r11 / n, -r21 / n)


def _face_geometry(points: list[list[float]], image_wh: tuple[int, int], head_y: _V3 | None = None) -> FaceGeometry:
    """:func:`face_geometry` from the :data:`_IDX` landmarks, normalised, as lists of floats.

    ``head_y``: the head's up axis (:func:`head_up`); the face's own eye-to-mouth axis when None.

    Plain Python floats on purpose: on 3-vectors numpy's per-call overhead is most of the
    cost, and right after inference has evicted the caches the first few ufunc calls cost
    ~20 us each. Gathering with ``landmarks[_IDX].tolist()`` calls no ufunc.
    """
    w, h = image_wh
    w, h = float(w or 1), float(h or 1)
    p = [(x * w, y * h, z * w) for x, y, z in points]

    ca, cb = p[_CA], p[_CB]  # eye corners, (image-left eye, image-right eye)
    eye_c = (_mid(ca[0], cb[0]), _mid(ca[1], cb[1]))  # eye centres
    eye_w = (_dist(cb[0], ca[0]), _dist(cb[1], ca[1]))  # eye widths
    up, lo = p[_UP], p[_LO]  # upper and lower lid, three points per eye
    aperture = tuple(sum(_dist(up[3 * e + k], lo[3 * e + k]) for k in range(3)) / (3.0 * eye_w[e]) for e in (0, 1))

    ex = _sub(eye_c[1], eye_c[0])
    io = _len(ex) or 1.0
    ex = _scale(ex, 1.0 / io)
    eye_mid = _mid(eye_c[0], eye_c[1])
    mouth_mid = _mid(p[_M_L], p[_M_R])
    ey = _sub(mouth_mid, eye_mid)
    eye_mouth = _len(ey)
    ey = _sub(ey, _scale(ex, _dot(ey, ex)))
    ey = _scale(ey, 1.0 / (_len(ey) or 1.0))

    lower = tuple(_dot(_sub(_mean3(lo[3 * e : 3 * e + 3]), eye_c[e]), ey) / eye_w[e] for e in (0, 1))
    upper = tuple(-_dot(_sub(_mean3(up[3 * e : 3 * e + 3]), eye_c[e]), ey) / eye_w[e] for e in (0, 1))
    iris_rel = (_sub(p[_IR][0], eye_c[0]), _sub(p[_IR][1], eye_c[1]))
    iris_x = tuple(_dot(iris_rel[e], ex) / eye_w[e] for e in (0, 1))
    iris_y = tuple(_dot(iris_rel[e], ey) / eye_w[e] for e in (0, 1))

    mouth_w = _dist(p[_M_L], p[_M_R]) or 1.0
    # Lip-line centre minus corners, along the face's down axis: > 0 = corners up.
    lift = _dot(_sub(_mid(p[_LIP_U], p[_LIP_D]), mouth_mid), ey)
    lift_head = -lift if head_y is None else _dot(_sub(mouth_mid, _mid(p[_LIP_U], p[_LIP_D])), head_y)
    normal = _cross(ex, ey)
    depth = [_dot(q, normal) for q in p]  # along the face normal, so head turns do not change it
    rim = p[_FACE_ROWS]
    fx = 0.25 * (rim[0][0] + rim[1][0] + rim[2][0] + rim[3][0])
    fy = 0.25 * (rim[0][1] + rim[1][1] + rim[2][1] + rim[3][1])
    top, chin = p[_FOREHEAD], p[_CHIN]
    return FaceGeometry(
        interocular_px=io,
        eye_aperture=aperture,  # type: ignore[arg-type]
        lower_lid=lower,  # type: ignore[arg-type]
        upper_lid=upper,  # type: ignore[arg-type]
        iris_x=iris_x,  # type: ignore[arg-type]
        iris_y=iris_y,  # type: ignore[arg-type]
        mouth_width=mouth_w / io,
        corner_lift=lift / mouth_w,
        corner_lift_head=lift_head / io,
        lip_gap=_dist(p[_LIP_U], p[_LIP_D]) / io,
        eye_mouth=eye_mouth / io,
        face_length=_dist(top, chin) / io,
        relief=(max(depth) - min(depth)) / io,
        centre_xy=(fx / w, fy / h),
        height_frac=math.hypot(top[0] - chin[0], top[1] - chin[1]) / h,
    )


# Small 3-vector helpers on plain floats (points are lists from ``ndarray.tolist()``).
_V3 = tuple[float, float, float]


def _sub(a: Sequence[float], b: Sequence[float]) -> _V3:
    return (a[0] - b[0], a[1] - b[1], a[2] - b[2])


def _mid(a: Sequence[float], b: Sequence[float]) -> _V3:
    return (0.5 * (a[0] + b[0]), 0.5 * (a[1] + b[1]), 0.5 * (a[2] + b[2]))


def _mean3(q: Sequence[Sequence[float]]) -> _V3:
    """Mean of three points."""
    a, b, c = q
    return ((a[0] + b[0] + c[0]) / 3.0, (a[1] + b[1] + c[1]) / 3.0, (a[2] + b[2] + c[2]) / 3.0)


def _scale(a: Sequence[float], k: float) -> _V3:
    return (a[0] * k, a[1] * k, a[2] * k)


def _dot(a: Sequence[float], b: Sequence[float]) -> float:
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]


def _len(a: Sequence[float]) -> float:
    return math.sqrt(a[0] * a[0] + a[1] * a[1] + a[2] * a[2])


def _dist(a: Sequence[float], b: Sequence[float]) -> float:
    return _len(_sub(a, b))


def _cross(a: Sequence[float], b: Sequence[float]) -> _V3:
    return (a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0])


# --- plausibility ------------------------------------------------------------------------
#: Layout bands for a real face (3-D, over interocular). Measured on the shared media:
#: real faces eye_mouth 0.88-1.27, face_length 2.43-2.89, relief 1.42-1.66; the phantom
#: meshes MediaPipe fits to a cartoon title are squashed and folded: eye_mouth
#: 0.53-0.69, face_length 1.91-2.00, relief 2.21-2.55. Bounds sit about midway.
_EYE_MOUTH_BAND = (0.75, 1.7)
_FACE_LENGTH_BAND = (2.2, 3.5)
_RELIEF_MAX = 1.95


def is_plausible_face(face: FaceFrame, geom: FaceGeometry | None = None) -> bool:
    """Whether the landmarks look like a real human face (per frame; no persistence).

    See :func:`plausible_geometry`, which also hands back the geometry it measured.
    """
    return plausible_geometry(face, geom) is not None


def plausible_geometry(face: FaceFrame, geom: FaceGeometry | None = None) -> FaceGeometry | None:
    """The face's :class:`FaceGeometry` if it looks like a real human face, else None.

    The per-frame loop calls this once and passes the geometry on to :func:`compute_metrics`,
    so the landmarks are measured once per frame.

    MediaPipe sometimes fits a face mesh to a cartoon or a logo for a frame or two. Those
    meshes are squashed top to bottom and folded in depth. A face must have:

    * finite landmarks, at least 4 px between the eyes, and a transformation matrix whose
      rotation is a proper rotation with the face in front of the camera;
    * at least two of three layout ratios within a real face's band: eye-to-mouth over
      interocular, forehead-to-chin over interocular, and relief (depth along the face
      normal) over interocular. Two of three, so one odd ratio on an unusual real face is
      forgiven; the phantoms seen so far fail all three.
    """
    if not face.has_face:
        return None
    lm = face.landmarks
    if lm.shape != (478, 3):
        return None
    points = lm[_IDX].tolist()
    if not all(math.isfinite(v) for point in points for v in point):
        return None
    (a, b, c, _), (d, e, f, _), (g_, h, i, tz), _ = np.asarray(face.matrix).tolist()
    det = a * (e * i - f * h) - b * (d * i - f * g_) + c * (d * h - e * g_)
    if not 0.5 < det < 2.0 or not tz < 0.0:
        return None
    g = _face_geometry(points, face.image_wh, head_up(face.matrix)) if geom is None else geom
    if g.interocular_px < 4.0:
        return None
    ok = (
        (_EYE_MOUTH_BAND[0] <= g.eye_mouth <= _EYE_MOUTH_BAND[1])
        + (_FACE_LENGTH_BAND[0] <= g.face_length <= _FACE_LENGTH_BAND[1])
        + (g.relief <= _RELIEF_MAX)
    )
    return g if ok >= 2 else None


