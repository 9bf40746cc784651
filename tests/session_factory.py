"""Synthetic sessions to keep (no model): a few seconds of frame results through a real
:class:`~posecoach.tally.SessionTally`, with a noise picture whose JPEG bytes are unique to
its seed (so a test can look for them on disk)."""

from __future__ import annotations

import numpy as np

from factories import FRAME_MS, metrics
from posecoach.records import SessionRecord
from posecoach.results import Cue, FaceFrame, FrameResult, HoldState, TargetScore
from posecoach.tally import SessionTally
from posecoach.targets import MetricRange, Target

LOOK = Target("look", "The look", "", (MetricRange("smile", 0.3, 0.6, 0.2),), hold_s=1.0, threshold=80.0)


def noise_picture(seed: int, wh: tuple[int, int] = (320, 180)) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (wh[1], wh[0], 3), dtype=np.uint8)


def synthetic_record(seed: int = 0, *, target: Target = LOOK, best: float = 90.0, hold_at_s: float | None = 2.0,
                     source: str = "synthetic.mp4", seconds: float = 4.0) -> SessionRecord:  # fmt: skip
    """``seconds`` of a face scoring up to ``best``, one hold achieved at ``hold_at_s``."""
    tally = SessionTally()
    picture = noise_picture(seed)
    n = int(seconds * 30)
    for i in range(n):
        t = i * FRAME_MS
        score = best if i == n // 2 else best - 10.0 + (i % 5)
        just = hold_at_s is not None and abs(t - hold_at_s * 1000.0) < FRAME_MS / 2
        held = hold_at_s is not None and t >= hold_at_s * 1000.0 - FRAME_MS / 2
        result = FrameResult(i, int(t), FaceFrame.empty((320, 180), int(t)), metrics(smile=0.45), metrics(smile=0.45),
                             TargetScore(target.name, score, ()), Cue("Chin down" if i < n // 3 else ""),
                             HoldState(1.0 if held else 0.0, held, 0, just))  # fmt: skip
        tally.update(result, target=target, image=picture)
    return tally.record(source=source)
