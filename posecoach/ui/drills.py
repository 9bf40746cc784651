"""Shoot-day drills on the page: the shutter drill, lens recall and blink on cue.

Live: a :class:`~posecoach.drills.flows.LiveDrill` listens to the live coach's session (the
frame callback never touches the page) and shapes the picture coming back
(:attr:`posecoach.live.LiveCoach.screen`: lens recall hides the mirror, kind mode hides the
marks); a fragment polls it a few times a second and draws the drill's panel and its sounds.
A clip: the shutter drill runs through :func:`~posecoach.drills.flows.run_shutter_upload`.

Sounds are made on this machine (:mod:`posecoach.drills.sounds`) and embedded as ``data:``
URIs; a spoken cue uses only a voice on this machine (``voice.localService``), never a network
voice; without one the page says so and plays a chime with the words. "Quiet" turns all sound
off. Kind mode hides numbers and red marks and speaks only encouragement; the numbers are
still recorded and shown to the photographer under "For the photographer".
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import cv2
import streamlit as st

from posecoach.drills.blink import BlinkSettings, BlinkState
from posecoach.drills.flows import DrillKind, DrillView, LiveDrill, ShutterRun, run_shutter_upload
from posecoach.drills.recall import RecallPhase, RecallSettings, RecallState
from posecoach.drills.schedule import DrillError, Every, ShotSchedule
from posecoach.drills.sheet import contact_sheet
from posecoach.drills.shutter import ShutterState, ShutterSummary
from posecoach.drills.sounds import chime_wav, data_uri, shutter_wav
from posecoach.drills.words import KIND_DONE, kind_word, shot_word
from posecoach.model_file import ModelError
from posecoach.runs import CoachSettings
from posecoach.sources import SourceError
from posecoach.targets import Target
from posecoach.ui import panels
from posecoach.ui.plain import md
from posecoach.user_targets import Catalog

VIDEO_TYPES = ["mp4", "mov", "m4v", "webm", "mkv", "avi"]
_LIVE_KEY = "pc-drill-live"  # the LiveDrill running
_LAST_KEY = "pc-drill-last"  # (kind, lines, (summary, thumbs) | None) of a drill stopped or done
_CLIP_KEY = "pc-drill-clip-run"
POLL_S = 0.25

ABOUT = {
    DrillKind.SHUTTER: "A photographer shoots at random moments: listen for the shutter. Each shot is the frame at "
    "that moment, judged as a photographer would: on the look, eyes open, eyes on the lens, head steady.",
    DrillKind.RECALL: "Find the look in the mirror and hold it; then the mirror goes away: only a small mark near "
    "the camera and \u201ceyes on the lens\u201d. Recreate the look from memory for a few seconds. Repeat.",
    DrillKind.BLINK: "\u201cClose your eyes\u2026 and open\u201d: the photographer's trick for heavy blinkers. "
    "How fast do your eyes come back fully open, and does your expression survive it?",
}


@dataclass(frozen=True)
class Options:
    """What the person chose for the drill."""

    kind: DrillKind
    every: Every
    seed: int | None
    rounds: int
    quiet: bool
    speak: bool
    kind_mode: bool


def detach_live() -> None:
    """Stop a live drill (the person left the mode or pressed Stop): the camera coaches on."""
    live = st.session_state.pop(_LIVE_KEY, None)
    if live is None:
        return
    live.detach()
    from posecoach.ui import camera

    coach = st.session_state.get(camera._COACH_KEY)
    if coach is not None and coach.screen == live.screen:
        coach.screen = None


def stop_live() -> None:
    """The Stop button (or the drill's end): keep its result for the summary, then detach."""
    live = st.session_state.get(_LIVE_KEY)
    if live is not None:
        st.session_state[_LAST_KEY] = (live.kind, live.lines(), live.shutter_summary())
    detach_live()


def controls() -> Options:
    kind = DrillKind(st.radio("Drill", [k.value for k in DrillKind], horizontal=True, key="pc-drill"))
    st.caption(ABOUT[kind])
    c1, c2, c3 = st.columns(3)
    quiet = c1.toggle("Quiet", key="pc-drill-quiet", help="No sound at all.")
    speak = c2.toggle("Speak the cues", key="pc-drill-voice", disabled=quiet,
                      help="Spoken by a voice on this machine only; without one, a chime and the words.")  # fmt: skip
    kind_mode = c3.toggle("Kind mode", key="pc-drill-kind",
                          help="No numbers and no red marks, only encouragement. The numbers are still recorded "
                          "for the photographer.")  # fmt: skip
    every, seed, rounds = Every(), None, 3
    if kind is DrillKind.SHUTTER:
        lo, hi = st.slider("A shot every (seconds, at random)", 0.5, 10.0, (2.0, 4.0), 0.5, key="pc-drill-every")
        every = Every(lo, hi)
        seed = st.number_input("Seed (the same seed gives the same shots; empty: a new rhythm each time)",
                               min_value=0, value=None, step=1, key="pc-drill-seed")  # fmt: skip
    else:
        lo, hi = (3, 5) if kind is DrillKind.RECALL else (1, 5)
        rounds = st.slider("Rounds", lo, hi, 3, key=f"pc-drill-rounds-{kind.name}")
    return Options(kind, every, None if seed is None else int(seed), int(rounds), quiet, speak and not quiet, kind_mode)


def page(catalog: Catalog, settings: CoachSettings, source: str) -> None:
    """The drills mode: live camera, or the shutter drill on a clip."""
    from posecoach.ui import camera, routine

    routine.detach_live()
    st.subheader("Shoot-day drills")
    options = controls()
    target = catalog.targets[settings.target]
    if source == panels.SOURCE_LIVE:
        _live_page(options, target, settings)
        return
    detach_live()
    camera.mark_camera_hidden()
    if source == panels.SOURCE_VIDEO and options.kind is DrillKind.SHUTTER:
        _clip_page(options, target, settings)
    elif source == panels.SOURCE_VIDEO:
        st.info("Lens recall and blink on cue follow cues as you do them: choose the live camera under "
                "\u201cPractise with\u201d. A recorded clip works for the shutter drill.")  # fmt: skip
    else:
        st.info("The drills need the live camera or, for the shutter drill, a recorded clip: choose one under "
                "\u201cPractise with\u201d.")  # fmt: skip


# -- live ----------------------------------------------------------------------------------------
def _live_page(options: Options, target: Target, settings: CoachSettings) -> None:
    from posecoach.ui import camera

    live: LiveDrill | None = st.session_state.get(_LIVE_KEY)
    if live is not None and (live.kind is not options.kind or live.target != target or live.kind_mode != options.kind_mode):
        stop_live()  # the person changed the drill under way
        live = None
    if live is not None and live.view().finished:
        stop_live()
        live = None
    if live is None:
        st.caption("Press **Start drill**, then START under the camera.")
        if st.button("Start drill", key="pc-drill-start", type="primary"):
            st.session_state.pop(_LAST_KEY, None)
            recall = options.kind is DrillKind.RECALL
            try:
                st.session_state[_LIVE_KEY] = LiveDrill(
                    options.kind, target, every=options.every, seed=options.seed, kind_mode=options.kind_mode,
                    recall=RecallSettings(rounds=options.rounds) if recall else RecallSettings(),
                    blink=BlinkSettings(rounds=options.rounds) if options.kind is DrillKind.BLINK else BlinkSettings(),
                )
            except DrillError as e:
                st.error(md(e))
                return
            st.rerun()
        last = st.session_state.get(_LAST_KEY)
        if last is not None and last[0] is options.kind:
            summary(last[0], last[1], last[2], options.kind_mode)
        camera.live_page(target, settings)
        return
    st.button("Stop drill", key="pc-drill-stop", on_click=stop_live)
    try:
        coach = camera.get_coach(target, settings)
    except ModelError as e:
        panels.model_error(e)
        return
    if coach.session.listener is None or getattr(coach.session.listener, "__self__", None) is not live:
        live.attach(coach.session)
    coach.screen = live.screen
    camera.live_page(target, settings, side=lambda _coach, playing: _drill_fragment(live, options, playing))


def _drill_fragment(live: LiveDrill, options: Options, playing: bool) -> None:
    @st.fragment(run_every=POLL_S if playing else None)
    def panel() -> None:
        view = live.view()
        if view.finished:
            st.rerun(scope="app")  # the summary replaces the panel
        drill_panel(view, options, live)
        sounds(view, options)

    if not playing:
        st.caption("Press START under the camera: the drill begins with the first frame.")
    panel()


def drill_panel(view: DrillView, options: Options, live: LiveDrill) -> None:
    """What the person sees beside the camera while a drill runs."""
    state = view.state
    with st.container(key="pc-drill-now"):
        if isinstance(state, ShutterState):
            last = state.shots[-1] if state.shots else None
            if options.kind_mode:
                st.markdown(f"### {kind_word(state.ready)}")
            elif last is None:
                st.markdown("### Listen for the shutter")
            else:
                st.markdown(f"### Shot {last.index + 1}: {shot_word(last.keeper, last.why, kind=False)}")
            if not options.kind_mode:
                st.metric("Keepers", f"{state.keepers} of {len(state.shots)}")
                if view.seed is not None:
                    st.caption(f"Seed {view.seed}: the same seed gives the same shots.")
        elif isinstance(state, RecallState):
            st.markdown(f"### {state.prompt}")
            st.caption(f"Round {state.round + 1} of {state.rounds}")
            if state.phase is RecallPhase.MIRROR:
                st.progress(state.progress, text="Hold the look")
            else:
                st.progress(min(1.0, state.seconds_left / live.drill.settings.recall_s), text="From memory")
        elif isinstance(state, BlinkState):
            st.markdown(f"### {state.prompt}")
            st.caption(f"Round {state.round + 1} of {state.rounds}")
    if not options.kind_mode and not isinstance(state, ShutterState) and state.done:
        st.code("\n".join(live.lines()), language=None)


# -- sound ---------------------------------------------------------------------------------------
_SOUND_JS = """
<div id="pc-sound" style="font:13px sans-serif;color:#777">%(status)s</div>
<script>
const SHUTTER = "%(shutter)s", CHIME = "%(chime)s";
const what = %(what)s, words = %(words)s, speak = %(speak)s, quiet = %(quiet)s;
const note = document.getElementById("pc-sound");
function play(uri) { try { new Audio(uri).play().catch(() => {}); } catch (e) {} }
function say(text) {
  // Only a voice on this machine (localService) may speak: never a network voice.
  if (!("speechSynthesis" in window)) { note.textContent = "No voice in this browser: a chime and the words instead."; play(CHIME); return; }
  let done = false;
  const pick = () => {
    if (done) return; done = true;
    const local = speechSynthesis.getVoices().filter(v => v.localService);
    if (!local.length) { note.textContent = "No voice on this machine: a chime and the words instead."; play(CHIME); return; }
    const u = new SpeechSynthesisUtterance(text);
    u.voice = local[0];
    speechSynthesis.speak(u);
    note.textContent = "Spoken by " + local[0].name + " (on this machine).";
  };
  if (speechSynthesis.getVoices().length) pick();
  else { speechSynthesis.addEventListener("voiceschanged", pick); setTimeout(pick, 800); }
}
if (!quiet && what) {
  if (what === "shutter") play(SHUTTER);
  if (what === "held") play(CHIME);
  if (speak && words) setTimeout(() => say(words), what === "shutter" ? 250 : 0);
  else if (what === "cue") play(CHIME);
}
</script>
<!-- event %(events)d -->
"""


def sound_html(view: DrillView, options: Options) -> str:
    """The page's sound for the drill's latest event (played once: the HTML changes only with a
    new event). Everything is inside: the sounds as ``data:`` URIs, no request is made."""
    words = view.prompt
    if view.last_event == "shutter":
        state = view.state
        last = state.shots[-1] if isinstance(state, ShutterState) and state.shots else None
        words = shot_word(last.keeper, last.why, kind=options.kind_mode) if last is not None else ""
    status = "Sound off (quiet)." if options.quiet else ("Cues spoken aloud when a voice is on this machine." if options.speak else "Sound on.")
    return _SOUND_JS % {
        "status": status, "shutter": data_uri(shutter_wav()), "chime": data_uri(chime_wav()),
        "what": _js(view.last_event if view.events else ""), "words": _js(words),
        "speak": json.dumps(options.speak), "quiet": json.dumps(options.quiet), "events": view.events,
    }  # fmt: skip


def _js(text: str) -> str:
    """A JavaScript string literal that cannot end the script it sits in."""
    return json.dumps(text).replace("</", "<\\/")


def sounds(view: DrillView, options: Options) -> None:
    with st.container(key="pc-drill-sound"):
        st.iframe(sound_html(view, options), height=28)


# -- a clip --------------------------------------------------------------------------------------
def _clip_page(options: Options, target: Target, settings: CoachSettings) -> None:
    upload = st.file_uploader("A clip of you holding the look", type=VIDEO_TYPES, key="pc-drill-clip")
    if upload is None:
        return
    seed = options.seed if options.seed is not None else 0
    key = (upload.file_id, target, settings, options.every, seed)
    cached = st.session_state.get(_CLIP_KEY)
    if cached is None or cached[0] != key:
        try:
            with st.spinner("The photographer is shooting your clip\u2026"):
                run = run_shutter_upload(upload.getvalue(), upload.name, target, settings,
                                         schedule=ShotSchedule(options.every, seed))  # fmt: skip
        except ModelError as e:
            panels.model_error(e)
            return
        except SourceError as e:
            st.error(f"This file cannot be used: {md(e)}.")
            return
        st.session_state[_CLIP_KEY] = cached = (key, run)
    run: ShutterRun = cached[1]
    st.caption(f"A shot every {options.every} s, seed {seed}: the same seed gives the same shots.")
    summary(DrillKind.SHUTTER, run.summary.lines(), (run.summary, run.thumbs), options.kind_mode, json_doc=run.to_json())


# -- the end -------------------------------------------------------------------------------------
def summary(kind: DrillKind, lines: list[str], shutter: tuple[ShutterSummary, tuple] | None, kind_mode: bool, *,
            json_doc: dict | None = None) -> None:  # fmt: skip
    """The drill's end: keepers, why not, the habit and the contact sheet (numbers only for the
    photographer in kind mode)."""
    with st.container(key="pc-drill-summary"):
        if kind_mode:
            st.markdown(f"### {KIND_DONE}")
            box = st.expander("For the photographer: the numbers")
        else:
            box = st.container()
        with box:
            if shutter is not None:
                s = shutter[0]
                st.markdown(f"#### Keepers: {s.keepers} of {len(s.shots)}")
                st.markdown(f"**Work on:** {md(s.habit)}")
            st.code("\n".join(lines), language=None)
            if shutter is not None and shutter[0].shots:
                sheet = contact_sheet(list(zip(shutter[0].shots, shutter[1])))
                st.image(sheet, channels="BGR", caption="Contact sheet: green keepers, red with why not", width="stretch")
                ok, buf = cv2.imencode(".jpg", sheet)
                doc = json_doc if json_doc is not None else {"shots": [x.to_json() for x in shutter[0].shots],
                                                             "summary": shutter[0].to_json()}  # fmt: skip
                c1, c2 = st.columns(2)
                if ok:
                    c1.download_button("Download the contact sheet", buf.tobytes(), "contact-sheet.jpg", "image/jpeg",
                                       key="pc-drill-dl-sheet")  # fmt: skip
                c2.download_button("Download the shots (JSON)", json.dumps(doc, indent=1), "shots.json",
                                   "application/json", key="pc-drill-dl-json")  # fmt: skip
