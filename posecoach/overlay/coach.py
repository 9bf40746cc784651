"""Draw a :class:`~posecoach.results.FrameResult` on the picture the person sees.

The annotator only draws: every number it shows was computed upstream (metrics, score, cue,
hold). It paints directly on the frame it is given (in place, with OpenCV) and is cheap
enough for the per-frame path (well under 1.5 ms at 640x360)::

    annotator = Annotator(detail=Detail.STANDARD)
    view = cv2.flip(frame, 1)                      # what a mirror shows
    annotator.annotate(view, result, mirrored=True, target=target)

What is drawn, by :class:`Detail`:

* ``minimal``: the score bar and the cue;
* ``standard`` (default): plus a subtle face outline, the hold ring and the head-angle guide
  (where the head points now vs the target's yaw/pitch window);
* ``full``: plus the eye and lip outlines and the angles in degrees.

Conventions: landmarks are normalised to the *raw* camera frame, so when the picture was
mirrored (``mirrored=True``) every x is flipped (``x -> 1 - x``), and so are yaw and roll in
the guide: the guide reads like a mirror, "turn toward the dot's side".
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import cv2
import numpy as np

from posecoach.coaching import NO_FACE_TEXT
from posecoach.overlay.text import AA, FONT, SMALL_FONT, ascii_text, wrap_words
from posecoach.results import Cue, FrameResult

if TYPE_CHECKING:  # pragma: no cover - typing only
    from posecoach.targets import Target

#: MediaPipe face mesh indices, each a closed loop in drawing order.
FACE_OVAL: tuple[int, ...] = (
    10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377,
    152, 148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109,
)  # fmt: skip
LIPS_OUTER: tuple[int, ...] = (
    61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291, 409, 270, 269, 267, 0, 37, 39, 40, 185,
)  # fmt: skip
EYE_RIGHT: tuple[int, ...] = (33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246)
EYE_LEFT: tuple[int, ...] = (263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388, 466)

#: Half-width of the head-angle guide, in degrees.
_GUIDE_SPAN_DEG = 35.0


class Detail(str, enum.Enum):
    """How much the overlay draws (see the module docstring)."""

    MINIMAL = "minimal"
    STANDARD = "standard"
    FULL = "full"


@dataclass(frozen=True)
class OverlayStyle:
    """Colours (BGR) and proportions. Sizes scale with the frame height (360 px = 1.0)."""

    outline_bgr: tuple[int, int, int] = (215, 215, 215)
    good_bgr: tuple[int, int, int] = (110, 210, 90)
    near_bgr: tuple[int, int, int] = (40, 190, 250)
    far_bgr: tuple[int, int, int] = (90, 90, 240)
    text_bgr: tuple[int, int, int] = (255, 255, 255)
    muted_bgr: tuple[int, int, int] = (170, 170, 170)
    #: How much the panels behind text darken the picture (0 = not at all, 1 = black).
    panel_darken: float = 0.55
    #: Cue text height relative to the default.
    cue_scale: float = 1.0
    #: Score colour bands when no target threshold is known.
    default_threshold: float = 70.0


@dataclass(frozen=True)
class _Layout:
    """Pixel positions for one frame size, computed once per size."""

    u: float
    margin: int
    bar: tuple[int, int, int, int]  # x, y, w, h of the score panel
    ring_center: tuple[int, int]
    ring_radius: int
    guide: tuple[int, int, int]  # x, y, size of the head-angle guide
    band_h: int
    small_scale: float
    thin: int
    thick: int


class Annotator:
    """Draws the coaching overlay on a BGR frame, in place.

    Args:
        style: colours and proportions.
        detail: how much to draw (:class:`Detail` or its value).
    """

    def __init__(self, style: OverlayStyle = OverlayStyle(), *, detail: Detail | str = Detail.STANDARD) -> None:
        self.style = style
        self.detail = Detail(detail)
        self._layouts: dict[tuple[int, int], _Layout] = {}
        self._cue_cache: dict[tuple[str, int, int], tuple[int, list[tuple[str, float, int, tuple[int, int]]]]] = {}
        self._loops = {
            Detail.MINIMAL: (),
            Detail.STANDARD: (np.array(FACE_OVAL),),
            Detail.FULL: (np.array(FACE_OVAL), np.array(EYE_RIGHT), np.array(EYE_LEFT), np.array(LIPS_OUTER)),
        }
        # One index array for all loops (a single gather per frame), split back after.
        loops = self._loops[self.detail]
        self._all_idx = np.concatenate(loops) if loops else np.zeros((0,), np.int64)
        self._splits = np.cumsum([len(lp) for lp in loops])[:-1] if loops else np.zeros((0,), np.int64)

    # -- public ------------------------------------------------------------------------
    def annotate(
        self,
        image: np.ndarray,
        result: FrameResult,
        *,
        mirrored: bool,
        target: Target | None = None,
    ) -> np.ndarray:
        """Draw ``result`` on ``image`` and return it.

        Args:
            image: the displayed BGR uint8 frame, already flipped when ``mirrored``. Drawn on
                in place when it is writable and C-contiguous (a copy is drawn on otherwise).
            result: the coaching result for the raw frame this picture shows.
            mirrored: the picture is a mirror image of the raw frame (landmark x flipped).
            target: the look practised; gives the head-angle window and the score threshold.

        Returns:
            The annotated image, same shape and dtype. Images that are not uint8 with 1, 3 or
            4 channels are returned unchanged (the loop never raises for a bad frame).
        """
        if image.dtype != np.uint8 or image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] not in (1, 3, 4)):
            return image
        if not image.flags.writeable or not image.flags.c_contiguous:
            image = np.ascontiguousarray(image).copy()
        h, w = image.shape[:2]
        if h < 24 or w < 24:
            return image
        lay = self._layout(w, h)
        threshold = float(target.threshold) if target is not None else self.style.default_threshold
        if self.detail is not Detail.MINIMAL and result.has_face and result.face.has_face:
            self._draw_outline(image, result, mirrored)
        self._draw_score(image, result, lay, threshold)
        if self.detail is not Detail.MINIMAL:
            self._draw_hold(image, result, lay)
            if result.metrics is not None:
                self._draw_guide(image, result, lay, mirrored, target)
        self._draw_cue(image, result, lay)
        return image

    # -- layout ------------------------------------------------------------------------
    def _layout(self, w: int, h: int) -> _Layout:
        lay = self._layouts.get((w, h))
        if lay is None:
            u = max(0.35, min(h / 360.0, w / 480.0))
            m = max(4, round(8 * u))
            bar = (m, m, round(150 * u), round(34 * u))
            ring_r = round(15 * u)
            ring = (bar[0] + bar[2] + m + ring_r + 2, bar[1] + bar[3] // 2)
            size = round(74 * u)
            guide = (w - m - size, m, size)
            lay = _Layout(
                u=u,
                margin=m,
                bar=bar,
                ring_center=ring,
                ring_radius=ring_r,
                guide=guide,
                band_h=round(46 * u * self.style.cue_scale),
                small_scale=0.42 * u,
                thin=max(1, round(u)),
                thick=max(2, round(2 * u)),
            )
            self._layouts[(w, h)] = lay
        return lay

    # -- pieces ------------------------------------------------------------------------
    def _colour(self, score: float, threshold: float) -> tuple[int, int, int]:
        if score >= threshold:
            return self.style.good_bgr
        if score >= threshold - 20.0:
            return self.style.near_bgr
        return self.style.far_bgr

    def _darken(self, image: np.ndarray, x0: int, y0: int, x1: int, y1: int) -> None:
        h, w = image.shape[:2]
        x0, y0, x1, y1 = max(0, x0), max(0, y0), min(w, x1), min(h, y1)
        if x1 > x0 and y1 > y0:
            roi = image[y0:y1, x0:x1]
            roi[...] = cv2.convertScaleAbs(roi, alpha=1.0 - self.style.panel_darken).reshape(roi.shape)

    def _draw_outline(self, image: np.ndarray, result: FrameResult, mirrored: bool) -> None:
        lms = result.face.landmarks
        if lms.shape[0] <= int(self._all_idx.max(initial=0)):
            return
        h, w = image.shape[:2]
        pts = lms[self._all_idx, :2]
        xs = (1.0 - pts[:, 0]) * w if mirrored else pts[:, 0] * w
        xy = np.empty((len(pts), 2), np.int32)
        xy[:, 0] = xs
        xy[:, 1] = pts[:, 1] * h
        loops = np.split(xy, self._splits) if len(self._splits) else [xy]
        thin = max(1, round(h / 360.0))
        cv2.polylines(image, loops, True, self.style.outline_bgr, thin, AA)

    def _draw_score(self, image: np.ndarray, result: FrameResult, lay: _Layout, threshold: float) -> None:
        x, y, bw, bh = lay.bar
        self._darken(image, x, y, x + bw, y + bh)
        pad = max(2, round(4 * lay.u))
        track_y0 = y + bh - pad - max(3, round(6 * lay.u))
        track_y1 = y + bh - pad
        tx0, tx1 = x + pad, x + bw - pad
        cv2.rectangle(image, (tx0, track_y0), (tx1, track_y1), self.style.muted_bgr, 1, cv2.LINE_8)
        if result.score is not None:
            s = max(0.0, min(100.0, float(result.score.score)))
            colour = self._colour(s, threshold)
            fill = tx0 + round((tx1 - tx0) * s / 100.0)
            if fill > tx0:
                cv2.rectangle(image, (tx0, track_y0), (fill, track_y1), colour, -1, cv2.LINE_8)
            label = f"score {s:.0f}"
        else:
            colour = self.style.muted_bgr
            label = "score --"
        tick = tx0 + round((tx1 - tx0) * max(0.0, min(100.0, threshold)) / 100.0)
        cv2.line(image, (tick, track_y0 - pad // 2 - 1), (tick, track_y1 + 1), self.style.text_bgr, 1, cv2.LINE_8)
        cv2.putText(image, label, (tx0, track_y0 - pad), FONT, 0.55 * lay.u, self.style.text_bgr, lay.thin, AA)
        if result.n_faces > 1 and result.metrics is not None:
            note = f"{result.n_faces} faces: coaching the largest"
            cv2.putText(image, note, (x, y + bh + round(14 * lay.u)), SMALL_FONT, lay.small_scale,
                        self.style.near_bgr, lay.thin, AA)  # fmt: skip

    def _draw_hold(self, image: np.ndarray, result: FrameResult, lay: _Layout) -> None:
        cx, cy = lay.ring_center
        r = lay.ring_radius
        hold = result.hold
        cv2.circle(image, (cx, cy), r, self.style.muted_bgr, 1, AA)
        if hold.held:
            cv2.circle(image, (cx, cy), r, self.style.good_bgr, -1, AA)
        elif hold.progress > 0.0:
            end = -90.0 + 360.0 * max(0.0, min(1.0, hold.progress))
            cv2.ellipse(image, (cx, cy), (r, r), 0.0, -90.0, end, self.style.good_bgr, lay.thick + 1, AA)
        text = str(hold.holds)
        (tw, th), _ = cv2.getTextSize(text, SMALL_FONT, 0.45 * lay.u, lay.thin)
        cv2.putText(image, text, (cx - tw // 2, cy + th // 2), SMALL_FONT, 0.45 * lay.u, self.style.text_bgr,
                    lay.thin, AA)  # fmt: skip

    def _draw_guide(
        self, image: np.ndarray, result: FrameResult, lay: _Layout, mirrored: bool, target: Target | None
    ) -> None:
        metrics = result.metrics
        assert metrics is not None
        gx, gy, size = lay.guide
        self._darken(image, gx, gy, gx + size, gy + size)
        half = size / 2.0
        cx, cy = gx + half, gy + half
        scale = half / _GUIDE_SPAN_DEG
        sx = -1.0 if mirrored else 1.0  # yaw > 0 points to the raw image's right
        muted = self.style.muted_bgr
        cv2.line(image, (round(cx), gy + 2), (round(cx), gy + size - 2), muted, 1, cv2.LINE_8)
        cv2.line(image, (gx + 2, round(cy)), (gx + size - 2, round(cy)), muted, 1, cv2.LINE_8)
        ok = True
        window = _angle_window(target)
        if window is not None:
            (ylo, yhi), (plo, phi) = window
            xa, xb = sorted((cx + sx * _clampf(ylo) * scale, cx + sx * _clampf(yhi) * scale))
            ya, yb = sorted((cy - _clampf(phi) * scale, cy - _clampf(plo) * scale))
            cv2.rectangle(image, (round(xa), round(ya)), (round(xb), round(yb)), self.style.good_bgr, lay.thin, AA)
        if result.score is not None:
            for name in ("yaw", "pitch"):
                ms = result.score.metric(name)
                if ms is not None and ms.direction != 0:
                    ok = False
        yaw, pitch, roll = metrics.yaw, metrics.pitch, metrics.roll
        px = cx + sx * _clampf(yaw) * scale
        py = cy - _clampf(pitch) * scale
        colour = self.style.good_bgr if ok else self.style.near_bgr
        # Roll: the tilt of the line through the dot, as the picture shows it.
        rr = math.radians(roll) * (-1.0 if mirrored else 1.0)
        dx, dy = math.cos(rr) * 0.28 * size, -math.sin(rr) * 0.28 * size
        cv2.line(image, (round(px - dx), round(py - dy)), (round(px + dx), round(py + dy)), colour, lay.thin, AA)
        cv2.circle(image, (round(px), round(py)), max(3, round(5 * lay.u)), colour, -1, AA)
        if self.detail is Detail.FULL:
            shown_yaw = yaw * sx
            text = f"yaw {shown_yaw:+.0f} pitch {pitch:+.0f} roll {roll * sx:+.0f}"
            (tw, _), _ = cv2.getTextSize(text, SMALL_FONT, lay.small_scale, lay.thin)
            cv2.putText(image, text, (gx + size - tw, gy + size + round(14 * lay.u)), SMALL_FONT, lay.small_scale,
                        self.style.text_bgr, lay.thin, AA)  # fmt: skip

    def _draw_cue(self, image: np.ndarray, result: FrameResult, lay: _Layout) -> None:
        cue: Cue = result.cue
        text = cue.text if cue else ("" if result.has_face else NO_FACE_TEXT)
        if not text:
            return
        h, w = image.shape[:2]
        top, lines = self._cue_layout(text, w, h, lay)
        self._darken(image, 0, top, w, h)
        colour = self.style.good_bgr if result.hold.held else self.style.text_bgr
        for line, scale, thickness, org in lines:
            cv2.putText(image, line, org, FONT, scale, colour, thickness, AA)

    def _cue_layout(
        self, text: str, w: int, h: int, lay: _Layout
    ) -> tuple[int, list[tuple[str, float, int, tuple[int, int]]]]:
        """The band's top row and each line's text, font scale, thickness and origin.

        Cached: a cue stays the same for many frames.
        """
        key = (text, w, h)
        cached = self._cue_cache.get(key)
        if cached is not None:
            return cached
        clean = ascii_text(text)
        max_w = w - 2 * lay.margin
        scale = 0.9 * lay.u * self.style.cue_scale
        thickness = max(1, round(2 * lay.u))

        def width(s: str) -> int:
            return cv2.getTextSize(s, FONT, scale, thickness)[0][0]

        # Shrink a little to fit one line; past that, wrap into lines of similar length.
        while scale > 0.7 * lay.u * self.style.cue_scale and width(clean) > max_w:
            scale *= 0.92
        lines = [clean]
        total = width(clean)
        if total > max_w:
            n = -(-total // max_w)
            limit = min(max_w, int(total / n * 1.15))
            lines = wrap_words(clean, lambda s: width(s) <= limit)
            if any(width(line) > max_w for line in lines):
                lines = wrap_words(clean, lambda s: width(s) <= max_w)
        line_h = cv2.getTextSize("Ag", FONT, scale, thickness)[0][1]
        gap = round(line_h * 0.6)
        bottom = h - lay.margin - max(0, (lay.band_h - line_h - 2 * lay.margin) // 2)
        out = []
        for i, line in enumerate(reversed(lines)):
            tw = cv2.getTextSize(line, FONT, scale, thickness)[0][0]
            y = bottom - i * (line_h + gap)
            out.append((line, scale, thickness, (max(lay.margin, (w - tw) // 2), y)))
        out.reverse()
        top = max(0, min(h - lay.band_h, out[0][3][1] - line_h - lay.margin))
        if len(self._cue_cache) > 64:
            self._cue_cache.clear()
        self._cue_cache[key] = (top, out)
        return top, out


def _clampf(deg: float) -> float:
    return max(-_GUIDE_SPAN_DEG, min(_GUIDE_SPAN_DEG, float(deg)))


def _angle_window(target: Target | None) -> tuple[tuple[float, float], tuple[float, float]] | None:
    """The target's (yaw, pitch) window in degrees, or None when it constrains neither."""
    if target is None:
        return None
    yaw = pitch = None
    for r in target.ranges:
        if r.metric == "yaw":
            yaw = (float(r.low), float(r.high))
        elif r.metric == "pitch":
            pitch = (float(r.low), float(r.high))
    if yaw is None and pitch is None:
        return None
    span = (-_GUIDE_SPAN_DEG, _GUIDE_SPAN_DEG)
    return (yaw or span, pitch or span)
