"""Fit the gaze model (``assets/readings/gaze_v2.json``) on GENKI-4K faces; used by ``fit_readings.py``.

Most GENKI faces look into the camera, many with the head turned or tipped: for them MediaPipe's
eye sensors read what a face *on the lens* reads at that head pose. So each sensor is fitted
against the head angle, and a gaze is then read as its distance from that curve:

* ``look_x`` (both eyes' ``eyeLook*`` toward the image's right) against yaw, as an odd function
  (a mirrored face reads the mirrored value) through MediaPipe's own lean ``look_bias`` (the
  median at a frontal head: the same toward the image's right in the images and in their mirror
  images, so it is MediaPipe's, not the people's), knots at 5..25 degrees, flat beyond;
* ``look_y`` (``eyeLookUp - eyeLookDown``) and ``upper_lid`` against pitch, knots -20..8.

Not every GENKI face looks into the lens: by eye (zoomed eye crops, see ``benchmarks/truth.py``)
about a quarter of the faces turned 16 degrees or more let their eyes follow the head, and a few
frontal ones look away. MediaPipe reads those correctly (the two groups form two clusters of
``look_x`` at large yaw), so the curves are fitted by Tukey's biweight, a robust regression that
gives such faces no weight, rather than by least squares or Huber, which a quarter of the faces
would drag toward "eyes follow the head".

``per_deg``: each sensor's change per degree of eye rotation, the slope of a robust straight
line through the frontal faces (|angle| < 8 degrees: eye rotation = minus head rotation there).
``sigma_deg``: the misses' robust scales, widened by one common factor so that 97 % of the
faces within the biweight's reach (|miss| < 4.685 robust scales on both axes: everyone but the
clearly-away) read >= 0.6 (the goal is 95 % on faces never seen; 97 % here leaves the margin).
``edge`` 8: flat-topped (>= 0.95 within 0.75 sigma), so the ordinary scatter of a face on the
lens under light, noise or compression does not move the reading, and a short fall to "away"
(0.3 at 1.12 sigma).
"""

from __future__ import annotations

import math

import numpy as np

from posecoach.readings import GazeModel

YAW_KNOTS = (5.0, 10.0, 15.0, 20.0, 25.0)
PITCH_KNOTS = (-20.0, -12.0, -6.0, 0.0, 8.0)
VERTICAL_MIX = 0.5  # look_y and upper_lid alike: they scatter alike (6.6 and 7.5 degrees) and 0.58 correlated
EDGE = 8.0
ON_LENS_SHARE = 0.97
ON_LENS_READS = 0.6
TUKEY_C = 4.685


def hat_basis(x: np.ndarray, knots: tuple[float, ...]) -> np.ndarray:
    """Piecewise-linear basis: column j is 1 at knot j, 0 at its neighbours; flat beyond the ends."""
    kn = np.asarray(knots)
    x = np.clip(x, kn[0], kn[-1])
    j = np.clip(np.searchsorted(kn, x) - 1, 0, len(kn) - 2)
    t = (x - kn[j]) / (kn[j + 1] - kn[j])
    basis = np.zeros((len(x), len(kn)))
    basis[np.arange(len(x)), j] = 1.0 - t
    basis[np.arange(len(x)), j + 1] = t
    return basis


def odd_basis(yaw: np.ndarray) -> np.ndarray:
    """Basis of odd piecewise-linear functions of yaw: 0 at 0, values at YAW_KNOTS, mirrored below 0."""
    return hat_basis(np.abs(yaw), (0.0, *YAW_KNOTS))[:, 1:] * np.sign(yaw)[:, None]


def robust_scale(r: np.ndarray) -> float:
    return 1.4826 * float(np.median(np.abs(r - np.median(r))))


