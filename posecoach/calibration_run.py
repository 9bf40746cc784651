"""Running a calibration over frames: time windows of a video file, or timed live phases.

The pure learning lives in :mod:`posecoach.calibration`; this module turns frames into its
inputs. Both runners take a frame iterator and an *observer* (a frame -> (raw metrics or
None, brightness) callable), so they run the same on a camera, a video file or a simulated
source in tests. :class:`TrackerObserver` is the real observer (MediaPipe through
:class:`~posecoach.detector.FaceTracker`, then :func:`~posecoach.metrics.compute_metrics`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from posecoach.calibration import CalibrationRecorder, CalibrationState, PhaseSamples
from posecoach.results import Metrics

#: Frame -> (raw metrics or None without a usable face, mean luma 0..255).
Observer = Callable[["Frame"], tuple[Metrics | None, float]]  # noqa: F821 - sources.Frame


def frame_luma(image: np.ndarray) -> float:
    """Mean brightness (Rec. 601 luma, 0..255) of a BGR(A) or grayscale uint8 frame.

    Every 4th pixel in each direction is enough (about 0.1 ms for 640x360).
    """
    if not isinstance(image, np.ndarray) or image.size == 0:
        return 0.0
    sub = image[::4, ::4]
    if sub.ndim == 2 or sub.shape[2] == 1:
        value = float(sub.mean())
    else:
        means = sub[..., :3].reshape(-1, 3).mean(axis=0)
        value = float(0.114 * means[0] + 0.587 * means[1] + 0.299 * means[2])
    if image.dtype == np.uint16:
        value /= 257.0
    elif np.issubdtype(image.dtype, np.floating):
        value *= 255.0
    return value


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


@dataclass(frozen=True)
class Window:
    """A phase's time range in a video, seconds from its start: ``start <= t < end``."""

    start_s: float
    end_s: float

    def __post_init__(self) -> None:
        if not (math.isfinite(self.start_s) and math.isfinite(self.end_s) and 0 <= self.start_s < self.end_s):
            raise ValueError(f"invalid time window {self.start_s}:{self.end_s}: need 0 <= START < END")

    def contains(self, t_ms: float) -> bool:
        return self.start_s * 1000.0 <= t_ms < self.end_s * 1000.0

    def __str__(self) -> str:
        return f"{self.start_s:g}-{self.end_s:g} s"


def collect_windows(
    frames: Iterable,  # Iterable[sources.Frame]
    observe: Observer,
    windows: Mapping[str, Window],
) -> dict[str, PhaseSamples]:
    """Observe the frames inside each phase's window (decoding sequentially).

    Frames before the first window are skipped without inference; decoding stops after the
    last window ends. Windows may overlap. Returns the samples per phase (a phase whose
    window holds no frame gets empty samples).
    """
    metrics: dict[str, list[Metrics | None]] = {p: [] for p in windows}
    luma: dict[str, list[float]] = {p: [] for p in windows}
    last_ms = max(w.end_s for w in windows.values()) * 1000.0 if windows else 0.0
    for frame in frames:
        if frame is None:
            continue
        if frame.t_ms >= last_ms:
            break
        inside = [p for p, w in windows.items() if w.contains(frame.t_ms)]
        if not inside:
            continue
        m, y = observe(frame)
        for p in inside:
            metrics[p].append(m)
            luma[p].append(y)
    return {p: PhaseSamples(tuple(metrics[p]), tuple(luma[p])) for p in windows}


def run_timed(
    frames: Iterable,  # Iterable[sources.Frame | None]
    observe: Observer,
    recorder: CalibrationRecorder,
    on_state: Callable[[CalibrationState], None] | None = None,
    *,
    max_missing: int | None = None,
) -> CalibrationState:
    """Drive a :class:`CalibrationRecorder` from a frame iterator until it finishes.

    A None frame (camera hiccup) is skipped; time comes from the frames' ``t_ms``. After
    ``max_missing`` None frames in a row the run gives up. ``on_state`` is called with the
    state after every frame (prompts, countdown, feedback). Returns the last state:
    ``finished`` is False when the frames ran out (or stopped coming) first.
    """
    state = recorder.state
    missing = 0
    for frame in frames:
        if frame is None:
            missing += 1
            if max_missing is not None and missing >= max_missing:
                break
            continue
        missing = 0
        m, y = observe(frame)
        state = recorder.update(m, frame.t_ms, luma=y)
        if on_state is not None:
            on_state(state)
        if state.finished:
            break
    return state


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
