"""The routine flows: a recorded clip, an upload or the live camera through a routine.

* :func:`run_routine`: an opened video through a :class:`~posecoach.routines.Routine`
  (``posecoach analyze --routine``); :func:`run_routine_upload`: the page's uploaded clip;
* :class:`LiveRoutine`: the same on a running :class:`~posecoach.session.CoachSession` (the
  live camera), switching its pipeline's target on the processing thread as each step ends.

All drive the pure :class:`~posecoach.routines.RoutineRunner` and keep each step's best frame.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import cv2
import numpy as np

from posecoach.results import FrameResult
from posecoach.routines import Routine, RoutineError, RoutineResult, RoutineRunner, RoutineState, Step, StepOutcome
from posecoach.targets import Target

if TYPE_CHECKING:  # pragma: no cover - typing only
    from posecoach.runs import CoachSettings
    from posecoach.session import CoachSession
    from posecoach.sources import ImageSource, VideoFileSource

#: Best frames are kept at most this size (long side, pixels), as JPEG.
BEST_FRAME_MAX_SIDE = 640


def best_frame_jpeg(image: np.ndarray) -> bytes:
    """A picture kept as a step's best frame: at most :data:`BEST_FRAME_MAX_SIDE`, JPEG."""
    h, w = image.shape[:2]
    scale = min(1.0, BEST_FRAME_MAX_SIDE / max(h, w, 1))
    small = cv2.resize(image, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA) if scale < 1 else image
    ok, buf = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, 88])
    return buf.tobytes() if ok else b""


# -- the flows ---------------------------------------------------------------------------------
def step_settings(settings: CoachSettings, step: Step) -> CoachSettings:
    """The person's settings for one step: its target and its own hold (or the target's)."""
    return dataclasses.replace(settings, target=step.target, hold_s=step.hold_s)


@dataclass(frozen=True, eq=False)
class RoutineRun:
    """A clip run through a routine: the result, how many frames were coached, and the
    session (its tally holds one step per routine step, for ``--keep``/``--report``)."""

    result: RoutineResult
    frames: int
    session: CoachSession


def run_routine(
    source: ImageSource | VideoFileSource,
    routine: Routine,
    targets: Mapping[str, Target],
    settings: CoachSettings,
    *,
    on_state: Callable[[RoutineState], None] | None = None,
    model: str | None = None,
    verbose: bool = False,
) -> RoutineRun:
    """Run an opened video (the caller closes it) through ``routine``: each step's frames are
    coached against its target, until the routine ends or the clip does.

    Raises:
        RoutineError: the source is a photo.
        ModelError: the model is missing or broken.
    """
    from posecoach.runs import coach_frames, open_tracker
    from posecoach.session import CoachSession

    if source.is_image:
        raise RoutineError(source.name, "", "a routine needs a video (a clip of you going through the looks), not a photo")
    runner = RoutineRunner(routine, {n: t.title for n, t in targets.items()})
    best: dict[int, np.ndarray] = {}

    def pipeline(i: int, tracker):  # noqa: ANN001, ANN202
        step = routine.steps[i]
        return step_settings(settings, step).pipeline(targets[step.target], tracker)

    def begin(i: int) -> None:
        step = routine.steps[i]
        session.tally.begin_step(targets[step.target], label=step.prompt, time_limit_s=step.time_s)

    with open_tracker(model, verbose=verbose) as tracker:
        session = CoachSession(pipeline(0, tracker))
        begin(0)

        def on_frame(frame, result: FrameResult | None) -> bool:  # noqa: ANN001 - sources.Frame
            if result is None:
                return True
            index = runner.state.index
            state = runner.update(result)
            if state.best_improved:
                best[index] = frame.image.copy()
            if state.advanced:
                if index in best:
                    runner.attach_best_frame(best_frame_jpeg(best.pop(index)), index)
                session.tally.end_step("hold" if state.last_outcome is StepOutcome.HELD else "time")
                if not state.finished:
                    session.pipeline = pipeline(state.index, tracker)
                    begin(state.index)
            if on_state is not None:
                on_state(state)
            return not state.finished

        n = coach_frames(source, session, on_frame)
    for index, image in best.items():  # the step the clip ended in
        runner.attach_best_frame(best_frame_jpeg(image), index)
    return RoutineRun(runner.result(), n, session)


