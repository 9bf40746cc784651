"""Routine mode and the best-side check on the page: on the live camera or a recorded clip.

Live: a :class:`~posecoach.routines.LiveRoutine` listens to the live coach's session (the
camera page of :mod:`posecoach.ui.camera` keeps drawing the camera and the coaching panel for
the current step's target); a fragment polls the routine a few times a second and reruns the
page when a step ends, so the panel follows. A clip: the routine or the check runs through
the core flows (:func:`~posecoach.routines.run_routine_upload`,
:func:`~posecoach.bestside.best_side_upload`) and the summary is shown.
"""

from __future__ import annotations

import html

import streamlit as st

from posecoach.bestside import BestSideResult, SampleCollector, best_side_upload, guided_routine
from posecoach.model_file import ModelError
from posecoach.routine_runs import LiveRoutine, run_routine_upload
from posecoach.routines import Routine, RoutineError, RoutineResult, RoutineState, load_routines
from posecoach.runs import CoachSettings
from posecoach.sources import SourceError
from posecoach.ui import panels
from posecoach.user_targets import Catalog

VIDEO_TYPES = ["mp4", "mov", "m4v", "webm", "mkv", "avi"]
_LIVE_KEY = "pc-routine-live"  # (kind, LiveRoutine, SampleCollector | None)
_LAST_KEY = "pc-routine-last"  # (kind, RoutineResult, SampleCollector | None) of a routine stopped or done
POLL_S = 0.5


def detach_live() -> None:
    """Stop a live routine or check (e.g. the person left the mode): the camera coaches on."""
    held = st.session_state.pop(_LIVE_KEY, None)
    if held is not None:
        held[1].detach()


def stop_live() -> None:
    """The Stop button: keep what was done so far for the summary, then detach."""
    held = st.session_state.get(_LIVE_KEY)
    if held is not None:
        st.session_state[_LAST_KEY] = (held[0], held[1].result(), held[2])
    detach_live()


def _live(kind: str) -> tuple[LiveRoutine, SampleCollector | None] | None:
    held = st.session_state.get(_LIVE_KEY)
    if held is None or held[0] != kind:
        return None
    return held[1], held[2]


# -- routines ------------------------------------------------------------------------------------
def routine_page(catalog: Catalog, settings: CoachSettings, source: str) -> None:
    st.subheader("Warm-up routine")
    try:
        routines = load_routines(catalog.targets)
    except RoutineError as e:
        st.error(f"The routines could not be loaded: {e}")
        return
    names = sorted(routines, key=lambda n: routines[n].title)
    name = st.selectbox("Routine", names, format_func=lambda n: routines[n].title, key="pc-routine")
    routine = routines[name]
    st.caption(routine.description)
    _steps_table(routine, catalog)
    if source == panels.SOURCE_LIVE:
        kind = f"routine:{routine.name}"
        live = _live_routine(routine, catalog, settings, kind=kind)
        if live is not None and live.state().finished:
            stop_live()
            st.rerun()
        last = st.session_state.get(_LAST_KEY)
        if live is None and last is not None and last[0] == kind:
            summary(last[1])
    elif source == panels.SOURCE_VIDEO:
        detach_live()
        _clip_routine(routine, catalog, settings)
    else:
        detach_live()
        st.info("A routine needs the live camera or a recorded clip: choose one under \u201cPractise with\u201d.")


def _steps_table(routine: Routine, catalog: Catalog) -> None:
    rows = []
    for i, step in enumerate(routine.steps, 1):
        hold = f"{step.hold_s:g} s" if step.hold_s is not None else f"{catalog.targets[step.target].hold_s:g} s"
        cells = (html.escape(catalog.targets[step.target].title, quote=False), html.escape(step.prompt, quote=False))
        title, prompt = (c.replace("|", "\\|") for c in cells)  # a "|" would end the table cell
        rows.append(f"| {i} | {title} | up to {step.time_s:g} s | {hold} | {prompt} |")
    st.markdown("| | Look | Time | Hold | What to do |\n|---|---|---|---|---|\n" + "\n".join(rows))


def _clip_routine(routine: Routine, catalog: Catalog, settings: CoachSettings) -> None:
    upload = st.file_uploader("A clip of you going through the looks", type=VIDEO_TYPES, key="pc-routine-clip")
    if upload is None:
        return
    key = (upload.file_id, routine, settings)
    cached = st.session_state.get("pc-routine-clip-run")
    if cached is None or cached[0] != key:
        bar = st.progress(0.0, text="Running the routine…")

        def on_state(state: RoutineState) -> None:
            bar.progress(min(1.0, state.progress), text=f"Step {min(state.index + 1, state.n_steps)} of {state.n_steps}")

        try:
            run = run_routine_upload(upload.getvalue(), upload.name, routine, catalog.targets, settings, on_state=on_state)
        except ModelError as e:
            bar.empty()
            panels.model_error(e)
            return
        except SourceError as e:
            bar.empty()
            st.error(f"This file cannot be used: {e}.")
            return
        bar.empty()
        st.session_state["pc-routine-clip-run"] = cached = (key, run.result)
    summary(cached[1])


