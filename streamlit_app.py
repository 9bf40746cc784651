"""posecoach in the browser: practise a look in a live mirror, with one cue at a time.

Run it::

    .venv/bin/streamlit run streamlit_app.py      # then open http://localhost:8501

Sources: the live camera (WebRTC), an uploaded clip, or a snapshot. Everything runs on
this machine; nothing is written to disk unless you download it, finish a calibration
(which saves ``calibration/<name>.json``, numbers only; or ``$POSECOACH_CALIBRATION_DIR``) or
keep a session (``history.sqlite`` in ``$POSECOACH_USER_DIR``; see the History tab) or
save a target of your own (``$POSECOACH_USER_DIR/targets/<name>.toml``, numbers only).

Remote use (the browser on another machine, e.g. a tablet in a studio): the camera needs
https (or localhost), e.g. with a self-signed certificate::

    openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj /CN=posecoach
        -addext subjectAltName=IP:192.168.1.20 -keyout key.pem -out cert.pem       # one line
    .venv/bin/streamlit run streamlit_app.py --server.address 0.0.0.0
        --server.sslCertFile cert.pem --server.sslKeyFile key.pem                   # one line

and WebRTC may need ICE servers. By default none are used (``{"iceServers": []}``), which works
on this machine and on a LAN. Set ``POSECOACH_ICE_SERVERS`` to a JSON list of RTCIceServer
objects or to comma-separated stun:/turn: URLs, e.g.::

    POSECOACH_ICE_SERVERS='[{"urls": ["turn:turn.example.org:3478"], "username": "u", "credential": "p"}]'

The model comes from ``$POSECOACH_MODEL`` or the bundled ``assets/models/face_landmarker.task``.
This page only wires panels together; see ``posecoach/ui/``.
"""

import dataclasses

import streamlit as st

from posecoach.targets import TargetError
from posecoach.ui import calibrate, camera, drills, history, looks, panels, practice
from posecoach.user_targets import load_catalog
from posecoach.ui.plain import md

# An emoji icon is drawn by the browser; a ":material/...:" one would be fetched from a font CDN.
st.set_page_config(page_title="posecoach", page_icon="\U0001fa9e", layout="wide")
st.title("posecoach")
st.caption("Practise your look in a mirror that coaches you: one cue at a time, hold it, keep the best frames.")

try:
    catalog = load_catalog()  # the library and the person's own targets
except TargetError as e:
    st.error(f"The target looks could not be loaded: {md(e)}")
    st.stop()
library = catalog.targets

mode = looks.mode()
settings, source = panels.controls(library)
looks.problems(catalog)
choice = calibrate.sidebar()
settings = dataclasses.replace(settings, profile=choice.profile)
target = library[settings.target]
calibrate.status(choice)
if history.history_tab(library):  # the History tab is open: kept sessions, progress, reports
    st.stop()

if mode is not looks.Mode.DRILLS:
    drills.detach_live()  # a live drill stops when its mode is left
if mode is looks.Mode.DRILLS:
    drills.page(catalog, settings, source)
elif mode is not looks.Mode.PRACTISE:
    looks.page(mode, catalog, settings, source)
elif source == panels.SOURCE_LIVE:
    looks.leave()
    camera.live_page(target, settings)
    looks.save_live_look(catalog, settings)
else:
    looks.leave()
    camera.mark_camera_hidden()
    if source == panels.SOURCE_VIDEO:
        practice.video_page(target, settings)
    else:
        practice.snapshot_page(target, settings)