def run_routine_upload(data: bytes, name: str, routine: Routine, targets: Mapping[str, Target],
                       settings: CoachSettings, *, on_state: Callable[[RoutineState], None] | None = None) -> RoutineRun:  # fmt: skip
    """:func:`run_routine` on an uploaded clip, read from memory.

    Raises:
        SourceError: the upload is not a video posecoach can read (a photo included).
        ModelError: the model is missing or broken.
    """
    from posecoach.uploads import open_upload

    with open_upload(data, name) as source:
        return run_routine(source, routine, targets, settings, on_state=on_state)


class LiveRoutine:
    """A routine on a running :class:`~posecoach.session.CoachSession` (the live camera).

    :meth:`attach` makes it the session's listener: every coached frame updates the runner
    on the processing thread, and when a step ends the session's pipeline is switched to the
    next step's target there and then (sharing the tracker). The page reads :meth:`state`
    and :meth:`result` (lock-guarded). ``observe(result)`` is also called with every frame
    (e.g. to collect a best-side check's frames).
    """

    def __init__(self, routine: Routine, targets: Mapping[str, Target], settings: CoachSettings,
                 observe: Callable[[FrameResult], None] | None = None) -> None:  # fmt: skip
        self.routine = routine
        self.targets = dict(targets)
        self.settings = settings
        self.observe = observe
        self._runner = RoutineRunner(routine, {n: t.title for n, t in targets.items()})
        self._lock = threading.Lock()
        self._session: CoachSession | None = None
        self._best: np.ndarray | None = None
        self._begun = -1  # the step the session's tally was last told about

    def step_target(self, index: int | None = None) -> Target | None:
        """The target of step ``index`` (default: the current one); None past the end."""
        i = self.state().index if index is None else index
        return self.targets[self.routine.steps[i].target] if i < len(self.routine.steps) else None

    def step_settings(self, index: int | None = None) -> CoachSettings:
        """The settings for step ``index`` (default: the current one; the last past the end)."""
        i = self.state().index if index is None else index
        return step_settings(self.settings, self.routine.steps[min(i, len(self.routine.steps) - 1)])

    def attach(self, session: CoachSession) -> None:
        """Start on ``session``: its pipeline is switched to the current step's target."""
        with self._lock:
            self._session = session
            self._switch(session, self._runner.state.index)
            session.listener = self._on_result

    def detach(self) -> None:
        """Stop listening (the session keeps coaching whatever target it has)."""
        with self._lock:
            if self._session is not None and self._session.listener == self._on_result:
                self._session.listener = None
            self._session = None

    def _switch(self, session: CoachSession, i: int) -> None:
        if i < len(self.routine.steps):
            step = self.routine.steps[i]
            pipeline = step_settings(self.settings, step).pipeline(self.targets[step.target], session.pipeline.tracker)
            session.pipeline = pipeline
            if i != self._begun:  # a session kept from here holds one step per routine step
                session.tally.begin_step(self.targets[step.target], label=step.prompt, time_limit_s=step.time_s)
                self._begun = i

    def _on_result(self, result: FrameResult, image: np.ndarray) -> None:
        with self._lock:
            index = self._runner.state.index
            state = self._runner.update(result)
            if state.best_improved:
                self._best = image.copy()
            if state.advanced:
                if self._best is not None:
                    self._runner.attach_best_frame(best_frame_jpeg(self._best), index)
                self._best = None
                if self._session is not None:
                    self._session.tally.end_step("hold" if state.last_outcome is StepOutcome.HELD else "time")
                    if not state.finished:
                        self._switch(self._session, state.index)
        if self.observe is not None:
            self.observe(result)

    def state(self) -> RoutineState:
        with self._lock:
            return self._runner.state

    def result(self) -> RoutineResult:
        """The routine so far (the current step's best frame attached)."""
        with self._lock:
            if self._best is not None and not self._runner.state.finished:
                self._runner.attach_best_frame(best_frame_jpeg(self._best), self._runner.state.index)
            return self._runner.result()
