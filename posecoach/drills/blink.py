"""Blink on cue: "close your eyes... and open" (the photographer's trick for heavy blinkers).

Each round: READY, hold the look with the eyes open for ``ready_s`` (the baseline: the eyes'
openness and the score); CLOSE, "Close your eyes", until they have been shut for ``closed_s``
(or ``close_timeout_s`` passes); OPEN, "...and open": the time from the cue until the eyes are
fully open again (unsmoothed openness back to ``FULLY_OPEN`` of the baseline, the eye state
open), or ``open_timeout_s``; AFTER, ``after_s`` more: did the expression survive (the mean
score within ``SURVIVE_POINTS`` of the baseline's, or at the threshold)?

:class:`BlinkOnCue` is a pure state machine: ``update(result) -> BlinkState``.
"""

from __future__ import annotations

import enum
import statistics
from dataclasses import dataclass

from posecoach.drills.schedule import DrillError
from posecoach.results import EyeState, FrameResult

#: Eyes count as fully open again at this fraction of their openness before the cue.
FULLY_OPEN = 0.9
#: The look survived when the score after opening is at most this many points below before.
SURVIVE_POINTS = 10.0


class BlinkPhase(str, enum.Enum):
    READY = "ready"
    CLOSE = "close"
    OPEN = "open"
    AFTER = "after"
    DONE = "done"


PROMPTS = {BlinkPhase.READY: "Find the look and hold it", BlinkPhase.CLOSE: "Close your eyes\u2026",
           BlinkPhase.OPEN: "\u2026and open", BlinkPhase.AFTER: "Hold it", BlinkPhase.DONE: "Done"}  # fmt: skip


@dataclass(frozen=True)
class BlinkSettings:
    """Seconds for each part; ``rounds`` 1-10."""

    rounds: int = 3
    ready_s: float = 2.0
    closed_s: float = 1.0
    close_timeout_s: float = 5.0
    open_timeout_s: float = 3.0
    after_s: float = 1.0

    def __post_init__(self) -> None:
        if not 1 <= self.rounds <= 10:
            raise DrillError(f"blink on cue takes 1 to 10 rounds, got {self.rounds}")


@dataclass(frozen=True)
class BlinkRound:
    """One round. ``closed``: the eyes did shut on the cue; ``open_ms``: milliseconds from
    "and open" to fully open (None: not within the timeout); ``before``/``after`` mean scores
    0..100 (``after`` None if not measured); ``survived`` the look came back with the eyes."""

    index: int
    closed: bool
    open_ms: float | None
    before: float
    after: float | None
    survived: bool


@dataclass(frozen=True)
class BlinkState:
    """After one frame: the ``phase`` of round ``round`` (0-based), seconds left in a timed
    phase, the rounds done, and ``changed`` True on the frame a phase began (the page speaks its
    prompt)."""

    phase: BlinkPhase = BlinkPhase.READY
    round: int = 0
    rounds: int = 3
    seconds_left: float = 0.0
    done: tuple[BlinkRound, ...] = ()
    changed: bool = False

    @property
    def prompt(self) -> str:
        return PROMPTS[self.phase]


def blink_lines(rounds: tuple[BlinkRound, ...]) -> list[str]:
    """The rounds, then the median time to open and how often the look survived."""
    if not rounds:
        return ["no round finished"]
    out = []
    for r in rounds:
        if not r.closed:
            out.append(f"round {r.index + 1}: the eyes did not close on the cue")
            continue
        opened = f"fully open {r.open_ms / 1000:.2f} s after \u201cand open\u201d" if r.open_ms is not None else "not fully open within the time"
        after = f"{r.after:.0f}" if r.after is not None else "-"
        out.append(f"round {r.index + 1}: {opened}; look {r.before:.0f} -> {after} ({'survived' if r.survived else 'lost'})")
    times = [r.open_ms for r in rounds if r.open_ms is not None]
    if times:
        out.append(f"eyes fully open after {statistics.median(times) / 1000:.2f} s (median); "
                   f"the look survived {sum(r.survived for r in rounds)} of {len(rounds)}")  # fmt: skip
    return out


