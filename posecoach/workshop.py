"""Workshop mode: several people in front of one camera, each coached on their own.

The one home of the flow that the CLI (``--faces N``) and the page's projector view call:
:class:`Workshop` finds up to N faces per frame (:class:`~posecoach.tiling.FaceFinder`,
small faces in a wide shot included), gives each a stable id (:class:`~posecoach.faces.FaceIds`)
and runs one :class:`~posecoach.pipeline.Pipeline` per id: each face has its own smoothing,
score, cue, hold timer and light reading. :meth:`Workshop.standings` is the leaderboard.
:func:`run_workshop` coaches a photo or video file to its end.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from posecoach.detector import FaceTracker
from posecoach.faces import FaceIds
from posecoach.pipeline import Pipeline
from posecoach.results import FaceFrame, FrameResult
from posecoach.runs import CoachSettings, open_tracker
from posecoach.sources import Frame
from posecoach.targets import Target
from posecoach.tiling import Box, FaceFinder, face_box

#: ``--faces`` accepts 2..MAX_FACES (1 is the ordinary one-person coach).
MAX_FACES = 8


@dataclass(frozen=True, eq=False)
class FaceResult:
    """One person in one frame: their id, where their face is (pixels of the raw frame,
    ``(x0, y0, x1, y1)``) and their coaching."""

    face_id: int
    box: Box
    result: FrameResult


@dataclass(frozen=True, eq=False)
class WorkshopFrame:
    """Everyone found in one frame, ordered left to right as they appear in the MIRROR view
    (the person on the mirror's left first: the raw image's right)."""

    frame: int
    t_ms: float
    faces: tuple[FaceResult, ...]


@dataclass(frozen=True)
class Standing:
    """One person on the leaderboard.

    ``holds``: looks held for the target's hold time; ``best_hold``: the best score while
    holding (None before the first hold); ``best_score``: the best score seen at all;
    ``frames``: frames in which the face was coached.
    """

    face_id: int
    holds: int
    best_hold: float | None
    best_score: float | None
    frames: int


@dataclass
class _Person:
    pipeline: Pipeline
    holds: int = 0
    best_hold: float | None = None
    best_score: float | None = None
    frames: int = 0


class Workshop:
    """Coach up to ``max_faces`` people at once.

    Args:
        target: the look everyone practises.
        settings: strictness, hold time (a calibration profile is one person's: not used).
        tracker: an IMAGE-mode tracker with ``max_faces`` at least ``max_faces`` (owned by
            the caller); see :func:`run_workshop`.
        max_faces: 2..:data:`MAX_FACES`.
        still: a single photo (tiles at once, no smoothing or persistence).
    """

    def __init__(self, target: Target, settings: CoachSettings, tracker: FaceTracker, max_faces: int, *,
                 still: bool = False) -> None:  # fmt: skip
        if not 2 <= max_faces <= MAX_FACES:
            raise ValueError(f"max_faces must be 2..{MAX_FACES}, got {max_faces}")
        self.target = target
        self.max_faces = max_faces
        self._options = CoachSettings(settings.target, settings.strictness, settings.hold_s).options(still=still)
        self._finder = FaceFinder(tracker, max_faces, discover_every=1 if still else 10)
        self._ids = FaceIds()
        self._people: dict[int, _Person] = {}
        self._frame = 0

    def process(self, image: np.ndarray, t_ms: float) -> WorkshopFrame:
        """Find, identify and coach everyone in one raw BGR frame."""
        faces = self._finder.find(image, t_ms)
        boxes = [face_box(f) for f in faces]
        ids = self._ids.assign(boxes)
        out = []
        for face, box, face_id in zip(faces, boxes, ids):
            person = self._people.get(face_id)
            if person is None:
                person = self._people[face_id] = _Person(Pipeline(self.target, options=self._options))
            result = person.pipeline.process_face(face, image)
            self._tally(person, result)
            out.append(FaceResult(face_id, box, result))
        seen = set(ids)
        for face_id in self._ids.active:  # tracked but not found: their coach hears "no face"
            if face_id not in seen and face_id in self._people:
                self._people[face_id].pipeline.process_face(FaceFrame.empty((image.shape[1], image.shape[0]), int(t_ms)))
        out.sort(key=lambda fr: -(fr.box[0] + fr.box[2]))
        frame = WorkshopFrame(self._frame, t_ms, tuple(out))
        self._frame += 1
        return frame

    @staticmethod
    def _tally(person: _Person, result: FrameResult) -> None:
        if result.score is None:
            return
        person.frames += 1
        s = result.score.score
        person.best_score = s if person.best_score is None else max(person.best_score, s)
        if result.hold.held:
            person.best_hold = s if person.best_hold is None else max(person.best_hold, s)
        person.holds = result.hold.holds

    def standings(self) -> tuple[Standing, ...]:
        """Everyone seen so far, most holds first, then the best hold, then the best score."""
        rows = [Standing(i, p.holds, p.best_hold, p.best_score, p.frames) for i, p in self._people.items() if p.frames]
        return tuple(sorted(rows, key=lambda s: (-s.holds, -(s.best_hold or 0.0), -(s.best_score or 0.0), s.face_id)))


@dataclass(frozen=True, eq=False)
class WorkshopRun:
    """A photo or video coached to its end: the leaderboard, how many frames, how many faces
    at most in one frame, and the seconds the frames took (the model load aside)."""

    standings: tuple[Standing, ...]
    frames: int
    most_faces: int
    elapsed_s: float


def run_workshop(
    frames: Iterable[Frame],
    target: Target,
    settings: CoachSettings,
    max_faces: int,
    on_frame: Callable[[Frame, WorkshopFrame], bool | None] | None = None,
    *,
    still: bool = False,
    model: str | None = None,
    verbose: bool = False,
) -> WorkshopRun:
    """Coach everyone in ``frames`` (a photo: ``still``); ``on_frame(frame, result)`` after
    each frame, returning False stops.

    Raises:
        ModelError: the model is missing or broken.
    """
    # IMAGE mode: the tiles and crops are separate images, not one stream.
    with open_tracker(model, still=True, max_faces=max_faces, verbose=verbose) as tracker:
        workshop = Workshop(target, settings, tracker, max_faces, still=still)
        started = time.perf_counter()
        n = most = 0
        for frame in frames:
            if frame is None:
                continue
            result = workshop.process(frame.image, frame.t_ms)
            n += 1
            most = max(most, len(result.faces))
            if on_frame is not None and on_frame(frame, result) is False:
                break
        return WorkshopRun(workshop.standings(), n, most, time.perf_counter() - started)
