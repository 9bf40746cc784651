"""Streamlit panels: each draws one part of the page and returns plain values.

No measuring, scoring or cue logic lives here: the panels show what
:class:`~posecoach.session.CoachSession` and :class:`~posecoach.live.LiveCoach` hand out.
"""

from __future__ import annotations

import functools
import html
import threading
import weakref
from collections.abc import Mapping

import streamlit as st

from posecoach.coaching import NO_FACE_TEXT
from posecoach.model_file import ModelError
from posecoach.overlay import Detail
from posecoach.results import TargetScore
from posecoach.session import Capture, SessionSnapshot
from posecoach.targets import Target
from posecoach.live import LiveStats
from posecoach.report import capture_jpeg, capture_name, capture_record, captures_zip, no_face_seconds
from posecoach.runs import CoachSettings
from posecoach.ui.plain import md

SOURCE_LIVE = "Live camera"
SOURCE_VIDEO = "Practise on a video"
SOURCE_SNAPSHOT = "Snapshot"
SOURCES = (SOURCE_LIVE, SOURCE_VIDEO, SOURCE_SNAPSHOT)
#: Session-state key of the source picker (buttons elsewhere switch it, e.g. "use a video").
SOURCE_KEY = "pc-source"
DEFAULT_TARGET = "corporate_headshot"

#: Human names of the metrics, as the gauges show them.
METRIC_LABELS: Mapping[str, str] = {
    "yaw": "Head turn",
    "pitch": "Chin up / down",
    "roll": "Head tilt",
    "smile": "Smile",
    "mouth_open": "Mouth open",
    "eye_open": "Eyes open",
    "eye_open_left": "Right eye open",
    "eye_open_right": "Left eye open",
    "squinch": "Squinch",
    "genuine_smile": "Smile in the eyes",
    "gaze_on_lens": "Eyes on the lens",
    "brow_raise": "Brows raised",
    "face_x": "Left / right in frame",
    "face_y": "Up / down in frame",
    "face_height": "Face size",
}
_ANGLES = ("yaw", "pitch", "roll")
#: Mirror-image angles: a mirror flips left and right, so yaw and roll read reversed.
_MIRRORED = ("yaw", "roll")
_ANGLE_SPAN = 45.0
#: Points drawn in the score timeline at most.
MAX_CHART_POINTS = 200


# -- controls ------------------------------------------------------------------------------
def switch_source(source: str) -> None:
    """Button callback: choose another source (runs before the next script run)."""
    st.session_state[SOURCE_KEY] = source


def controls(library: Mapping[str, Target]) -> tuple[CoachSettings, str]:
    """The sidebar: target, strictness, hold time, mirror, overlay detail and source."""
    sb = st.sidebar
    sb.header("Your look")
    names = sorted(library, key=lambda n: library[n].title)
    default = names.index(DEFAULT_TARGET) if DEFAULT_TARGET in names else 0
    name = sb.selectbox("Target", names, index=default, format_func=lambda n: library[n].title, key="pc-target")
    target = library[name]
    sb.caption(md(target.description))
    strictness = sb.slider(
        "Strictness", 0.5, 2.0, 1.0, 0.1, key="pc-strictness",
        help="Above 1 narrows every tolerance (harder); below 1 widens it.",
    )  # fmt: skip
    hold_s = sb.slider(
        "Hold time (s)", 0.5, 5.0, float(min(5.0, max(0.5, target.hold_s))), 0.25, key=f"pc-hold-{name}",
        help="How long to keep the score above the target's threshold for it to count as a hold.",
    )  # fmt: skip
    sb.header("Display")
    mirror = sb.toggle("Mirror image", value=True, key="pc-mirror", help="Show yourself as a mirror does.")
    detail = sb.radio(
        "Overlay detail", [d.value for d in Detail], index=1, horizontal=True, key="pc-detail",
        help="minimal: score and cue; standard: plus face outline, head guide and hold ring; full: plus eyes, lips and angles.",
    )  # fmt: skip
    sb.header("Practise with")
    source = sb.radio("Source", SOURCES, key=SOURCE_KEY, label_visibility="collapsed")
    settings = CoachSettings(target=name, strictness=float(strictness), hold_s=float(hold_s), mirror=mirror,
                             detail=Detail(detail))  # fmt: skip
    return settings, source


