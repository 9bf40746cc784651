"""Is the mouth or are the eyes hidden (a hand, a cup, a phone)? Read from the image itself.

When a hand covers the mouth, MediaPipe still returns a full mesh: the hidden landmarks are
guessed from the rest of the face, and the smile it reads there is a guess too. So this looks
at the pixels where the landmarks say the mouth and the eyes are:

* **mouth**: lips are redder than the skin around them (in chromaticity, so light level and
  a uniform colour cast cancel). The lip band between the outer and inner lip contours is
  compared with a ring of skin around the mouth; with a hand over the mouth, both hold
  hand skin and the contrast vanishes. In an image without colour (greyscale, a strong
  colour filter) nothing can be said and nothing is reported.
* **eyes**: an open eye shows a bright sclera against a dark iris and lashes; skin over it
  (a hand) is as flat as a cheek. The eye opening's luminance spread (10th to 90th
  percentile) is compared with a skin patch below the eye, for eyes the landmarks say are
  open.

Cheap by construction (~0.5 ms): only a small box around the mouth and each eye is read,
downscaled so the mouth is ~32 px wide. Thresholds and how they were measured: see
:data:`LIP_CONTRAST_MIN`, :data:`EYE_CONTRAST_MIN` and ``benchmarks/truth.py``. Limit: on
tiny faces (the 64x64 GENKI crops) the JPEG's colour resolution is a few pixels across
the lips, and about 1 face in 10 reads as a hidden mouth; at webcam resolution none does.
"""

from __future__ import annotations

import cv2
import numpy as np

from posecoach.results import FaceFrame

__all__ = ["EYE_CONTRAST_MIN", "LIP_CONTRAST_MIN", "occlusion", "read_occlusion"]

_OUTER_LIP = np.array([61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291, 375, 321, 405, 314, 17, 84, 181, 91, 146])
_INNER_LIP = np.array([78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308, 324, 318, 402, 317, 14, 87, 178, 88, 95])
_EYES = (
    np.array([33, 246, 161, 160, 159, 158, 157, 173, 133, 155, 154, 153, 145, 144, 163, 7]),
    np.array([362, 398, 384, 385, 386, 387, 388, 466, 263, 249, 390, 373, 374, 380, 381, 382]),
)
_IDX = np.concatenate([_OUTER_LIP, _INNER_LIP, *_EYES])
_N_OUT, _N_IN, _N_EYE = len(_OUTER_LIP), len(_INNER_LIP), len(_EYES[0])

#: Below this lip-minus-skin redness ((R - G) / (R + G + B)) the mouth counts as hidden.
#: Measured: real mouths at webcam resolution 0.038-0.092 (single_face.mp4, the photos, the
#: astronaut; dim light and colour casts included), skin pasted over them 0.000-0.009.
LIP_CONTRAST_MIN = 0.015
#: Below this ratio of the eye opening's luminance spread to the cheek's, an open eye counts
#: as hidden. Measured: open eyes 2.8-7.8, skin pasted over them 0.47-1.53.
EYE_CONTRAST_MIN = 1.2
#: Skin whose mean chromaticity is closer to grey than this carries no colour to compare.
_MIN_CHROMA = 0.015
_MOUTH_PX = 32.0  # the mouth's width after downscaling


def read_occlusion(image_bgr: np.ndarray, face: FaceFrame) -> tuple[float, float]:
    """``(lip contrast, eye contrast)`` of ``face`` in ``image_bgr`` (NaN = cannot tell).

    ``image_bgr``: the raw frame the face was tracked in (any size; BGR, BGRA or grey).
    """
    if not face.has_face or image_bgr is None or image_bgr.ndim != 3 or image_bgr.shape[2] < 3:
        return float("nan"), float("nan")
    h, w = image_bgr.shape[:2]
    pts = face.landmarks[_IDX, :2] * (w, h)
    outer = pts[:_N_OUT]
    centre = outer.mean(axis=0)
    width = float(np.linalg.norm(outer[0] - outer[10]))  # corner to corner
    if not np.isfinite(width) or width < 6.0:
        return float("nan"), float("nan")
    scale = min(1.0, _MOUTH_PX / width)
    return _lip_contrast(image_bgr, pts, centre, scale), _eye_contrast(image_bgr, pts, scale)


