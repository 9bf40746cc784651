"""Lens recall: hit the look with the mirror, then recreate it from memory into the lens.

Each round has two phases. MIRROR: the person sees themselves and finds the look; it ends when
the look is held for ``hold_s`` (the mirror attempt is the mean score of that hold) or after
``mirror_max_s``. RECALL: the mirror goes away (the page shows only a small mark near the camera
and "eyes on the lens") for ``recall_s``; after ``settle_s`` (the screen just changed) every
frame counts: its target score (0 without a face) and whether the eyes are on the lens
(unsmoothed ``gaze_on_lens`` >= 0.6). 3-5 rounds; the result says how much of the mirrored look
survives without the mirror and how consistent the recalls are.

:class:`LensRecall` is a pure state machine: ``update(result) -> RecallState``.
"""

from __future__ import annotations

import enum
import statistics
from dataclasses import dataclass

from posecoach.drills.schedule import DrillError
from posecoach.drills.shutter import GAZE_ON_LENS
from posecoach.results import FrameResult

#: Recall scores within this many points of each other are consistent (a target's score moves
#: a few points frame to frame on a held face).
CONSISTENT_POINTS = 10.0


class RecallPhase(str, enum.Enum):
    MIRROR = "mirror"
    RECALL = "recall"
    DONE = "done"


PROMPTS = {RecallPhase.MIRROR: "Find the look in the mirror", RecallPhase.RECALL: "Eyes on the lens",
           RecallPhase.DONE: "Done"}  # fmt: skip


@dataclass(frozen=True)
class RecallSettings:
    """Seconds for each part; ``rounds`` 3-5."""

    rounds: int = 3
    hold_s: float = 1.0
    mirror_max_s: float = 15.0
    recall_s: float = 4.0
    settle_s: float = 0.5

    def __post_init__(self) -> None:
        if not 3 <= self.rounds <= 5:
            raise DrillError(f"lens recall takes 3 to 5 rounds, got {self.rounds}")
        if not 0 <= self.settle_s < self.recall_s:
            raise DrillError(f"the recall must last longer than its settling time, got {self.recall_s:g} s")


@dataclass(frozen=True)
class RecallRound:
    """One round: ``mirror_score`` 0..100 (the hold's mean, or the best score if the look was
    not ``reached``), ``recall_score`` the recall's mean score, ``on_lens`` the fraction of the
    recall's frames with the eyes on the lens (0..1)."""

    index: int
    reached: bool
    mirror_score: float
    recall_score: float
    on_lens: float

    @property
    def kept(self) -> float:
        """How much of the mirrored look the recall kept, 0..1+."""
        return self.recall_score / self.mirror_score if self.mirror_score > 0 else 0.0


@dataclass(frozen=True)
class RecallState:
    """After one frame: the ``phase`` of round ``round`` (0-based) of ``rounds``, the
    ``seconds_left`` in a timed phase, the hold's ``progress`` 0..1 in the mirror, the rounds
    done, and ``changed`` True on the frame a phase began (the page plays its sound)."""

    phase: RecallPhase = RecallPhase.MIRROR
    round: int = 0
    rounds: int = 3
    seconds_left: float = 0.0
    progress: float = 0.0
    done: tuple[RecallRound, ...] = ()
    changed: bool = False

    @property
    def prompt(self) -> str:
        return PROMPTS[self.phase]


@dataclass(frozen=True)
class RecallResult:
    """The rounds and what they say."""

    rounds: tuple[RecallRound, ...]

    @property
    def spread(self) -> float | None:
        scores = [r.recall_score for r in self.rounds]
        return max(scores) - min(scores) if len(scores) > 1 else None

    @property
    def consistent(self) -> bool:
        return self.spread is not None and self.spread <= CONSISTENT_POINTS

    def lines(self) -> list[str]:
        if not self.rounds:
            return ["no round finished"]
        out = []
        for r in self.rounds:
            mirror = f"{r.mirror_score:.0f}" + ("" if r.reached else " (not held)")
            out.append(f"round {r.index + 1}: mirror {mirror}, recall {r.recall_score:.0f} "
                       f"({r.kept:.0%} kept), eyes on the lens {r.on_lens:.0%}")  # fmt: skip
        scores = [r.recall_score for r in self.rounds]
        if self.spread is None:
            out.append("one round: repeat to see how consistent you are")
        elif self.consistent:
            out.append(f"consistent: your recalls are within {self.spread:.0f} points (mean {statistics.mean(scores):.0f})")
        else:
            out.append(f"not consistent yet: your recalls range from {min(scores):.0f} to {max(scores):.0f}")
        return out


