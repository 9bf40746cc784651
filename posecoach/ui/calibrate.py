"""Calibration in the browser: the profile picker, the live guided calibration, calibrating
from an uploaded clip, and the before/after view.

A profile is a small JSON file of numbers in ``calibration/`` (or
``$POSECOACH_CALIBRATION_DIR``), written only when the person finishes a calibration. The
active profile (sidebar) applies to the live camera, the clip and the snapshot alike.

Live: the page hands a :class:`~posecoach.calibration.CalibrationRecorder` to the browser
session's :class:`~posecoach.live.LiveCoach`; the video callback feeds it and draws its
prompt on the picture, and a fragment here polls its immutable state for the prompt,
countdown and feedback. Nothing in this module runs on the video thread.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping
from dataclasses import dataclass

import streamlit as st

from posecoach.calibration import (
    PHASE_TITLES,
    CalibrationError,
    CalibrationProfile,
    CalibrationRecorder,
    CalibrationState,
    PhaseRejected,
    PhaseSamples,
    Window,
    list_profiles,
    load_profile_or_warn,
    profile_dir,
    save_profile,
    validate_name,
)
from posecoach.calibration_runs import calibrate_clip
from posecoach.live import LiveCoach
from posecoach.model_file import ModelError
from posecoach.report import before_after_medians
from posecoach.results import FrameResult
from posecoach.runs import ClipRun
from posecoach.sources import SourceError
from posecoach.ui import panels
from posecoach.ui.plain import md

#: Session-state key of the profile picker.
PROFILE_KEY = "pc-profile"
#: The picker's value for "no profile" (not a valid profile name, so it never clashes).
NO_PROFILE = "(none)"
#: True while the calibration step is open on the page.
OPEN_KEY = "pc-calibrating"
_PENDING_KEY = "pc-profile-pending"
_LIVE_KEY = "pc-cal-live"
_CLIP_RESULT_KEY = "pc-clipcal-result"
_CLIP_ERROR_KEY = "pc-clipcal-error"
#: Session-state key of the "Calibrate from this clip" section's open state.
CLIP_OPEN_KEY = "pc-clipcal-open"
#: Seconds between refreshes of the live calibration's prompt and countdown.
POLL_S = 0.25
#: ... and of its before/after table once it is done.
DONE_POLL_S = 1.0


@dataclass(frozen=True)
class ProfileChoice:
    """What the picker chose: the name (None for none), the loaded profile (None when none
    was chosen or it could not be used) and a one-line warning ("" if all is well)."""

    name: str | None
    profile: CalibrationProfile | None
    warning: str = ""


# -- the sidebar ---------------------------------------------------------------------------
def is_open() -> bool:
    """True while the person has the calibration step open."""
    return bool(st.session_state.get(OPEN_KEY))


def open_step() -> None:
    """Button callback: show the calibration step."""
    st.session_state[OPEN_KEY] = True


def close_step(coach: LiveCoach | None = None) -> None:
    """Button callback: back to coaching (a live calibration under way is dropped)."""
    st.session_state[OPEN_KEY] = False
    st.session_state.pop(_LIVE_KEY, None)
    if coach is not None:
        coach.stop_calibration()


def use_profile(name: str) -> None:
    """Make ``name`` the active profile from the next full run on (the picker follows)."""
    st.session_state[_PENDING_KEY] = name


def sidebar() -> ProfileChoice:
    """The sidebar's Calibration section: pick a profile, or start a new calibration."""
    sb = st.sidebar
    sb.header("Calibration")
    options = [NO_PROFILE, *list_profiles()]
    pending = st.session_state.pop(_PENDING_KEY, None)
    if pending is not None and pending in options:
        st.session_state[PROFILE_KEY] = pending
    if st.session_state.get(PROFILE_KEY) not in options:
        st.session_state[PROFILE_KEY] = NO_PROFILE
    choice = sb.selectbox(
        "Profile", options, key=PROFILE_KEY,
        format_func=lambda n: "None (uncalibrated)" if n == NO_PROFILE else n,
        help=f"Calibration profiles in {md(profile_dir())}. A profile makes the coaching follow your own face: "
             "your resting smile reads 0 and your broad smile 1, your relaxed eyes read open.",
    )  # fmt: skip
    name = None if choice == NO_PROFILE else choice
    profile, warning = load_profile_or_warn(name)
    sb.button(
        "Calibrate…", key="pc-calibrate", on_click=open_step, disabled=is_open(),
        help="About 15 seconds: a relaxed face, a big smile, eyes closed. With the live camera or a clip.",
    )  # fmt: skip
    return ProfileChoice(name, profile, warning)


