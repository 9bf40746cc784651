"""The page's "practise like a pro" modes: a target from a photo, routines, your best side.

:func:`mode` adds a sidebar picker; :func:`page` draws the chosen mode (routines and best side
live in :mod:`posecoach.ui.routine`); :func:`save_live_look` is the small box under the live
camera that saves the current look as a target. The flows live in :mod:`posecoach.looks`,
:mod:`posecoach.user_targets`, :mod:`posecoach.routines` and :mod:`posecoach.bestside`; this
module only shows what they return. Nothing is written unless the person presses Save.
"""

from __future__ import annotations

import enum
import re
from pathlib import Path

import streamlit as st

from posecoach.looks import (
    ANGLES,
    LOOK_METRICS,
    LookRefused,
    MeasuredLook,
    describe,
    draft_target,
    look_from_live,
    measure_photo_bytes,
)
from posecoach.model_file import ModelError
from posecoach.runs import CoachSettings, PhotoCoach
from posecoach.scoring import score_metrics
from posecoach.sources import SourceError
from posecoach.targets import Target, TargetError
from posecoach.ui import panels
from posecoach.user_targets import Catalog, check_name, save_user_target

MODE_KEY = "pc-mode"
_PHOTO_COACH_KEY = "pc-looks-photo-coach"
_SAVED_KEY = "pc-looks-saved"
PHOTO_TYPES = ["jpg", "jpeg", "png", "webp"]


class Mode(str, enum.Enum):
    """What the page is for."""

    PRACTISE = "Practise a look"
    FROM_PHOTO = "New target from a photo"
    ROUTINE = "Warm-up routine"
    BEST_SIDE = "Best side"
    DRILLS = "Shoot-day drills"
    WORKSHOP = "Workshop (many faces)"


def mode() -> Mode:
    """The sidebar's mode picker (at the top of the sidebar)."""
    choice = st.sidebar.radio("Mode", [m.value for m in Mode], key=MODE_KEY)
    return Mode(choice)


def leave() -> None:
    """Back in the practice mode: a live routine or check stops listening to the camera."""
    from posecoach.ui import routine

    routine.detach_live()


def practise(name: str) -> None:
    """Button callback: practise target ``name`` on the live camera (before the next run)."""
    st.session_state[MODE_KEY] = Mode.PRACTISE.value
    st.session_state["pc-target"] = name
    st.session_state[panels.SOURCE_KEY] = panels.SOURCE_LIVE


def page(which: Mode, catalog: Catalog, settings: CoachSettings, source: str) -> None:
    """Draw a mode other than :attr:`Mode.PRACTISE`."""
    from posecoach.ui import camera, routine

    if which not in (Mode.ROUTINE, Mode.BEST_SIDE):
        routine.detach_live()
    if which in (Mode.FROM_PHOTO, Mode.WORKSHOP) or source != panels.SOURCE_LIVE:
        camera.mark_camera_hidden()  # the camera is not drawn this run
    if which is Mode.FROM_PHOTO:
        photo_page(catalog)
    elif which is Mode.WORKSHOP:
        from posecoach.ui import workshop

        workshop.page(catalog.targets[settings.target], settings)
    elif which is Mode.ROUTINE:
        routine.routine_page(catalog, settings, source)
    else:
        routine.best_side_page(catalog, settings, source)


def library_of(catalog: Catalog) -> dict[str, Target]:
    """The library targets alone (the nearest look is always a library look)."""
    return {n: t for n, t in catalog.targets.items() if not catalog.is_user(n)}


def suggested_name(filename: str) -> str:
    """A target name from a file name: ``"Jane Doe headshot.JPG"`` -> ``jane_doe_headshot``."""
    slug = re.sub(r"[^a-z0-9]+", "_", Path(filename).stem.lower()).strip("_")
    return (slug or "my_look")[:40]


# -- a target from a photo -------------------------------------------------------------------------
def _photo_coach() -> PhotoCoach:
    coach = st.session_state.get(_PHOTO_COACH_KEY)
    if coach is None:
        coach = st.session_state[_PHOTO_COACH_KEY] = PhotoCoach()
    return coach


def photo_page(catalog: Catalog) -> None:
    """Upload a photo of a look you like, see what was measured beside it, adjust, save."""
    st.subheader("A target from a photo")
    st.caption(
        "Bring a photo of a look you like: a magazine headshot, a colleague's profile picture, your own best "
        "shot. posecoach measures it and makes a target you can practise live. The photo is read in memory "
        "and never saved; only the target's numbers are, when you press Save."
    )
    upload = st.file_uploader("A photo with one face", type=PHOTO_TYPES, key="pc-looks-photo")
    if upload is None:
        _saved_notice()
        return
    cache_key = ("photo", upload.file_id)
    cached = st.session_state.get("pc-looks-measured")
    if cached is None or cached[0] != cache_key:
        try:
            look, run = measure_photo_bytes(upload.getvalue(), upload.name, _photo_coach())
        except ModelError as e:
            panels.model_error(e)
            return
        except (SourceError, LookRefused) as e:
            st.error(f"This photo cannot become a target: {e}.")
            return
        st.session_state["pc-looks-measured"] = cached = (cache_key, look, run.preview)
    _, look, preview = cached
    col_photo, col_look = st.columns([2, 3], gap="medium")
    with col_photo:
        st.image(preview, channels="BGR", caption=upload.name, width="stretch")
    with col_look:
        look_editor(look, catalog, key=f"photo-{upload.file_id}", default_name=suggested_name(upload.name))


