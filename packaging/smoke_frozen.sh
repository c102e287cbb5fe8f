#!/usr/bin/env bash
# Smoke test of the frozen app in dist/musicapp/ (packaging/build_frozen.sh builds it): the
# weight-free demo from the frozen binary, then the main window opened offscreen. Exits non-zero
# if either fails. Runs in a throwaway data folder, without the checkout on the Python path.
set -euo pipefail
cd "$(dirname "$0")/.."
app=dist/musicapp/musicapp
[ -x "$app" ] || { echo "no $app: run packaging/build_frozen.sh first" >&2; exit 1; }
for plugin in libqoffscreen.so libqxcb.so; do
  found=$(find dist/musicapp -path "*/platforms/$plugin" | head -n 1)
  [ -n "$found" ] || { echo "Qt platform plugin $plugin is missing from dist/musicapp" >&2; exit 1; }
done

data=$(mktemp -d "${TMPDIR:-/tmp}/musicapp-frozen-smoke.XXXXXX")
trap 'rm -rf "$data"' EXIT
# From outside the checkout and with no PYTHONPATH, so nothing but the frozen folder is used.
unset PYTHONPATH
export QT_QPA_PLATFORM=offscreen HF_HUB_OFFLINE=1
app=$PWD/$app
cd "$data"

echo "== frozen: musicapp demo --headless"
"$app" demo --headless --data-dir "$data/d" 2>&1 | tee "$data/demo.out"
grep -q "^Exported " "$data/demo.out" || { echo "the demo exported nothing" >&2; exit 1; }
grep -q "^Verify: OK" "$data/demo.out" || { echo "the demo's export did not verify" >&2; exit 1; }
ls "$data"/d/exports/*.flac >/dev/null

echo "== frozen: musicapp prompt (mediated selection, consent-filtered)"
"$app" prompt "a jig for fiddle" --use commercial -k 3 --data-dir "$data/d" 2>&1 | tee "$data/prompt.out"
grep -q "^Answered by: " "$data/prompt.out" || { echo "the prompt named no embedding" >&2; exit 1; }
grep -q "^ 1\. " "$data/prompt.out" || { echo "the prompt found no song" >&2; exit 1; }

echo "== frozen: the main window, offscreen"
timeout 120 "$app" --smoke-window --data-dir "$data/d" 2>&1 | tee "$data/window.out"

# A file the freeze left out shows up as a warning, not always as a failure.
if grep -h "No such file or directory" "$data/demo.out" "$data/prompt.out" "$data/window.out"; then
  echo "the frozen app misses a file (above)" >&2
  exit 1
fi
echo "Frozen smoke test passed."
