"""The drills' flows: a recorded clip through the shutter drill, and any drill on the live camera.

* :func:`run_shutter` / :func:`run_shutter_upload`: a clip coached with the existing frame loop
  (:func:`posecoach.runs.run_source`), every result fed to a
  :class:`~posecoach.drills.shutter.ShutterDrill`, a thumbnail kept of each shot (the raw frame,
  as the camera took it) for the contact sheet. Nothing is written here.
* :class:`LiveDrill`: a drill on a running :class:`~posecoach.session.CoachSession` (the live
  camera): :meth:`LiveDrill.attach` makes it the session's listener, so every frame updates the
  drill on the processing thread; the page reads :meth:`LiveDrill.view` (lock-guarded) and the
  live picture goes through :meth:`LiveDrill.screen` (lens recall hides the mirror).
"""

from __future__ import annotations

import enum
import random
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np

from posecoach.drills.blink import BlinkOnCue, BlinkPhase, BlinkSettings, BlinkState, blink_lines
from posecoach.drills.recall import LensRecall, RecallPhase, RecallResult, RecallSettings, RecallState
from posecoach.drills.schedule import Every, ShotSchedule
from posecoach.drills.sheet import contact_sheet, thumbnail
from posecoach.drills.shutter import KeeperRules, ShutterDrill, ShutterState, ShutterSummary
from posecoach.results import FrameResult
from posecoach.targets import Target

if TYPE_CHECKING:  # pragma: no cover - typing only
    from posecoach.runs import CoachSettings
    from posecoach.session import CoachSession
    from posecoach.sources import ImageSource, VideoFileSource


class DrillKind(str, enum.Enum):
    """The shoot-day drills."""

    SHUTTER = "Shutter drill"
    RECALL = "Lens recall"
    BLINK = "Blink on cue"


# -- a clip through the shutter drill ----------------------------------------------------------
@dataclass(frozen=True, eq=False)
class ShutterRun:
    """A clip through the shutter drill: the summary, one thumbnail per shot, frames coached."""

    summary: ShutterSummary
    thumbs: tuple[np.ndarray, ...]
    frames: int

    def sheet(self) -> np.ndarray:
        """The contact sheet (BGR). Raises ValueError without shots."""
        return contact_sheet(list(zip(self.summary.shots, self.thumbs)))

    def to_json(self) -> dict[str, Any]:
        """``{"shots": [{"frame", "t_ms", "score", "eyes", "gaze_on_lens", "keeper", "why"}], "summary": {...}}``."""
        return {"shots": [s.to_json() for s in self.summary.shots], "summary": self.summary.to_json()}


def run_shutter(
    source: ImageSource | VideoFileSource,
    target: Target,
    settings: CoachSettings,
    *,
    schedule: ShotSchedule,
    rules: KeeperRules = KeeperRules(),
    model: str | None = None,
    verbose: bool = False,
) -> ShutterRun:
    """The shutter drill on an opened video (the caller closes it).

    Raises:
        SourceError: the source is a photo (a drill needs time).
        ModelError: the model is missing or broken.
    """
    from posecoach.runs import run_source
    from posecoach.sources import SourceError

    if source.is_image:
        raise SourceError(f"{source.name}: the shutter drill needs a video (a few seconds of you), not a photo")
    drill = ShutterDrill(target.threshold, schedule, rules)
    thumbs: list[np.ndarray] = []

    def on_frame(frame, result: FrameResult | None) -> None:  # noqa: ANN001 - sources.Frame
        if result is not None and drill.update(result).shot is not None:
            thumbs.append(thumbnail(frame.image))

    run = run_source(source, target, settings, on_frame, model=model, verbose=verbose)
    return ShutterRun(drill.summary(), tuple(thumbs), run.frames)


def run_shutter_upload(data: bytes, name: str, target: Target, settings: CoachSettings, *,
                       schedule: ShotSchedule) -> ShutterRun:  # fmt: skip
    """:func:`run_shutter` on an uploaded clip, read from memory.

    Raises:
        SourceError: not a video posecoach can read (a photo included).
        ModelError: the model is missing or broken.
    """
    from posecoach.uploads import open_upload

    with open_upload(data, name) as source:
        return run_shutter(source, target, settings, schedule=schedule)


# -- a drill on the live camera ----------------------------------------------------------------
#: How long the picture flashes after a click (ms).
FLASH_MS = 120.0


@dataclass(frozen=True)
class DrillView:
    """What the page shows of a live drill, read in one piece.

    ``state``: the drill's last state; ``events``: how many sound events so far (a click, a
    phase beginning) and ``last_event`` the latest ("shutter", "held" or "cue"), so the page
    plays each once; ``prompt`` the words of the latest cue; ``finished`` the drill is over.
    """

    kind: DrillKind
    state: ShutterState | RecallState | BlinkState
    events: int
    last_event: str
    prompt: str
    finished: bool
    seed: int | None