class BlinkOnCue:
    """The blink-on-cue drill (see the module docstring). ``threshold``: the target's (0..100)."""

    def __init__(self, threshold: float, settings: BlinkSettings = BlinkSettings()) -> None:
        self.threshold = threshold
        self.settings = settings
        self.state = BlinkState(rounds=settings.rounds, changed=True)
        self._t: float | None = None  # when the phase began (ms)
        self._closed_t: float | None = None
        self._eyes: list[float] = []
        self._scores: list[float] = []
        self._before = (0.0, 0.0)  # (eye openness, score) at READY
        self._closed = False
        self._open_ms: float | None = None

    def _to(self, phase: BlinkPhase, t_ms: float, left: float, *, done: tuple[BlinkRound, ...] | None = None,
            round_: int | None = None) -> BlinkState:  # fmt: skip
        s = self.state
        self._t = t_ms
        return BlinkState(phase, s.round if round_ is None else round_, s.rounds, left, s.done if done is None else done, True)

    def _stay(self, left: float) -> BlinkState:
        s = self.state
        return BlinkState(s.phase, s.round, s.rounds, max(0.0, left), s.done)

    def update(self, result: FrameResult) -> BlinkState:
        s, cfg = self.state, self.settings
        if self._t is None:
            self._t = result.t_ms
        el = (result.t_ms - self._t) / 1000.0
        raw = result.raw_metrics
        score = result.score.score if result.score is not None else None
        if s.phase is BlinkPhase.DONE:
            self.state = self._stay(0.0)
        elif s.phase is BlinkPhase.READY:
            if raw is not None and raw.eyes is EyeState.OPEN and score is not None:
                self._eyes.append(raw.eye_open)
                self._scores.append(score)
            if el >= cfg.ready_s and self._eyes:
                self._before = (statistics.median(self._eyes), statistics.mean(self._scores))
                self._closed_t, self._closed, self._open_ms = None, False, None
                self.state = self._to(BlinkPhase.CLOSE, result.t_ms, cfg.close_timeout_s)
            else:
                self.state = self._stay(cfg.ready_s - el)
        elif s.phase is BlinkPhase.CLOSE:
            shut = raw is not None and raw.eyes is EyeState.CLOSED
            self._closed_t = (self._closed_t if self._closed_t is not None else result.t_ms) if shut else None
            if self._closed_t is not None and result.t_ms - self._closed_t >= cfg.closed_s * 1000.0:
                self._closed = True
                self.state = self._to(BlinkPhase.OPEN, result.t_ms, cfg.open_timeout_s)
            elif el >= cfg.close_timeout_s:
                self.state = self._finish(result.t_ms, None)
            else:
                self.state = self._stay(cfg.close_timeout_s - el)
        elif s.phase is BlinkPhase.OPEN:
            if raw is not None and raw.eyes is EyeState.OPEN and raw.eye_open >= FULLY_OPEN * self._before[0]:
                self._open_ms = result.t_ms - self._t
                self._scores = []
                self.state = self._to(BlinkPhase.AFTER, result.t_ms, cfg.after_s)
            elif el >= cfg.open_timeout_s:
                self.state = self._finish(result.t_ms, None)
            else:
                self.state = self._stay(cfg.open_timeout_s - el)
        else:  # AFTER
            self._scores.append(score if score is not None else 0.0)
            if el >= cfg.after_s:
                self.state = self._finish(result.t_ms, statistics.mean(self._scores))
            else:
                self.state = self._stay(cfg.after_s - el)
        return self.state

    def _finish(self, t_ms: float, after: float | None) -> BlinkState:
        s, cfg = self.state, self.settings
        before = self._before[1]
        survived = after is not None and (after >= before - SURVIVE_POINTS or after >= self.threshold)
        done = s.done + (BlinkRound(s.round, self._closed, self._open_ms, before, after, survived),)
        self._eyes, self._scores = [], []
        if s.round + 1 >= s.rounds:
            return self._to(BlinkPhase.DONE, t_ms, 0.0, done=done)
        return self._to(BlinkPhase.READY, t_ms, cfg.ready_s, done=done, round_=s.round + 1)

    def lines(self) -> list[str]:
        return blink_lines(self.state.done)