# -- the coaching panel ----------------------------------------------------------------------
def coach_panel(
    snapshot: SessionSnapshot,
    target: Target,
    settings: CoachSettings,
    *,
    status: str = "",
    show_timeline: bool = True,
) -> None:
    """Cue, score, hold, per-metric gauges and the score timeline for one session snapshot."""
    result = snapshot.result
    if result is None:
        cue = ""
    else:
        cue = result.cue.text or ("" if result.has_face else NO_FACE_TEXT)
    with st.container(key="pc-cue"):
        st.markdown(f"### {md(cue) if cue else '&nbsp;'}")
    score = result.score.score if result is not None and result.score is not None else None
    col_score, col_holds = st.columns(2)
    with col_score.container(key="pc-score"):
        st.metric("Score", f"{score:.0f}" if score is not None else "--", help=f"Counts toward a hold from {target.threshold:.0f}.")
    holds = len(snapshot.captures)
    col_holds.metric("Holds", str(holds))
    progress = result.hold.progress if result is not None else 0.0
    held = result is not None and result.hold.held
    st.progress(min(1.0, max(0.0, progress)), text="Held!" if held else f"Hold {settings.hold_s:g} s")
    st.markdown(gauges_html(result.score if result is not None else None, target, settings.mirror), unsafe_allow_html=True)
    from posecoach.ui import lighting  # the light on the face, under the metrics

    lighting.gauge(result, target.max_ratio_stops)
    if show_timeline and len(snapshot.timeline) > 1:
        timeline_chart(snapshot.timeline, target.threshold)
    if status:
        with st.container(key="pc-stats"):
            st.caption(status)


def gauges_html(score: TargetScore | None, target: Target, mirrored: bool) -> str:
    """One bar per target metric: the target range shaded, the current value as a marker."""
    rows = []
    for r in target.ranges:
        ms = score.metric(r.metric) if score is not None else None
        angle = r.metric in _ANGLES
        flip = -1.0 if (mirrored and r.metric in _MIRRORED) else 1.0
        low, high = sorted((r.low * flip, r.high * flip))
        span_lo, span_hi = (-_ANGLE_SPAN, _ANGLE_SPAN) if angle else (0.0, 1.0)

        def pos(v: float, lo: float = span_lo, hi: float = span_hi) -> float:
            return 100.0 * (min(hi, max(lo, v)) - lo) / (hi - lo)

        band = f"left:{pos(low):.1f}%;width:{max(1.0, pos(high) - pos(low)):.1f}%"
        fmt = (lambda v: f"{v:+.0f}°") if angle else (lambda v: f"{v:.2f}")
        if ms is None:
            marker = ""
            value_text = "–"
        else:
            value = ms.value * flip
            colour = "#2e9d4a" if ms.score >= 0.999 else ("#e0a100" if ms.score >= 0.5 else "#d9534f")
            marker = (
                f'<div style="position:absolute;left:calc({pos(value):.1f}% - 3px);width:6px;top:-3px;bottom:-3px;'
                f'background:{colour};border-radius:3px"></div>'
            )
            value_text = fmt(value)
        label = html.escape(METRIC_LABELS.get(r.metric, r.metric))
        rows.append(
            '<div style="margin:0 0 7px 0;font-size:0.8rem;line-height:1.2">'
            f'<div style="display:flex;justify-content:space-between"><span>{label}</span>'
            f'<span style="opacity:0.75">{value_text} &middot; aim {fmt(low)}&ndash;{fmt(high)}</span></div>'
            '<div style="position:relative;height:8px;margin-top:3px;background:rgba(128,128,128,0.25);border-radius:4px">'
            f'<div style="position:absolute;{band};top:0;bottom:0;background:rgba(46,157,74,0.45);border-radius:4px"></div>'
            f"{marker}</div></div>"
        )
    note = " (angles as the mirror shows them)" if mirrored else ""
    return f'<div class="pc-gauges"><div style="font-size:0.75rem;opacity:0.6;margin-bottom:4px">Now vs target{note}</div>{"".join(rows)}</div>'


