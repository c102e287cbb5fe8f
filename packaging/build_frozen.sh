#!/usr/bin/env bash
# Builds the one-folder frozen app dist/musicapp/ with PyInstaller (packaging/musicapp.spec).
#
#   bash packaging/build_frozen.sh              # the full app (torch included)
#   MUSICAPP_FREEZE_VARIANT=no-torch bash packaging/build_frozen.sh   # what CI builds
#
# Uses .venv (scripts/setup.sh makes it; PYTHON=... to use another interpreter) and installs the
# pinned PyInstaller (packaging/requirements-freeze.txt) into it when missing. Prints the build
# time and the folder's size.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
[ -x "$PY" ] || bash scripts/setup.sh

want=$(sed -n 's/^pyinstaller==//p' packaging/requirements-freeze.txt)
have=$("$PY" -c "import PyInstaller; print(PyInstaller.__version__)" 2>/dev/null || true)
if [ "$have" != "$want" ]; then
  echo "Installing PyInstaller $want..."
  "$PY" -m pip --disable-pip-version-check -q install -c packaging/constraints.txt \
    -r packaging/requirements-freeze.txt
fi

start=$(date +%s)
rm -rf dist/musicapp build/musicapp
# PYTHONPATH: the spec lists musicapp's modules by importing them from this checkout.
PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" "$PY" -m PyInstaller --noconfirm --clean \
  --log-level "${PYINSTALLER_LOG_LEVEL:-WARN}" --distpath dist --workpath build \
  packaging/musicapp.spec
echo "Frozen app (${MUSICAPP_FREEZE_VARIANT:-full}): dist/musicapp/musicapp," \
  "built in $(($(date +%s) - start)) s, $(du -sh dist/musicapp | cut -f1)"
