#!/usr/bin/env bash
# ci_venv.sh — prints the path of a Python that has scripts/requirements-ci.txt installed,
# creating .cache/venv-ci on first use (idempotent: reinstalls only when the requirements
# change). $NEMO_PYTHON, if set, is used as is (e.g. a developer's /work/venv/bin/python).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -n "${NEMO_PYTHON:-}" ]; then
    echo "$NEMO_PYTHON"
    exit 0
fi
VENV=.cache/venv-ci
REQ=scripts/requirements-ci.txt
STAMP=$VENV/.requirements.sha256
want=$(sha256sum "$REQ" | cut -d' ' -f1)
if [ ! -x "$VENV/bin/python" ] || [ "$(cat "$STAMP" 2>/dev/null)" != "$want" ]; then
    echo "ci_venv: installing $REQ into $VENV" >&2
    python3 -m venv "$VENV" >&2
    "$VENV/bin/pip" install -q --disable-pip-version-check -r "$REQ" >&2
    echo "$want" >"$STAMP"
fi
echo "$PWD/$VENV/bin/python"
