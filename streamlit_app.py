"""posecoach in the browser: practise a look in a live mirror, with one cue at a time.

Run it::

    .venv/bin/streamlit run streamlit_app.py      # then open http://localhost:8501

Sources: the live camera (WebRTC), an uploaded clip, or a snapshot. Everything runs on
this machine; nothing is written to disk unless you download it.

Remote use (the browser on another machine): the camera needs https (or localhost), and
WebRTC may need ICE servers. By default none are used (``{"iceServers": []}``), which works
on this machine and on a LAN. Set ``POSECOACH_ICE_SERVERS`` to a JSON list of RTCIceServer
objects or to comma-separated stun:/turn: URLs, e.g.::

    POSECOACH_ICE_SERVERS='[{"urls": ["turn:turn.example.org:3478"], "username": "u", "credential": "p"}]'

The model comes from ``$POSECOACH_MODEL`` or the bundled ``assets/models/face_landmarker.task``.
This page only wires panels together; see ``posecoach/ui/``.
"""

import streamlit as st

from posecoach.targets import TargetError, load_library
from posecoach.ui import live, panels, practice

st.set_page_config(page_title="posecoach", page_icon=":material/face:", layout="wide")
st.title("posecoach")
st.caption("Practise your look in a mirror that coaches you: one cue at a time, hold it, keep the best frames.")

try:
    library = load_library()
except TargetError as e:
    st.error(f"The target looks could not be loaded: {e}")
    st.stop()

settings, source = panels.controls(library)
target = library[settings.target]

if source == panels.SOURCE_LIVE:
    live.live_page(target, settings)
else:
    live.mark_camera_hidden()
    if source == panels.SOURCE_VIDEO:
        practice.video_page(target, settings)
    else:
        practice.snapshot_page(target, settings)
