"""Practising without a live camera: an uploaded clip, or a single snapshot.

Both run posecoach's own flows (:func:`posecoach.runs.run_clip`,
:class:`posecoach.runs.PhotoCoach`) on the page thread and show the same panel as the live
camera. A clip can then be played back or scrubbed: the annotated frames the flow kept
(:mod:`posecoach.replay`) with the panel (cue, score, hold, gauges) following the frame shown,
and a short summary of what to work on (the cues that held longest).
Uploads are read from memory; nothing is written to disk unless the person downloads it,
or calibrates from the clip (:func:`posecoach.ui.calibrate.clip_form` saves the profile).
Bad files (empty, not a video, cut short, a photo) get a one-line reason, never a traceback;
every name and message from a file is shown as plain text (:func:`posecoach.ui.plain.md`).
"""

from __future__ import annotations

import streamlit as st

from posecoach.model_file import ModelError
from posecoach.replay import ClipReplay
from posecoach.report import WorkOn
from posecoach.runs import ClipRun, CoachSettings, PhotoCoach, run_clip
from posecoach.sources import SourceError
from posecoach.targets import Target
from posecoach.ui import calibrate, history, panels
from posecoach.ui.panels import model_error
from posecoach.ui.plain import md
from posecoach.uploads import looks_like_photo

# An animated GIF is a clip and a still one a photo (decided by content, as on the command line).
VIDEO_TYPES = ["mp4", "mov", "m4v", "webm", "mkv", "avi", "gif"]
PHOTO_TYPES = ["jpg", "jpeg", "png", "webp", "gif"]
_CLIP_KEY = "pc-clip-run"
_PHOTO_KEY = "pc-photo-run"
_PHOTO_COACH_KEY = "pc-photo-coach"
#: Session-state key of the replay's frame slider (a position among the kept frames).
REPLAY_POS_KEY = "pc-replay-pos"
#: Session-state flag: the replay is playing.
REPLAY_PLAYING_KEY = "pc-replay-playing"
#: Seconds between two pictures while playing at most (the browser redraws each one).
PLAY_MIN_S = 0.1


def video_page(target: Target, settings: CoachSettings) -> None:
    """Upload a clip of yourself; it is coached frame by frame like the camera."""
    st.subheader("Practise on a video")
    st.caption(
        "For workshops and browsers that block the camera: record yourself with any camera app, "
        "upload the clip, and get the same coaching, frame by frame."
    )
    # Photos are accepted here only to be told where they belong (Streamlit would refuse
    # them with an exception instead).
    upload = st.file_uploader("A clip of your face", type=sorted(set(VIDEO_TYPES + PHOTO_TYPES)), key="pc-clip")
    if upload is None:
        return
    name = md(upload.name)
    run_key = (upload.file_id, upload.name, settings, target)
    cached = st.session_state.get(_CLIP_KEY)
    if cached is None or cached[0] != run_key:
        st.session_state.pop(_CLIP_KEY, None)
        progress = st.progress(0.0, text=f"Coaching {name}…")
        preview_slot = st.empty()

        def on_progress(done: int, total: int | None, preview) -> None:  # noqa: ANN001
            if total:
                progress.progress(min(1.0, done / total), text=f"Coaching {name}: frame {done} of {total}")
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
                st.error(f"This file cannot be used here: {md(e)}.")
                st.button("Go to Snapshot", key="pc-to-snapshot", on_click=panels.switch_source,
                          args=(panels.SOURCE_SNAPSHOT,))  # fmt: skip
            else:
                st.error(f"This file cannot be used: {md(e)}. Try an mp4 or mov recorded by a phone or webcam app.")
            return
        progress.empty()
        preview_slot.empty()
        st.session_state[_CLIP_KEY] = (run_key, run)
        _start_replay(run)
    else:
        run = cached[1]
    if run.truncated:
        st.warning(
            f"{name} seems cut short: only {run.frames} of {run.expected_frames} frames could be read. "
            "Coaching what was there; upload the whole clip for the rest."
        )
    calibrate.clip_form(upload.getvalue(), upload.name, upload.file_id, run)
    if run.replay is None or not run.replay.frames:
        _still_view(run, target, settings)
    else:
        _replay_view(run, run.replay, target, settings)
    work_on(run.work_on)
    panels.gallery(run.snapshot.captures, key="clip")
    history.keep_panel(run.snapshot.tally, source=f"upload: {run.name}", profile=settings.profile, key="clip")


