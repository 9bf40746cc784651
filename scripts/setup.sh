#!/usr/bin/env bash
# Set up posecoach in ./.venv (safe to run again). With --test it also installs the test tools
# and, where it can (root or sudo), Debian's chromium (the end-to-end browser test) and strace
# (the system-call privacy tests).
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3}
if ! "$PY" -c 'import sys; raise SystemExit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "posecoach needs Python 3.11 or newer (found: $("$PY" --version 2>&1)); set PYTHON=/path/to/python3.11" >&2
    exit 1
fi
[ -x .venv/bin/python ] || "$PY" -m venv .venv

extra=""
[ "${1:-}" = "--test" ] && extra="[test]"
pip_install() {
    .venv/bin/python -m pip install --disable-pip-version-check -q "$@" \
        2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
}
echo "posecoach: installing into .venv (the tested versions in constraints.txt) ..."
if ! pip_install -c constraints.txt -e ".${extra}"; then
    # Another Python or platform may lack a tested version: take the newest that fit pyproject.toml.
    echo "posecoach: warning: the tested versions (constraints.txt) do not install here;" \
         "installing the newest versions pyproject.toml allows instead" >&2
    pip_install -e ".${extra}"
fi

if [ "${1:-}" = "--test" ]; then
    # The browser test drives Debian's chromium through Playwright (never `playwright install`);
    # the privacy tests watch MediaPipe's native code under strace.
    missing=""
    command -v chromium >/dev/null 2>&1 || missing="$missing chromium"
    command -v strace >/dev/null 2>&1 || missing="$missing strace"
    if [ -n "$missing" ]; then
        if [ "$(id -u)" = 0 ]; then
            apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
        elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
            sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
        else
            echo "posecoach: not installed (no root):$missing; the tests that need them will be skipped (apt-get install$missing)" >&2
        fi
    fi
fi
echo "posecoach: ready"
