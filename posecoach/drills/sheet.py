"""The contact sheet: every shot as a thumbnail, marked keeper or why not.

:func:`thumbnail` shrinks a shot's raw (un-mirrored: what the camera took) frame; :func:`contact_sheet`
lays them out in a grid, each with a label strip: ``#3  1.97 s  keeper  96`` in green, or the
reasons it was lost in red. Pure OpenCV drawing on arrays; writing is the caller's (atomically).
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from posecoach.drills.shutter import Shot

THUMB_W = 240
COLUMNS = 4
_STRIP = 40
_GREEN = (80, 175, 60)
_RED = (50, 50, 210)


def thumbnail(image: np.ndarray, width: int = THUMB_W) -> np.ndarray:
    """``image`` (BGR) scaled to ``width`` pixels wide."""
    h, w = image.shape[:2]
    size = (width, max(1, round(h * width / max(w, 1))))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def _label(tile: np.ndarray, shot: Shot) -> np.ndarray:
    h, w = tile.shape[:2]
    out = np.full((h + _STRIP, w, 3), 255, np.uint8)
    out[:h] = tile
    color = _GREEN if shot.keeper else _RED
    cv2.rectangle(out, (0, 0), (w - 1, h + _STRIP - 1), color, 4)
    score = f"{shot.score:.0f}" if shot.score is not None else "-"
    head = f"#{shot.index + 1}  {shot.t_ms / 1000:.2f} s  score {score}"
    cv2.putText(out, head, (8, h + 16), cv2.FONT_HERSHEY_SIMPLEX, 0.42, (40, 40, 40), 1, cv2.LINE_AA)
    text = "KEEPER" if shot.keeper else shot.why
    cv2.putText(out, text[:34], (8, h + 33), cv2.FONT_HERSHEY_SIMPLEX, 0.42, color, 1, cv2.LINE_AA)
    return out


def contact_sheet(shots: Sequence[tuple[Shot, np.ndarray]], columns: int = COLUMNS) -> np.ndarray:
    """The shots' thumbnails (``(shot, thumbnail)`` pairs, same size) in a labelled grid.

    Raises:
        ValueError: no shots.
    """
    if not shots:
        raise ValueError("no shots for a contact sheet")
    tiles = [_label(t, s) for s, t in shots]
    th, tw = tiles[0].shape[:2]
    cols = min(columns, len(tiles))
    rows = -(-len(tiles) // cols)
    pad = 8
    sheet = np.full((rows * (th + pad) + pad, cols * (tw + pad) + pad, 3), 235, np.uint8)
    for i, tile in enumerate(tiles):
        r, c = divmod(i, cols)
        y, x = pad + r * (th + pad), pad + c * (tw + pad)
        tile = tile[:th, :tw]
        sheet[y : y + tile.shape[0], x : x + tile.shape[1]] = tile
    return sheet
