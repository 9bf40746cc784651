"""The Streamlit page's panels (the only package besides ``streamlit_app.py`` that imports
Streamlit) and, in :mod:`posecoach.live`, the Streamlit-free objects they drive."""
