"""Keeping sessions in the browser: the *Keep this session* panel and the History tab.

Nothing is written unless the person presses *Keep this session*; pictures (each look's best
frame) only when they tick *Keep pictures*. The History tab shows progress per look over the
kept sessions (best score and time to the first hold, by date), the sessions, their report and
hand-off card to download, and deletes one session or everything for good. All of it calls
:mod:`posecoach.history` and :mod:`posecoach.reports`; nothing is computed here.

User-supplied text (file names, look titles) is only shown in places that do not read
Markdown (tables, pickers, charts) or escaped.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from typing import Any

import streamlit as st

from posecoach.history import History, HistoryError, SessionRow, history_path, keep
from posecoach.reports import render_card, render_report
from posecoach.records import SessionRecord
from posecoach.reports.page import when
from posecoach.tally import SessionTally
from posecoach.targets import Target

#: The page's tabs (``st.tabs`` key) and their labels.
TAB_KEY = "pc-tab"
PRACTISE_TAB, HISTORY_TAB = "Practise", "History"
_KEPT_KEY = "pc-kept-{}"
_FLASH_KEY = "pc-hist-flash"
_CONFIRM_KEY = "pc-hist-confirm"
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~:$])")


def md(text: str) -> str:
    """``text`` with everything Markdown would read escaped (a file name is not markup)."""
    return _MD_SPECIAL.sub(r"\\\1", text)


# -- the tabs ---------------------------------------------------------------------------------
def history_tab(library: Mapping[str, Target]) -> bool:
    """The page's *Practise* / *History* tabs. Draws History when it is the open tab and
    returns True (the page then stops: only the open tab's content runs); False otherwise,
    and the practice page follows below the tabs."""
    _, tab = st.tabs([PRACTISE_TAB, HISTORY_TAB], key=TAB_KEY, on_change="rerun")
    if not tab.open:
        return False
    from posecoach.ui import camera  # here: camera.py hooks keep_panel from this module

    camera.mark_camera_hidden()
    with tab:
        history_page(library)
    return True


# -- keeping a session ------------------------------------------------------------------------
def keep_panel(tally: SessionTally | None, *, source: str, profile: Any, key: str, restart: bool = False) -> None:
    """*Keep this session* (+ *Keep pictures*) for the session behind ``tally``.

    ``restart``: a live session carries on after it is kept, as a new session (the kept part
    is not kept twice); a finished clip is kept once (pressing again says where it went).
    """
    if tally is None:
        return
    state_key = _KEPT_KEY.format(key)
    with st.container(border=True, key=f"pc-keep-{key}"):
        st.markdown("**Keep this session?**")
        pictures_key = f"pc-keep-pics-{key}"
        st.checkbox("Keep pictures (the best frame of each look)", value=False, key=pictures_key,
                    help="Off: only numbers are kept. On: one picture of your face per look, too.")  # fmt: skip
        kept = st.session_state.get(state_key)
        mine = kept is not None and kept[0] is tally
        st.button("Keep this session", key=f"pc-keep-btn-{key}", disabled=mine and not restart, type="primary",
                  on_click=_keep, args=(tally, source, profile, pictures_key, restart, state_key))  # fmt: skip
        message = st.session_state.pop(f"{state_key}-message", None)
        if message:
            st.info(message)
        if mine or (restart and kept is not None):
            sid = kept[1]
            more = " A new session starts now." if restart else ""
            st.success(f"Kept as session {sid}. See your progress under History.{more}")
            _downloads(functools.partial(_kept, sid), key=f"kept-{key}-{sid}", stem=f"-{sid}")
        else:  # the session as it is now, kept or not: a file the person downloads
            profile_dict = profile.to_dict() if profile is not None else None
            _downloads(functools.partial(tally.record, source=source, profile=profile_dict), key=f"now-{key}", stem="")
        st.caption(f"Nothing is saved unless you press Keep (or download a file). Kept sessions stay on this "
                   f"computer, in {md(str(history_path()))}; delete them under History.")  # fmt: skip


def _keep(tally: SessionTally, source: str, profile: Any, pictures_key: str, restart: bool, state_key: str) -> None:
    """The Keep button's callback (runs before the page is drawn again)."""
    if tally.frames == 0:
        st.session_state[f"{state_key}-message"] = "Nothing to keep yet: practise first."
        return
    pictures = bool(st.session_state.get(pictures_key, False))
    record = tally.record(source=source, profile=profile.to_dict() if profile is not None else None,
                          pictures=pictures, restart=restart)  # fmt: skip
    try:
        sid = keep(record, pictures=pictures)
    except HistoryError as e:
        st.session_state[f"{state_key}-message"] = f"The session could not be kept: {md(str(e))}"
        return
    st.session_state[state_key] = (tally, sid)


def _downloads(make: Callable[[], SessionRecord], *, key: str, stem: str) -> None:
    """The report and the hand-off card of ``make()``'s session, made when clicked."""
    col_report, col_card = st.columns(2)
    col_report.download_button(
        "Download the report (HTML)", data=functools.partial(_html, make, render_report),
        file_name=f"posecoach-session{stem}.html", mime="text/html", on_click="ignore", key=f"pc-dl-report-{key}",
    )  # fmt: skip
    col_card.download_button(
        "Download the hand-off card", data=functools.partial(_html, make, render_card),
        file_name=f"posecoach-card{stem}.html", mime="text/html", on_click="ignore", key=f"pc-dl-card-{key}",
    )  # fmt: skip


def _kept(sid: int) -> SessionRecord:
    return History().get(sid)


def _html(make: Callable[[], SessionRecord], render: Callable[[SessionRecord], str]) -> bytes:
    return render(make()).encode("utf-8")


# -- the History tab --------------------------------------------------------------------------
def history_page(library: Mapping[str, Target]) -> None:
    """Progress per look, the kept sessions, their reports, and deleting."""
    history = History()
    flash = st.session_state.pop(_FLASH_KEY, None)
    if flash:
        st.success(flash)
    try:
        rows = history.sessions()
        targets = history.targets()
    except HistoryError as e:
        st.error(f"The history cannot be read: {md(str(e))}")
        return
    if not rows:
        st.info("No kept sessions yet. After practising, press **Keep this session** to keep one here.")
        st.caption(f"Kept sessions are stored on this computer only, in {md(str(history.path))}.")
        return

    def title(name: str) -> str:
        return library[name].title if name in library else name

    st.subheader("Your progress")
    target = st.selectbox("Look", targets, format_func=title, key="pc-hist-target")
    points = history.progress(target)
    threshold = library[target].threshold if target in library else None
    col_score, col_hold = st.columns(2)
    with col_score:
        st.markdown("**Best score**")
        st.vega_lite_chart(best_score_chart(points, threshold), width="stretch")
    with col_hold:
        st.markdown("**Time to the first hold**")
        st.vega_lite_chart(time_to_hold_chart(points), width="stretch")
    held = sum(1 for p in points if p.time_to_first_hold_s is not None)
    st.caption(f"{len(points)} kept session{'s' if len(points) != 1 else ''} with this look; held in {held}.")

    st.subheader("Sessions")
    st.dataframe(_table(rows, title), hide_index=True, width="stretch", key="pc-hist-table")
    _one_session(history, rows)
    _delete_everything(history, len(rows))
    st.caption(f"Stored on this computer only, in {md(str(history.path))}.")


def _table(rows: list[SessionRow], title) -> dict[str, list]:  # noqa: ANN001
    newest = list(reversed(rows))
    return {
        "id": [r.id for r in newest],
        "date": [when(r.started) for r in newest],
        "source": [r.source for r in newest],
        "looks": [", ".join(title(t) for t in r.targets) for r in newest],
        "best score": [None if r.best_score is None else round(r.best_score) for r in newest],
        "pictures": ["yes" if r.pictures else "no" for r in newest],
    }


def _one_session(history: History, rows: list[SessionRow]) -> None:
    by_id = {r.id: r for r in rows}
    ids = [r.id for r in reversed(rows)]

    def label(sid: int) -> str:
        r = by_id[sid]
        best = "-" if r.best_score is None else f"{r.best_score:.0f}"
        return f"#{sid} · {when(r.started)} · {r.source} · best {best}"

    sid = st.selectbox("Session", ids, format_func=label, key="pc-hist-session")
    if sid is None:
        return
    _downloads(functools.partial(_kept, sid), key=f"hist-{sid}", stem=f"-{sid}")
    if st.session_state.get(_CONFIRM_KEY) == sid:
        st.warning(f"Delete session {sid} and its pictures for good?")
        yes, no = st.columns(2)
        yes.button("Yes, delete it", key="pc-hist-delete-yes", on_click=_delete_one, args=(history, sid), type="primary")
        no.button("Cancel", key="pc-hist-delete-no", on_click=st.session_state.pop, args=(_CONFIRM_KEY, None))
    else:
        st.button(f"Delete session {sid}", key="pc-hist-delete", on_click=st.session_state.__setitem__,
                  args=(_CONFIRM_KEY, sid))  # fmt: skip


def _delete_one(history: History, sid: int) -> None:
    st.session_state.pop(_CONFIRM_KEY, None)
    try:
        gone = history.delete(sid)
    except HistoryError as e:
        st.session_state[_FLASH_KEY] = f"Session {sid} could not be deleted: {md(str(e))}"
        return
    st.session_state[_FLASH_KEY] = f"Deleted session {sid} and its pictures." if gone else f"Session {sid} was already gone."


def _delete_everything(history: History, n: int) -> None:
    with st.expander("Delete everything"):
        sure = st.checkbox(f"Yes, delete all {n} kept session{'s' if n != 1 else ''} and their pictures for good",
                           key="pc-hist-delete-all-sure")  # fmt: skip
        st.button("Delete everything", key="pc-hist-delete-all", disabled=not sure, on_click=_delete_all,
                  args=(history,), type="primary")  # fmt: skip


def _delete_all(history: History) -> None:
    st.session_state.pop("pc-hist-delete-all-sure", None)
    try:
        n = history.delete_all()
    except HistoryError as e:
        st.session_state[_FLASH_KEY] = f"The history could not be deleted: {md(str(e))}"
        return
    st.session_state[_FLASH_KEY] = f"Deleted {n} session{'s' if n != 1 else ''} and their pictures."


# -- charts (Vega-Lite specs: drawn by Streamlit's bundled Vega, nothing fetched) ------------
def _points(points: list) -> list[dict[str, Any]]:
    return [
        {"date": p.started, "when": f"{when(p.started, short=True)} #{p.session_id}", "session": p.session_id, "best": None if p.best_score is None else round(p.best_score, 1),
         "hold_s": None if p.time_to_first_hold_s is None else round(p.time_to_first_hold_s, 2), "holds": p.holds,
         "first hold": "not held" if p.time_to_first_hold_s is None else f"after {p.time_to_first_hold_s:.1f} s"}
        for p in points
    ]  # fmt: skip


#: One step per kept session, in the order kept, labelled with its date: sessions are evenings
#: apart or minutes apart, and both read well.
def _x(values: list[dict[str, Any]]) -> dict[str, Any]:
    return {"field": "when", "type": "ordinal", "title": "session", "axis": {"labelAngle": -30},
            "scale": {"domain": [v["when"] for v in values]}}  # fmt: skip



def best_score_chart(points: list, threshold: float | None) -> dict[str, Any]:
    """Best score per kept session, by date (0-100), with the hold threshold dashed."""
    values = _points(points)
    layers: list[dict[str, Any]] = [{
        "data": {"values": values},
        "mark": {"type": "line", "point": True},
        "encoding": {
            "x": _x(values),
            "y": {"field": "best", "type": "quantitative", "title": "best score", "scale": {"domain": [0, 100]}},
            "tooltip": [{"field": "session"}, {"field": "date", "type": "temporal", "format": "%d %b %Y %H:%M"},
                        {"field": "best"}, {"field": "holds"}],
        },
    }]  # fmt: skip
    if threshold is not None:
        layers.append({"data": {"values": [{"threshold": threshold}]}, "mark": {"type": "rule", "strokeDash": [4, 4]},
                       "encoding": {"y": {"field": "threshold", "type": "quantitative"}}})  # fmt: skip
    return {"height": 220, "layer": layers}


def time_to_hold_chart(points: list) -> dict[str, Any]:
    """Seconds to the first hold per kept session, by date; sessions without a hold as an x
    along the top."""
    values = _points(points)
    held = [v for v in values if v["hold_s"] is not None]
    top = max([v["hold_s"] for v in held], default=10.0) * 1.15
    missed = [dict(v, hold_s=top) for v in values if v["hold_s"] is None]
    y = {"field": "hold_s", "type": "quantitative", "title": "seconds", "scale": {"domainMin": 0}}
    return {
        "height": 220,
        "layer": [
            {"data": {"values": held}, "mark": {"type": "line", "point": True},
             "encoding": {"x": _x(values), "y": y,
                          "tooltip": [{"field": "session"}, {"field": "first hold"}, {"field": "holds"}]}},
            {"data": {"values": missed}, "mark": {"type": "point", "shape": "cross", "color": "#d9534f", "size": 90},
             "encoding": {"x": _x(values), "y": y, "tooltip": [{"field": "session"}, {"field": "first hold"}]}},
        ],
    }  # fmt: skip
