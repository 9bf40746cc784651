"""Workshop mode on the picture: every face boxed with its number, score and cue, and the
projector tile of one person (their face large, mirrored, with score and cue beneath)."""

from __future__ import annotations

import cv2
import numpy as np

from posecoach.overlay.text import AA, FONT, ascii_text, fit_lines
from posecoach.workshop import FaceResult, WorkshopFrame

_GOOD, _MID, _LOW = (80, 200, 80), (0, 200, 255), (60, 60, 230)  # BGR: held / close / far


def score_colour(result: FaceResult) -> tuple[int, int, int]:
    r = result.result
    if r.hold.held:
        return _GOOD
    if r.score is None:
        return (180, 180, 180)
    return _MID if r.score.score >= 60 else _LOW


def _mirror_box(box: tuple[float, float, float, float], w: int, mirror: bool) -> tuple[int, int, int, int]:
    x0, y0, x1, y1 = box
    if mirror:
        x0, x1 = w - x1, w - x0
    return int(x0), int(y0), int(x1), int(y1)


def draw_faces(image: np.ndarray, frame: WorkshopFrame, *, mirror: bool = True) -> np.ndarray:
    """The frame as the room sees it (mirrored if ``mirror``): each face boxed, with its
    number and score above it and its cue below."""
    view = cv2.flip(image, 1) if mirror else image.copy()
    h, w = view.shape[:2]
    for fr in frame.faces:
        x0, y0, x1, y1 = _mirror_box(fr.box, w, mirror)
        colour = score_colour(fr)
        cv2.rectangle(view, (x0, y0), (x1, y1), colour, 2, AA)
        score = f"{fr.result.score.score:.0f}" if fr.result.score is not None else "-"
        scale = max(0.5, (x1 - x0) / 180)
        cv2.putText(view, f"{fr.face_id}: {score}", (x0, max(15, y0 - 8)), FONT, scale, colour, 2, AA)
        for i, line in enumerate(fit_lines(ascii_text(fr.result.cue.text), FONT, 0.5 * scale, 1, max(80, 2 * (x1 - x0)), max_lines=2)):
            cv2.putText(view, line, (x0, min(h - 5, y1 + int(22 * scale) * (i + 1))), FONT, 0.5 * scale, colour, 1, AA)
    return view


def face_tile(image: np.ndarray, face: FaceResult, *, side: int = 360, mirror: bool = True) -> np.ndarray:
    """One person's face, square, ``side`` px, from a crop twice the size of their face box
    (mirrored if ``mirror``), with a border in their score's colour."""
    h, w = image.shape[:2]
    x0, y0, x1, y1 = face.box
    size = 2.0 * max(x1 - x0, y1 - y0)
    cx, cy = 0.5 * (x0 + x1), 0.5 * (y0 + y1)
    a, b = int(max(0, cx - size / 2)), int(max(0, cy - size / 2))
    crop = image[b : int(min(h, cy + size / 2)), a : int(min(w, cx + size / 2))]
    if crop.size == 0:
        crop = np.zeros((side, side, 3), np.uint8)
    tile = cv2.resize(crop, (side, side), interpolation=cv2.INTER_AREA if crop.shape[0] > side else cv2.INTER_CUBIC)
    if mirror:
        tile = cv2.flip(tile, 1)
    cv2.rectangle(tile, (0, 0), (side - 1, side - 1), score_colour(face), max(4, side // 40))
    return tile
