"""The live camera page: streamlit-webrtc in, the coaching panel polled beside it.

The browser sends the camera over WebRTC to this server; :class:`~posecoach.live.LiveCoach`
(the ``video_frame_callback``) coaches every frame on streamlit-webrtc's worker thread and
sends the annotated picture back. The page never waits on the worker: while the stream plays,
a fragment re-draws the panel from the session's lock-guarded snapshot a few times a second.

ICE servers: none by default (``{"iceServers": []}``: host candidates only, and nothing is
contacted outside). The media sockets listen on 127.0.0.1 only unless the page is served
beyond this machine or ICE servers are set (:mod:`posecoach.ui.ice`). For remote use set
``POSECOACH_ICE_SERVERS`` (see :func:`posecoach.ui.server.ice_servers_from_env`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import streamlit as st
from streamlit_webrtc import WebRtcMode, webrtc_streamer

from posecoach.model_file import ModelError
from posecoach.targets import Target
from posecoach.ui import calibrate, history, panels
from posecoach.live import LiveCoach
from posecoach.runs import CoachSettings
from posecoach.ui.ice import apply_ice_scope, ice_scope
from posecoach.ui.server import freeze_loaded_objects, ice_servers_from_env, install_log_forwarding
from posecoach.ui.panels import model_error
from posecoach.ui.plain import md

log = logging.getLogger("posecoach.ui")

#: streamlit-webrtc's key for the component (its context lives in st.session_state[WEBRTC_KEY]).
WEBRTC_KEY = "posecoach-camera"
_COACH_KEY = "pc-live-coach"
#: True once a full run chose not to show the camera (another source, an error).
_HIDDEN_KEY = "pc-camera-hidden"
#: Seconds between refreshes while the camera plays: the panel (cue, score, gauges), the score
#: chart, the gallery. Each refresh re-runs Python on the server and re-renders in the browser,
#: on the same cores as the camera's video. In the browser test (30 fps camera, shared machine)
#: moving from 0.4 / 1 / 2 s to these took the skipped frames from 43-49 % to 11-12 %, before
#: the garbage-collector fix (:func:`freeze_loaded_objects`) took them under 1 %. The video
#: itself shows the score, cue and hold at every frame; the panel may trail by a second.
POLL_S = 1.0
CHART_POLL_S = 2.0
GALLERY_POLL_S = 5.0

_TRANSLATIONS = {
    "device_access_denied": (
        "Camera access is blocked. Allow the camera for this page (the camera icon in the address bar) "
        "and press START again, or choose \u201cPractise on a video\u201d in the sidebar."
    ),
    "device_not_available": (
        "No camera found (or it is in use by another program). Connect one and press START, "
        "or choose \u201cPractise on a video\u201d in the sidebar."
    ),
    "media_api_not_available": (
        "This browser does not offer the camera to this page: it needs https or http://localhost. "
        "Open the app at http://localhost:8501, or choose \u201cPractise on a video\u201d."
    ),
}


def get_coach(target: Target, settings: CoachSettings) -> LiveCoach:
    """The browser session's one LiveCoach (one landmarker), created on first use.

    Raises:
        ModelError: the model cannot be loaded (nothing is cached, so fixing the file and
            reloading the page works).
    """
    coach = st.session_state.get(_COACH_KEY)
    if coach is None:
        coach = LiveCoach(target, settings)
        st.session_state[_COACH_KEY] = coach
    else:
        coach.configure(target, settings)
    return coach


def mark_camera_hidden() -> None:
    """Called by the page when a full run deliberately does not show the camera."""
    st.session_state[_HIDDEN_KEY] = True


def _prepare_webrtc_context(key: str) -> None:
    """Work around streamlit-webrtc's stale-context reset (>= 0.72.1), which drops live calls.

    Upstream, ``streamlit_webrtc.component._get_or_create_context`` (0.79.0, installed here:
    ``component.py`` lines 313-329) resets the context, stopping the worker it has just
    created, whenever ``script_run_count`` moved by more than one since the component was
    last rendered ("Context for key=... was not rendered for 1 script runs; resetting stale
    state"). It is meant for multipage apps (the user went to another page and came back).
    But Streamlit bumps that count on its event-loop thread when a finished run's message is
    *sent*, which races with the next run reading it: right after START, when the component
    asks for back-to-back reruns to deliver the SDP answer, two consecutive renders can see
    the count move by two (logged here as "run count 10 -> 12"). If the answer had already
    reached the browser, the reset drops the call: reported at about one START in ten on
    this machine under load.

    posecoach is a single page, so the heuristic buys nothing: clearing
    ``_last_rendered_run_count`` before every render disables it. What it protected against
    (the component's iframe went away and came back) can happen here only when the person
    switches to another source, and the page knows that without counting runs
    (:func:`mark_camera_hidden`): then the old context is dropped before the camera is
    shown again.
    """
    context = st.session_state.get(key)
    if context is None:
        return
    if st.session_state.get(_HIDDEN_KEY):
        worker = context._get_worker() if hasattr(context, "_get_worker") else None
        if worker is not None:
            worker.stop()
        del st.session_state[key]
        st.session_state[_HIDDEN_KEY] = False
        return
    if getattr(context, "_last_rendered_run_count", None) is not None:
        _note_suppressed_reset(context)
        context._last_rendered_run_count = None


def _note_suppressed_reset(context: object) -> None:
    """Log when upstream's check would have reset the context (the race, made visible)."""
    try:
        from streamlit_webrtc.session_info import get_script_run_count, get_this_session_info

        info = get_this_session_info()
        if info is None:
            return
        count = get_script_run_count(info)
        last = context._last_rendered_run_count  # type: ignore[attr-defined]
        if count > last + 1:
            log.info("streamlit-webrtc stale-state reset suppressed (run count %d -> %d)", last, count)
    except Exception:  # noqa: BLE001 - diagnostics only
        pass


def live_page(target: Target, settings: CoachSettings, *, side: Callable[[LiveCoach, bool], None] | None = None) -> None:
    """The camera, the annotated picture coming back, and the live panel beside it
    (``side(coach, playing)`` draws another panel there instead: a drill's)."""
    forward = install_log_forwarding()
    try:
        coach = get_coach(target, settings)
    except ModelError as e:
        mark_camera_hidden()
        model_error(e)
        return
    ice_servers, ice_warning = ice_servers_from_env()
    if ice_warning:
        st.warning(md(ice_warning))
    col_video, col_panel = st.columns([3, 2], gap="medium")
    with col_video:
        if not _served():
            st.info("The live camera needs the Streamlit server: start the app with `streamlit run streamlit_app.py`.")
            mark_camera_hidden()
            with col_panel:
                _side_panel(coach, target, settings, forward, False) if side is None else side(coach, False)
            return
        scope_warning = apply_ice_scope(ice_scope(st.get_option("server.address"), ice_servers))
        if scope_warning:
            st.warning(scope_warning)
        freeze_loaded_objects()  # before the stream: see its docstring
        _prepare_webrtc_context(WEBRTC_KEY)
        ctx = webrtc_streamer(
            key=WEBRTC_KEY,
            mode=WebRtcMode.SENDRECV,
            rtc_configuration={"iceServers": ice_servers},
            media_stream_constraints={
                "video": {"width": {"ideal": 640}, "height": {"ideal": 360}, "frameRate": {"ideal": 30}},
                "audio": False,
            },
            queued_video_frames_callback=coach.recv_queued,
            async_processing=True,
            video_html_attrs={"autoPlay": True, "controls": False, "muted": True, "playsInline": True,
                              "style": {"width": "100%"}},  # fmt: skip
            translations=_TRANSLATIONS,
        )
        st.session_state[_HIDDEN_KEY] = False
        playing = bool(ctx.state.playing)
        if not playing:
            st.caption("Press START and allow the camera. The picture comes back with the coaching drawn on it.")
            camera_help()
            with st.expander("START works but the picture never comes back?"):
                st.markdown(
                    "- The browser must allow the camera for this page; it offers it only on "
                    "`http://localhost` or over https.\n"
                    "- On another machine than the server, WebRTC may need ICE servers: start the app with "
                    "`POSECOACH_ICE_SERVERS` set to a JSON list such as "
                    '`[{"urls": ["turn:turn.example.org:3478"], "username": "u", "credential": "p"}]` '
                    "or to comma-separated `stun:`/`turn:` URLs. By default none are used, so nothing "
                    "outside this network is contacted."
                )
    with col_panel:
        _side_panel(coach, target, settings, forward, playing) if side is None else side(coach, playing)
    if side is None:  # a drill keeps its own shots
        _gallery_fragment(coach, playing)


#: What the camera component's error messages mean, for the person (the component shows the
#: browser's own error text; the page cannot read it, so it explains them all).
CAMERA_ERRORS = (
    ("NotAllowedError", "Permission denied",
     "the browser blocks the camera for this page. Allow it (the camera icon in the address bar, or the "
     "site settings) and press START again."),
    ("NotFoundError", "Requested device not found",
     "no camera was found. Connect one and press START again."),
    ("NotReadableError", "Could not start video source",
     "another program is using the camera. Close it and press START again."),
    ("navigator.mediaDevices is undefined", "",
     "the page is not opened on https or on this machine (localhost), so the browser offers no camera. "
     "Open it as https://\u2026 or http://localhost:8501."),
)  # fmt: skip


def camera_help() -> None:
    """What to do when the camera does not start, and the way out: practise on a video."""
    with st.container(key="pc-camera-help"):
        lines = []
        for name, text, advice in CAMERA_ERRORS:
            shown = f"**{name}**" + (f" ({text})" if text else "")
            lines.append(f"- {shown}: {advice}")
        st.markdown("**No picture?** If the camera box shows an error:\n" + "\n".join(lines))
        st.markdown("No camera at hand, or it stays blocked? Record a clip with any camera app and practise on it.")
        st.button("Practise on a video instead", key="pc-use-video", on_click=panels.switch_source,
                  args=(panels.SOURCE_VIDEO,))  # fmt: skip


def _side_panel(coach: LiveCoach, target: Target, settings: CoachSettings, forward, playing: bool) -> None:  # noqa: ANN001
    """The coaching panel, or the calibration step while it is open."""
    if calibrate.is_open():
        calibrate.live_panel(coach, playing)
    else:
        if coach.calibration is not None:
            coach.stop_calibration()
        _panel_fragment(coach, target, settings, forward, playing)
        history.keep_panel(coach.session.tally, source="live camera", profile=settings.profile, key="live", restart=True)


def _served() -> bool:
    """True under ``streamlit run``; False where no real server runs the page (AppTest's mocked
    runtime has no session manager, which streamlit-webrtc needs to track its context)."""
    from streamlit.runtime import Runtime

    try:
        return hasattr(Runtime.instance(), "_session_mgr")
    except RuntimeError:
        return False


def _panel_fragment(coach: LiveCoach, target: Target, settings: CoachSettings, forward, playing: bool) -> None:  # noqa: ANN001
    @st.fragment(run_every=POLL_S if playing else None)
    def panel() -> None:
        snapshot = coach.session.snapshot()
        stats = coach.stats()
        if playing and snapshot.frames == 0:
            st.info("Connecting to the camera…")
        panels.coach_panel(snapshot, target, settings, status=panels.live_status(stats), show_timeline=False)
        calibrate.before_after_now(settings.profile, snapshot.result)
        if playing:
            now = time.time()
            recent = tuple(text for t, text in forward.recent if now - t < 30.0)
            panels.messages(snapshot, live=True, recent_errors=recent)

    # The chart is redrawn less often than the cue and score: the browser pays for each redraw.
    @st.fragment(run_every=CHART_POLL_S if playing else None)
    def timeline() -> None:
        snapshot = coach.session.snapshot()
        if len(snapshot.timeline) > 1:
            panels.timeline_chart(snapshot.timeline, target.threshold)

    panel()
    timeline()


def _gallery_fragment(coach: LiveCoach, playing: bool) -> None:
    @st.fragment(run_every=GALLERY_POLL_S if playing else None)
    def gallery() -> None:
        panels.gallery(coach.session.captures, key="live", on_clear=coach.session.clear_captures)

    gallery()
