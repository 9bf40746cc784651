"""Observing calibration frames with the real tracker, and prompting in a terminal."""

from __future__ import annotations

import math
from collections.abc import Callable

from posecoach.calibration import CalibrationState, frame_luma
from posecoach.results import Metrics


class TrackerObserver:
    """Observe frames with a :class:`~posecoach.detector.FaceTracker` (owned by the caller).

    A face that :func:`~posecoach.metrics.is_plausible_face` rejects counts as no face.
    """

    def __init__(self, tracker) -> None:  # noqa: ANN001 - FaceTracker
        self.tracker = tracker

    def __call__(self, frame) -> tuple[Metrics | None, float]:  # noqa: ANN001 - sources.Frame
        from posecoach.metrics import compute_metrics, is_plausible_face

        face = self.tracker.process(frame.image, frame.t_ms)
        metrics = compute_metrics(face) if face.has_face and is_plausible_face(face) else None
        return metrics, frame_luma(frame.image)


class TerminalPrompter:
    """Prints a live calibration's prompts, countdown and feedback as plain lines.

    Call it with every :class:`CalibrationState`; it prints only what changed (a new prompt,
    each whole second of the countdown, a phase's feedback, "we can't see your face").
    """

    def __init__(self, write: Callable[[str], None], *, bell: bool = True) -> None:
        self.write = write
        self.bell = bell
        self._key: tuple | None = None
        self._feedback = ""
        self._second = -1
        self._face_warned = False

    def __call__(self, state: CalibrationState) -> None:
        if state.feedback and state.feedback != self._feedback:
            self._feedback = state.feedback
            # A bell too: after the eyes-closed phase the person cannot see the screen.
            bell = "\a" if self.bell else ""
            self.write(bell + ("  ok: " if state.feedback_ok else "  ") + state.feedback)
        if state.finished:
            return
        key = (state.status, state.phase, state.attempt)
        if key != self._key:
            self._key = key
            self._second = -1
            if state.status == "prepare":
                self.write(f"[{state.phase_number}/{state.n_phases}] {state.title}: {state.prompt}")
            else:
                bell = "\a" if self.bell else ""
                self.write(f"{bell}  recording {state.seconds_left:.0f} s: {state.prompt}")
        second = math.ceil(state.seconds_left)
        if state.status == "prepare" and second != self._second and second > 0:
            self._second = second
            self.write(f"  {second}...")
        if state.status == "record" and not state.face_found and not self._face_warned:
            self._face_warned = True
            self.write("  we can't see your face: move into the frame")
        elif state.face_found:
            self._face_warned = False
