"""The light on the page: a gauge under the score, and the light check before a calibration or
a routine (from the live coach's recent readings; see :mod:`posecoach.room`)."""

from __future__ import annotations

import html
from collections import deque

import streamlit as st

from posecoach.lighting import BACKLIT_STOPS
from posecoach.live import LiveCoach
from posecoach.results import FrameResult, Lighting
from posecoach.room import LightCheck, RoomCheck
from posecoach.targets import DEFAULT_MAX_RATIO_STOPS
from posecoach.ui.plain import md

#: The ratio gauge runs from 0 to this many stops.
GAUGE_STOPS = 4.0
_COLOURS = {Lighting.OK: "#2e7d32", Lighting.UNEVEN: "#ef6c00", Lighting.BACKLIT: "#c62828",
            Lighting.DARK: "#c62828", Lighting.BRIGHT: "#c62828"}  # fmt: skip
#: Readings the live check keeps (one per poll, ~0.5 s apart: the last 3-4 s).
_KEEP = 8


def gauge_html(result: FrameResult | None, max_ratio_stops: float) -> str:
    """One line and one bar: the verdict, the face's brightness, and the left/right ratio on a
    0-4 stop scale with the look's allowed range shaded ("" without a reading)."""
    if result is None or result.light is None or result.lighting is None:
        return ""
    r, verdict = result.light, result.lighting
    colour = _COLOURS[verdict]
    ratio = min(GAUGE_STOPS, r.light_ratio_stops)
    allowed = 100.0 * min(GAUGE_STOPS, max_ratio_stops) / GAUGE_STOPS
    back = "" if r.backlight_stops != r.backlight_stops else f" &middot; background {r.backlight_stops:+.1f} stops"
    return (
        f'<div class="pc-light" style="font-size:0.9rem;margin:0.4rem 0">'
        f'<b style="color:{colour}">Light: {html.escape(verdict.value)}</b> &middot; face {r.face_luma:.0f}/255'
        f" &middot; left/right {r.light_ratio_stops:.1f} stops{back}"
        f'<div style="position:relative;height:8px;background:#eee;border-radius:4px;margin-top:3px">'
        f'<div style="position:absolute;left:0;width:{allowed:.0f}%;height:8px;background:#c8e6c9;border-radius:4px"></div>'
        f'<div style="position:absolute;left:calc({100 * ratio / GAUGE_STOPS:.0f}% - 2px);width:4px;height:12px;top:-2px;'
        f'background:{colour}"></div></div></div>'
    )


def gauge(result: FrameResult | None, max_ratio_stops: float) -> None:
    """The light gauge (nothing without a reading)."""
    text = gauge_html(result, max_ratio_stops)
    if text:
        st.markdown(text, unsafe_allow_html=True)


def show_check(check: RoomCheck) -> None:
    """A finished check: green when the light is fine, else what to change."""
    lines = check.lines()
    if check.light is None:
        st.info(md(lines[0]))
        return
    (st.success if check.ok else st.warning)(md(lines[0]))
    for line in lines[1:]:
        st.caption(md(line.strip()))


def live_check(coach: LiveCoach, *, key: str, playing: bool | None = None,
               max_ratio_stops: float = DEFAULT_MAX_RATIO_STOPS) -> None:  # fmt: skip
    """The light check before a calibration or a routine: the median of the live coach's last
    readings, redrawn while the camera plays (``playing`` None: not known here, so it polls
    each second and reads the camera's state from the coach). Advice only: nothing waits for it."""
    poll = None if playing is False else 0.5 if playing else 1.0

    @st.fragment(run_every=poll)
    def panel() -> None:
        readings: deque = st.session_state.setdefault(key, deque(maxlen=_KEEP))
        result = coach.session.snapshot().result
        light = result.light if result is not None else None
        if light is not None and (not readings or readings[-1] is not light):
            readings.append(light)
        check = LightCheck(max_ratio_stops)
        for r in readings:
            check.add_reading(r)
        live = playing if playing is not None else coach.stats().fps > 0
        with st.container(key=f"{key}-box"):
            st.markdown("**Light check**")
            if not live and not readings:
                st.caption("Turn the camera on (START under the picture): the light is checked before you begin.")
            elif 0 < len(readings) < check.min_readings:
                st.caption("Reading the light on your face\u2026")
            else:
                show_check(check.result())
                st.caption(f"Backlight is a background {BACKLIT_STOPS:g}+ stops brighter than your face and clipped white.")

    panel()
