"""The light on the face, read from the frame and the landmarks the tracker already found.

No extra model: every reading samples the raw BGR frame inside regions placed by the 478
face landmarks. Webcams auto-expose, so the readings that drive cues are *ratios* (stops,
log2 of a ratio of linear luminance), which auto-exposure leaves alone; the absolute face
level (``face_luma``) only flags what the camera could not rescue (a face near black or
clipped white).

Readings (see :class:`~posecoach.results.LightReading` for units and signs):

* ``face_luma``: median gamma-encoded luma (Rec. 601 Y', 0..255) over the face oval;
* ``light_balance_stops``: log2(subject's LEFT cheek+forehead / subject's RIGHT), in linear
  luminance; > 0 = the light comes from the subject's own left. ``light_ratio_stops`` is its
  absolute value, the photographer's lighting ratio: <= 1 stop flat (corporate), 1-2 portrait,
  more is dramatic;
* ``top_bottom_stops``: log2(forehead / lower cheeks and chin); < 0 = lit from below;
* ``shadows_clipped`` / ``highlights_clipped``: fractions of face pixels at the ends of the
  range (Y' <= 8, or any channel >= 250);
* ``backlight_stops``: log2(background beside and above the head / face), linear, and
  ``background_clipped`` the fraction of that background clipped white (a window, a lamp);
* ``cast``: chroma (CIE a*b* distance, 0..~100) of the face's mean colour away from the
  skin-tone hue band, and which way ("blue", "green", "magenta", "orange" or "").

:func:`classify` turns a reading into one of :class:`Lighting`; thresholds are justified in
the README ("Light and the room") from photography and from readings on GENKI-4K faces.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from posecoach.results import FaceFrame, LightReading, Lighting

# Landmark groups (MediaPipe face mesh indices). "Left"/"right" are the SUBJECT'S own sides:
# the subject's left appears on the raw image's right.
_CHEEK_R = (50, 101, 205, 36, 118)  # subject's right cheek
_CHEEK_L = (280, 330, 425, 266, 347)
_BROW_R = (67, 104, 69, 108, 109)  # forehead above the subject's right brow
_BROW_L = (297, 333, 299, 337, 338)
_CHIN = (199, 175, 200, 18, 208, 428)  # chin and below the mouth
_NOSE_TIP = 1
_OVAL = (10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377, 152, 148,
         176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109)  # fmt: skip

#: Face height (forehead to chin) the crop is subsampled to (every k-th pixel): the readings are
#: averages over patches, so a small face image reads the same and costs ~0.3 ms.
WORK_FACE_PX = 48
_EPS = 1e-4  # linear luminance floor: a black patch is "very dark", not log2(0)

# sRGB decoding, one table for all channels (values 0..255 -> linear 0..1).
_LINEAR = (((np.arange(256) / 255.0 + 0.055) / 1.055) ** 2.4).astype(np.float32)
_LINEAR[:11] = np.arange(11) / 255.0 / 12.92
_Y_FROM_BGR = np.array([[0.0722, 0.7152, 0.2126]], np.float32)  # Rec. 709 luminance from linear B, G, R


#: Thresholds of :func:`classify` (see the README for where each comes from). A background
#: brighter than the face is not backlight by itself: a white wall reflects 2-3 stops more
#: than skin (90 % against 45 % for fair skin, 12 % for the darkest) in perfectly even light.
#: Backlight is a light source behind: the background clips white while the face is exposed,
#: or it outshines the face by more than any wall could.
BACKLIT_STOPS = 1.0
BACKLIT_CLIPPED = 0.25
BACKLIT_ANY_STOPS = 3.5
DARK_LUMA = 45.0
DARK_CLIPPED = 0.25
BRIGHT_LUMA = 230.0
BRIGHT_CLIPPED = 0.40
UNEVEN_STOPS = 2.0  # a target without a [light] range: beyond portrait light
CAST_CHROMA = 16.0


def _averaging(*groups: tuple[int, ...]) -> np.ndarray:
    """A (len(groups), 478) matrix whose product with the landmarks gives each group's centre."""
    m = np.zeros((len(groups), 478), np.float32)
    for i, g in enumerate(groups):
        m[i, list(g)] = 1.0 / len(g)
    return m


