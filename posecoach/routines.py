"""Routines: a sequence of target looks, each with a time limit, practised one after another.

A routine file (``assets/routines/*.toml``) looks like this::

    name = "photographers_warmup"          # slug, as for targets
    title = "Photographer's warm-up"
    description = "Loosen up before the shoot: ..."

    [[steps]]
    target = "relaxed_neutral"             # a library or user target
    time_s = 40                            # the step ends after this many seconds at the latest
    hold_s = 10                            # optional: seconds to hold (default: the target's)
    prompt = "Breathe in for 4, out for 6" # optional: what the page says during the step
    breathe_in_s = 4                       # optional, with breathe_out_s: a breathing pace
    breathe_out_s = 6

A step ends when its look is held (``hold_s`` at or above the target's threshold) or when its
time runs out; then the next begins. Loading is strict: :class:`RoutineError` names the file,
the field and the reason (an unknown target, a bad time ...).

* :class:`RoutineRunner`: the pure, stateful ``update(result) -> RoutineState``, driven by
  the :class:`~posecoach.results.FrameResult` of each frame (scored against the current
  step's target); :meth:`RoutineRunner.result` is the :class:`RoutineResult`.
* the flows that drive it (a clip, an upload, the live camera) are in
  :mod:`posecoach.routine_runs`.
"""

from __future__ import annotations

import dataclasses
import enum
import math
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from posecoach.files import FieldError, FileRefused, read_capped
from posecoach.results import FrameResult
from posecoach.targets import _SLUG, Target

#: Where the shipped routines live.
DEFAULT_ROUTINES_DIR = Path(__file__).parent.parent / "assets" / "routines"
MAX_ROUTINE_BYTES = 64 * 1024
MAX_STEPS = 20
#: A step may last at most this long (seconds): a routine is a warm-up, not a session.
MAX_STEP_S = 600.0
MAX_HOLD_S = 60.0
#: A breathing phase between these (seconds): slow paced breathing is ~4-6 s in, 6-8 s out.
BREATH_RANGE_S = (1.0, 15.0)
_TOP_KEYS = ("name", "title", "description", "steps")
_STEP_KEYS = ("target", "time_s", "hold_s", "prompt", "breathe_in_s", "breathe_out_s")


class RoutineError(FieldError):
    """A routine file or name that cannot be used: ``"<file>: <field>: <reason>"``."""


@dataclass(frozen=True)
class Step:
    """One look in a routine: ``target`` (a name), at most ``time_s`` seconds, held for
    ``hold_s`` (None: the target's own hold), with an optional ``prompt`` and breathing pace
    (``breathe_in_s`` / ``breathe_out_s``, both or neither)."""

    target: str
    time_s: float
    hold_s: float | None = None
    prompt: str = ""
    breathe_in_s: float | None = None
    breathe_out_s: float | None = None

    @property
    def breathing(self) -> bool:
        return self.breathe_in_s is not None and self.breathe_out_s is not None


@dataclass(frozen=True)
class Routine:
    """A named sequence of :class:`Step` (at least one)."""

    name: str
    title: str
    description: str
    steps: tuple[Step, ...]

    @property
    def duration_s(self) -> float:
        """The longest it can take (every step running out of time)."""
        return sum(s.time_s for s in self.steps)


