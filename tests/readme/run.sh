#!/usr/bin/env bash
# The README's walkthroughs, run as written: "The first five minutes, with `floe` only", then "A quick tour with
# curl", one after the other against one fresh `floe serve` (free port, temporary HOME and data directory).
#
#   bash tests/readme/run.sh            # from the repository root (or from anywhere)
#
# The commands are read from README.md itself, so this breaks when the README drifts from what works. Only the
# standard library of python3 is needed (the tour itself uses python3 and curl). FLOE_BIN names the binary
# (default <repo>/.build/debug/floe); README_TRACE=1 prints every command's output.
# Exit status: 0 when every step passed, non-zero otherwise.
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"

# shellcheck source=../lib/suite.sh
source "$REPO/tests/lib/suite.sh"
require_floe_bin
require_python
command -v curl >/dev/null 2>&1 || fatal "curl not found (the curl tour needs it)"

exec "$PYTHON" "$HERE/readme_test.py" "$REPO/README.md"