def _live_routine(routine: Routine, catalog: Catalog, settings: CoachSettings, *, kind: str,
                  collector: SampleCollector | None = None) -> LiveRoutine | None:  # fmt: skip
    """Start/stop buttons, the camera for the current step and the routine's own panel."""
    from posecoach.ui import camera

    held = _live(kind)
    if held is None:
        st.caption("Press Start, then START under the camera: each step ends when you hold its look or its time runs out.")
        if st.button("Start", key=f"pc-start-{kind}", type="primary"):
            detach_live()
            st.session_state.pop(_LAST_KEY, None)
            live = LiveRoutine(routine, catalog.targets, settings, observe=collector.add if collector else None)
            st.session_state[_LIVE_KEY] = (kind, live, collector)
            st.rerun()
        first = catalog.targets[routine.steps[0].target]
        try:
            from posecoach.ui import lighting

            coach = camera.get_coach(first, settings)
            lighting.live_check(coach, key=f"pc-light-{kind}", max_ratio_stops=first.max_ratio_stops)
        except ModelError as e:
            panels.model_error(e)
            return None
        camera.live_page(first, settings)
        return None
    live = held[0]
    st.button("Stop", key=f"pc-stop-{kind}", on_click=stop_live)
    state = live.state()
    if state.finished:
        return live
    target = live.step_target()
    step_settings = live.step_settings()
    coach = None
    try:
        coach = camera.get_coach(target, step_settings)
    except ModelError as e:
        panels.model_error(e)
        return None
    if coach.session.listener is None or getattr(coach.session.listener, "__self__", None) is not live:
        live.attach(coach.session)
    _state_fragment(live, state.index)
    camera.live_page(target, step_settings)
    return live


def _state_fragment(live: LiveRoutine, shown_index: int) -> None:
    @st.fragment(run_every=POLL_S)
    def current() -> None:
        state = live.state()
        if state.index != shown_index:
            st.rerun(scope="app")  # a new step: the camera panel follows its target
        routine_state(state, live)

    current()


def routine_state(state: RoutineState, live: LiveRoutine) -> None:
    """Current and next step, the routine's progress, the breathing pace, the hold."""
    if state.step is None:
        return
    title = live.targets[state.step.target].title
    with st.container(key="pc-routine-now"):
        st.markdown(f"#### Step {state.index + 1} of {state.n_steps}: {html.escape(title, quote=False)}")
        if state.step.prompt:
            st.markdown(html.escape(state.step.prompt, quote=False))
    st.progress(min(1.0, state.progress), text=f"Routine {state.progress:.0%} · {state.step_left_s:.0f} s left in this step")
    if state.breath is not None:
        word = "Breathe in" if state.breath.phase == "in" else "Breathe out"
        level = state.breath.fraction if state.breath.phase == "in" else 1.0 - state.breath.fraction
        st.progress(level, text=f"{word}… {state.breath.seconds_left:.0f}")
    st.progress(min(1.0, state.hold_progress), text="Hold the look")
    if state.next_step is not None:
        st.caption(f"Next: {live.targets[state.next_step.target].title}")
    else:
        st.caption("Last step")


def summary(result: RoutineResult) -> None:
    """The end summary: per step, the best score, the time to the first hold, the best frame."""
    st.markdown(f"#### {html.escape(result.title, quote=False)}: {result.held} of {len(result.steps)} looks held")
    with st.container(key="pc-routine-summary"):
        st.code("\n".join(result.lines()[1:]), language=None)
    kept = [s for s in result.steps if s.best_jpeg]
    if kept:
        cols = st.columns(min(4, len(kept)))
        for i, s in enumerate(kept):
            score = f"{s.best_score:.0f}" if s.best_score is not None else "-"
            cols[i % len(cols)].image(s.best_jpeg, caption=f"{s.index + 1}. {s.title}: best {score}", width="stretch")


# -- best side -----------------------------------------------------------------------------------
def best_side_page(catalog: Catalog, settings: CoachSettings, source: str) -> None:
    st.subheader("Your best side")
    st.markdown(
        "Sit facing the camera with a soft smile. Turn your head **about a third of the way to your right** "
        "(the camera sees your left side) and hold it a few seconds, eyes back to the lens; then the same "
        "**to your left**, with the **same expression**. posecoach compares the two sides on your eyes, the "
        "smile on the side nearer the camera and how your jawline reads."
    )
    if source == panels.SOURCE_LIVE:
        kind = "bestside"
        held = _live(kind)
        collector = held[1] if held is not None else SampleCollector()
        live = _live_routine(guided_routine(), catalog, settings, kind=kind, collector=collector)
        if live is not None and live.state().finished:
            stop_live()
            st.rerun()
        last = st.session_state.get(_LAST_KEY)
        if live is None and last is not None and last[0] == kind and last[2] is not None:
            best_side_result(last[2].result())
    elif source == panels.SOURCE_VIDEO:
        detach_live()
        upload = st.file_uploader("A clip of you turning one way, then the other", type=VIDEO_TYPES, key="pc-bestside-clip")
        if upload is None:
            return
        cached = st.session_state.get("pc-bestside-run")
        if cached is None or cached[0] != upload.file_id:
            try:
                with st.spinner("Comparing your sides…"):
                    result = best_side_upload(upload.getvalue(), upload.name)
            except ModelError as e:
                panels.model_error(e)
                return
            except SourceError as e:
                st.error(f"This file cannot be used: {e}.")
                return
            st.session_state["pc-bestside-run"] = cached = (upload.file_id, result)
        best_side_result(cached[1])
    else:
        detach_live()
        st.info("The best-side check needs the live camera or a recorded clip: choose one under \u201cPractise with\u201d.")


def best_side_result(result: BestSideResult) -> None:
    """The answer in large type, and the numbers behind it."""
    with st.container(key="pc-bestside-verdict"):
        st.markdown(f"### {html.escape(result.headline, quote=False)}")
    with st.container(key="pc-bestside-numbers"):
        st.code("\n".join(result.lines()[1:]), language=None)
