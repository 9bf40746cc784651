"""The projector view of an uploaded group photo or clip: a large tile per person (their face,
mirrored, with score and cue) frame by frame, and the leaderboard of best holds.

The page's workshop mode calls :func:`run_projector` and only draws what it returns. The clip
is read from memory; tiles are kept as small JPEGs for at most ``keep`` frames (evenly spaced
in a long clip), so a replay of any length stays within a few tens of megabytes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2

from posecoach.overlay.room import face_tile
from posecoach.results import Lighting
from posecoach.runs import CoachSettings
from posecoach.sources import Frame, MediaKind, decode_image_bytes, media_kind
from posecoach.targets import Target
from posecoach.uploads import open_upload
from posecoach.workshop import Standing, WorkshopFrame, run_workshop


@dataclass(frozen=True, eq=False)
class Tile:
    """One person in one frame: id, score (None while not coached), cue, whether the look is
    held, holds so far, the light's verdict, and their face as a JPEG (mirrored if chosen)."""

    face_id: int
    score: float | None
    cue: str
    held: bool
    holds: int
    lighting: Lighting | None
    jpeg: bytes


@dataclass(frozen=True, eq=False)
class ProjectorFrame:
    frame: int
    t_ms: float
    tiles: tuple[Tile, ...]


@dataclass(frozen=True, eq=False)
class ProjectorRun:
    """``frames``: the kept frames (every ``stride``-th); ``standings``: the leaderboard;
    ``best``: each person's face at their best score (id -> JPEG)."""

    name: str
    frames: tuple[ProjectorFrame, ...]
    standings: tuple[Standing, ...]
    best: dict[int, bytes]
    total_frames: int
    most_faces: int
    stride: int


def _jpeg(image) -> bytes:  # noqa: ANN001 - BGR ndarray
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 85])
    return buf.tobytes() if ok else b""


def run_projector(
    data: bytes,
    name: str,
    target: Target,
    settings: CoachSettings,
    max_faces: int,
    *,
    tile_px: int = 320,
    keep: int = 240,
    on_progress: Callable[[int, int | None], None] | None = None,
) -> ProjectorRun:
    """Coach everyone in an uploaded photo or clip (see the module doc).

    Raises:
        SourceError: not a photo or video posecoach can read.
        ModelError: the model is missing or broken.
    """
    frames: list[ProjectorFrame] = []
    best: dict[int, tuple[float, bytes]] = {}
    stride = 1

    def step(frame: Frame, result: WorkshopFrame) -> None:
        nonlocal stride, frames
        for fr in result.faces:
            s = fr.result.score.score if fr.result.score is not None else None
            if s is not None and (fr.face_id not in best or s > best[fr.face_id][0]):
                best[fr.face_id] = (s, _jpeg(face_tile(frame.image, fr, side=tile_px, mirror=settings.mirror)))
        if result.frame % stride == 0:
            tiles = tuple(
                Tile(fr.face_id, fr.result.score.score if fr.result.score is not None else None, fr.result.cue.text,
                     fr.result.hold.held, fr.result.hold.holds, fr.result.lighting,
                     _jpeg(face_tile(frame.image, fr, side=tile_px, mirror=settings.mirror)))  # fmt: skip
                for fr in result.faces
            )
            frames.append(ProjectorFrame(result.frame, result.t_ms, tiles))
            if len(frames) > keep:  # a long clip: keep every other frame from now on
                frames, stride = frames[::2], stride * 2
        if on_progress is not None:
            on_progress(result.frame + 1, total)

    if media_kind(data, name) is MediaKind.PHOTO:
        total: int | None = 1
        run = run_workshop([Frame(decode_image_bytes(data, name), 0, 0.0)], target, settings, max_faces, step, still=True)
    else:
        with open_upload(data, name) as source:
            total = source.n_frames
            run = run_workshop(source, target, settings, max_faces, step)
    return ProjectorRun(name, tuple(frames), run.standings, {i: b for i, (_, b) in best.items()}, run.frames,
                        run.most_faces, stride)  # fmt: skip