# -- loading -----------------------------------------------------------------------------------
def _num(path: str, field_: str, value: Any, lo: float, hi: float, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise RoutineError(path, field_, f"expected {what}, got {value!r}")
    if not lo < value <= hi:
        raise RoutineError(path, field_, f"expected {what} in ({lo:g}, {hi:g}], got {value!r}")
    return float(value)


def _text(path: str, field_: str, value: Any) -> str:
    if not isinstance(value, str):
        raise RoutineError(path, field_, f"expected a string, got {value!r}")
    return value.strip()


def _unknown(path: str, prefix: str, table: Mapping[str, Any], allowed: tuple[str, ...]) -> None:
    for key in table:
        if key not in allowed:
            raise RoutineError(path, prefix + key, f"unknown key (expected one of: {', '.join(allowed)})")


def _step(path: str, i: int, raw: Any, targets: Mapping[str, Target]) -> Step:
    at = f"steps[{i}]"
    if not isinstance(raw, dict):
        raise RoutineError(path, at, f"expected a table ([[steps]]), got {raw!r}")
    _unknown(path, at + ".", raw, _STEP_KEYS)
    if "target" not in raw:
        raise RoutineError(path, f"{at}.target", "missing (expected a target name)")
    name = _text(path, f"{at}.target", raw["target"])
    if name not in targets:
        raise RoutineError(path, f"{at}.target", f"unknown target {name!r} (expected one of: {', '.join(sorted(targets))})")
    if "time_s" not in raw:
        raise RoutineError(path, f"{at}.time_s", "missing (expected seconds for the step)")
    time_s = _num(path, f"{at}.time_s", raw["time_s"], 0.0, MAX_STEP_S, "seconds")
    hold_s = None
    if "hold_s" in raw:
        hold_s = _num(path, f"{at}.hold_s", raw["hold_s"], 0.0, MAX_HOLD_S, "seconds")
        if hold_s > time_s:
            raise RoutineError(path, f"{at}.hold_s", f"expected at most time_s ({time_s:g}), got {hold_s:g}")
    prompt = _text(path, f"{at}.prompt", raw.get("prompt", ""))
    breath = [raw.get(k) for k in ("breathe_in_s", "breathe_out_s")]
    if (breath[0] is None) != (breath[1] is None):
        missing = "breathe_out_s" if breath[1] is None else "breathe_in_s"
        raise RoutineError(path, f"{at}.{missing}", "missing (a breathing pace needs breathe_in_s and breathe_out_s)")
    lo, hi = BREATH_RANGE_S
    b_in = _num(path, f"{at}.breathe_in_s", breath[0], lo, hi, "seconds") if breath[0] is not None else None
    b_out = _num(path, f"{at}.breathe_out_s", breath[1], lo, hi, "seconds") if breath[1] is not None else None
    return Step(name, time_s, hold_s, prompt, b_in, b_out)


def routine_from_dict(data: Mapping[str, Any], targets: Mapping[str, Target], path: str | Path = "<routine>") -> Routine:
    """Validate a parsed routine against the available ``targets`` (raises only RoutineError)."""
    p = str(path)
    if not isinstance(data, dict):
        raise RoutineError(p, "", "expected a table")
    _unknown(p, "", data, _TOP_KEYS)
    name = _text(p, "name", data.get("name", ""))
    if not _SLUG.match(name):
        raise RoutineError(p, "name", f"expected a slug of lowercase letters, digits, '_' or '-', got {name!r}")
    title = _text(p, "title", data.get("title", name.replace("_", " ").capitalize())) or name
    description = _text(p, "description", data.get("description", ""))
    steps = data.get("steps")
    if not isinstance(steps, list) or not steps:
        raise RoutineError(p, "steps", "missing (expected at least one [[steps]] table)")
    if len(steps) > MAX_STEPS:
        raise RoutineError(p, "steps", f"expected at most {MAX_STEPS} steps, got {len(steps)}")
    return Routine(name, title, description, tuple(_step(p, i, raw, targets) for i, raw in enumerate(steps)))


def load_routine(path: str | os.PathLike[str], targets: Mapping[str, Target]) -> Routine:
    """Load and validate one routine file; raises only :class:`RoutineError`."""
    p = os.fspath(path)
    try:
        text = read_capped(path, MAX_ROUTINE_BYTES, "a routine file (.toml)").decode("utf-8-sig")
        data = tomllib.loads(text)
    except FileRefused as e:
        raise RoutineError(p, "", e.reason) from None
    except UnicodeDecodeError as e:
        raise RoutineError(p, "", f"expected UTF-8 text, got an undecodable byte at offset {e.start}") from None
    except (tomllib.TOMLDecodeError, RecursionError, ValueError) as e:
        raise RoutineError(p, "", f"not valid TOML ({e})") from None
    return routine_from_dict(data, targets, p)


def load_routines(targets: Mapping[str, Target], folder: str | os.PathLike[str] | None = None) -> dict[str, Routine]:
    """Every ``*.toml`` routine in ``folder`` (default :data:`DEFAULT_ROUTINES_DIR`), by name.

    Raises :class:`RoutineError` for an unreadable folder, any invalid file or a duplicate name.
    """
    where = Path(DEFAULT_ROUTINES_DIR if folder is None else folder)
    try:
        files = sorted(f for f in where.iterdir() if f.suffix == ".toml")
    except OSError as e:
        raise RoutineError(where, "", f"cannot read ({e.strerror or e})") from None
    routines: dict[str, Routine] = {}
    for f in files:
        r = load_routine(f, targets)
        if r.name in routines:
            raise RoutineError(f, "name", f"expected a unique name, got {r.name!r}")
        routines[r.name] = r
    return routines


def find_routine(name_or_path: str, targets: Mapping[str, Target]) -> Routine:
    """A shipped routine by name, or a routine file by path (``.toml``)."""
    if name_or_path.lower().endswith(".toml") or "/" in name_or_path or os.sep in name_or_path:
        return load_routine(name_or_path, targets)
    routines = load_routines(targets)
    if name_or_path not in routines:
        raise RoutineError("", "", f"unknown routine {name_or_path!r}: expected a .toml file or one of: "
                                   f"{', '.join(sorted(routines))}")  # fmt: skip
    return routines[name_or_path]


# -- results -----------------------------------------------------------------------------------
class StepOutcome(str, enum.Enum):
    """How a step ended."""

    HELD = "held"
    TIMED_OUT = "timed out"
    UNFINISHED = "unfinished"  # the clip (or the session) ended during the step
    NOT_REACHED = "not reached"


@dataclass(frozen=True)
class StepResult:
    """One step of a routine, as practised.

    Times are seconds from the step's start. ``best_score`` 0..100 (None: no scored face),
    ``best_frame`` the frame's index counted from the routine's first frame, ``first_hold_s`` when the look was first held
    (None: never). ``best_jpeg``: that frame as JPEG (raw, un-mirrored; None when not kept).
    """

    index: int
    target: str
    title: str
    outcome: StepOutcome
    duration_s: float = 0.0
    frames: int = 0
    scored_frames: int = 0
    best_score: float | None = None
    best_at_s: float | None = None
    best_frame: int | None = None
    first_hold_s: float | None = None
    best_jpeg: bytes | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class RoutineResult:
    """A routine as practised: one :class:`StepResult` per step, in order."""

    routine: str
    title: str
    steps: tuple[StepResult, ...]

    @property
    def held(self) -> int:
        return sum(s.outcome is StepOutcome.HELD for s in self.steps)

    @property
    def completed(self) -> bool:
        """Every step ended by a hold or its time (none cut short or not reached)."""
        return all(s.outcome in (StepOutcome.HELD, StepOutcome.TIMED_OUT) for s in self.steps)

    @property
    def duration_s(self) -> float:
        return sum(s.duration_s for s in self.steps)

    def record(self) -> dict[str, Any]:
        """The result as plain JSON-able values (best frames left out: they are pictures)."""
        steps = []
        for s in self.steps:
            row = {f.name: getattr(s, f.name) for f in dataclasses.fields(s) if f.name != "best_jpeg"}
            row["outcome"] = s.outcome.value
            steps.append(row)
        return {"routine": self.routine, "title": self.title, "held": self.held, "steps": steps}

    def lines(self) -> list[str]:
        """The end summary: one line per step (best score, time to the first hold, best frame)."""
        out = [f"routine: {self.title} ({self.held} of {len(self.steps)} looks held, {self.duration_s:.1f} s)"]
        for s in self.steps:
            best = f"best {s.best_score:3.0f}" if s.best_score is not None else "best   -"
            hold = f"held after {s.first_hold_s:.1f} s" if s.first_hold_s is not None else s.outcome.value
            frame = (f"best frame {s.best_frame} ({s.best_at_s:.1f} s in)" if s.best_frame is not None else "no face scored")
            out.append(f"  {s.index + 1}. {s.title:<34.34} {best}  {hold:<18} {frame}")
        return out


# -- the runner (pure) ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Breath:
    """Where a paced breath is: ``phase`` "in" or "out", ``fraction`` 0..1 through it,
    ``seconds_left`` in it."""

    phase: str
    fraction: float
    seconds_left: float


def breath_at(elapsed_s: float, in_s: float, out_s: float) -> Breath:
    """The breathing pace at ``elapsed_s`` seconds: in for ``in_s``, out for ``out_s``, repeated."""
    t = max(0.0, elapsed_s) % (in_s + out_s)
    if t < in_s:
        return Breath("in", t / in_s, in_s - t)
    return Breath("out", (t - in_s) / out_s, in_s + out_s - t)


@dataclass(frozen=True)
class RoutineState:
    """Where a routine is after a frame (what the page and the terminal show).

    ``index`` is the current step (== ``n_steps`` when finished); ``progress`` 0..1 over the
    whole routine (steps done plus the current one's share of its time); ``hold_progress``
    the current hold's progress 0..1; ``advanced`` True on the frame that ended a step (its
    outcome in ``last_outcome``); ``best_improved`` True when this frame is the current
    step's best so far (the caller may keep its picture).
    """

    index: int
    n_steps: int
    step: Step | None
    next_step: Step | None
    step_elapsed_s: float = 0.0
    step_left_s: float = 0.0
    progress: float = 0.0
    hold_progress: float = 0.0
    score: float | None = None
    advanced: bool = False
    last_outcome: StepOutcome | None = None
    best_improved: bool = False
    breath: Breath | None = None

    @property
    def finished(self) -> bool:
        return self.index >= self.n_steps


class RoutineRunner:
    """Runs a routine over coached frames: ``update(result) -> RoutineState``.

    Each result must be scored against the current step's target (``state.step.target``);
    when a step ends the caller switches its pipeline to the next step's target (see
    :mod:`posecoach.routine_runs`). Results scored against another target (the
    frame before the switch landed) still count as time, not as scores or holds. A frame
    without a face lets time run. Pure: no I/O, no clock but the frames' ``t_ms``.
    """

    def __init__(self, routine: Routine, titles: Mapping[str, str] | None = None) -> None:
        self.routine = routine
        self._titles = dict(titles or {})
        self._done: list[StepResult] = []
        self._state = self._starting(0)
        self._start_ms: float | None = None
        self._frames = 0  # frames seen since the routine began (a pipeline's own count restarts per step)
        self._current = self._blank(0)

    def _starting(self, i: int, **changes: Any) -> RoutineState:
        """The state as step ``i`` begins (or the finished state past the last step)."""
        steps = self.routine.steps
        step = _at(steps, i)
        if step is None:
            return RoutineState(i, len(steps), None, None, progress=1.0, **changes)
        breath = breath_at(0.0, step.breathe_in_s, step.breathe_out_s) if step.breathing else None  # type: ignore[arg-type]
        return RoutineState(i, len(steps), step, _at(steps, i + 1), step_left_s=step.time_s,
                            progress=i / len(steps), breath=breath, **changes)  # fmt: skip

    def _blank(self, i: int) -> StepResult:
        step = self.routine.steps[i]
        return StepResult(i, step.target, self._titles.get(step.target, step.target), StepOutcome.UNFINISHED)

    @property
    def state(self) -> RoutineState:
        return self._state

    def update(self, result: FrameResult) -> RoutineState:
        """The routine after this frame."""
        if self._state.finished:
            return dataclasses.replace(self._state, advanced=False, best_improved=False)
        i = self._state.index
        step = self.routine.steps[i]
        t = float(result.t_ms)
        if self._start_ms is None or t < self._start_ms:
            self._start_ms = t
        frame_index = self._frames
        self._frames += 1
        elapsed = (t - self._start_ms) / 1000.0
        cur = self._current
        frames = cur.frames + 1
        mine = result.score is not None and result.score.target == step.target
        improved = False
        changes: dict[str, Any] = {"frames": frames, "duration_s": elapsed}
        if mine:
            score = result.score.score  # type: ignore[union-attr]
            changes["scored_frames"] = cur.scored_frames + 1
            if cur.best_score is None or score > cur.best_score:
                improved = True
                changes.update(best_score=score, best_at_s=elapsed, best_frame=frame_index)
        outcome = None
        if mine and result.hold.just_completed:
            changes["first_hold_s"] = elapsed if cur.first_hold_s is None else cur.first_hold_s
            outcome = StepOutcome.HELD
        elif elapsed + 1e-9 >= step.time_s:
            outcome = StepOutcome.TIMED_OUT
        self._current = dataclasses.replace(cur, **changes)
        hold_progress = result.hold.progress if mine else 0.0
        if outcome is not None:
            self._done.append(dataclasses.replace(self._current, outcome=outcome))
            nxt = i + 1
            self._start_ms = None
            if nxt < len(self.routine.steps):
                self._current = self._blank(nxt)
            self._state = self._starting(
                nxt, score=result.score.score if mine else None, advanced=True, last_outcome=outcome,  # type: ignore[union-attr]
                best_improved=improved, hold_progress=1.0 if outcome is StepOutcome.HELD else 0.0,
            )
            return self._state
        breath = breath_at(elapsed, step.breathe_in_s, step.breathe_out_s) if step.breathing else None  # type: ignore[arg-type]
        self._state = RoutineState(
            i, len(self.routine.steps), step, _at(self.routine.steps, i + 1),
            step_elapsed_s=elapsed, step_left_s=max(0.0, step.time_s - elapsed),
            progress=(i + min(1.0, elapsed / step.time_s)) / len(self.routine.steps),
            hold_progress=hold_progress, score=result.score.score if mine else None,  # type: ignore[union-attr]
            best_improved=improved, breath=breath,
        )  # fmt: skip
        return self._state

    def attach_best_frame(self, jpeg: bytes, index: int | None = None) -> None:
        """Keep ``jpeg`` as the best frame of step ``index`` (default: the one that just
        improved: the current step, or the one that just ended on this frame)."""
        if index is None:
            index = self._state.index - 1 if self._state.advanced else self._state.index
        if self._done and self._done[-1].index == index:
            self._done[-1] = dataclasses.replace(self._done[-1], best_jpeg=jpeg)
        elif not self._state.finished and self._current.index == index:
            self._current = dataclasses.replace(self._current, best_jpeg=jpeg)

    def result(self) -> RoutineResult:
        """The routine so far: steps done, the current one ``unfinished`` (if it saw a
        frame), the rest ``not reached``."""
        steps = list(self._done)
        if not self._state.finished:
            i = self._state.index
            if self._current.frames:
                steps.append(self._current)
            else:
                steps.append(dataclasses.replace(self._blank(i), outcome=StepOutcome.NOT_REACHED))
            steps += [
                dataclasses.replace(self._blank(j), outcome=StepOutcome.NOT_REACHED)
                for j in range(i + 1, len(self.routine.steps))
            ]
        return RoutineResult(self.routine.name, self.routine.title, tuple(steps))


def _at(steps: tuple[Step, ...], i: int) -> Step | None:
    return steps[i] if 0 <= i < len(steps) else None