def look_editor(look: MeasuredLook, catalog: Catalog, *, key: str, default_name: str) -> None:
    """The measured look as sliders (start: the measured values), the target it makes, Save."""
    library = library_of(catalog)
    st.markdown(f"**Measured:** {describe(look.values)}")
    centres: dict[str, float] = {}
    with st.expander("Adjust the look", expanded=False):
        st.caption("Each slider starts at the measured value; move it to make the target ask for more or less.")
        for metric in LOOK_METRICS:
            value = float(look.values[metric])
            label = panels.METRIC_LABELS.get(metric, metric)
            if metric in ANGLES:
                centres[metric] = st.slider(f"{label} (°)", -40.0, 40.0, round(max(-40.0, min(40.0, value)), 1), 0.5,
                                            key=f"pc-looks-{key}-{metric}")  # fmt: skip
            else:
                centres[metric] = st.slider(label, 0.0, 1.0, round(value, 2), 0.01, key=f"pc-looks-{key}-{metric}")
        ease = st.slider("Tolerance", 0.5, 2.0, 1.0, 0.1, key=f"pc-looks-{key}-ease",
                         help="1: the reading's noise plus a person's repeatability. Above 1 widens every range "
                         "(easier to hit); below 1 narrows them.")  # fmt: skip
    name = st.text_input("Name", value=default_name, key=f"pc-looks-{key}-name",
                         help="Lowercase letters, digits, _ or -. It is how the target is saved and picked.")  # fmt: skip
    try:
        draft = draft_target(look, name or "my_look", library, centres=centres, ease=ease)
    except ValueError as e:
        st.error(str(e))
        return
    score = score_metrics(look.metrics, draft.target)
    st.markdown(panels.gauges_html(score, draft.target, mirrored=False), unsafe_allow_html=True)
    st.caption(
        f"Closest library look: {draft.nearest.title}: weights, hold time and cues come from it. "
        f"Hold {draft.target.hold_s:g} s at {draft.target.threshold:.0f} or more. This photo scores {score.score:.0f}."
    )
    replace = st.checkbox("Replace a target of mine with this name", key=f"pc-looks-{key}-replace")
    if st.button("Save as my target", key=f"pc-looks-{key}-save", type="primary"):
        try:
            check_name(name, library)
            path = save_user_target(draft.target, replace=replace, comment=draft.comment)
        except TargetError as e:
            st.error(f"Not saved: {e}")
            return
        st.session_state[_SAVED_KEY] = (draft.target.name, draft.target.title, str(path))
        st.rerun()  # the picker and routines see the new target
    _saved_notice()


def _saved_notice() -> None:
    saved = st.session_state.get(_SAVED_KEY)
    if saved is None:
        return
    name, title, path = saved
    with st.container(key="pc-looks-saved-box"):
        st.success(f"Saved \u201c{title}\u201d as {name} ({path}).")
        st.button("Practise it now", key="pc-looks-practise", type="primary", on_click=practise, args=(name,))


# -- "save my current look" under the live camera --------------------------------------------------
def save_live_look(catalog: Catalog, settings: CoachSettings) -> None:
    """A small box under the live camera: save the look the coach sees right now as a target."""
    from posecoach.ui import camera

    coach = st.session_state.get(camera._COACH_KEY)  # the live page's coach (created by camera.live_page)
    with st.expander("Save my current look as a target"):
        st.caption("Strike the look, then press Save: what the coach sees right now becomes a target of yours.")
        name = st.text_input("Name", value="my_look", key="pc-looks-live-name")
        replace = st.checkbox("Replace a target of mine with this name", key="pc-looks-live-replace")
        if st.button("Save my current look", key="pc-looks-live-save"):
            result = coach.session.snapshot().result if coach is not None else None
            profile = settings.profile.name if settings.profile is not None else None
            library = library_of(catalog)
            try:
                look = look_from_live(result, profile)
                check_name(name, library)
                draft = draft_target(look, name, library)
                path = save_user_target(draft.target, replace=replace, comment=draft.comment)
            except LookRefused as e:
                st.error(f"Not saved: {e.reason}.")
                return
            except TargetError as e:
                st.error(f"Not saved: {e}")
                return
            st.session_state[_SAVED_KEY] = (draft.target.name, draft.target.title, str(path))
            st.rerun()
        saved = st.session_state.get(_SAVED_KEY)
        if saved is not None:
            st.success(f"Saved \u201c{saved[1]}\u201d as {saved[0]}: pick it under Target.")


def problems(catalog: Catalog) -> None:
    """Warn about target files of the person's that could not be used."""
    for problem in catalog.problems:
        st.sidebar.warning(f"Skipped a target file of yours: {problem}")
