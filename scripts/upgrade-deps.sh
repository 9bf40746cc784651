#!/usr/bin/env bash
# Move the tested versions forward: upgrade every dependency in .venv to the newest release
# that fits pyproject.toml, run the whole test suite, and only when it passes rewrite
# constraints.txt (which scripts/setup.sh and CI install). Extra arguments go to pytest.
# If the tests fail, constraints.txt is left as it was and `bash scripts/setup.sh --test`
# puts the tested versions back.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
echo "posecoach: upgrading every dependency to the newest release pyproject.toml allows ..."
.venv/bin/python -m pip install --disable-pip-version-check -q --upgrade --upgrade-strategy eager -e ".[test]" \
    2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
if ! .venv/bin/python -m pytest -q "$@"; then
    echo "posecoach: the tests fail with the upgraded versions: constraints.txt unchanged" \
         "(bash scripts/setup.sh --test installs the tested versions again)" >&2
    exit 1
fi
{
    sed -n '/^#/p' constraints.txt
    .venv/bin/python -m pip freeze --exclude-editable
} > constraints.txt.new
mv constraints.txt.new constraints.txt
echo "posecoach: constraints.txt now holds the versions just tested; review and commit it:"
git diff --stat -- constraints.txt 2>/dev/null || true