def _crop(image: np.ndarray, lo: np.ndarray, hi: np.ndarray, scale: float) -> tuple[np.ndarray, np.ndarray, float] | None:
    """The box [lo, hi) of ``image`` (clipped), downscaled by ``scale``; its origin and the
    factor from image pixels to box pixels."""
    h, w = image.shape[:2]
    x0, y0 = max(0, int(lo[0])), max(0, int(lo[1]))
    x1, y1 = min(w, int(np.ceil(hi[0]))), min(h, int(np.ceil(hi[1])))
    if x1 - x0 < 3 or y1 - y0 < 3:
        return None
    box = image[y0:y1, x0:x1, :3]
    if scale < 1.0:
        size = (max(3, round((x1 - x0) * scale)), max(3, round((y1 - y0) * scale)))
        box = cv2.resize(box, size, interpolation=cv2.INTER_AREA)
    return box, np.array([x0, y0], float), box.shape[1] / (x1 - x0)


def _mask(shape: tuple[int, int], polygon: np.ndarray) -> np.ndarray:
    m = np.zeros(shape, np.uint8)
    cv2.fillPoly(m, [np.round(polygon).astype(np.int32)], 1)
    return m.astype(bool)


def _lip_contrast(image: np.ndarray, pts: np.ndarray, centre: np.ndarray, scale: float) -> float:
    outer, inner = pts[:_N_OUT], pts[_N_OUT : _N_OUT + _N_IN]
    ring = centre + 1.7 * (outer - centre)  # skin around the mouth, out to ~0.35 mouth widths
    cut = _crop(image, ring.min(axis=0), ring.max(axis=0) + 1, scale)
    if cut is None:
        return float("nan")
    box, origin, k = cut
    f = box.astype(np.float32)
    total = f.sum(axis=2) + 1.0
    redness = (f[:, :, 2] - f[:, :, 1]) / total  # (R - G) / (R + G + B)
    shape = box.shape[:2]
    in_outer = _mask(shape, (outer - origin) * k)
    lips = in_outer & ~_mask(shape, (inner - origin) * k)
    skin = _mask(shape, (ring - origin) * k) & ~in_outer
    if lips.sum() < 4 or skin.sum() < 8:
        return float("nan")
    chroma = float(np.mean(np.abs(f[skin] / total[skin][:, None] - 1.0 / 3.0)))
    if chroma < _MIN_CHROMA:
        return float("nan")
    return float(np.median(redness[lips]) - np.median(redness[skin]))


def _eye_contrast(image: np.ndarray, pts: np.ndarray, scale: float) -> float:
    ratios = []
    for e in range(2):
        eye = pts[_N_OUT + _N_IN + e * _N_EYE : _N_OUT + _N_IN + (e + 1) * _N_EYE]
        lo, hi = eye.min(axis=0), eye.max(axis=0)
        eye_w = hi[0] - lo[0]
        cheek_lo = np.array([lo[0], hi[1] + 0.35 * eye_w])
        cheek_hi = np.array([hi[0], hi[1] + 0.85 * eye_w])
        cut = _crop(image, np.minimum(lo, cheek_lo), np.maximum(hi, cheek_hi) + 1, scale * 2.0)
        if cut is None:
            continue
        box, origin, k = cut
        grey = cv2.cvtColor(box, cv2.COLOR_BGR2GRAY).astype(np.float32)
        opening = _mask(grey.shape, (eye - origin) * k)
        cy0, cy1 = int((cheek_lo[1] - origin[1]) * k), int((cheek_hi[1] - origin[1]) * k)
        cx0, cx1 = int((cheek_lo[0] - origin[0]) * k), int((cheek_hi[0] - origin[0]) * k)
        cheek = grey[max(0, cy0) : cy1, max(0, cx0) : cx1]
        if opening.sum() < 6 or cheek.size < 6:
            continue
        a = np.percentile(grey[opening], (10, 90))
        c = np.percentile(cheek, (10, 90))
        ratios.append(float((a[1] - a[0] + 2.0) / (c[1] - c[0] + 2.0)))
    return max(ratios) if ratios else float("nan")


def occlusion(image_bgr: np.ndarray, face: FaceFrame, eyes_open: bool = True) -> tuple[str, ...]:
    """The hidden parts of ``face``: ``()``, ``("mouth",)``, ``("eyes",)`` or both.

    ``eyes_open``: whether the landmarks say the eyes are open (shut eyes are flat by nature,
    so only open ones are checked). Never raises: what cannot be measured is not reported.
    """
    lips, eyes = read_occlusion(image_bgr, face)
    hidden = []
    if lips < LIP_CONTRAST_MIN:  # NaN compares False: unknown is not reported
        hidden.append("mouth")
    if eyes_open and eyes < EYE_CONTRAST_MIN:
        hidden.append("eyes")
    return tuple(hidden)
