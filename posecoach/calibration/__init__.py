"""Per-person calibration: coach relative to *this* face and *this* camera.

Faces differ (one person's resting mouth already reads as a slight smile, another's open
eyes read half-closed) and camera placement biases head pitch (a laptop camera below eye
level makes a level head look chin-up). A short guided calibration (a neutral face, a big
smile, eyes closed) learns the person. Four rooms:

* :mod:`~posecoach.calibration.profile`: :class:`CalibrationProfile`, the value the
  :class:`~posecoach.pipeline.Pipeline` applies to raw metrics, its limits and file schema;
* :mod:`~posecoach.calibration.phases`: each phase's samples and checks, and
  :func:`build_calibration` (samples in; the profile and each phase's statistics out, or
  :class:`PhaseRejected` with a reason a person understands);
* :mod:`~posecoach.calibration.store`: profiles as small JSON files of numbers;
* :mod:`~posecoach.calibration.recorder`: the timed, guided calibration for live use, and
  the one list of phases with their titles and prompts.

Running a calibration over a video's time windows or a camera is a flow of
:mod:`posecoach.calibration_runs`.

Example::

    profile = build_profile("ana", neutral_samples, smile_samples, None)
    save_profile(profile)                       # calibration/ana.json
    calibrated = load_profile("ana").apply(raw_metrics)

Nothing here imports MediaPipe or Streamlit.
"""

from posecoach.calibration.phases import (
    PHASES,
    Calibration,
    EmptyWindow,
    Observer,
    PhaseRejected,
    PhaseSamples,
    PhaseStats,
    TrackerObserver,
    Window,
    build_calibration,
    build_profile,
    check_closed,
    check_neutral,
    check_phase,
    check_smile,
    collect_windows,
    frame_luma,
    profile_from_stats,
    robust_median,
)
from posecoach.calibration.profile import (
    BEFORE_AFTER_METRICS,
    DEFAULT_LIMITS,
    PROFILE_FIELDS,
    PROFILE_VERSION,
    CalibrationError,
    CalibrationLimits,
    CalibrationProfile,
    profile_from_dict,
    validate_name,
)
from posecoach.calibration.recorder import (
    DEFAULT_PLAN,
    PHASE_TITLES,
    CalibrationRecorder,
    CalibrationState,
    PhasePlan,
    run_timed,
)
from posecoach.calibration.store import (
    CALIBRATION_DIR_ENV,
    list_profiles,
    load_profile,
    load_profile_or_warn,
    profile_dir,
    profile_path,
    save_profile,
)

__all__ = [
    "BEFORE_AFTER_METRICS", "CALIBRATION_DIR_ENV", "DEFAULT_LIMITS", "DEFAULT_PLAN", "PHASES", "PHASE_TITLES",
    "PROFILE_FIELDS", "PROFILE_VERSION", "Calibration", "CalibrationError", "CalibrationLimits", "CalibrationProfile",
    "CalibrationRecorder", "CalibrationState", "EmptyWindow", "Observer", "PhasePlan", "PhaseRejected",
    "PhaseSamples", "PhaseStats", "TrackerObserver", "Window", "build_calibration", "build_profile", "check_closed",
    "check_neutral", "check_phase", "check_smile", "collect_windows", "frame_luma", "list_profiles", "load_profile",
    "load_profile_or_warn", "profile_dir", "profile_from_dict", "profile_from_stats", "profile_path", "robust_median",
    "run_timed", "save_profile", "validate_name",
]  # fmt: skip
