"""A real face turned to either side: its own texture re-drawn on its rotated MediaPipe mesh.

No recording of one person turning both ways ships with the shared media, so the best-side
tests turn a real photo: the 478 landmarks (pixels, depth in the same scale) are rotated
about the vertical axis through the face's centre, and every mesh triangle is warped from
the photo to where it lands (far triangles first, so near ones cover them). Left-right
differences of the real face (its eyes, its smile) are kept; a turn of ``deg`` reads as
roughly half as much yaw (MediaPipe sees the flat background stay put).
"""

from __future__ import annotations

import cv2
import numpy as np
from scipy.spatial import Delaunay

from posecoach.results import FaceFrame


def turned(image: np.ndarray, face: FaceFrame, deg: float) -> np.ndarray:
    """``image`` with ``face`` turned ``deg`` degrees (> 0 reads as yaw < 0)."""
    h, w = image.shape[:2]
    p = face.landmarks.astype(np.float64) * (w, h, w)
    c = p.mean(axis=0)
    th = np.radians(deg)
    x = (p[:, 0] - c[0]) * np.cos(th) + (p[:, 2] - c[2]) * np.sin(th) + c[0]
    border = np.array([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1], [w / 2, 0], [w / 2, h - 1], [0, h / 2],
                       [w - 1, h / 2]], float)  # fmt: skip
    src = np.vstack([p[:, :2], border])
    dst = np.vstack([np.column_stack([x, p[:, 1]]), border])
    depth = np.r_[-(p[:, 0] - c[0]) * np.sin(th) + (p[:, 2] - c[2]) * np.cos(th), np.full(len(border), 1e9)]
    triangles = Delaunay(src).simplices
    out = image.copy()
    for tri in triangles[np.argsort(-depth[triangles].mean(axis=1))]:
        d = dst[tri].astype(np.float32)
        bx, by, bw, bh = cv2.boundingRect(d)
        if bw <= 0 or bh <= 0:
            continue
        m = cv2.getAffineTransform(src[tri].astype(np.float32), d - np.float32([bx, by]))
        patch = cv2.warpAffine(image, m, (bw, bh), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        mask = np.zeros((bh, bw), np.uint8)
        cv2.fillConvexPoly(mask, np.int32(np.round(d - [bx, by])), 1)
        x0, y0, x1, y1 = max(bx, 0), max(by, 0), min(bx + bw, w), min(by + bh, h)
        if x1 <= x0 or y1 <= y0:
            continue
        keep = mask[y0 - by : y1 - by, x0 - bx : x1 - bx].astype(bool)
        out[y0:y1, x0:x1][keep] = patch[y0 - by : y1 - by, x0 - bx : x1 - bx][keep]
    return out


def turning_frames(image: np.ndarray, face: FaceFrame, n: int = 24, seed: int = 0) -> list[np.ndarray]:
    """``n`` frames: the face turned 22-40 degrees one way, then the other, each with a small
    jitter of scale, position and sensor noise (so neighbouring frames differ as on a camera)."""
    rng = np.random.default_rng(seed)
    half = n // 2
    frames = []
    for deg in np.r_[np.linspace(-40, -22, half), np.linspace(22, 40, n - half)]:
        im = turned(image, face, float(deg))
        h, w = im.shape[:2]
        m = cv2.getRotationMatrix2D((w / 2, h / 2), rng.uniform(-1, 1), rng.uniform(0.97, 1.03))
        m[:, 2] += rng.uniform(-0.01, 0.01, 2) * w
        im = cv2.warpAffine(im, m, (w, h), borderMode=cv2.BORDER_REFLECT)
        frames.append(np.clip(im.astype(np.float32) + rng.normal(0, 2, im.shape), 0, 255).astype(np.uint8))
    return frames


def write_clip(frames: list[np.ndarray], path: str, fps: float = 15.0) -> str:
    """``frames`` as a Motion-JPEG AVI at ``path`` (OpenCV writes it without any codec installed)."""
    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*"MJPG"), fps, (w, h))
    for f in frames:
        writer.write(f)
    writer.release()
    return path
