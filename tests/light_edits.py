"""Synthetic light on real faces, for the lighting tests and benchmarks/light_survey.py.

Each edit works in linear light (sRGB decoded, scaled, re-encoded), as a real lamp would, and
keeps the face where it was, so the tracker's landmarks of the unedited frame still place it.
"""

from __future__ import annotations

import cv2
import numpy as np

from posecoach.results import FaceFrame


def _to_linear(image: np.ndarray) -> np.ndarray:
    v = image.astype(np.float32) / 255.0
    return np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)


def _to_srgb(lin: np.ndarray) -> np.ndarray:
    lin = np.clip(lin, 0.0, 1.0)
    v = np.where(lin <= 0.0031308, lin * 12.92, 1.055 * lin ** (1 / 2.4) - 0.055)
    return np.clip(np.round(v * 255.0), 0, 255).astype(np.uint8)


def _face_px(image: np.ndarray, face: FaceFrame) -> np.ndarray:
    h, w = image.shape[:2]
    return face.landmarks[:, :2] * np.array([w, h], np.float32)


def darken_side(image: np.ndarray, face: FaceFrame, stops: float, side: str = "image_right") -> np.ndarray:
    """One side of the face (``"image_left"`` or ``"image_right"`` of the raw frame) darkened by
    ``stops``, rising smoothly across the middle third of the face (a lamp to the other side)."""
    pts = _face_px(image, face)
    x0, x1 = float(pts[:, 0].min()), float(pts[:, 0].max())
    centre, half = 0.5 * (x0 + x1), (x1 - x0) / 6.0
    xs = np.arange(image.shape[1], dtype=np.float32)
    t = np.clip((xs - (centre - half)) / (2 * half), 0.0, 1.0)  # 0 on the image's left, 1 on its right
    if side == "image_left":
        t = 1.0 - t
    gain = 2.0 ** (-stops * t)
    return _to_srgb(_to_linear(image) * gain[None, :, None])


def scale_light(image: np.ndarray, stops: float) -> np.ndarray:
    """The whole frame ``stops`` brighter (> 0) or darker (< 0): the exposure changed."""
    return _to_srgb(_to_linear(image) * 2.0**stops)


def brighten_background(image: np.ndarray, face: FaceFrame, stops: float) -> np.ndarray:
    """Everything but the head (the face oval grown by half its size, feathered) ``stops``
    brighter plus a bright haze (half of full white, linear): a window behind the person,
    which clips on a webcam exposed for the face."""
    pts = _face_px(image, face)
    centre = pts.mean(axis=0)
    hull = cv2.convexHull(((pts - centre) * 1.5 + centre).astype(np.int32))
    mask = np.zeros(image.shape[:2], np.float32)
    cv2.fillConvexPoly(mask, hull, 1.0)
    mask = cv2.GaussianBlur(mask, (0, 0), 5)[..., None]
    lin = _to_linear(image)
    return _to_srgb(lin * mask + lin * (2.0**stops) * (1.0 - mask) + 0.5 * (1.0 - mask))