def status(choice: ProfileChoice) -> None:
    """"Calibrated for <name>" or "Uncalibrated", and why a chosen profile is not used."""
    with st.container(key="pc-calibration-status"):
        if choice.profile is not None:
            st.markdown(f":green-badge[Calibrated for {md(choice.profile.name)}]")
        else:
            st.markdown(":gray-badge[Uncalibrated]")
        if choice.warning:
            st.warning(f"The calibration profile cannot be used: {md(choice.warning)}. Calibrate again to replace it.")


# -- before / after ------------------------------------------------------------------------
def _fmt(metric: str, value: float) -> str:
    if metric in ("yaw", "pitch", "roll"):
        value = round(value, 1)
        return f"{value + 0.0 if value else 0.0:+.1f}°"  # never "-0.0°"
    return f"{round(value, 2) + 0.0:.2f}"


#: Between the uncalibrated and the calibrated value in a table cell.
ARROW = " \u2192 "
#: The before/after table's column for each calibration phase.
PHASE_COLUMNS: Mapping[str, str] = {"neutral": "Relaxed", "smile": "Big smile", "closed": "Eyes closed"}


def phase_columns(
    profile: CalibrationProfile, samples: Mapping[str, PhaseSamples], phases: tuple[str, ...] = tuple(PHASE_COLUMNS)
) -> dict[str, dict[str, tuple[float, float]]]:
    """The before/after medians of each recorded phase among ``phases``, by column title."""
    return {PHASE_COLUMNS[p]: before_after_medians(profile, samples[p].metrics) for p in phases if p in samples}


def before_after_table(columns: Mapping[str, Mapping[str, tuple[float, float]]], *, key: str) -> None:
    """A table: one row per metric, one column per moment, each cell "uncalibrated → calibrated".

    ``columns`` maps a moment ("Relaxed", "Now"...) to :func:`before_after_medians` output;
    empty moments are left out.
    """
    import pandas as pd

    columns = {label: values for label, values in columns.items() if values}
    if not columns:
        st.caption("No face to compare yet.")
        return
    metrics = list(next(iter(columns.values())))
    rows = []
    for metric in metrics:
        row = {"Metric": panels.METRIC_LABELS.get(metric, metric)}
        for label, values in columns.items():
            before, after = values[metric]
            row[label] = f"{_fmt(metric, before)}{ARROW}{_fmt(metric, after)}"
        rows.append(row)
    with st.container(key=key):
        st.table(pd.DataFrame(rows).set_index("Metric"))
        st.caption(
            "Each cell: uncalibrated \u2192 calibrated. Angles in degrees as the camera sees you (not mirrored); "
            "the rest 0 to 1."
        )


def before_after_now(profile: CalibrationProfile | None, result: FrameResult | None, *, label: str = "Now") -> None:
    """The coached frame's metrics before and after the active calibration (an expander)."""
    if profile is None:
        return
    with st.expander(f"Calibration for {md(profile.name)}: before / after"):
        raw = result.raw_metrics if result is not None else None
        if raw is None:
            st.caption("No face to compare yet.")
        else:
            before_after_table({label: before_after_medians(profile, [raw])}, key="pc-before-after-now")


# -- live ------------------------------------------------------------------------------------
def name_problem(name: str) -> str:
    """Why ``name`` cannot be a profile name ("" when it can)."""
    try:
        validate_name(name)
    except CalibrationError:
        return "Use 1-64 letters, digits, _ or -, starting with a letter or digit (it becomes the file name)."
    return ""


