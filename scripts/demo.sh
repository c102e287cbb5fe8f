#!/usr/bin/env bash
# Set everything up, then open musicapp on the demo catalogue (built on first run, offline).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/musicapp demo "$@"