def timeline_chart(timeline: tuple[tuple[float, float | None], ...], threshold: float) -> None:
    """The score over the last ~30 s (seconds before now on x, 0..100 on y)."""
    end = timeline[-1][0]
    step = max(1, -(-len(timeline) // MAX_CHART_POINTS))  # the browser redraws it a few times a second
    values = [
        {"t": round((t - end) / 1000.0, 2), "score": None if s is None else round(s, 1)}
        for t, s in timeline[::-1][::step][::-1]
    ]
    spec = {
        "height": 120,
        "layer": [
            {
                "data": {"values": values},
                "mark": {"type": "line", "interpolate": "monotone"},
                "encoding": {
                    "x": {"field": "t", "type": "quantitative", "title": "seconds", "scale": {"domain": [-30, 0]}},
                    "y": {"field": "score", "type": "quantitative", "title": "score", "scale": {"domain": [0, 100]}},
                },
            },
            {
                "data": {"values": [{"threshold": threshold}]},
                "mark": {"type": "rule", "strokeDash": [4, 4], "opacity": 0.6},
                "encoding": {"y": {"field": "threshold", "type": "quantitative"}},
            },
        ],
    }
    st.vega_lite_chart(spec, width="stretch")


def live_status(stats: LiveStats) -> str:
    """The small frames-processed line under the live panel."""
    skipped = f" · {stats.skipped} skipped" if stats.skipped else ""
    return (
        f"processed {stats.frames} frames · {stats.fps:.1f} fps · "
        f"{stats.process_ms:.1f} ms/frame (overlay {stats.overlay_ms:.2f} ms){skipped}"
    )


def messages(snapshot: SessionSnapshot, *, live: bool, recent_errors: tuple[str, ...] = ()) -> None:
    """What a person needs to know when something is off: no face, several faces, no frames."""
    result = snapshot.result
    gone = no_face_seconds(snapshot.timeline)
    if result is not None and not result.has_face and (gone >= 2.0 or not live):
        how_long = f" for {gone:.0f} s" if live else ""
        st.warning(
            f"No face found{how_long}. Move into the frame and face the camera, and add more light: "
            "a lamp or a window in front of you, not behind you."
        )
    if result is not None and result.n_faces > 1 and result.has_face:
        st.info(
            f"{result.n_faces} faces in view: coaching the largest (closest) one. "
            "For accurate scores, practise alone in the frame."
        )
    if live and snapshot.camera_lost:
        st.warning("The camera stopped sending pictures. Check it is connected and not used by another program.")
    for text in recent_errors[-2:]:
        st.warning(f"The video connection reported a problem: {md(text)}")


# -- gallery -------------------------------------------------------------------------------
_thumbs: weakref.WeakKeyDictionary[Capture, bytes] = weakref.WeakKeyDictionary()
_thumbs_lock = threading.Lock()


def _thumbnail(capture: Capture) -> bytes:
    """A small JPEG of a capture, encoded once per capture (Capture compares by identity)
    and forgotten with it, so the gallery can be redrawn while the camera runs."""
    with _thumbs_lock:
        data = _thumbs.get(capture)
    if data is None:
        data = capture_jpeg(capture, quality=85, max_side=360)
        with _thumbs_lock:
            _thumbs[capture] = data
    return data


def gallery(captures: tuple[Capture, ...], *, key: str, on_clear=None) -> None:  # noqa: ANN001
    """The best frame of every hold, with single-frame and zip downloads (made on click)."""
    st.subheader("Your best holds")
    if not captures:
        st.caption("Hit the look and hold it: the best frame of every hold lands here, with its score.")
        return
    top = st.columns([1, 1, 3])
    top[0].download_button(
        f"Download all ({len(captures)}) as zip", data=functools.partial(captures_zip, captures),
        file_name="posecoach-holds.zip", mime="application/zip", on_click="ignore", key=f"{key}-zip",
    )  # fmt: skip
    if on_clear is not None:
        top[1].button("Clear", on_click=on_clear, key=f"{key}-clear")
    st.caption("Frames are shown as the camera sees you (not mirrored). Nothing is saved unless you download it.")
    cols = st.columns(4)
    for i, capture in enumerate(captures, 1):
        with cols[(i - 1) % 4]:
            st.image(_thumbnail(capture), caption=f"#{i} · {capture.score:.0f}/100", width="stretch")
            record = capture_record(capture, i)
            st.download_button(
                "JPEG", data=functools.partial(capture_jpeg, capture), file_name=capture_name(capture, i),
                mime="image/jpeg", on_click="ignore", key=f"{key}-jpg-{i}-{int(capture.t_ms)}",
            )  # fmt: skip
            with st.expander("metrics"):
                st.json(record["metrics"], expanded=True)


def model_error(error: ModelError) -> None:
    """The model is missing or broken: say so, and how to fix it."""
    st.error(f"The face model could not be loaded: {md(error)}")
    st.caption(
        "posecoach needs MediaPipe's face_landmarker.task. Restore assets/models/face_landmarker.task from the "
        "repository, or point the POSECOACH_MODEL environment variable at a copy, then reload this page."
    )
