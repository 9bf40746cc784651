"""The Streamlit page, the only package besides ``streamlit_app.py`` that imports Streamlit.

Pages only display: :mod:`~posecoach.ui.camera` (the live camera), :mod:`~posecoach.ui.practice`
(a clip or a snapshot), :mod:`~posecoach.ui.calibrate` (profiles and calibrating), drawn with
:mod:`~posecoach.ui.panels` (panels return plain values). :mod:`~posecoach.ui.server` holds the
server settings (ICE servers, log forwarding). What they run lives in the core:
:mod:`posecoach.runs` (the flows) and :mod:`posecoach.live` (the live coach).
"""