def _still_view(run: ClipRun, target: Target, settings: CoachSettings) -> None:
    """No frame to play back (no face anywhere): the last picture and the panel."""
    col_preview, col_panel = st.columns([3, 2], gap="medium")
    with col_preview:
        st.image(run.preview, channels="BGR", caption=f"{md(run.name)}: no face found", width="stretch")
    with col_panel:
        panels.coach_panel(run.snapshot, target, settings, status=_status(run))
        panels.messages(run.snapshot, live=False)


def _status(run: ClipRun) -> str:
    return f"processed {run.frames} frames · {run.fps:.1f} fps"


def _start_replay(run: ClipRun) -> None:
    """A newly coached clip opens on its best frame, paused."""
    st.session_state[REPLAY_PLAYING_KEY] = False
    if run.replay is not None and run.replay.frames:
        best = run.best_result.frame if run.best_result is not None else run.replay.frames[-1].index
        st.session_state[REPLAY_POS_KEY] = run.replay.position_of(best)


def _toggle_play(last: int) -> None:
    playing = not st.session_state.get(REPLAY_PLAYING_KEY, False)
    st.session_state[REPLAY_PLAYING_KEY] = playing
    if playing and st.session_state.get(REPLAY_POS_KEY, 0) >= last:
        st.session_state[REPLAY_POS_KEY] = 0  # play again from the start


def _replay_view(run: ClipRun, replay: ClipReplay, target: Target, settings: CoachSettings) -> None:
    """The annotated clip, played back or scrubbed, with the panel of the frame shown."""
    last = len(replay.frames) - 1
    playing = bool(st.session_state.get(REPLAY_PLAYING_KEY)) and last > 0
    st.session_state[REPLAY_POS_KEY] = min(max(0, int(st.session_state.get(REPLAY_POS_KEY, 0))), last)
    span_s = (replay.frames[-1].t_ms - replay.frames[0].t_ms) / 1000.0 if last else 0.0
    every_s = max(PLAY_MIN_S, span_s / last) if last else PLAY_MIN_S
    st.button("Pause" if playing else "Play the clip", key="pc-replay-play", on_click=_toggle_play, args=(last,),
              help="Play the coached clip back; or drag the slider to any frame.")  # fmt: skip

    @st.fragment(run_every=every_s if playing else None)
    def view() -> None:
        pos = int(st.session_state.get(REPLAY_POS_KEY, 0))
        if playing and st.session_state.get(REPLAY_PLAYING_KEY):
            if pos >= last:
                st.session_state[REPLAY_PLAYING_KEY] = False
                st.rerun(scope="app")  # at the end: stop the timer
            pos = st.session_state[REPLAY_POS_KEY] = pos + 1
        frame = replay.frames[pos]
        col_preview, col_panel = st.columns([3, 2], gap="medium")
        with col_preview:
            best = f"best {run.best_score:.0f}/100" if run.best_score is not None else "no face found"
            st.image(frame.jpeg, caption=f"{md(run.name)}: {best} · frame {frame.index + 1} of {run.frames} "
                                         f"({frame.t_ms / 1000:.2f} s)", width="stretch")  # fmt: skip
            if last:
                st.slider("Frame", 0, last, key=REPLAY_POS_KEY, label_visibility="collapsed",
                          help="Drag to any moment of the clip: the panel shows what the coach said there.")  # fmt: skip
        with col_panel:
            snapshot = replay.snapshot(pos)
            panels.coach_panel(snapshot, target, settings, status=_status(run))
            panels.messages(snapshot, live=False)
            calibrate.before_after_now(settings.profile, frame.result, label="This frame")

    view()


def work_on(items: tuple[WorkOn, ...]) -> None:
    """The clip's summary: the cues that held longest, i.e. what to work on."""
    with st.container(key="pc-work-on"):
        st.markdown("**What to work on**")
        if not items:
            st.caption("Nothing held you back for long: the look held throughout, or no face was coached.")
            return
        st.markdown("\n".join(f"- {md(w.cue)}: {w.seconds:.1f} s ({w.share:.0%} of the time with a face)"
                                for w in items))  # fmt: skip


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
            st.error(f"This photo cannot be used: {md(e)}.")
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
