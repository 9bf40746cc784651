"""Practising without a live camera: an uploaded clip, or a single snapshot.

Both run posecoach's own flows (:func:`posecoach.runs.run_clip`,
:class:`posecoach.runs.PhotoCoach`) on the page thread and show the same panel as the live
camera, next to an annotated preview.
Uploads are read from memory; nothing is written to disk unless the person downloads it,
or calibrates from the clip (:func:`posecoach.ui.calibrate.clip_form` saves the profile).
Bad files (empty, not a video, cut short, a photo) get a one-line reason, never a traceback.
"""

from __future__ import annotations

import streamlit as st

from posecoach.detector import ModelError
from posecoach.runs import CoachSettings, PhotoCoach, run_clip
from posecoach.sources import SourceError
from posecoach.targets import Target
from posecoach.ui import calibrate, history, panels
from posecoach.ui.panels import model_error
from posecoach.uploads import looks_like_photo

VIDEO_TYPES = ["mp4", "mov", "m4v", "webm", "mkv", "avi"]
PHOTO_TYPES = ["jpg", "jpeg", "png", "webp"]
_CLIP_KEY = "pc-clip-run"
_PHOTO_KEY = "pc-photo-run"
_PHOTO_COACH_KEY = "pc-photo-coach"


def video_page(target: Target, settings: CoachSettings) -> None:
    """Upload a clip of yourself; it is coached frame by frame like the camera."""
    st.subheader("Practise on a video")
    st.caption(
        "For workshops and browsers that block the camera: record yourself with any camera app, "
        "upload the clip, and get the same coaching, frame by frame."
    )
    # Photos are accepted here only to be told where they belong (Streamlit would refuse
    # them with an exception instead).
    upload = st.file_uploader("A clip of your face", type=VIDEO_TYPES + PHOTO_TYPES, key="pc-clip")
    if upload is None:
        return
    run_key = (upload.file_id, upload.name, settings, target)
    cached = st.session_state.get(_CLIP_KEY)
    if cached is None or cached[0] != run_key:
        st.session_state.pop(_CLIP_KEY, None)
        progress = st.progress(0.0, text=f"Coaching {upload.name}…")
        preview_slot = st.empty()

        def on_progress(done: int, total: int | None, preview) -> None:  # noqa: ANN001
            if total:
                progress.progress(min(1.0, done / total), text=f"Coaching {upload.name}: frame {done} of {total}")
            if preview is not None:
                preview_slot.image(preview, channels="BGR", width="stretch")

        try:
            run = run_clip(upload.getvalue(), upload.name, target, settings, on_progress=on_progress)
        except ModelError as e:
            progress.empty()
            model_error(e)
            return
        except SourceError as e:
            progress.empty()
            preview_slot.empty()
            if looks_like_photo(upload.getvalue(), upload.name):
                st.error(f"This file cannot be used here: {e}.")
                st.button("Go to Snapshot", key="pc-to-snapshot", on_click=panels.switch_source,
                          args=(panels.SOURCE_SNAPSHOT,))  # fmt: skip
            else:
                st.error(f"This file cannot be used: {e}. Try an mp4 or mov recorded by a phone or webcam app.")
            return
        progress.empty()
        preview_slot.empty()
        st.session_state[_CLIP_KEY] = (run_key, run)
    else:
        run = cached[1]
    if run.truncated:
        st.warning(
            f"{run.name} seems cut short: only {run.frames} of {run.expected_frames} frames could be read. "
            "Coaching what was there; upload the whole clip for the rest."
        )
    calibrate.clip_form(upload.getvalue(), upload.name, upload.file_id, run)
    col_preview, col_panel = st.columns([3, 2], gap="medium")
    with col_preview:
        best = f"best {run.best_score:.0f}/100" if run.best_score is not None else "no face found"
        st.image(run.preview, channels="BGR", caption=f"{run.name}: {best} (the best frame, annotated)", width="stretch")
    with col_panel:
        status = f"processed {run.frames} frames · {run.fps:.1f} fps"
        panels.coach_panel(run.snapshot, target, settings, status=status)
        panels.messages(run.snapshot, live=False)
        calibrate.before_after_now(settings.profile, run.best_result, label="Best frame")
    panels.gallery(run.snapshot.captures, key="clip")
    history.keep_panel(run.snapshot.tally, source=f"upload: {run.name}", profile=settings.profile, key="clip")


def _photo_coach() -> PhotoCoach:
    """The browser session's snapshot coach (one IMAGE-mode landmarker), created once."""
    coach = st.session_state.get(_PHOTO_COACH_KEY)
    if coach is None:
        coach = st.session_state[_PHOTO_COACH_KEY] = PhotoCoach()
    return coach


def snapshot_page(target: Target, settings: CoachSettings) -> None:
    """One photo for a quick check: from the browser's camera, or uploaded."""
    st.subheader("Snapshot")
    calibrate.needs_video_note()
    col_in, col_up = st.columns(2)
    with col_in:
        photo = st.camera_input("Take a photo", key="pc-photo")
    with col_up:
        uploaded = st.file_uploader("…or upload a photo", type=PHOTO_TYPES, key="pc-photo-upload")
    chosen = photo if photo is not None else uploaded
    if chosen is None:
        st.caption("Strike the pose, take the photo, and see how close it is to the look.")
        return
    run_key = (chosen.file_id, settings, target)
    cached = st.session_state.get(_PHOTO_KEY)
    if cached is None or cached[0] != run_key:
        try:
            run = _photo_coach().run(chosen.getvalue(), chosen.name, target, settings)
        except ModelError as e:
            model_error(e)
            return
        except SourceError as e:
            st.error(f"This photo cannot be used: {e}.")
            return
        st.session_state[_PHOTO_KEY] = (run_key, run)
    else:
        run = cached[1]
    col_preview, col_panel = st.columns([3, 2], gap="medium")
    with col_preview:
        st.image(run.preview, channels="BGR", caption="Your snapshot, annotated", width="stretch")
    with col_panel:
        panels.coach_panel(run.snapshot, target, settings, show_timeline=False)
        panels.messages(run.snapshot, live=False)
        calibrate.before_after_now(settings.profile, run.result, label="Snapshot")
