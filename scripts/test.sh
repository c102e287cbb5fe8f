#!/usr/bin/env bash
# Set everything up, then run the whole test suite (unit, UI offscreen, integration).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export QT_QPA_PLATFORM=offscreen HF_HUB_OFFLINE=1
exec .venv/bin/python -m pytest -n 2 --dist loadgroup tests "$@"