#: Patch centres in one product: subject's left cheek, left brow, right cheek, right brow, chin.
_PATCHES = _averaging(_CHEEK_L, _BROW_L, _CHEEK_R, _BROW_R, _CHIN)


def _box_mean(lin: np.ndarray, centre: np.ndarray, half: float) -> float:
    """Mean of ``lin`` in the square of half-side ``half`` px around ``centre`` (clipped)."""
    h, w = lin.shape
    x0, x1 = int(max(0, centre[0] - half)), int(min(w, centre[0] + half + 1))
    y0, y1 = int(max(0, centre[1] - half)), int(min(h, centre[1] + half + 1))
    if x1 <= x0 or y1 <= y0:
        return float("nan")
    return float(lin[y0:y1, x0:x1].mean())


def _stops(a: float, b: float) -> float:
    return math.log2(max(a, _EPS) / max(b, _EPS)) if math.isfinite(a) and math.isfinite(b) else float("nan")


def read_light(image: np.ndarray, face: FaceFrame) -> LightReading | None:
    """The light on ``face`` in ``image`` (the raw BGR uint8 frame the face was tracked in).

    None without a face, or when the face is too small or off the frame to be read.
    """
    if not face.has_face or image.ndim != 3 or image.shape[2] < 3 or image.dtype != np.uint8:
        return None
    h, w = image.shape[:2]
    pts = face.landmarks[:, :2] * np.array([w, h], np.float32)
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    face_h = float(hi[1] - lo[1])
    face_w = float(hi[0] - lo[0])
    if face_h < 12 or face_w < 8:
        return None
    # The crop reaches beside and above the head for the background, and is resized so the
    # face is WORK_FACE_PX tall: the cost does not grow with the frame or the face.
    x0, x1 = int(max(0, lo[0] - 0.9 * face_w)), int(min(w, hi[0] + 0.9 * face_w))
    y0, y1 = int(max(0, lo[1] - 0.7 * face_h)), int(min(h, hi[1] + 0.05 * face_h))
    if x1 - x0 < 4 or y1 - y0 < 4:
        return None
    # Every k-th pixel (no resampling: the readings average patches, and a strided view costs
    # nothing where a resize of a 4K face costs a millisecond).
    k = max(1, math.ceil(face_h / WORK_FACE_PX))
    s = 1.0 / k
    crop = image[y0:y1:k, x0:x1:k, :3]
    p = (pts - np.array([x0, y0], np.float32)) * s
    lin = cv2.transform(cv2.LUT(np.ascontiguousarray(crop), _LINEAR), _Y_FROM_BGR).reshape(crop.shape[:2])  # linear luminance
    mask = np.zeros(lin.shape, np.uint8)
    cv2.fillConvexPoly(mask, np.round(p[list(_OVAL)]).astype(np.int32), 1)
    inside = mask.astype(bool)
    if inside.sum() < 20:
        return None
    face_px = crop[inside]  # (N, 3) BGR
    luma = face_px @ np.array([0.114, 0.587, 0.299], np.float32)
    face_luma = float(np.median(luma))
    shadows = float(np.mean(luma <= 8.0))
    highlights = float(np.mean(face_px.max(axis=1) >= 250))

    nose = p[_NOSE_TIP]
    cheek_l, brow_l, cheek_r, brow_r, chin = _PATCHES @ p
    sides = []
    for c, b in ((cheek_l, brow_l), (cheek_r, brow_r)):
        # Patch size from the cheek's distance to the nose: the far side of a turned head is
        # foreshortened, and a fixed size would sample the background there.
        half = max(1.0, 0.3 * math.hypot(*(c - nose)))
        sides.append(0.5 * (_box_mean(lin, c, half) + _box_mean(lin, b, 0.8 * half)))
    balance = _stops(sides[0], sides[1])

    half_v = max(1.0, 0.06 * face_h * s)
    top = 0.5 * (_box_mean(lin, brow_l, half_v) + _box_mean(lin, brow_r, half_v))
    bottom = _box_mean(lin, chin, half_v)
    top_bottom = _stops(top, bottom)

    face_lin = float(lin[inside].mean())
    background, background_clipped = _background(crop, lin, p, s * face_w, s * face_h)
    backlight = _stops(background, face_lin)

    cast_chroma, cast_name = _cast(face_px)
    return LightReading(
        face_luma=face_luma,
        light_balance_stops=balance,
        top_bottom_stops=top_bottom,
        shadows_clipped=shadows,
        highlights_clipped=highlights,
        backlight_stops=backlight,
        background_clipped=background_clipped,
        cast_chroma=cast_chroma,
        cast=cast_name,
    )