def _name_input(key: str) -> tuple[str, str]:
    """The profile-name field: ``(name, problem)``; says when a profile would be replaced."""
    name = st.text_input("Your name", key=key, max_chars=64, placeholder="e.g. ana",
                         help="Names the profile file: calibration/<name>.json")  # fmt: skip
    name = name.strip()
    problem = name_problem(name) if name else "Enter a name for the profile."
    if name and problem:
        st.error(problem)
    elif name in list_profiles():
        st.caption(f"A profile named {md(name)} exists: calibrating replaces it.")
    return name, problem


def live_panel(coach: LiveCoach, playing: bool) -> None:
    """The calibration step beside the live camera: set up, guided phases, result."""
    entry = st.session_state.get(_LIVE_KEY)
    if entry is None or coach.calibration is not entry["recorder"]:
        _live_setup(coach, playing)
    else:
        _live_progress(coach, entry, playing)


def _live_setup(coach: LiveCoach, playing: bool) -> None:
    st.subheader("Calibrate to your face")
    st.caption(
        "About 15 seconds in three steps: a relaxed face looking into the lens, your biggest natural smile, "
        "then eyes gently closed. Sit facing the camera in good light; the prompts appear here and on the picture."
    )
    name, problem = _name_input("pc-cal-name")
    closed = st.toggle("Include the eyes-closed step", value=True, key="pc-cal-closed",
                       help="Without it, closed eyes are estimated from your open ones.")  # fmt: skip
    start, cancel = st.columns(2)
    if start.button("Start calibration", type="primary", disabled=bool(problem), key="pc-cal-start"):
        recorder = coach.start_calibration(CalibrationRecorder(name, include_closed=closed))
        st.session_state[_LIVE_KEY] = {"recorder": recorder, "saved": "", "error": "", "playing": playing}
        st.rerun()
    cancel.button("Cancel", key="pc-cal-cancel", on_click=close_step, args=(coach,))
    if not playing:
        st.info("Press START under the picture to turn the camera on: the calibration runs on the live picture.")
    from posecoach.ui import lighting

    lighting.live_check(coach, key="pc-cal-light", playing=playing)


def _live_progress(coach: LiveCoach, entry: dict, playing: bool) -> None:  # type: ignore[type-arg]
    recorder: CalibrationRecorder = entry["recorder"]
    if entry["playing"] and not playing and not recorder.state.finished:
        # STOP (or another source) in the middle: the phases are timed, so the step under way
        # starts over (with its countdown) at the first frame after START; the steps already
        # done are kept.
        recorder.restart_phase()
    entry["playing"] = playing
    if entry["saved"] or entry["error"]:
        # Done and saved: only the "Now" column still changes, so redraw less often.
        @st.fragment(run_every=DONE_POLL_S if playing else None)
        def done() -> None:
            _live_done(coach, recorder, recorder.state, entry)

        done()
        return

    @st.fragment(run_every=POLL_S if playing else None)
    def progress() -> None:
        state = recorder.state
        if state.status == "done":
            if not entry["saved"] and not entry["error"]:
                try:
                    entry["saved"] = str(save_profile(state.profile))
                except CalibrationError as e:
                    entry["error"] = str(e)
                else:
                    use_profile(state.profile.name)
                    st.rerun(scope="app")  # the picker and the coaching follow the new profile
            _live_done(coach, recorder, state, entry)
        elif state.status == "failed":
            st.subheader("Calibration stopped")
            with st.container(key="pc-cal-feedback"):
                st.error(state.feedback or "The calibration could not finish.")
            again, cancel = st.columns(2)
            again.button("Try again", type="primary", key="pc-cal-again", on_click=recorder.restart)
            if cancel.button("Cancel", key="pc-cal-cancel-failed"):
                close_step(coach)
                st.rerun(scope="app")
        else:
            _live_running(recorder, state, playing)
            if st.button("Cancel calibration", key="pc-cal-cancel-running"):
                close_step(coach)
                st.rerun(scope="app")

    progress()


