#!/usr/bin/env bash
# Sets up everything musicapp needs in ./.venv: system libraries (Debian/Ubuntu via apt, macOS via
# Homebrew when present), then pinned Python packages. Idempotent: a second run only checks.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3}
need_py="3.11"
if ! "$PY" -c "import sys; sys.exit(sys.version_info < (3, 11))" 2>/dev/null; then
  echo "musicapp needs Python >= $need_py (found: $("$PY" --version 2>&1))." >&2
  exit 1
fi

# System libraries: PortAudio for playback, the xcb/EGL libraries Qt needs for a real window.
deb_pkgs="libportaudio2 libegl1 libgl1 libxkbcommon0 libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0 libxcb-shape0 libxcb-xinerama0 libdbus-1-3 libfontconfig1"
if command -v dpkg >/dev/null 2>&1; then
  missing=""
  for p in $deb_pkgs; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
  if [ -n "$missing" ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      echo "Installing Debian packages:$missing"
      apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
    elif command -v sudo >/dev/null; then
      echo "Installing Debian packages (sudo):$missing"
      sudo apt-get update -qq >/dev/null && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
    else
      echo "Please install these Debian packages first:$missing" >&2
      exit 1
    fi
  fi
elif [ "$(uname)" = Darwin ] && command -v brew >/dev/null 2>&1; then
  brew list portaudio >/dev/null 2>&1 || brew install portaudio
fi

# Python packages, pinned by packaging/constraints.txt (torch and torchaudio as a pair).
stamp=.venv/.musicapp-setup
want=$(cat pyproject.toml setup.py packaging/constraints.txt packaging/requirements-nodeps.txt | sha256sum | cut -c1-16)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && .venv/bin/python -c "import musicapp" 2>/dev/null; then
  exit 0
fi
[ -x .venv/bin/python ] || "$PY" -m venv .venv
pip=(.venv/bin/python -m pip --disable-pip-version-check -q)
"${pip[@]}" install --upgrade pip >/dev/null
# tinysoundfont declares pyaudio for live playback only (we play through sounddevice); pyaudio
# needs PortAudio headers to build, so tinysoundfont goes in without its dependencies.
"${pip[@]}" install -c packaging/constraints.txt --no-deps -r packaging/requirements-nodeps.txt
"${pip[@]}" install -c packaging/constraints.txt -e ".[gui,ml,server,plots,dev]"
echo "$want" > "$stamp"
echo "Setup complete: .venv is ready."