def _background(crop: np.ndarray, lin: np.ndarray, p: np.ndarray, face_w: float, face_h: float) -> tuple[float, float]:
    """``(mean linear luminance, fraction clipped)`` beside the head (at brow height) and above
    it, away from the hair: strips 0.25-0.85 face widths out from the face's sides and 0.35-0.7
    face heights above its top. NaN, 0 when all of it is off the frame."""
    lo, hi = p.min(axis=0), p.max(axis=0)
    h, w = lin.shape
    regions = (
        (lo[0] - 0.85 * face_w, lo[0] - 0.25 * face_w, lo[1] - 0.2 * face_h, lo[1] + 0.45 * face_h),
        (hi[0] + 0.25 * face_w, hi[0] + 0.85 * face_w, lo[1] - 0.2 * face_h, lo[1] + 0.45 * face_h),
        (lo[0] - 0.2 * face_w, hi[0] + 0.2 * face_w, lo[1] - 0.7 * face_h, lo[1] - 0.35 * face_h),
    )
    total, clipped, count = 0.0, 0, 0
    for xa, xb, ya, yb in regions:
        xa, xb = int(max(0, xa)), int(min(w, xb))
        ya, yb = int(max(0, ya)), int(min(h, yb))
        if xb > xa and yb > ya:
            block = lin[ya:yb, xa:xb]
            total += float(block.sum())
            clipped += int((crop[ya:yb, xa:xb].min(axis=2) >= 250).sum())
            count += block.size
    return (total / count, clipped / count) if count >= 6 else (float("nan"), 0.0)


# Skin of every tone sits in a narrow band of CIE Lab hue angles (~25-75 degrees: reddish to
# yellowish); a face whose mean colour lies outside it by a clear chroma is lit by coloured light.
_SKIN_HUE = (20.0, 80.0)


def _ab(r: float, g: float, b: float) -> tuple[float, float]:
    """CIE a*, b* (D65) of a linear sRGB colour."""
    x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047
    y = 0.2126 * r + 0.7152 * g + 0.0722 * b
    z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883

    def f(t: float) -> float:
        return t ** (1 / 3) if t > 0.008856 else 7.787 * t + 16 / 116

    return 500.0 * (f(x) - f(y)), 200.0 * (f(y) - f(z))


def _cast(face_bgr: np.ndarray) -> tuple[float, str]:
    """``(chroma of the face's mean colour outside the skin hue band, direction)``.

    Chroma in CIE a*b* units; 0 when the mean colour lies in the skin band (the ordinary
    reddish-yellow of skin is not a cast). A very saturated orange (tungsten) counts too,
    as chroma above 45.
    """
    b_, g_, r_ = _LINEAR[np.clip(np.round(face_bgr.mean(axis=0)), 0, 255).astype(np.intp)].tolist()
    a, b = _ab(r_, g_, b_)
    chroma = math.hypot(a, b)
    hue = math.degrees(math.atan2(b, a)) % 360.0
    lo, hi = _SKIN_HUE
    if lo <= hue <= hi:
        excess = max(0.0, chroma - 45.0)
        return excess, ("orange" if excess > 0 else "")
    # Distance from the band, in a*b* units: chroma times the sine of the angle off it.
    off = min(abs((hue - lo + 180) % 360 - 180), abs((hue - hi + 180) % 360 - 180))
    away = chroma * math.sin(math.radians(min(90.0, off)))
    if 80 < hue <= 150:
        name = "green" if hue > 110 else "orange"
    elif 150 < hue <= 290:
        name = "blue" if hue > 200 else "green"
    else:
        name = "magenta"
    return away, name if away > 0 else ""


