#!/usr/bin/env bash
# One command: set up (first time) and start the coach in your browser at http://localhost:8501
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/streamlit run streamlit_app.py "$@"
