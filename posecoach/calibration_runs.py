"""The calibration flows: a profile learned from time windows of a video (a file or an upload),
or live in front of a camera with the guided recorder. Nothing is written: the caller saves
the profile. The CLI (:mod:`posecoach.cli_calibrate`) and the page call these.

Each opens its own landmarker with :func:`posecoach.runs.open_tracker`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from posecoach.calibration import (
    PHASES,
    CalibrationProfile,
    CalibrationRecorder,
    CalibrationState,
    PhaseSamples,
    PhaseStats,
    TrackerObserver,
    Window,
    build_calibration,
    collect_windows,
    run_timed,
    validate_name,
)
from posecoach.runs import open_tracker
from posecoach.sources import Frame, SourceError
from posecoach.uploads import open_upload

if TYPE_CHECKING:  # pragma: no cover - typing only
    from posecoach.sources import ImageSource, VideoFileSource


@dataclass(frozen=True, eq=False)
class WindowCalibration:
    """A calibration learned from time windows of a video (not saved yet).

    ``samples`` are the raw metrics per phase (for a before/after view), ``stats`` each
    phase's summary in the order neutral, smile[, closed].
    """

    profile: CalibrationProfile
    samples: dict[str, PhaseSamples]
    stats: tuple[PhaseStats, ...]
    windows: dict[str, Window]


def calibrate_windows(
    source: ImageSource | VideoFileSource,
    name: str,
    windows: Mapping[str, Window],
    *,
    model: str | None = None,
    verbose: bool = False,
) -> WindowCalibration:
    """Learn profile ``name`` from an opened video (the caller closes it): ``windows`` maps
    "neutral", "smile" and optionally "closed" to the time ranges where the person did each.
    Nothing is written.

    Raises:
        CalibrationError: an invalid profile name.
        SourceError: the source is a photo.
        PhaseRejected: a phase is unusable (``reason`` says why, for the person);
            :class:`~posecoach.calibration.EmptyWindow` for a range that holds no frames.
        ModelError: the model is missing or broken.
    """
    validate_name(name)
    if not {"neutral", "smile"} <= set(windows) <= set(PHASES):
        raise ValueError(f"calibration windows must be neutral, smile[, closed], got {sorted(windows)}")
    if source.is_image:
        raise SourceError(f"{source.name}: calibration needs a video (a few seconds per phase), not a photo")
    ordered = {phase: windows[phase] for phase in PHASES if phase in windows}
    with open_tracker(model, verbose=verbose) as tracker:
        samples = collect_windows(source, TrackerObserver(tracker), ordered)
    cal = build_calibration(name, samples["neutral"], samples["smile"], samples.get("closed"))
    return WindowCalibration(cal.profile, samples, cal.stats, ordered)


def calibrate_clip(data: bytes, clip_name: str, name: str, windows: Mapping[str, Window]) -> WindowCalibration:
    """:func:`calibrate_windows` on an uploaded clip, read from memory.

    Raises:
        SourceError: the upload is not a video posecoach can read (a photo included).
        as :func:`calibrate_windows` otherwise.
    """
    validate_name(name)
    with open_upload(data, clip_name) as source:
        return calibrate_windows(source, name, windows)


def calibrate_live(
    source: Iterable[Frame | None],
    recorder: CalibrationRecorder,
    on_state: Callable[[CalibrationState], None] | None = None,
    *,
    model: str | None = None,
    verbose: bool = False,
    max_missing: int = 20,
) -> CalibrationState:
    """The guided calibration in front of a camera: ``recorder`` prompts and times the phases,
    ``on_state`` shows each state. Gives up after ``max_missing`` failed reads in a row.
    Returns the last state (``status`` "done" with the profile, or "failed"; not finished
    when the frames ran out first). Nothing is written.

    Raises:
        ModelError: the model is missing or broken.
    """
    with open_tracker(model, verbose=verbose) as tracker:
        return run_timed(source, TrackerObserver(tracker), recorder, on_state, max_missing=max_missing)