class LiveDrill:
    """One drill on the live camera (see the module docstring).

    Args:
        kind: which drill.
        target: the look practised (its threshold judges the shots and phases).
        every, seed: the shutter's rhythm (seed None: a new random one, shown on the page).
        recall, blink: the other drills' settings.
        kind_mode: the picture shows no coaching marks (the numbers are still recorded).
    """

    def __init__(self, kind: DrillKind, target: Target, *, every: Every = Every(), seed: int | None = None,
                 recall: RecallSettings = RecallSettings(), blink: BlinkSettings = BlinkSettings(),
                 kind_mode: bool = False) -> None:  # fmt: skip
        self.kind = kind
        self.target = target
        self.kind_mode = kind_mode
        self.seed = seed if seed is not None else random.SystemRandom().randrange(2**31)
        if kind is DrillKind.SHUTTER:
            self.drill: Any = ShutterDrill(target.threshold, ShotSchedule(every, self.seed))
        elif kind is DrillKind.RECALL:
            self.drill = LensRecall(target.threshold, recall)
        else:
            self.drill = BlinkOnCue(target.threshold, blink)
        self._lock = threading.Lock()
        self._session: CoachSession | None = None
        self._thumbs: list[np.ndarray] = []
        self._events = 0
        self._last_event = ""
        self._prompt = ""
        self._flash_until = -1.0
        self._last_t = 0.0

    # -- wiring --------------------------------------------------------------------------------
    def attach(self, session: CoachSession) -> None:
        with self._lock:
            self._session = session
            session.listener = self._on_result

    def detach(self) -> None:
        with self._lock:
            if self._session is not None and self._session.listener == self._on_result:
                self._session.listener = None
            self._session = None

    # -- processing thread ---------------------------------------------------------------------
    def _on_result(self, result: FrameResult, image: np.ndarray) -> None:
        with self._lock:
            self._last_t = result.t_ms
            state = self.drill.update(result)
            if isinstance(state, ShutterState):
                if state.shot is not None:
                    self._thumbs.append(thumbnail(image))
                    self._event("shutter", state.shot.why or "keeper")
                    self._flash_until = result.t_ms + FLASH_MS
            elif state.changed:
                # The look held in the mirror (recall) is the hold-reached sound; a blink cue is spoken.
                held = isinstance(state, RecallState) and state.phase is RecallPhase.RECALL
                self._event("held" if held else "cue", state.prompt)

    def _event(self, what: str, prompt: str) -> None:
        self._events += 1
        self._last_event = what
        self._prompt = prompt

    def screen(self, view: np.ndarray) -> np.ndarray | None:
        """The live picture instead of the coaching (None: coach as usual). ``view`` is the
        picture as shown (mirrored if chosen); called on the processing thread after the frame."""
        with self._lock:
            state = self.drill.state
            flash = self._last_t <= self._flash_until
        if isinstance(state, RecallState) and state.phase is RecallPhase.RECALL:
            return lens_screen(view.shape[1], view.shape[0])
        if not (self.kind_mode or flash):
            return None
        out = view.copy()
        if flash:  # the click, seen
            out = cv2.addWeighted(out, 0.4, np.full_like(out, 255), 0.6, 0.0)
        return out

    # -- page thread ---------------------------------------------------------------------------
    def view(self) -> DrillView:
        with self._lock:
            state = self.drill.state
            return DrillView(self.kind, state, self._events, self._last_event, self._prompt,
                             finished=getattr(state, "phase", None) in (RecallPhase.DONE, BlinkPhase.DONE),
                             seed=self.seed if self.kind is DrillKind.SHUTTER else None)  # fmt: skip

    def shutter_summary(self) -> tuple[ShutterSummary, tuple[np.ndarray, ...]] | None:
        """The shutter drill so far (None for other drills), with one thumbnail per shot."""
        with self._lock:
            if not isinstance(self.drill, ShutterDrill):
                return None
            return self.drill.summary(), tuple(self._thumbs)

    def lines(self) -> list[str]:
        """The drill's result so far, as lines."""
        with self._lock:
            if isinstance(self.drill, ShutterDrill):
                return self.drill.summary().lines()
            if isinstance(self.drill, LensRecall):
                return RecallResult(self.drill.state.done).lines()
            return blink_lines(self.drill.state.done)


def lens_screen(width: int, height: int) -> np.ndarray:
    """The recall's screen: dark, a small mark at the top middle (where a webcam sits), and
    the words "eyes on the lens" under it. Nothing of the face."""
    out = np.full((height, width, 3), 24, np.uint8)
    cx, r = width // 2, max(4, height // 60)
    cv2.circle(out, (cx, r + 6), r, (235, 235, 235), -1, cv2.LINE_AA)
    text = "eyes on the lens"
    scale = max(0.5, height / 600)
    (tw, th), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
    cv2.putText(out, text, (cx - tw // 2, r * 2 + 16 + th), cv2.FONT_HERSHEY_SIMPLEX, scale, (200, 200, 200), 1, cv2.LINE_AA)
    return out
