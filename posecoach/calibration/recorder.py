"""The guided, timed calibration for live use: the one list of phases and their prompts.

:class:`CalibrationRecorder` is fed one frame's raw metrics at a time
(``update(result, t_ms) -> CalibrationState``) by the live page's video callback or by
:func:`run_timed` (the terminal), counts down, records each phase, checks it at once
(:func:`~posecoach.calibration.phases.check_phase`) and learns the profile from the accepted
phases. :data:`DEFAULT_PLAN` is the one place the phases' titles and prompts are written.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from posecoach.calibration.phases import (
    Observer,
    PhaseRejected,
    PhaseSamples,
    PhaseStats,
    check_phase,
    profile_from_stats,
)
from posecoach.calibration.profile import (
    DEFAULT_LIMITS,
    CalibrationError,
    CalibrationLimits,
    CalibrationProfile,
    validate_name,
)
from posecoach.results import FrameResult, Metrics

if TYPE_CHECKING:  # pragma: no cover - typing only
    from posecoach.sources import Frame

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PhasePlan:
    """One timed phase: what to ask for and for how long to record (seconds)."""

    phase: str
    title: str
    prompt: str
    record_s: float


#: The default guided calibration: about 14 s with the 2 s get-ready countdowns.
DEFAULT_PLAN: tuple[PhasePlan, ...] = (
    PhasePlan("neutral", "Neutral face", "Relax your face and look straight into the lens", 3.0),
    PhasePlan("smile", "Big smile", "Give your biggest natural smile and hold it", 3.0),
    PhasePlan("closed", "Eyes closed", "Gently close your eyes and keep them closed", 2.0),
)
#: Each phase's short title ("Big smile"), as the prompts and every message name it.
PHASE_TITLES: Mapping[str, str] = {plan.phase: plan.title for plan in DEFAULT_PLAN}


@dataclass(frozen=True)
class CalibrationState:
    """Everything a page or terminal needs to show the calibration, as plain data.

    Attributes:
        status: ``"prepare"`` (countdown before a phase records), ``"record"`` (recording),
            ``"done"`` (``profile`` is set) or ``"failed"`` (``feedback`` says why).
        phase: the current phase name (None when done/failed).
        title: the phase's short title ("Big smile").
        phase_number: 1-based number of the current phase; ``n_phases``: how many.
        seconds_left: of the current countdown or recording.
        prompt: the instruction to show now (for a person looking at a mirror image).
        face_found: the last frame had a face.
        feedback: the last finished phase's outcome ("" before the first), for the person.
        feedback_ok: whether that phase was accepted (None before the first).
        attempt: 1-based attempt at the current phase.
        progress: 0..1 through the whole calibration (recording time).
        profile: the result once ``status == "done"``.
    """

    status: str
    phase: str | None
    title: str
    phase_number: int
    n_phases: int
    seconds_left: float
    prompt: str
    face_found: bool
    feedback: str
    feedback_ok: bool | None
    attempt: int
    progress: float
    profile: CalibrationProfile | None = None

    @property
    def finished(self) -> bool:
        return self.status in ("done", "failed")

    @property
    def recording(self) -> bool:
        return self.status == "record"


class CalibrationRecorder:
    """The guided, timed calibration for live use: ``update(result, t_ms) -> CalibrationState``.

    Each phase has a get-ready countdown (``prepare_s``) and then records for its
    ``record_s``. When a phase ends it is checked at once: a usable phase moves on with
    positive feedback; an unusable one is repeated (up to ``max_attempts``) with the reason
    as feedback. After the last phase the profile is built (``status == "done"``). Time
    comes from ``t_ms`` only, so a frame without a face still advances it.

    Feed it raw metrics: a :class:`~posecoach.results.FrameResult` (its ``raw_metrics`` are
    used, never the calibrated/smoothed ones), a :class:`Metrics`, or None (no face).

    Thread-safety: ``update`` (video worker thread) and ``state``/``skip_phase``/``restart``/
    ``restart_phase`` (page thread) may be called from different threads.

    Example::

        rec = CalibrationRecorder("ana")
        for frame in frames:
            result = pipeline.process(frame.image, frame.t_ms)
            state = rec.update(result, frame.t_ms, luma=frame_luma(frame.image))
            if state.finished:
                break
        if state.status == "done":
            save_profile(state.profile)
    """

    def __init__(
        self,
        name: str,
        *,
        include_closed: bool = True,
        plan: Sequence[PhasePlan] = DEFAULT_PLAN,
        prepare_s: float = 2.0,
        max_attempts: int = 3,
        limits: CalibrationLimits = DEFAULT_LIMITS,
    ) -> None:
        self.name = validate_name(name)
        plans = [p for p in plan if include_closed or p.phase != "closed"]
        phases = [p.phase for p in plans]
        if phases[:2] != ["neutral", "smile"] or phases[2:] not in ([], ["closed"]):
            raise ValueError(f"calibration plan must be neutral, smile[, closed], got {phases}")
        self.plan = tuple(plans)
        self.prepare_s = float(prepare_s)
        self.max_attempts = max_attempts
        self.limits = limits
        self._lock = threading.Lock()
        self.restart()

    # -- control (any thread) ----------------------------------------------------------
    def restart(self) -> None:
        """Start over from the first phase (keeps nothing)."""
        with self._lock:
            self._index = 0
            self._attempt = 1
            self._stage = "prepare"
            self._stage_t0: float | None = None
            self._resumed = False  # restart_phase: the countdown's clock may start over once
            self._t = 0.0
            self._metrics: list[Metrics | None] = []
            self._luma: list[float] = []
            self._samples: dict[str, PhaseSamples] = {}
            self._stats: dict[str, PhaseStats] = {}
            self._feedback = ""
            self._feedback_ok: bool | None = None
            self._face_found = False
            self._profile: CalibrationProfile | None = None
            self._state = self._make_state()

    def restart_phase(self) -> CalibrationState:
        """Start the current phase over from its countdown, keeping the phases already
        accepted (the camera stopped in the middle: its frames no longer tell a steady
        story). No effect once done or failed. Time restarts with the next frame, whatever
        its timestamp (a camera started again may count from zero)."""
        with self._lock:
            if self._stage in ("prepare", "record"):
                self._stage, self._stage_t0, self._t, self._resumed = "prepare", None, 0.0, True
                self._metrics, self._luma = [], []
                self._face_found = False
                self._state = self._make_state()
            return self._state

    def skip_phase(self) -> CalibrationState:
        """Skip the optional eyes-closed phase (no effect in other phases)."""
        with self._lock:
            if self._stage in ("prepare", "record") and self.plan[self._index].phase == "closed":
                self._feedback, self._feedback_ok = "Eyes closed: skipped (a default is used)", True
                self._finish()
                self._state = self._make_state()
            return self._state

    @property
    def duration_s(self) -> float:
        """How long the whole calibration takes without repeats (countdowns included), seconds."""
        return sum(p.record_s for p in self.plan) + self.prepare_s * len(self.plan)

    @property
    def state(self) -> CalibrationState:
        """The latest state (an immutable value; safe to read from any thread)."""
        return self._state

    @property
    def samples(self) -> dict[str, PhaseSamples]:
        """The accepted phases' samples so far (e.g. for a before/after view)."""
        with self._lock:
            return dict(self._samples)

    @property
    def stats(self) -> tuple[PhaseStats, ...]:
        """The accepted phases' statistics so far, in the order they were recorded."""
        with self._lock:
            return tuple(self._stats.values())

    # -- the per-frame path (video thread) ---------------------------------------------
    def update(
        self,
        observation: FrameResult | Metrics | None,
        t_ms: float,
        *,
        luma: float | None = None,
    ) -> CalibrationState:
        """Advance to ``t_ms`` with one frame's observation; never raises for a bad frame.

        Args:
            observation: a FrameResult (``raw_metrics`` used), raw Metrics, or None.
            t_ms: the frame's time in milliseconds (non-decreasing).
            luma: the frame's mean brightness 0..255, if known (enables the "too dark" check).
        """
        metrics = observation.raw_metrics if isinstance(observation, FrameResult) else observation
        if not isinstance(metrics, Metrics):
            metrics = None
        with self._lock:
            try:
                return self._update(metrics, t_ms, luma)
            except Exception as e:  # noqa: BLE001 - the stream must live on
                log.warning("calibration frame skipped: %s", e)
                return self._state

    # -- internals (lock held) ---------------------------------------------------------
    def _update(self, metrics: Metrics | None, t_ms: float, luma: float | None) -> CalibrationState:
        if self._stage in ("done", "failed"):
            return self._state
        prev = self._t
        t = float(t_ms) / 1000.0 if t_ms is not None and math.isfinite(t_ms) else prev
        t = max(t, prev)
        self._t = t
        self._face_found = metrics is not None
        if self._stage_t0 is None:
            self._stage_t0 = t  # a countdown starts with its first frame
        elif self._resumed and self._stage == "prepare" and t - prev > self.prepare_s:
            # After restart_phase (STOP), a frame still in flight started the clock that the
            # next START, seconds later, would find run out: start it over, once (a camera
            # slower than one frame per countdown must still get to record).
            self._stage_t0, self._resumed = t, False
        if self._stage == "prepare" and t - self._stage_t0 >= self.prepare_s:
            self._stage, self._stage_t0, self._resumed = "record", t, False
            self._metrics, self._luma = [], []
        if self._stage == "record":
            plan = self.plan[self._index]
            if t - self._stage_t0 < plan.record_s:
                self._metrics.append(metrics)
                self._luma.append(float(luma) if luma is not None and math.isfinite(luma) else math.nan)
            else:
                self._end_phase()
        self._state = self._make_state()
        return self._state

    def _end_phase(self) -> None:
        plan = self.plan[self._index]
        lumas = self._luma if self._luma and all(math.isfinite(v) for v in self._luma) else []
        samples = PhaseSamples(tuple(self._metrics), tuple(lumas))
        try:
            stats = check_phase(plan.phase, samples, self._stats.get("neutral"), self.limits)
        except PhaseRejected as e:
            self._attempt += 1
            if self._attempt > self.max_attempts:
                self._feedback = f"{plan.title}: {e.reason}"
                self._feedback_ok = False
                self._stage = "failed"
            else:
                self._feedback = f"{plan.title}: let's try that again - {e.reason}"
                self._feedback_ok = False
                self._stage, self._stage_t0 = "prepare", self._t
            self._metrics, self._luma = [], []
            return
        self._samples[plan.phase] = samples
        self._stats[plan.phase] = stats
        self._feedback = f"{plan.title}: done ({stats.with_face} frames with your face)"
        self._feedback_ok = True
        self._metrics, self._luma = [], []
        if self._index + 1 < len(self.plan):
            self._index += 1
            self._attempt = 1
            self._stage, self._stage_t0 = "prepare", self._t
        else:
            self._finish()

    def _finish(self) -> None:
        try:
            # Each phase was checked as it ended: learn from those statistics, no second pass.
            self._profile = profile_from_stats(
                self.name, self._stats["neutral"], self._stats["smile"], self._stats.get("closed"), limits=self.limits
            )
            self._stage = "done"
        except CalibrationError as e:  # not expected: each phase was checked
            self._feedback, self._feedback_ok = str(e), False
            self._stage = "failed"

    def _make_state(self) -> CalibrationState:
        n = len(self.plan)
        total = sum(p.record_s for p in self.plan)
        done_s = sum(p.record_s for p in self.plan[: self._index])
        if self._stage in ("done", "failed"):
            ok = self._stage == "done"
            return CalibrationState(
                status=self._stage,
                phase=None,
                title="Calibration done" if ok else "Calibration failed",
                phase_number=n,
                n_phases=n,
                seconds_left=0.0,
                prompt="All set: coaching now follows your own face" if ok else "Calibration stopped: try again",
                face_found=self._face_found,
                feedback=self._feedback,
                feedback_ok=self._feedback_ok,
                attempt=self._attempt,
                progress=1.0 if ok else done_s / total,
                profile=self._profile,
            )
        plan = self.plan[self._index]
        elapsed = self._t - self._stage_t0 if self._stage_t0 is not None else 0.0
        if self._stage == "prepare":
            left = max(0.0, self.prepare_s - elapsed)
            prompt = f"Get ready: {plan.prompt[0].lower()}{plan.prompt[1:]}"
            progress = done_s / total
        else:
            left = max(0.0, plan.record_s - elapsed)
            prompt = plan.prompt
            progress = (done_s + min(elapsed, plan.record_s)) / total
        return CalibrationState(
            status=self._stage,
            phase=plan.phase,
            title=plan.title,
            phase_number=self._index + 1,
            n_phases=n,
            seconds_left=left,
            prompt=prompt,
            face_found=self._face_found,
            feedback=self._feedback,
            feedback_ok=self._feedback_ok,
            attempt=self._attempt,
            progress=progress,
            profile=None,
        )


def run_timed(
    frames: Iterable[Frame | None],
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
