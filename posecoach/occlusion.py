"""Is the mouth or are the eyes hidden (a hand, a cup, a phone)? Read from the image itself.

When a hand covers the mouth, MediaPipe still returns a full mesh: the hidden landmarks are
guessed from the rest of the face, and the smile it reads there is a guess too. So this looks
at the pixels where the landmarks say the mouth is. Lips are redder than the skin around
them, measured in chromaticity (``(R - G) / (R + G + B)``), so the light level and a uniform
colour cast cancel: the reddest tenth of the mouth (the lips) is compared with the median of a
ring of skin around it. Over a hand both hold hand skin and the contrast vanishes. In an image
without colour (greyscale, a strong colour filter) nothing can be said and nothing is reported.

Measured (``benchmarks/truth.py``): real mouths at webcam resolution 0.087 or more
(single_face.mp4, the photos, dim light and colour casts included); the face's own skin
pasted over the mouth 0.000-0.003 (``cover`` in ``benchmarks/corpus.py``).

An open eye shows its iris, pupil and lashes, far darker than the skin around it; skin over
it (a hand) is nearly as light as that skin. So for eyes the landmarks call open, the darkest
tenth of the eye opening is compared with the median of a ring of skin around the eye:
``(skin - dark) / skin``. Measured: open eyes at webcam resolution 0.73-0.79 (dim light
included), the face's own skin pasted over them 0.15-0.19. Dark sunglasses read as hidden
eyes, as they should. On the 64x64 GENKI crops (a blurred iris a few pixels across, a
lip a few colour pixels high) about 1 face in 25 reads as hidden eyes and 1 in 50 as a
hidden mouth that is not. An eye that
really is shut is dark only along the lash line, which is why closed eyes are not checked.

Cheap by construction (~0.4 ms): only a box around the mouth (downscaled so the mouth is
~32 px wide) and each eye is read, and the pipeline looks every few frames.
"""

from __future__ import annotations

import cv2
import numpy as np

from posecoach.results import FaceFrame

__all__ = ["EYE_CONTRAST_MIN", "LIP_CONTRAST_MIN", "eye_contrast", "lip_contrast", "occlusion"]

_EYES = (
    np.array([33, 246, 161, 160, 159, 158, 157, 173, 133, 155, 154, 153, 145, 144, 163, 7]),
    np.array([362, 398, 384, 385, 386, 387, 388, 466, 263, 249, 390, 373, 374, 380, 381, 382]),
)
_OUTER_LIP = np.array([61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291, 375, 321, 405, 314, 17, 84, 181, 91, 146])

#: Below this lip-minus-skin redness the mouth counts as hidden (3x the covered maximum,
#: a seventh of the lowest real mouth at webcam resolution).
LIP_CONTRAST_MIN = 0.012
#: Below this darkness contrast of the eye opening against the skin around it, an open eye
#: counts as hidden (the covered maximum 0.19, the lowest real open eye at webcam size 0.73).
EYE_CONTRAST_MIN = 0.25
_EYE_RING = 2.2
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


def eye_contrast(image_bgr: np.ndarray, face: FaceFrame) -> float:
    """Darkness contrast of the more visible eye: ``(skin - darkest tenth) / skin``; NaN when
    it cannot be told. ``image_bgr``: the raw frame the face was tracked in."""
    if not face.has_face or image_bgr is None or image_bgr.ndim != 3 or image_bgr.shape[2] < 3:
        return float("nan")
    h, w = image_bgr.shape[:2]
    best = float("nan")
    for idx in _EYES:
        eye = face.landmarks[idx, :2] * (w, h)
        centre = eye.mean(axis=0)
        ring = centre + _EYE_RING * (eye - centre)
        x0, y0 = np.maximum(0, np.floor(ring.min(axis=0))).astype(int)
        x1, y1 = np.minimum((w, h), np.ceil(ring.max(axis=0)) + 1).astype(int)
        if x1 - x0 < 4 or y1 - y0 < 3:
            continue
        box = cv2.cvtColor(np.ascontiguousarray(image_bgr[y0:y1, x0:x1, :3]), cv2.COLOR_BGR2GRAY)
        inner, outer = np.zeros(box.shape, np.uint8), np.zeros(box.shape, np.uint8)
        origin = np.array([x0, y0], float)
        cv2.fillPoly(inner, [np.round(eye - origin).astype(np.int32)], 1)
        cv2.fillPoly(outer, [np.round(ring - origin).astype(np.int32)], 1)
        opening, skin = inner.astype(bool), outer.astype(bool) & ~inner.astype(bool)
        if opening.sum() < 4 or skin.sum() < 8:
            continue
        level = float(np.median(box[skin]))
        c = (level - float(np.percentile(box[opening], 10))) / (level + 1.0)
        best = c if not best >= c else best  # the max, NaN-safe
    return best


def occlusion(image_bgr: np.ndarray, face: FaceFrame, eyes_open: bool = True) -> tuple[str, ...]:
    """The hidden parts of ``face``: ``()``, ``("mouth",)``, ``("eyes",)`` or both.

    ``eyes_open``: whether the landmarks say the eyes are open (only open eyes are checked).
    Never raises; what cannot be measured is not reported (NaN compares False).
    """
    hidden = ("mouth",) if lip_contrast(image_bgr, face) < LIP_CONTRAST_MIN else ()
    if eyes_open and eye_contrast(image_bgr, face) < EYE_CONTRAST_MIN:
        hidden += ("eyes",)
    return hidden
