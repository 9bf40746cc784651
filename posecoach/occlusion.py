"""Is the mouth hidden (a hand, a cup, a phone)? Read from the image itself.

When a hand covers the mouth, MediaPipe still returns a full mesh: the hidden landmarks are
guessed from the rest of the face, and the smile it reads there is a guess too. So this looks
at the pixels where the landmarks say the mouth is. Lips are redder than the skin around
them, measured in chromaticity (``(R - G) / (R + G + B)``), so the light level and a uniform
colour cast cancel: the reddest tenth of the mouth (the lips) is compared with the median of a
ring of skin around it. Over a hand both hold hand skin and the contrast vanishes. In an image
without colour (greyscale, a strong colour filter) nothing can be said and nothing is reported.

Measured (``benchmarks/truth.py``): real mouths at webcam resolution 0.087 or more
(single_face.mp4, the photos, dim light and colour casts included); the face's own skin
pasted over the mouth 0.000-0.003 (:func:`cover` in ``benchmarks/corpus.py``). On the
64x64 GENKI crops the JPEG keeps a few colour pixels across the lips and about 1 face in 20
reads below the threshold: a face that small is coached less reliably anyway.

The eyes are not checked: an eye's own contrast (sclera, iris, lashes) against a cheek did
not tell a hand from an open eye on real frames (a hand's creases read as an eye).

Cheap by construction (~0.3 ms): only a box around the mouth is read, downscaled so the mouth
is ~32 px wide, and the pipeline looks every few frames.
"""

from __future__ import annotations

import cv2
import numpy as np

from posecoach.results import FaceFrame

__all__ = ["LIP_CONTRAST_MIN", "lip_contrast", "occlusion"]

_OUTER_LIP = np.array([61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291, 375, 321, 405, 314, 17, 84, 181, 91, 146])

#: Below this lip-minus-skin redness the mouth counts as hidden (3x the covered maximum,
#: a seventh of the lowest real mouth at webcam resolution).
LIP_CONTRAST_MIN = 0.012
#: Skin whose mean chromaticity is closer to grey than this carries no colour to compare.
_MIN_CHROMA = 0.015
_MOUTH_PX = 32.0  # the mouth's width after downscaling
_RING = 1.7  # the skin ring reaches out to 1.7x the lip contour from the mouth centre


def lip_contrast(image_bgr: np.ndarray, face: FaceFrame) -> float:
    """Lip-minus-skin redness of ``face``'s mouth in ``image_bgr``; NaN when it cannot be told.

    ``image_bgr``: the raw frame the face was tracked in (any size; BGR or BGRA).
    """
    if not face.has_face or image_bgr is None or image_bgr.ndim != 3 or image_bgr.shape[2] < 3:
        return float("nan")
    h, w = image_bgr.shape[:2]
    outer = face.landmarks[_OUTER_LIP, :2] * (w, h)
    width = float(np.linalg.norm(outer[0] - outer[10]))  # corner to corner
    if not np.isfinite(width) or width < 6.0:
        return float("nan")
    centre = outer.mean(axis=0)
    ring = centre + _RING * (outer - centre)
    lo, hi = ring.min(axis=0), ring.max(axis=0) + 1
    x0, y0 = max(0, int(lo[0])), max(0, int(lo[1]))
    x1, y1 = min(w, int(np.ceil(hi[0]))), min(h, int(np.ceil(hi[1])))
    if x1 - x0 < 4 or y1 - y0 < 4:
        return float("nan")
    box = image_bgr[y0:y1, x0:x1, :3]
    k = min(1.0, _MOUTH_PX / width)
    if k < 1.0:
        box = cv2.resize(box, (max(4, round((x1 - x0) * k)), max(4, round((y1 - y0) * k))), interpolation=cv2.INTER_AREA)
    k = box.shape[1] / (x1 - x0)
    origin = np.array([x0, y0], float)
    mouth, around = np.zeros(box.shape[:2], np.uint8), np.zeros(box.shape[:2], np.uint8)
    cv2.fillPoly(mouth, [np.round((outer - origin) * k).astype(np.int32)], 1)
    cv2.fillPoly(around, [np.round((ring - origin) * k).astype(np.int32)], 1)
    inside, skin = mouth.astype(bool), around.astype(bool) & ~mouth.astype(bool)
    if inside.sum() < 4 or skin.sum() < 8:
        return float("nan")
    f = box.astype(np.float32)
    total = f.sum(axis=2) + 1.0
    if float(np.mean(np.abs(f[skin] / total[skin][:, None] - 1.0 / 3.0))) < _MIN_CHROMA:
        return float("nan")
    redness = (f[:, :, 2] - f[:, :, 1]) / total
    return float(np.percentile(redness[inside], 90) - np.median(redness[skin]))


def occlusion(image_bgr: np.ndarray, face: FaceFrame) -> tuple[str, ...]:
    """The hidden parts of ``face``: ``()`` or ``("mouth",)``. Never raises; what cannot be
    measured is not reported."""
    return ("mouth",) if lip_contrast(image_bgr, face) < LIP_CONTRAST_MIN else ()  # NaN: False
