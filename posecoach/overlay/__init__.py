"""What is drawn on the picture the person sees. Drawing never computes: every number shown
was computed upstream.

* :mod:`~posecoach.overlay.coach`: :class:`Annotator`, the coaching overlay (score, cue, hold
  ring, head-angle guide, face outline);
* :mod:`~posecoach.overlay.band`: :class:`CalibrationBand`, a live calibration's prompt,
  countdown and progress;
* :mod:`~posecoach.overlay.text`: fonts, ASCII folding and word wrapping for both.
"""

from posecoach.overlay.band import BandStyle, CalibrationBand
from posecoach.overlay.coach import EYE_LEFT, EYE_RIGHT, FACE_OVAL, LIPS_OUTER, Annotator, Detail, OverlayStyle

__all__ = [
    "EYE_LEFT", "EYE_RIGHT", "FACE_OVAL", "LIPS_OUTER", "Annotator", "BandStyle", "CalibrationBand", "Detail",
    "OverlayStyle",
]  # fmt: skip
