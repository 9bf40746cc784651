"""A video of several real faces moving across a canvas, for the workshop tests.

Four real faces (GENKI-4K crops and the shared photos' faces) glide on straight, separate
paths over a blurred real background; written with cv2.VideoWriter (MJPG in .avi, which
every OpenCV build writes) so the test reads it back like any clip.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

#: (source, crop box x0, y0, x1, y1 or None for the whole image) of each face.
FACES = (
    ("genki4k_train/file0001.jpg", None),
    ("genki4k_train/file0010.jpg", None),
    ("0-f15-hao-ph.jpg", (128, 96, 384, 416)),
    ("0-f1-su-ph.jpg", (128, 96, 384, 416)),
)
CANVAS_WH = (1280, 720)
FACE_PX = 170
#: Start and end of each face's centre, in pixels: the paths never cross.
PATHS = (((180, 200), (420, 170)), ((1100, 180), (860, 230)), ((200, 540), (480, 560)), ((1090, 540), (820, 500)))


def face_patches(media: Path) -> list[np.ndarray]:
    out = []
    for name, box in FACES:
        img = cv2.imread(str(media / name))
        if box is not None:
            img = img[box[1] : box[3], box[0] : box[2]]
        h, w = img.shape[:2]
        out.append(cv2.resize(img, (FACE_PX, round(FACE_PX * h / w)), interpolation=cv2.INTER_CUBIC))
    return out


def centres(frame: int, n_frames: int) -> list[tuple[int, int]]:
    t = frame / max(1, n_frames - 1)
    return [(round(a[0] + t * (b[0] - a[0])), round(a[1] + t * (b[1] - a[1]))) for a, b in PATHS]


#: Frames in which the first face is hidden (a person ducking behind another): its id must hold.
HIDDEN = range(20, 25)


def write_room_clip(media: Path, path: Path, n_frames: int = 45, fps: float = 15.0) -> list[list[tuple[int, int] | None]]:
    """Write the clip; returns each frame's face centres (in :data:`PATHS` order; None where
    the face is hidden)."""
    from skimage import data as skdata

    w, h = CANVAS_WH
    bg = cv2.resize(cv2.cvtColor(skdata.coffee(), cv2.COLOR_RGB2BGR), (w, h))
    bg = cv2.GaussianBlur(bg, (0, 0), 12)
    patches = face_patches(media)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (w, h))
    truth = []
    for i in range(n_frames):
        frame = bg.copy()
        cs: list[tuple[int, int] | None] = list(centres(i, n_frames))
        if i in HIDDEN:
            cs[0] = None
        for c, p in zip(cs, patches):
            if c is None:
                continue
            ph, pw = p.shape[:2]
            frame[c[1] - ph // 2 : c[1] - ph // 2 + ph, c[0] - pw // 2 : c[0] - pw // 2 + pw] = p
        writer.write(frame)
        truth.append(cs)
    writer.release()
    return truth