class LensRecall:
    """The lens-recall drill (see the module docstring). ``threshold``: the target's (0..100)."""

    def __init__(self, threshold: float, settings: RecallSettings = RecallSettings()) -> None:
        self.threshold = threshold
        self.settings = settings
        self.state = RecallState(rounds=settings.rounds, changed=True)
        self._phase_t: float | None = None
        self._run: list[float] = []  # scores of the current on-look run (mirror)
        self._run_t: float | None = None
        self._best = 0.0
        self._mirror: tuple[bool, float] = (False, 0.0)
        self._scores: list[float] = []
        self._on_lens: list[bool] = []

    def update(self, result: FrameResult) -> RecallState:
        s = self.state
        if s.phase is RecallPhase.DONE:
            self.state = RecallState(s.phase, s.round, s.rounds, 0.0, 1.0, s.done)
            return self.state
        if self._phase_t is None:
            self._phase_t = result.t_ms
        elapsed = (result.t_ms - self._phase_t) / 1000.0
        score = result.score.score if result.score is not None else None
        if s.phase is RecallPhase.MIRROR:
            self.state = self._mirror_frame(result.t_ms, score, elapsed)
        else:
            self.state = self._recall_frame(result, score, elapsed)
        return self.state

    def _mirror_frame(self, t_ms: float, score: float | None, elapsed: float) -> RecallState:
        s, cfg = self.state, self.settings
        if score is not None:
            self._best = max(self._best, score)
        if score is not None and score >= self.threshold:
            if self._run_t is None:
                self._run_t = t_ms
            self._run.append(score)
        else:
            self._run, self._run_t = [], None
        held = (t_ms - self._run_t) / 1000.0 if self._run_t is not None else 0.0
        if held >= cfg.hold_s or elapsed >= cfg.mirror_max_s:
            reached = held >= cfg.hold_s
            self._mirror = (reached, statistics.mean(self._run) if reached else self._best)
            self._start(t_ms)
            return RecallState(RecallPhase.RECALL, s.round, s.rounds, cfg.recall_s, 1.0, s.done, changed=True)
        return RecallState(s.phase, s.round, s.rounds, cfg.mirror_max_s - elapsed, min(1.0, held / cfg.hold_s), s.done)

    def _recall_frame(self, result: FrameResult, score: float | None, elapsed: float) -> RecallState:
        s, cfg = self.state, self.settings
        if elapsed >= cfg.settle_s:
            raw = result.raw_metrics
            self._scores.append(score if score is not None else 0.0)
            self._on_lens.append(raw is not None and raw.gaze_on_lens >= GAZE_ON_LENS)
        if elapsed < cfg.recall_s:
            return RecallState(s.phase, s.round, s.rounds, cfg.recall_s - elapsed, 1.0, s.done)
        reached, mirror = self._mirror
        n = len(self._scores)
        done = s.done + (RecallRound(s.round, reached, mirror, statistics.mean(self._scores) if n else 0.0,
                                     sum(self._on_lens) / n if n else 0.0),)  # fmt: skip
        self._start(result.t_ms)
        self._run, self._run_t, self._best, self._scores, self._on_lens = [], None, 0.0, [], []
        if s.round + 1 >= s.rounds:
            return RecallState(RecallPhase.DONE, s.round, s.rounds, 0.0, 1.0, done, changed=True)
        return RecallState(RecallPhase.MIRROR, s.round + 1, s.rounds, cfg.mirror_max_s, 0.0, done, changed=True)

    def _start(self, t_ms: float) -> None:
        self._phase_t = t_ms

    def result(self) -> RecallResult:
        return RecallResult(self.state.done)
