#!/usr/bin/env bash
# Floe web-console suite in a real browser (Debian's headless Chromium driven by Selenium).
#
#   bash tests/browser/run.sh            # from the repository root (or from anywhere)
#
# 1. Checks the floe binary (FLOE_BIN, default <repo>/.build/debug/floe), /usr/bin/chromium and
#    /usr/bin/chromedriver (scripts/setup-machine installs them); checks console.js with `node --check` when node is here.
# 2. Creates / reuses the venv <repo>/.venv/browser from tests/browser/requirements.txt (a hash stamp decides reuse).
# 3. console_test.py starts floe on a free port with a temporary data dir and generated bootstrap credentials, walks
#    the console in one browser session, stops floe, and prints `N passed, M failed` last.
# Screenshots: ${FLOE_ARTIFACTS:-<repo>/artifacts}/browser/NN-name.png (plus NN-FAIL-name.png/.html on failures).
# Exit status: 0 when every check passed, non-zero otherwise.
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"

# shellcheck source=../lib/suite.sh
source "$REPO/tests/lib/suite.sh"
require_floe_bin

BROWSER_CHROMIUM="${BROWSER_CHROMIUM:-/usr/bin/chromium}"
BROWSER_CHROMEDRIVER="${BROWSER_CHROMEDRIVER:-/usr/bin/chromedriver}"
[ -x "$BROWSER_CHROMIUM" ] || fatal "$BROWSER_CHROMIUM not found (scripts/setup-machine installs Debian's chromium)"
[ -x "$BROWSER_CHROMEDRIVER" ] || fatal "$BROWSER_CHROMEDRIVER not found (scripts/setup-machine installs Debian's chromium-driver)"
export BROWSER_CHROMIUM BROWSER_CHROMEDRIVER
command -v curl >/dev/null 2>&1 || fatal "curl not found (scripts/setup-machine installs it)"

# The console's script is a file of its own: a syntax check before the browser walk, when node is installed.
if command -v node >/dev/null 2>&1; then
  node --check "$REPO/Sources/FloeServer/Console/Assets/console.js" || fatal "Sources/FloeServer/Console/Assets/console.js does not parse (node --check)"
fi

require_python

# shellcheck source=../lib/venv.sh
source "$REPO/tests/lib/venv.sh"

mkdir -p "$REPO/.venv"
ensure_venv "$REPO/.venv/browser" "$HERE/requirements.txt" \
  || fatal "could not create $REPO/.venv/browser from tests/browser/requirements.txt"

FLOE_ARTIFACTS="${FLOE_ARTIFACTS:-$REPO/artifacts}"
BROWSER_SCREENSHOTS="$FLOE_ARTIFACTS/browser"
mkdir -p "$BROWSER_SCREENSHOTS" || fatal "cannot create $BROWSER_SCREENSHOTS"
export BROWSER_SCREENSHOTS

# Selenium must never fetch a driver or browser of its own: the paths above are explicit, and this keeps it offline.
export SE_OFFLINE=true

exec "$REPO/.venv/browser/bin/python" "$HERE/console_test.py"
