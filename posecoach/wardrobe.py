"""Wardrobe and background advice: a busy top just below the face, a cluttered wall behind it.

Photographers ask for solid colours and no logos near the face, and a calm background. Both
show as image texture: the share of pixels on a strong edge (Sobel gradient of luma), measured
in each region at a scale set by the face (the region resized so the face would be
:data:`FACE_PX` wide), so a close-up and a wide shot read alike. Advice, never a score.

Regions (raw-image pixels, from the landmarks' box of width ``w`` and height ``h``): the top
is ``w`` wide either side of the face's centre, from 0.25 ``h`` below the chin to 1.1 ``h``
below it; the background is beside and above the head as in :mod:`posecoach.lighting`.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from posecoach.results import FaceFrame

#: The face width every region is rescaled to, in pixels.
FACE_PX = 80
#: A Sobel magnitude (of 0..255 luma, 3x3 kernel) above this is a strong edge: a print's or a
#: logo's outline, not the folds of a plain shirt or the grain of a painted wall.
EDGE = 160.0
#: Share of strong-edge pixels above which a region is busy (see the README for the readings
#: on the shared photos and clips this sits between).
BUSY_TOP = 0.12
CLUTTERED = 0.12


@dataclass(frozen=True)
class WardrobeAdvice:
    """``pattern`` / ``clutter``: share 0..1 of strong-edge pixels in the top below the face /
    the background beside and above the head (None when the region is off the frame);
    ``advice``: what to change, in plain words (empty when nothing)."""

    pattern: float | None
    clutter: float | None
    advice: tuple[str, ...]


def _edge_share(gray: np.ndarray) -> float | None:
    if gray.shape[0] < 8 or gray.shape[1] < 8:
        return None
    gx = cv2.Sobel(gray, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(gray, cv2.CV_32F, 0, 1, ksize=3)
    return float(np.mean(cv2.magnitude(gx, gy) > EDGE))


def _region(gray: np.ndarray, x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
    h, w = gray.shape
    xa, xb, ya, yb = int(max(0, x0)), int(min(w, x1)), int(max(0, y0)), int(min(h, y1))
    return gray[ya:yb, xa:xb] if xb > xa and yb > ya else gray[:0, :0]


def wardrobe(image: np.ndarray, face: FaceFrame) -> WardrobeAdvice | None:
    """Advice on what is below and behind ``face`` in ``image`` (raw BGR); None without a face."""
    if not face.has_face or image.ndim != 3:
        return None
    h, w = image.shape[:2]
    pts = face.landmarks[:, :2] * np.array([w, h], np.float32)
    (x0, y0), (x1, y1) = pts.min(axis=0), pts.max(axis=0)
    fw, fh = float(x1 - x0), float(y1 - y0)
    if fw < 8:
        return None
    s = FACE_PX / fw
    gray = cv2.cvtColor(image[..., :3], cv2.COLOR_BGR2GRAY)
    small = cv2.resize(gray, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)
    x0, y0, x1, y1, fw, fh = x0 * s, y0 * s, x1 * s, y1 * s, fw * s, fh * s
    cx = 0.5 * (x0 + x1)
    pattern = _edge_share(_region(small, cx - fw, y1 + 0.25 * fh, cx + fw, y1 + 1.1 * fh))
    sides = [
        _region(small, x0 - 0.85 * fw, y0 - 0.2 * fh, x0 - 0.25 * fw, y0 + 0.45 * fh),
        _region(small, x1 + 0.25 * fw, y0 - 0.2 * fh, x1 + 0.85 * fw, y0 + 0.45 * fh),
        _region(small, x0 - 0.2 * fw, y0 - 0.7 * fh, x1 + 0.2 * fw, y0 - 0.35 * fh),
    ]
    shares = [(_edge_share(r), r.size) for r in sides if r.size]
    shares = [(v, n) for v, n in shares if v is not None]
    clutter = sum(v * n for v, n in shares) / sum(n for _, n in shares) if shares else None
    advice = []
    if pattern is not None and pattern > BUSY_TOP:
        advice.append("A busy pattern or print just below your face: a solid colour keeps the eye on you")
    if clutter is not None and clutter > CLUTTERED:
        advice.append("The background behind your head is busy: a plain wall or a step away from it helps")
    return WardrobeAdvice(pattern, clutter, tuple(advice))
