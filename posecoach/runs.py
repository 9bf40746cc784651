"""The flows: a photo, a clip or a camera coached through a session (calibrating is in
:mod:`posecoach.calibration_runs`). The CLI and the page call these and only display what they
return.

* :class:`CoachSettings`: what a person chose (target, strictness, hold, mirror, overlay,
  calibration), and the pipeline options for a still photo or a stream;
* :func:`open_tracker`: the one place a :class:`~posecoach.detector.FaceTracker` is built
  (:mod:`posecoach.closing` closes the server's safely when their owner goes or the server exits);
* :func:`coach_frames`: the one frame loop, used by :func:`run_source` (a photo or video
  file), :func:`run_clip` (an upload), :func:`run_live` and :func:`coach_live` (a camera);
* :func:`run_photo` / :class:`PhotoCoach`: one photo.

The live page's video callback is :class:`posecoach.live.LiveCoach`, built on these.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import cv2
import numpy as np

from posecoach.calibration import CalibrationProfile
from posecoach.closing import tie_tracker
from posecoach.detector import FaceTracker, TrackerMode
from posecoach.overlay import Annotator, Detail
from posecoach.pipeline import Pipeline, PipelineOptions
from posecoach.replay import ClipReplay, ReplayRecorder
from posecoach.report import Summary, WorkOn
from posecoach.results import FrameResult
from posecoach.session import CoachSession, SessionSnapshot
from posecoach.sources import Frame, MediaKind, SourceError, decode_image_bytes, media_kind
from posecoach.targets import Target
from posecoach.uploads import open_upload

if TYPE_CHECKING:  # pragma: no cover - typing only
    from posecoach.sources import ImageSource, VideoFileSource
    from posecoach.timing import StageTimer

#: What the frame loop calls after each frame: ``on_frame(frame, result_or_None)``; False stops.
OnFrame = Callable[[Frame, FrameResult | None], "bool | None"]
_END = object()


# -- settings and the tracker ------------------------------------------------------------------
@dataclass(frozen=True)
class CoachSettings:
    """What the person chose. Plain values, compared to decide what to rebuild.

    ``target`` is the target's name; ``hold_s`` None means the target's own hold time;
    ``profile`` None coaches uncalibrated.
    """

    target: str
    strictness: float = 1.0
    hold_s: float | None = None
    mirror: bool = True
    detail: Detail = Detail.STANDARD
    profile: CalibrationProfile | None = None

    def pipeline(
        self, target: Target, tracker: FaceTracker | None, *, still: bool = False, timer: StageTimer | None = None
    ) -> Pipeline:
        """The coaching loop these settings describe, on ``tracker``."""
        return Pipeline(target, tracker, profile=self.profile, options=self.options(still=still), timer=timer)

    def options(self, *, still: bool = False) -> PipelineOptions:
        """Pipeline options for a stream, or for a single photo (``still``: no smoothing, and
        the face is coached on its first frame)."""
        if still:
            return PipelineOptions(
                strictness=self.strictness, hold_s=self.hold_s, smoothing=False, min_face_frames=1, light_persist_ms=0.0
            )
        return PipelineOptions(strictness=self.strictness, hold_s=self.hold_s)


def open_tracker(
    model: str | None = None, *, still: bool = False, max_faces: int = 4, verbose: bool = False
) -> FaceTracker:
    """The one place a landmarker is opened: IMAGE mode for a still photo (or separate images,
    as workshop mode's tiles and crops are), VIDEO mode for a stream (files and cameras).

    ``model`` is a ``.task`` file (default ``$POSECOACH_MODEL`` or the bundled model);
    ``max_faces`` the most faces found in one image; ``verbose`` lets MediaPipe's native log
    lines through.

    Raises:
        ModelError: the model is missing or broken (one line naming the file).
    """
    return FaceTracker(model, TrackerMode.IMAGE if still else TrackerMode.VIDEO, max_faces=max_faces, verbose=verbose)


# -- the frame loop ----------------------------------------------------------------------------
def coach_frames(
    frames: Iterable[Frame | None],
    session: CoachSession,
    on_frame: OnFrame | None = None,
    *,
    timer: StageTimer | None = None,
    max_frames: int | None = None,
    lookahead: int = 0,
) -> int:
    """Coach every frame through ``session``; returns how many frames were coached.

    A None frame (a camera hiccup) keeps the session's state and carries on. After each
    frame ``on_frame(frame, result)`` is called (``result`` None when the frame could not be
    processed); returning False stops the loop, as does reaching ``max_frames``. With a
    ``timer`` the wait for each frame is timed as the ``decode`` stage.

    ``lookahead`` (files only: a camera must not wait) reads that many frames ahead, so the
    loop knows where the stream ends: a face that appears in the last frames and stays to the
    end is coached, though the end comes before the face could persist for the pipeline's
    ``min_face_frames`` (a mid-stream flicker still does not count).
    """
    n = 0
    it = iter(frames)
    ahead: deque[Frame] = deque()
    ended = False
    while True:
        while not ended and len(ahead) <= lookahead:
            t0 = time.perf_counter()
            frame = next(it, _END)
            if frame is _END:
                ended = True
            elif frame is None:
                session.frame_missing("camera lost")
            else:
                if timer is not None:
                    timer.add("decode", time.perf_counter() - t0)
                ahead.append(frame)
        if not ahead:
            return n
        if ended and lookahead and (max_frames is None or n + len(ahead) <= max_frames):
            return n + _coach_tail(list(ahead), session, on_frame)
        frame = ahead.popleft()
        result = session.process(frame.image, frame.t_ms)
        n += 1
        if on_frame is not None and on_frame(frame, result) is False:
            return n
        if max_frames is not None and n >= max_frames:
            return n


def _coach_tail(tail: list[Frame], session: CoachSession, on_frame: OnFrame | None) -> int:
    """The last frames of a stream: each is tracked first, then coached knowing whether its
    face stays to the end (``persists``). Returns how many were coached."""
    faces = [session.detect(frame.image, frame.t_ms) for frame in tail]
    present = [face is not None and session.pipeline.coachable(face) for face in faces]
    n = 0
    for i, (frame, face) in enumerate(zip(tail, faces)):
        result = session.process(frame.image, frame.t_ms, face=face, persists=all(present[i:]))
        n += 1
        if on_frame is not None and on_frame(frame, result) is False:
            break
    return n


@dataclass(frozen=True, eq=False)
class SourceRun:
    """A photo or video coached to its end: the session (timeline, captures, last result), the
    summary of every coached frame, and the seconds the frames took (the model load aside)."""

    session: CoachSession
    summary: Summary
    frames: int
    elapsed_s: float


def run_source(
    source: ImageSource | VideoFileSource,
    target: Target,
    settings: CoachSettings,
    on_frame: OnFrame | None = None,
    *,
    model: str | None = None,
    verbose: bool = False,
    timer: StageTimer | None = None,
    max_frames: int | None = None,
) -> SourceRun:
    """Coach an opened photo or video file (the caller closes it) with its own landmarker:
    a photo as a still, a video as a stream. ``on_frame`` as in :func:`coach_frames`.

    Raises:
        ModelError: the model is missing or broken.
    """
    still = source.is_image
    summary = Summary()

    def step(frame: Frame, result: FrameResult | None) -> bool | None:
        if result is not None:
            summary.add(result)
        return on_frame(frame, result) if on_frame is not None else None

    with open_tracker(model, still=still, verbose=verbose) as tracker:
        session = CoachSession(settings.pipeline(target, tracker, still=still, timer=timer))
        started = time.perf_counter()  # after loading the model: fps is about the frames
        # A file ends: look ahead so its last frames' face is not hidden by the persistence rule.
        lookahead = 0 if still else session.pipeline.options.min_face_frames - 1
        n = coach_frames(source, session, step, timer=timer, max_frames=max_frames, lookahead=lookahead)
        elapsed = time.perf_counter() - started
    return SourceRun(session, summary, n, elapsed)


def shown(
    annotator: Annotator, image: np.ndarray, result: FrameResult, settings: CoachSettings, target: Target
) -> np.ndarray:
    """The picture as the person sees it: mirrored if chosen, with the coaching drawn on it."""
    view = cv2.flip(image, 1) if settings.mirror else image.copy()
    return annotator.annotate(view, result, mirrored=settings.mirror, target=target)


@dataclass(frozen=True, eq=False)
class ClipRun:
    """A practice clip, coached frame by frame.

    ``snapshot`` is the session at the end (timeline, captures, last result);
    ``preview`` the annotated frame with the best score (or the last frame);
    ``best_result`` that frame's result (None without a coached face);
    ``fps`` how fast it was processed; ``duration_s`` how long the clip runs (seconds);
    ``expected_frames`` what the container promised (None if unknown); ``truncated`` True
    when clearly fewer frames could be decoded (a file cut short);
    ``replay`` the annotated frames to play back with their results (see
    :mod:`posecoach.replay`); ``work_on`` the cues that held longest (what to work on).
    """

    name: str
    snapshot: SessionSnapshot
    preview: np.ndarray
    frames: int
    fps: float
    best_score: float | None
    best_result: FrameResult | None = None
    duration_s: float = 0.0
    expected_frames: int | None = None
    truncated: bool = False
    replay: ClipReplay | None = None
    work_on: tuple[WorkOn, ...] = ()


def run_clip(
    data: bytes,
    name: str,
    target: Target,
    settings: CoachSettings,
    *,
    on_progress: Callable[[int, int | None, np.ndarray | None], None] | None = None,
    preview_every: int = 10,
    max_frames: int = 20_000,
    replay: bool = True,
) -> ClipRun:
    """Coach a whole uploaded clip, read from memory (never written to disk on Linux).

    ``on_progress(done, total, annotated_preview_or_None)`` is called every frame (with a
    preview every ``preview_every`` frames). With ``replay`` the annotated frames are kept
    (at display size, as JPEG, within a byte budget) to be played back.

    Raises:
        SourceError: the bytes are not a video posecoach can read.
        ModelError: the model is missing or broken.
    """
    annotator = Annotator(detail=settings.detail)
    best: tuple[float, np.ndarray, FrameResult] | None = None
    last: tuple[np.ndarray, FrameResult] | None = None
    n = 0
    t_first = t_last = 0.0
    recorder = ReplayRecorder(lambda image, result: shown(annotator, image, result, settings, target)) if replay else None

    with open_upload(data, name) as source:

        def step(frame: Frame, result: FrameResult | None) -> None:
            nonlocal best, last, n, t_first, t_last
            if n == 0:
                t_first = frame.t_ms
            t_last = frame.t_ms
            n += 1
            if result is not None:
                last = (frame.image, result)
                if result.score is not None and (best is None or result.score.score > best[0]):
                    best = (result.score.score, frame.image.copy(), result)
                if recorder is not None:
                    recorder.add(frame.index, frame.t_ms, frame.image, result)
            if on_progress is not None:
                preview = None
                if result is not None and n % preview_every == 1:
                    preview = shown(annotator, frame.image, result, settings, target)
                on_progress(n, source.n_frames, preview)

        run = run_source(source, target, settings, step, max_frames=max_frames)
        expected = source.n_frames
        truncated = run.frames < max_frames and source.ended_early
        step_ms = 1000.0 / (source.fps or 30.0)
    if best is not None:
        preview = shown(annotator, best[1], best[2], settings, target)
    elif last is not None:
        preview = shown(annotator, last[0], last[1], settings, target)
    else:
        preview = np.zeros((360, 640, 3), np.uint8)
    return ClipRun(
        name=name,
        snapshot=run.session.snapshot(),
        preview=preview,
        frames=run.frames,
        fps=run.frames / run.elapsed_s if run.elapsed_s > 0 else 0.0,
        best_score=best[0] if best is not None else None,
        best_result=best[2] if best is not None else None,
        duration_s=max(0.0, t_last - t_first + step_ms) / 1000.0,
        expected_frames=expected,
        truncated=truncated,
        replay=recorder.replay(run.session.snapshot().captures) if recorder is not None else None,
        work_on=run.summary.work_on(),
    )


@dataclass(frozen=True, eq=False)
class PhotoRun:
    """A single photo, coached: its result, the annotated picture and a one-entry snapshot."""

    result: FrameResult
    preview: np.ndarray
    snapshot: SessionSnapshot


def run_photo(image: np.ndarray, tracker: FaceTracker, target: Target, settings: CoachSettings) -> PhotoRun:
    """Coach one photo (upright BGR) with an IMAGE-mode ``tracker``, as a still.

    Raises:
        SourceError: the photo could not be processed.
    """
    session = CoachSession(settings.pipeline(target, tracker, still=True))
    coach_frames([Frame(image, 0, 0.0)], session)
    snapshot = session.snapshot()
    if snapshot.result is None:
        raise SourceError("the photo could not be processed")
    preview = shown(Annotator(detail=settings.detail), image, snapshot.result, settings, target)
    return PhotoRun(snapshot.result, preview, snapshot)


class PhotoCoach:
    """Coaches photo after photo with one IMAGE-mode landmarker kept open (a page's
    snapshots: the model loads once). Closed by :meth:`close`, with this object, or when the
    server exits.

    Raises:
        ModelError: the model is missing or broken.
    """

    def __init__(self, model: str | None = None) -> None:
        self.tracker = open_tracker(model, still=True)
        self._finalizer = tie_tracker(self, self.tracker)

    def run(self, data: bytes, name: str, target: Target, settings: CoachSettings) -> PhotoRun:
        """Coach a photo file's bytes, decoded like any photo posecoach reads
        (:func:`~posecoach.sources.decode_image_bytes`: EXIF orientation, bounded size).

        Raises:
            SourceError: not a photo posecoach can read, or a video (an animated GIF
                included: it is a clip, as on the command line).
        """
        if data and media_kind(data, name) is MediaKind.VIDEO:
            raise SourceError(f"{name}: is a video, not a photo (use Practise on a video for clips)")
        return run_photo(decode_image_bytes(data, name), self.tracker, target, settings)

    def close(self) -> None:
        if self._finalizer.detach() is not None:
            self.tracker.close()


# -- a camera ----------------------------------------------------------------------------------
def run_live(
    frames: Iterable[Frame | None],
    session: CoachSession,
    show: Callable[[np.ndarray], bool],
    *,
    mirror: bool = True,
    annotate: Callable[[np.ndarray, FrameResult], np.ndarray] | None = None,
    max_frames: int | None = None,
) -> int:
    """The live loop, independent of where frames come from and where they are shown.

    ``show(image)`` displays one frame (mirrored if ``mirror``, drawn on by
    ``annotate(view, result)``) and returns False when the person wants to quit. A None frame
    (camera hiccup) keeps the session's state and carries on. Returns the number of frames
    processed.
    """

    def display(frame: Frame, result: FrameResult | None) -> bool:
        view = cv2.flip(frame.image, 1) if mirror else frame.image.copy()
        if annotate is not None and result is not None:
            view = annotate(view, result)
        return show(view)

    return coach_frames(frames, session, display, max_frames=max_frames)


def coach_live(
    source: Iterable[Frame | None],
    target: Target,
    settings: CoachSettings,
    show: Callable[[np.ndarray], bool],
    *,
    annotate: Callable[[np.ndarray, FrameResult], np.ndarray] | None = None,
    model: str | None = None,
    verbose: bool = False,
) -> CoachSession:
    """Coach a camera (or a video played as one) until ``show`` says stop or the frames end
    (see :func:`run_live`); returns the session (its captures are the holds).

    Raises:
        ModelError: the model is missing or broken.
    """
    with open_tracker(model, verbose=verbose) as tracker:
        session = CoachSession(settings.pipeline(target, tracker))
        run_live(source, session, show, mirror=settings.mirror, annotate=annotate)
    return session
