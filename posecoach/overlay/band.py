"""Draw a live calibration on the picture: step, prompt, countdown, feedback, progress."""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from posecoach.calibration import CalibrationState
from posecoach.overlay.text import AA, FONT, SMALL_FONT, ascii_text, fit_lines


@dataclass(frozen=True)
class BandStyle:
    """Colours (BGR) of the calibration band; sizes scale with the frame height (360 px = 1.0)."""

    text_bgr: tuple[int, int, int] = (255, 255, 255)
    muted_bgr: tuple[int, int, int] = (200, 200, 200)
    ok_bgr: tuple[int, int, int] = (110, 210, 90)
    warn_bgr: tuple[int, int, int] = (40, 190, 250)
    bad_bgr: tuple[int, int, int] = (90, 90, 240)
    record_bgr: tuple[int, int, int] = (50, 50, 230)
    #: How much the band darkens the picture behind it (0 = not at all, 1 = black).
    darken: float = 0.6


class CalibrationBand:
    """Draws a live calibration on the picture: step, prompt, countdown, feedback, progress.

    Only draws what the :class:`~posecoach.calibration.CalibrationState` says (drawing never
    computes). Paints the band across the top of ``scene`` in place and returns it; call it
    on the picture as shown (after mirroring), so the text reads the right way round::

        band = CalibrationBand()
        view = band.annotate(cv2.flip(frame, 1), recorder.state)
    """

    def __init__(self, style: BandStyle = BandStyle()) -> None:
        self.style = style

    def annotate(self, scene: np.ndarray, state: CalibrationState) -> np.ndarray:
        if not isinstance(scene, np.ndarray) or scene.ndim != 3 or scene.shape[0] < 60 or scene.shape[1] < 120:
            return scene
        style = self.style
        h, w = scene.shape[:2]
        u = h / 360.0
        margin = max(4, round(10 * u))
        thin = max(1, round(u))
        small = 0.5 * u
        big = 0.72 * u
        bold = max(1, round(1.5 * u))
        # Right: the countdown (whole seconds), with a red dot while recording.
        count = "" if state.finished else str(max(1, math.ceil(state.seconds_left - 1e-6)))
        count_scale = 1.5 * u
        count_thick = max(2, round(3 * u))
        (cw, ch), _ = cv2.getTextSize("00", FONT, count_scale, count_thick)
        text_right = w - margin - (cw + 3 * margin if count else 0)
        max_w = max(40, text_right - margin)
        # Left: step and title, the prompt (one or two lines), then a note in colour.
        if state.finished:
            head = state.title
        else:
            attempt = f"  (try {state.attempt})" if state.attempt > 1 else ""
            head = f"Step {state.phase_number} of {state.n_phases}: {state.title}{attempt}"
        prompt_lines = fit_lines(ascii_text(state.prompt), FONT, big, bold, max_w, max_lines=2)
        note, note_bgr = "", style.muted_bgr
        if state.status == "record" and not state.face_found:
            note, note_bgr = "We can't see your face: move into the frame", style.bad_bgr
        elif state.feedback and (state.finished or state.feedback_ok is False or state.status == "prepare"):
            ok = bool(state.feedback_ok)
            note, note_bgr = state.feedback, (style.ok_bgr if ok else (style.bad_bgr if state.finished else style.warn_bgr))
        note_lines = fit_lines(ascii_text(note), SMALL_FONT, small, thin, max_w, max_lines=2) if note else []
        small_h = cv2.getTextSize("Ag", SMALL_FONT, small, thin)[0][1]
        big_h = cv2.getTextSize("Ag", FONT, big, bold)[0][1]
        gap = max(3, round(6 * u))
        rows = [(ascii_text(head), SMALL_FONT, small, style.muted_bgr, small_h)]
        rows += [(line, FONT, big, style.text_bgr, big_h) for line in prompt_lines]
        rows += [(line, SMALL_FONT, small, note_bgr, small_h) for line in note_lines]
        bar_h = max(3, round(5 * u))
        band_h = min(h, margin + sum(r[4] + gap for r in rows) + margin + bar_h)
        band_h = max(band_h, min(h, ch + 2 * margin + bar_h))
        roi = scene[0:band_h, 0:w]
        roi[...] = cv2.convertScaleAbs(roi, alpha=1.0 - style.darken).reshape(roi.shape)
        y = margin
        for text, font, scale, colour, line_h in rows:
            y += line_h
            thickness = thin if font is SMALL_FONT else bold
            cv2.putText(scene, text, (margin, y), font, scale, colour, thickness, AA)
            y += gap
        if count:
            colour = style.record_bgr if state.recording else style.text_bgr
            x = w - margin - cw
            cy = margin + (band_h - bar_h - 2 * margin + ch) // 2
            cv2.putText(scene, count, (x, cy), FONT, count_scale, colour, count_thick, AA)
            if state.recording:
                r = max(3, round(6 * u))
                cv2.circle(scene, (x - 2 * r, cy - ch // 2), r, style.record_bgr, -1, AA)
        # Bottom edge of the band: progress through the whole calibration.
        done = min(1.0, max(0.0, float(state.progress)))
        y0 = band_h - bar_h
        cv2.rectangle(scene, (0, y0), (w - 1, band_h - 1), (80, 80, 80), -1)
        bar_bgr = style.bad_bgr if state.status == "failed" else style.ok_bgr
        if done > 0:
            cv2.rectangle(scene, (0, y0), (max(1, round(done * w)) - 1, band_h - 1), bar_bgr, -1)
        return scene
