"""The page's workshop mode: a group photo or clip on a projector, one large tile per person
(their face mirrored, their score and cue in type readable from the back of a room) and a
leaderboard of best holds. The flow is :func:`posecoach.projector.run_projector`; this module
only draws it. The one-person views are untouched.
"""

from __future__ import annotations

import html

import streamlit as st

from posecoach.model_file import ModelError
from posecoach.projector import ProjectorFrame, ProjectorRun, run_projector
from posecoach.runs import CoachSettings
from posecoach.sources import SourceError
from posecoach.targets import Target
from posecoach.ui import panels
from posecoach.ui.plain import md
from posecoach.workshop import MAX_FACES

UPLOAD_TYPES = ["jpg", "jpeg", "png", "webp", "mp4", "mov", "m4v", "webm", "mkv", "avi"]
_RUN_KEY = "pc-ws-run"
#: Tiles per row on the projector: four faces side by side still read from 10 m on a 3 m screen.
PER_ROW = 4


def page(target: Target, settings: CoachSettings) -> None:
    st.subheader("Workshop: everyone at once")
    st.caption(
        "A class, a family, a team headshot day: up to 8 people in front of one camera. Upload a group photo or "
        "a clip; each person gets a number, their own score, cue and holds, and the leaderboard counts the best "
        "holds. Put this page on the projector. The file is read in memory and never saved."
    )
    n = st.slider("People to coach", 2, MAX_FACES, 4, key="pc-ws-faces")
    upload = st.file_uploader("A group photo or clip", type=UPLOAD_TYPES, key="pc-ws-upload")
    if upload is None:
        return
    key = (upload.file_id, n, target.name, settings.strictness, settings.hold_s, settings.mirror)
    cached = st.session_state.get(_RUN_KEY)
    if cached is None or cached[0] != key:
        bar = st.progress(0.0, text="Finding everyone...")

        def progress(done: int, total: int | None) -> None:
            if total:
                bar.progress(min(1.0, done / total), text=f"Coaching everyone: frame {done} of {total}")

        try:
            run = run_projector(upload.getvalue(), upload.name, target, settings, n, on_progress=progress)
        except ModelError as e:
            panels.model_error(e)
            return
        except SourceError as e:
            st.error(md(str(e)))
            return
        finally:
            bar.empty()
        st.session_state[_RUN_KEY] = cached = (key, run)
    projector(cached[1], target)


def projector(run: ProjectorRun, target: Target) -> None:
    """The tiles of one frame (a slider picks it in a clip; the last by default) and the leaderboard."""
    if not run.frames or run.most_faces == 0:
        st.info("No face found. Everyone should face the camera, in the light, with their whole face in the picture.")
        return
    st.caption(md(f"{run.name}: {run.total_frames} frames, up to {run.most_faces} people in one frame. "
                  f"Target: {target.title} (a hold from {target.threshold:.0f})."))  # fmt: skip
    shown = run.frames[-1]
    if len(run.frames) > 1:
        i = st.slider("Frame", 0, len(run.frames) - 1, len(run.frames) - 1, key="pc-ws-frame",
                      format=f"%d (of every {run.stride})" if run.stride > 1 else "%d")  # fmt: skip
        shown = run.frames[i]
    tiles(shown)
    leaderboard(run)


def _tile_html(face_id: int, score: float | None, cue: str, held: bool, light: str) -> str:
    colour = "#2e7d32" if held else "#333"
    text = f"{score:.0f}" if score is not None else "--"
    light_line = f'<div style="font-size:1.1rem;color:#ef6c00">light: {html.escape(light)}</div>' if light else ""
    return (
        f'<div class="pc-ws-tile" style="text-align:center">'
        f'<div style="font-size:2.6rem;font-weight:700;color:{colour}">#{face_id} &middot; {text}</div>'
        f'<div style="font-size:1.6rem;line-height:1.2;min-height:4rem">{html.escape(cue) or "&nbsp;"}</div>'
        f"{light_line}</div>"
    )


def tiles(frame: ProjectorFrame) -> None:
    """One large tile per person, in the mirror's left-to-right order."""
    for start in range(0, len(frame.tiles), PER_ROW):
        cols = st.columns(PER_ROW)
        for col, tile in zip(cols, frame.tiles[start : start + PER_ROW]):
            with col:
                st.image(tile.jpeg, width="stretch")
                light = tile.lighting.value if tile.lighting is not None and tile.lighting.value != "ok" else ""
                st.markdown(_tile_html(tile.face_id, tile.score, tile.cue, tile.held, light), unsafe_allow_html=True)


def leaderboard(run: ProjectorRun) -> None:
    """Best holds first, in large type, each with their best frame."""
    st.markdown("## Leaderboard")
    if not run.standings:
        st.caption("Nobody has been coached yet.")
        return
    for rank, s in enumerate(run.standings, 1):
        pic, words = st.columns([1, 5])
        if s.face_id in run.best:
            pic.image(run.best[s.face_id], width=96)
        best_hold = f"best hold {s.best_hold:.0f}" if s.best_hold is not None else "no hold yet"
        best = f"best score {s.best_score:.0f}" if s.best_score is not None else ""
        holds = "1 hold" if s.holds == 1 else f"{s.holds} holds"
        words.markdown(
            f'<div class="pc-ws-rank" style="font-size:2rem;line-height:1.3"><b>{rank}. #{s.face_id}</b> &middot; '
            f"{holds} &middot; {best_hold} &middot; {best}</div>",
            unsafe_allow_html=True,
        )
