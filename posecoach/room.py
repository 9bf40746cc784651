"""The light check before a session: a few seconds of frames, one verdict on the light, what to
do about it, and advice on the top and the background.

:class:`LightCheck` gathers readings frame by frame (the page feeds it from the camera while
the person settles in; :func:`check_light` runs it over a file or camera for the CLI's
``posecoach check``). Its :meth:`~LightCheck.result` is the median of each reading over the
frames with a face (a webcam's exposure hunts for the first second: one frame would mislead).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from posecoach.detector import FaceTracker
from posecoach.lighting import classify, light_cue, read_light
from posecoach.results import FaceFrame, Lighting, LightReading
from posecoach.sources import Frame
from posecoach.targets import DEFAULT_MAX_RATIO_STOPS
from posecoach.wardrobe import WardrobeAdvice, wardrobe

#: What a check is built from: about 2 s of a 30 fps camera, a reading every 3rd frame.
CHECK_FRAMES = 60
READ_EVERY = 3
#: Fewer frames with a face than this and the check cannot say anything.
MIN_FACE_READINGS = 3


@dataclass(frozen=True)
class RoomCheck:
    """The light and the room, over ``frames`` frames of which ``with_face`` showed a face.

    ``light`` is the median reading (None without enough faces), ``lighting`` its verdict
    against the look's ``max_ratio_stops``, ``cue`` what to do ("" when the light is fine),
    ``wardrobe`` the advice on the top and background (from the middle frame with a face;
    None when only readings were given).
    """

    frames: int
    with_face: int
    light: LightReading | None
    lighting: Lighting | None
    cue: str
    wardrobe: WardrobeAdvice | None

    @property
    def ok(self) -> bool:
        return self.lighting is Lighting.OK and not self.cue

    def lines(self) -> list[str]:
        """The check as a person reads it."""
        if self.light is None or self.lighting is None:
            return ["light check: no face found: sit facing the camera and try again"]
        r = self.light
        out = [
            f"light: {self.lighting.value}" + (f": {self.cue}" if self.cue else " (nothing to change)"),
            f"  face brightness {r.face_luma:.0f} of 255, left/right ratio {r.light_ratio_stops:.1f} stops "
            f"({_ratio_words(r.light_ratio_stops)}), background {_signed(r.backlight_stops)} stops against the face",
        ]
        if self.wardrobe is not None:
            out += [f"  {a}" for a in self.wardrobe.advice]
        return out


def _signed(v: float) -> str:
    return "n/a" if not np.isfinite(v) else f"{v:+.1f}"


def _ratio_words(stops: float) -> str:
    if stops <= 1.0:
        return "flat, as corporate headshots want"
    if stops <= 2.0:
        return "portrait light"
    return "dramatic"


def _median_reading(readings: list[LightReading]) -> LightReading:
    def med(name: str) -> float:
        v = np.array([getattr(r, name) for r in readings], float)
        v = v[np.isfinite(v)]
        return float(np.median(v)) if v.size else float("nan")

    casts = [r.cast for r in readings if r.cast]
    return LightReading(
        face_luma=med("face_luma"),
        light_balance_stops=med("light_balance_stops"),
        top_bottom_stops=med("top_bottom_stops"),
        shadows_clipped=med("shadows_clipped"),
        highlights_clipped=med("highlights_clipped"),
        backlight_stops=med("backlight_stops"),
        background_clipped=med("background_clipped"),
        cast_chroma=med("cast_chroma"),
        cast=max(set(casts), key=casts.count) if casts else "",
    )


class LightCheck:
    """Gathers a light check frame by frame. ``max_ratio_stops``: the look's widest ratio;
    ``min_readings``: frames with a face needed for a verdict (1 for a photo)."""

    def __init__(self, max_ratio_stops: float = DEFAULT_MAX_RATIO_STOPS, min_readings: int = MIN_FACE_READINGS) -> None:
        self.max_ratio_stops = max_ratio_stops
        self.min_readings = min_readings
        self.frames = 0
        self._readings: list[LightReading] = []
        self._faces: list[tuple[np.ndarray, FaceFrame]] = []

    def add(self, image: np.ndarray, face: FaceFrame) -> None:
        """One raw BGR frame and the face tracked in it."""
        reading = read_light(image, face)
        self.add_reading(reading)
        if reading is not None and len(self._faces) < 16:  # a few frames kept for the wardrobe look
            self._faces.append((image, face))

    def add_reading(self, reading: LightReading | None) -> None:
        """A reading taken elsewhere (the live coach's); None = a frame without a face."""
        self.frames += 1
        if reading is not None:
            self._readings.append(reading)

    @property
    def readings(self) -> int:
        return len(self._readings)

    def result(self) -> RoomCheck:
        if len(self._readings) < self.min_readings:
            return RoomCheck(self.frames, len(self._readings), None, None, "", None)
        light = _median_reading(self._readings)
        verdict = classify(light, self.max_ratio_stops)
        advice = wardrobe(*self._faces[len(self._faces) // 2]) if self._faces else None
        return RoomCheck(self.frames, len(self._readings), light, verdict, light_cue(light, verdict), advice)


def check_light(
    frames: Iterable[Frame | None],
    tracker: FaceTracker,
    *,
    max_ratio_stops: float = DEFAULT_MAX_RATIO_STOPS,
    max_frames: int = CHECK_FRAMES,
    still: bool = False,
) -> RoomCheck:
    """A light check over the first ``max_frames`` frames (a reading every
    :data:`READ_EVERY`-th; every frame of a photo, ``still``)."""
    check = LightCheck(max_ratio_stops, 1 if still else MIN_FACE_READINGS)
    for i, frame in enumerate(frames):
        if i >= max_frames:
            break
        if frame is None or (not still and i % READ_EVERY):
            continue
        check.add(frame.image, tracker.process(frame.image, frame.t_ms))
    return check.result()