def biweight(x: np.ndarray, y: np.ndarray, iters: int = 50) -> np.ndarray:
    """Tukey's biweight regression ``y ~ x @ b`` (c = 4.685), started from least squares."""
    b = np.linalg.lstsq(x, y, rcond=None)[0]
    for _ in range(iters):
        r = y - x @ b
        u = r / (TUKEY_C * (1.4826 * float(np.median(np.abs(r))) + 1e-12))
        w = np.sqrt(np.where(np.abs(u) < 1.0, (1.0 - u * u) ** 2, 0.0))
        b = np.linalg.lstsq(x * w[:, None], y * w, rcond=None)[0]
    return b


def slope(angle: np.ndarray, sensor: np.ndarray, within: float = 8.0) -> float:
    """Per degree of head angle, a robust straight line through the faces with |angle| < within."""
    near = np.abs(angle) < within
    design = np.column_stack([np.ones(near.sum()), angle[near]])
    return float(biweight(design, sensor[near])[1])


def fit_gaze(rows: np.ndarray, version: int = 2) -> GazeModel:
    """The gaze model from rows ``(yaw, pitch, look_x, look_y, upper_lid)`` of open-eyed faces."""
    yaw, pitch, look_x, look_y, upper = rows.T
    bias = float(np.median(look_x[np.abs(yaw) < 3.0]))
    on_x = biweight(odd_basis(yaw), look_x - bias)
    on_y = biweight(hat_basis(pitch, PITCH_KNOTS), look_y)
    on_u = biweight(hat_basis(pitch, PITCH_KNOTS), upper)
    # eye rotation toward the right / up = minus the head's yaw / pitch on the lens
    per_deg = (-slope(yaw, look_x), -slope(pitch, look_y), -slope(pitch, upper))
    model = GazeModel(
        "gaze", version, bias, YAW_KNOTS, tuple(on_x), PITCH_KNOTS, tuple(on_y), tuple(on_u), per_deg,
        VERTICAL_MIX, (1.0, 1.0), EDGE,
    )  # fmt: skip
    mh, mv = gaze_misses(model, rows)
    sh, sv = robust_scale(mh), robust_scale(mv)
    reach = (np.abs(mh) < TUKEY_C * sh) & (np.abs(mv) < TUKEY_C * sv)
    d = ((np.abs(mh) / sh) ** EDGE + (np.abs(mv) / sv) ** EDGE)[reach] ** (1.0 / EDGE)
    # exp(-d**edge / 2) >= 0.6  <=>  d <= (-2 ln 0.6)**(1/edge): widen both scales by one factor
    k = float(np.quantile(d, ON_LENS_SHARE)) / (-2.0 * math.log(ON_LENS_READS)) ** (1.0 / EDGE)
    return GazeModel(
        "gaze", version, bias, YAW_KNOTS, tuple(on_x), PITCH_KNOTS, tuple(on_y), tuple(on_u), per_deg,
        VERTICAL_MIX, (sh * k, sv * k), EDGE,
    )  # fmt: skip


def gaze_misses(model: GazeModel, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    m = np.array([model.misses(*r) for r in rows])
    return m[:, 0], m[:, 1]


def gaze_scores(model: GazeModel, rows: np.ndarray) -> np.ndarray:
    """gaze_on_lens of open eyes (the visibility gate is 1 for them)."""
    return np.array([model.score(*model.misses(*r)) for r in rows])


def rounded(model: GazeModel, fitted_on: str, notes: str) -> GazeModel:
    """The model as written to its file: a few significant digits, and what it was fitted on."""
    r = lambda v: tuple(round(float(x), 6) for x in v)  # noqa: E731
    return GazeModel(
        "gaze", model.version, round(model.look_bias, 6), model.yaw_knots, r(model.look_x), model.pitch_knots,
        r(model.look_y), r(model.upper_lid), r(model.per_deg), model.vertical_mix,
        tuple(round(v, 4) for v in model.sigma_deg), model.edge, fitted_on, notes,  # type: ignore[arg-type]
    )  # fmt: skip
