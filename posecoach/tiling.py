"""Finding every face in a wide shot: the whole frame, then overlapping tiles.

MediaPipe's face detector looks at the frame shrunk to 128x128 px, so in a group photo each
face is a few pixels wide there and most are missed (2 of the 5 in the shared
``multi_face.jpg``). Run on overlapping square tiles cut from the full-resolution frame, each
face fills a larger share of what the detector sees. Faces found twice (by the frame and a
tile, or by two tiles) are merged by box overlap. Used only in workshop mode (``--faces`` above
1): the one-face path never pays for it.

Between tile passes, a stream is cheaper: the whole frame, plus a crop around each face known
from the last frame that the whole frame missed (:class:`FaceFinder`).

Coordinates: boxes are ``(x0, y0, x1, y1)`` in pixels of the full frame.
"""

from __future__ import annotations

import math

import numpy as np

from posecoach.detector import FaceTracker
from posecoach.results import FaceFrame

Box = tuple[float, float, float, float]

#: Tile side as a fraction of the frame's short side, and how much neighbours overlap: a 1000x667
#: frame gets 6 tiles of 500 px, and every face lies wholly inside at least one tile.
TILE_FRACTION = 0.75
TILE_OVERLAP = 0.5
#: Faces whose boxes overlap more than this (intersection over union) are one face.
SAME_FACE_IOU = 0.3


def face_box(face: FaceFrame) -> Box:
    """The landmarks' bounding box in pixels."""
    w, h = face.image_wh
    xy = face.landmarks[:, :2]
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    return float(lo[0] * w), float(lo[1] * h), float(hi[0] * w), float(hi[1] * h)


def iou(a: Box, b: Box) -> float:
    """Intersection over union of two boxes, 0..1."""
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def _area(b: Box) -> float:
    return max(0.0, b[2] - b[0]) * max(0.0, b[3] - b[1])


def tiles(w: int, h: int, fraction: float = TILE_FRACTION, overlap: float = TILE_OVERLAP) -> list[tuple[int, int, int]]:
    """``(x0, y0, side)`` of square tiles covering a ``w`` x ``h`` frame, neighbours overlapping
    by ``overlap`` of a side."""
    side = max(1, int(fraction * min(w, h)))
    step = side * (1.0 - overlap)
    nx = math.ceil(max(0, w - side) / step) + 1
    ny = math.ceil(max(0, h - side) / step) + 1
    xs = np.linspace(0, w - side, nx).round().astype(int)
    ys = np.linspace(0, h - side, ny).round().astype(int)
    return [(int(x), int(y), side) for y in ys for x in xs]


def to_frame(face: FaceFrame, x0: int, y0: int, tile_wh: tuple[int, int], frame_wh: tuple[int, int], t_ms: int) -> FaceFrame:
    """A face found in a crop at ``(x0, y0)`` of size ``tile_wh``, in the full frame's
    normalised coordinates. ``z`` keeps its scale relative to ``x``. The transformation
    matrix is the crop's (its rotation holds; its translation is as seen from the crop's
    centre, which head angles near the frame's edge may feel by a few degrees)."""
    tw, th = tile_wh
    w, h = frame_wh
    lm = face.landmarks.copy()
    lm[:, 0] = (lm[:, 0] * tw + x0) / w
    lm[:, 1] = (lm[:, 1] * th + y0) / h
    lm[:, 2] = lm[:, 2] * tw / w
    return FaceFrame(lm, face.blendshapes, face.matrix, frame_wh, face.n_faces, t_ms)


def merge(faces: list[FaceFrame], max_faces: int) -> list[FaceFrame]:
    """One observation per face, largest first, at most ``max_faces``: a face overlapping a
    larger one by :data:`SAME_FACE_IOU`, or centred inside it (a face cut by a tile's edge), is
    the same face."""
    kept: list[tuple[FaceFrame, Box]] = []
    for face, box in sorted(((f, face_box(f)) for f in faces), key=lambda fb: -_area(fb[1])):
        cx, cy = 0.5 * (box[0] + box[2]), 0.5 * (box[1] + box[3])
        if any(iou(box, k) > SAME_FACE_IOU or (k[0] <= cx <= k[2] and k[1] <= cy <= k[3]) for _, k in kept):
            continue
        kept.append((face, box))
        if len(kept) == max_faces:
            break
    n = len(kept)
    return [FaceFrame(f.landmarks, f.blendshapes, f.matrix, f.image_wh, n, f.t_ms) for f, _ in kept]


class FaceFinder:
    """Up to ``max_faces`` faces per frame, small ones included.

    Args:
        tracker: an IMAGE-mode :class:`FaceTracker` (every crop is a separate image) whose
            ``max_faces`` is at least ``max_faces``; owned by the caller.
        max_faces: how many faces to report at most.
        discover_every: run the tile pass every this many frames (and on the first); in
            between, crops around the faces of the last frame that the whole frame missed.
            1 = tiles on every frame (a photo).
    """

    def __init__(self, tracker: FaceTracker, max_faces: int, *, discover_every: int = 10) -> None:
        self.tracker = tracker
        self.max_faces = max_faces
        self.discover_every = max(1, discover_every)
        self._frame = 0
        self._last: list[Box] = []

    def find(self, image: np.ndarray, t_ms: float = 0.0) -> list[FaceFrame]:
        """The faces in one raw BGR frame, largest first, with ``t_ms`` as their time."""
        h, w = image.shape[:2]
        ts = int(t_ms)
        found = [to_frame(f, 0, 0, (w, h), (w, h), ts) for f in self.tracker.process_all(image)]
        if self._frame % self.discover_every == 0:
            if len(found) < self.max_faces:
                for x0, y0, side in tiles(w, h):
                    found += self._in_crop(image, x0, y0, side, side, ts)
        else:
            boxes = [face_box(f) for f in found]
            for b in self._last:
                if not any(iou(b, k) > SAME_FACE_IOU for k in boxes):
                    found += self._around(image, b, ts)
        self._frame += 1
        faces = merge(found, self.max_faces)
        self._last = [face_box(f) for f in faces]
        return faces

    def _around(self, image: np.ndarray, box: Box, ts: int) -> list[FaceFrame]:
        """Look again in a square three face-sizes wide around where a face was."""
        h, w = image.shape[:2]
        side = int(min(min(w, h), 3.0 * max(box[2] - box[0], box[3] - box[1])))
        cx, cy = 0.5 * (box[0] + box[2]), 0.5 * (box[1] + box[3])
        x0 = int(min(max(0, cx - side / 2), w - side))
        y0 = int(min(max(0, cy - side / 2), h - side))
        return self._in_crop(image, x0, y0, side, side, ts)

    def _in_crop(self, image: np.ndarray, x0: int, y0: int, cw: int, ch: int, ts: int) -> list[FaceFrame]:
        h, w = image.shape[:2]
        crop = np.ascontiguousarray(image[y0 : y0 + ch, x0 : x0 + cw])
        return [to_frame(f, x0, y0, (crop.shape[1], crop.shape[0]), (w, h), ts) for f in self.tracker.process_all(crop)]