def countdown_text(state: CalibrationState) -> str:
    """"Starts in 2" while getting ready, "Recording: 3 s left" while recording."""
    seconds = max(1, math.ceil(state.seconds_left - 1e-6))
    if state.status == "prepare":
        return f"Starts in {seconds}"
    if state.status == "record":
        return f"Recording: {seconds} s left"
    return ""


def _live_running(recorder: CalibrationRecorder, state: CalibrationState, playing: bool) -> None:
    attempt = f" · attempt {state.attempt} of {recorder.max_attempts}" if state.attempt > 1 else ""
    st.caption(f"Calibrating {md(recorder.name)} · step {state.phase_number} of {state.n_phases}: {state.title}{attempt}")
    with st.container(key="pc-cal-prompt"):
        st.markdown(f"## {html.escape(state.prompt, quote=False)}")
    with st.container(key="pc-cal-countdown"):
        st.markdown(f"### {countdown_text(state)}")
    st.progress(min(1.0, max(0.0, state.progress)))
    if state.feedback:
        with st.container(key="pc-cal-feedback"):
            (st.success if state.feedback_ok else st.warning)(state.feedback)
    if state.recording and not state.face_found:
        st.warning("We can't see your face: move into the frame and face the camera.")
    if not playing:
        st.info("Press START under the picture: the calibration begins with the first frame.")
    buttons = st.columns(2)
    if state.phase == "closed":
        buttons[0].button("Skip this step", key="pc-cal-skip", on_click=recorder.skip_phase,
                          help="Closed eyes are then estimated from your open ones.")  # fmt: skip
    buttons[1].button("Start over", key="pc-cal-restart", on_click=recorder.restart)


def _live_done(
    coach: LiveCoach, recorder: CalibrationRecorder, state: CalibrationState, entry: dict  # type: ignore[type-arg]
) -> None:
    profile = state.profile
    st.subheader("Calibration done")
    with st.container(key="pc-cal-feedback"):
        if entry["error"]:
            st.error(f"The profile could not be saved: {md(entry['error'])}")
        else:
            st.success(f"Calibrated for {md(profile.name)}: saved to {md(entry['saved'])}. Coaching now follows your face.")
    snapshot = coach.session.snapshot()
    columns = phase_columns(profile, recorder.samples, ("neutral", "smile"))
    columns["Now"] = before_after_medians(profile, [snapshot.result]) if snapshot.result is not None else {}
    st.markdown("**Your metrics before and after calibration**")
    before_after_table(columns, key="pc-before-after")
    with st.expander("What was learned"):
        st.markdown("\n".join(f"- {line}" for line in profile.summary_lines()))
    if st.button("Back to coaching", type="primary", key="pc-cal-close"):
        close_step(coach)
        st.rerun(scope="app")


# -- from a clip -------------------------------------------------------------------------------
def _range_slider(label: str, key: str, end_s: float, default: tuple[float, float], help_text: str) -> tuple[float, float]:
    # A value kept from a longer clip must not fall outside this clip's range.
    kept = st.session_state.get(key)
    if kept is not None:
        lo, hi = (min(max(0.0, float(v)), end_s) for v in kept)
        st.session_state[key] = (lo, hi)
    else:
        st.session_state[key] = default
    value = st.slider(label, 0.0, end_s, step=0.1, key=key, format="%.1f s", help=help_text)
    return float(value[0]), float(value[1])


