"""Stable ids for several faces across frames (workshop mode).

Each frame's face boxes are matched to the tracks of the frames before: by box overlap (IoU),
or, for a face that moved further than its own size allows overlap, by how close its centre
is to the track's, relative to the face's size. Pairs are taken best first (greedy: with at
most 8 faces that is what an optimal assignment gives unless two people swap places within a
frame). A face that matches no track starts a new id; a track that misses a face keeps its
id for ``max_missing`` frames (a head turned away, a person ducking behind another), then
ends. Ids count up from 1 and are never reused, so an export's ``face_id`` is one person.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from posecoach.tiling import Box, iou

#: A centre closer than this many face widths to a track's still matches it (a quick move).
MAX_CENTRE_SHIFT = 0.75
#: Overlap below which a pair is judged by centre distance instead.
MIN_IOU = 0.1


@dataclass
class _Track:
    face_id: int
    box: Box
    missed: int = 0


def _centre_score(a: Box, b: Box) -> float:
    """1 at the same centre, falling to 0 at :data:`MAX_CENTRE_SHIFT` face widths apart."""
    size = max(1.0, 0.5 * ((a[2] - a[0]) + (b[2] - b[0])))
    d = math.hypot(0.5 * (a[0] + a[2] - b[0] - b[2]), 0.5 * (a[1] + a[3] - b[1] - b[3]))
    return max(0.0, 1.0 - d / (MAX_CENTRE_SHIFT * size))


class FaceIds:
    """Assigns each frame's faces a stable id.

    Args:
        max_missing: frames a track may go without its face before its id ends.
    """

    def __init__(self, max_missing: int = 15) -> None:
        self.max_missing = max_missing
        self._tracks: list[_Track] = []
        self._next = 1

    @property
    def active(self) -> tuple[int, ...]:
        """The ids currently tracked (seen within ``max_missing`` frames)."""
        return tuple(t.face_id for t in self._tracks)

    def assign(self, boxes: list[Box]) -> list[int]:
        """The id of each box (same order); updates the tracks."""
        pairs = []
        for i, b in enumerate(boxes):
            for j, t in enumerate(self._tracks):
                overlap = iou(b, t.box)
                # Overlap first; the centre only counts (below any overlap) when there is little.
                score = 1.0 + overlap if overlap >= MIN_IOU else _centre_score(b, t.box)
                if score > 0:
                    pairs.append((score, i, j))
        ids: list[int | None] = [None] * len(boxes)
        used: set[int] = set()
        for _, i, j in sorted(pairs, reverse=True):
            if ids[i] is None and j not in used:
                ids[i] = self._tracks[j].face_id
                used.add(j)
                self._tracks[j].box, self._tracks[j].missed = boxes[i], 0
        for j, t in enumerate(self._tracks):
            if j not in used:
                t.missed += 1
        self._tracks = [t for t in self._tracks if t.missed <= self.max_missing]
        for i, b in enumerate(boxes):
            if ids[i] is None:
                ids[i] = self._next
                self._tracks.append(_Track(self._next, b))
                self._next += 1
        return [int(i) for i in ids]  # type: ignore[arg-type]
