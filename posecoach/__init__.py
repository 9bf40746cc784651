"""posecoach: a live posing and expression coach that runs on your own machine.

The small public API (imported lazily, so ``import posecoach`` stays cheap)::

    from posecoach import FaceTracker, Pipeline, find_target

    with FaceTracker() as tracker:
        pipeline = Pipeline(find_target("corporate_headshot"), tracker)
        result = pipeline.process(frame_bgr, t_ms)   # FrameResult: metrics, score, cue, hold
        print(result.cue.text)
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "FaceTracker": "posecoach.detector",
    "TrackerMode": "posecoach.detector",
    "ModelError": "posecoach.model_file",
    "compute_metrics": "posecoach.metrics",
    "Pipeline": "posecoach.pipeline",
    "PipelineOptions": "posecoach.pipeline",
    "CoachSession": "posecoach.session",
    "Target": "posecoach.targets",
    "TargetError": "posecoach.targets",
    "find_target": "posecoach.targets",
    "load_library": "posecoach.targets",
    "CalibrationProfile": "posecoach.calibration",
    "CalibrationError": "posecoach.calibration",
    "build_profile": "posecoach.calibration",
    "load_profile": "posecoach.calibration",
    "save_profile": "posecoach.calibration",
    "open_source": "posecoach.sources",
    "SourceError": "posecoach.sources",
    "FaceFrame": "posecoach.results",
    "Metrics": "posecoach.results",
    "FrameResult": "posecoach.results",
    "Cue": "posecoach.results",
}
__all__ = ["__version__", *_EXPORTS]


def _version() -> str:
    # Looked up on first use: importlib.metadata takes ~30 ms, and the command line imports
    # this package before it can turn a Ctrl-C into one line.
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("posecoach")
    except PackageNotFoundError:  # running from a source tree that is not installed
        return "0.0.0"


def __getattr__(name: str) -> Any:
    if name == "__version__":
        value = globals()["__version__"] = _version()
        return value
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'posecoach' has no attribute {name!r}")
    return getattr(import_module(module), name)