def clip_form(data: bytes, clip_name: str, clip_id: str, run: ClipRun) -> None:
    """Calibrate from the uploaded clip: a name and the seconds of each phase.

    The section keeps its open state across reruns (it is a tracked widget), and the last
    attempt's error stays shown while the person fixes the name or the ranges (each Enter or
    slider move reruns the page); the error goes with the next attempt or another clip.
    """
    result = st.session_state.get(_CLIP_RESULT_KEY)
    error = st.session_state.get(_CLIP_ERROR_KEY)
    if error is not None and error["clip"] != clip_id:
        error = st.session_state[_CLIP_ERROR_KEY] = None
    if is_open():
        st.session_state[CLIP_OPEN_KEY] = True  # opened from the sidebar's "Calibrate…"
    with st.expander("Calibrate from this clip", key=CLIP_OPEN_KEY, on_change="rerun"):
        st.caption(
            "Record about 3 s of a relaxed face looking into the lens, 3 s of your biggest natural smile "
            "and, if you like, 2 s with your eyes gently closed. Then mark where each part is."
        )
        end_s = max(0.2, math.ceil(run.duration_s * 10.0) / 10.0)
        third = round(end_s / 3.0, 1)
        name, problem = _name_input("pc-clipcal-name")
        neutral = _range_slider("Relaxed face (seconds)", "pc-clipcal-neutral", end_s, (0.0, third),
                                "Where you look into the lens with a relaxed face.")  # fmt: skip
        smile = _range_slider("Big smile (seconds)", "pc-clipcal-smile", end_s, (third, round(2 * third, 1)),
                              "Where you hold your biggest natural smile.")  # fmt: skip
        has_closed = st.checkbox("The clip has an eyes-closed part", key="pc-clipcal-has-closed")
        closed = None
        if has_closed:
            closed = _range_slider("Eyes closed (seconds)", "pc-clipcal-closed", end_s, (round(2 * third, 1), end_s),
                                   "Where your eyes are gently closed.")  # fmt: skip
        if st.button("Calibrate from this clip", type="primary", disabled=bool(problem), key="pc-clipcal-go"):
            st.session_state[_CLIP_ERROR_KEY] = None
            _run_clip_calibration(data, clip_name, clip_id, name, {"neutral": neutral, "smile": smile, "closed": closed})
        error = st.session_state.get(_CLIP_ERROR_KEY)
        if error is not None:
            with st.container(key="pc-clipcal-error"):
                st.error(error["message"])
        elif result is not None and result["clip"] == clip_id:
            st.success(f"Calibrated for {md(result['name'])}: saved to {md(result['path'])}.")
            before_after_table(result["columns"], key="pc-before-after")
    if is_open():
        st.button("Done calibrating", key="pc-clipcal-close", on_click=close_step)


def _clip_error(clip_id: str, message: str) -> None:
    """Keep an attempt's error (Markdown, plain text escaped) shown until the next attempt."""
    st.session_state[_CLIP_ERROR_KEY] = {"clip": clip_id, "message": message}


def _run_clip_calibration(
    data: bytes, clip_name: str, clip_id: str, name: str, ranges: Mapping[str, tuple[float, float] | None]
) -> None:
    windows: dict[str, Window] = {}
    for phase, span in ranges.items():
        if span is None:
            continue
        try:
            windows[phase] = Window(*span)
        except ValueError:
            _clip_error(clip_id, f"{PHASE_TITLES[phase]}: choose a range that is longer than zero.")
            return
    try:
        with st.spinner("Learning your face from the clip…"):
            cal = calibrate_clip(data, clip_name, name, windows)
        path = save_profile(cal.profile)
    except PhaseRejected as e:
        _clip_error(clip_id, f"{PHASE_TITLES.get(e.phase, e.phase)} ({windows[e.phase]}): {md(e.reason)}")
        return
    except (CalibrationError, SourceError) as e:
        _clip_error(clip_id, f"The calibration could not be made: {md(e)}")
        return
    except ModelError as e:
        panels.model_error(e)
        return
    columns = phase_columns(cal.profile, cal.samples)
    st.session_state[_CLIP_RESULT_KEY] = {"name": name, "path": str(path), "clip": clip_id, "columns": columns}
    use_profile(name)
    st.rerun()  # the picker, and the clip's coaching, follow the new profile


def needs_video_note() -> None:
    """In snapshot mode: calibration needs a few seconds of video."""
    if not is_open():
        return
    st.info("Calibration needs a few seconds of your face: use the live camera or a clip of yourself.")
    cols = st.columns([1, 1, 2])
    cols[0].button("Use the live camera", key="pc-cal-to-live", on_click=panels.switch_source, args=(panels.SOURCE_LIVE,))
    cols[1].button("Use a clip", key="pc-cal-to-video", on_click=panels.switch_source, args=(panels.SOURCE_VIDEO,))