def classify(reading: LightReading | None, max_ratio_stops: float = UNEVEN_STOPS) -> Lighting | None:
    """The verdict on one reading (None without one). ``max_ratio_stops``: the widest
    left/right ratio the look allows (a target's ``[light]``), beyond which it is "uneven"."""
    if reading is None:
        return None
    if (reading.backlight_stops >= BACKLIT_STOPS and reading.background_clipped >= BACKLIT_CLIPPED) or (
        reading.backlight_stops >= BACKLIT_ANY_STOPS
    ):
        return Lighting.BACKLIT
    if reading.face_luma < DARK_LUMA or reading.shadows_clipped >= DARK_CLIPPED:
        return Lighting.DARK
    if reading.face_luma > BRIGHT_LUMA or reading.highlights_clipped >= BRIGHT_CLIPPED:
        return Lighting.BRIGHT
    if reading.light_ratio_stops > max_ratio_stops:
        return Lighting.UNEVEN
    return Lighting.OK


def light_cue(reading: LightReading, verdict: Lighting) -> str:
    """What a person at home can do about ``verdict`` or a colour cast ("" when nothing).

    Directions are the subject's own (what they feel, and what they see on the same side in
    the mirror). No "move the lamp higher": ``top_bottom_stops`` reads the chin brighter than
    the forehead by half a stop on 15 % of ordinary GENKI faces (fringes, hats, a shiny chin),
    so it cannot tell a low lamp from a haircut.
    """
    if verdict is Lighting.BACKLIT:
        return "You are backlit: turn to face the light"
    if verdict is Lighting.DARK:
        return "Too dark: face a window or add a lamp in front of you"
    if verdict is Lighting.BRIGHT:
        return "Too bright on your face: step back from the light or soften it"
    if verdict is Lighting.UNEVEN:
        side = "left" if reading.light_balance_stops > 0 else "right"
        return f"One side is in shadow: turn a little toward the light, to your {side}"
    if reading.cast_chroma >= CAST_CHROMA:
        return "The light on your face is coloured: use daylight or a white lamp"
    return ""


class LightCoach:
    """When to voice a light problem, without nagging.

    A problem must last ``persist_ms`` before it is said (a webcam's auto-exposure settles in
    about a second; a person passing a window is no problem). Once said, it is shown for
    ``show_ms`` and then rests for ``rest_ms`` even if it persists (the person may not be
    able to change the room: the expression coaching goes on), then is said again. Light that
    is good again for ``clear_ms`` ends it at once.
    """

    def __init__(self, *, persist_ms: float = 2000.0, show_ms: float = 4000.0, rest_ms: float = 20000.0,
                 clear_ms: float = 1000.0) -> None:  # fmt: skip
        self.persist_ms, self.show_ms, self.rest_ms, self.clear_ms = persist_ms, show_ms, rest_ms, clear_ms
        self.reset()

    def reset(self) -> None:
        self._text = ""
        self._since: float | None = None  # the current problem began
        self._shown_at: float | None = None
        self._good_since: float | None = None

    def update(self, text: str, t_ms: float) -> str:
        """The light cue to show now ("" = none), given this frame's problem ``text``."""
        if not text:
            if self._good_since is None:
                self._good_since = t_ms
            if t_ms - self._good_since >= self.clear_ms:
                self.reset()
            return ""
        self._good_since = None
        if text != self._text or self._since is None or t_ms < self._since:
            self._text, self._since, self._shown_at = text, t_ms, None
        if t_ms - self._since < self.persist_ms:
            return ""
        if self._shown_at is None:
            self._shown_at = t_ms
        cycle = (t_ms - self._shown_at) % (self.show_ms + self.rest_ms)
        return self._text if cycle < self.show_ms else ""
