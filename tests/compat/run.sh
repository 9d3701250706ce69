#!/usr/bin/env bash
# Floe compatibility + wire-contract suite.
#
#   bash tests/compat/run.sh            # from the repository root (or from anywhere)
#
# 1. Checks the OpenAPI files at <repo>/../shared/reference/confluent-openapi/ (read in place at test time) and the
#    floe binary (FLOE_BIN, default <repo>/.build/debug/floe).
# 2. Creates / reuses the venv <repo>/.venv/compat from tests/compat/requirements.txt (a hash stamp decides reuse),
#    and, optionally, <repo>/.venv/compat-sdk for confluent-cloud-sdk (pydantic 1.x; COMPAT_SDK=0 skips it).
# 3. run_all.py starts floe on a free port with a temporary data dir and generated bootstrap credentials, waits for
#    /healthz, runs contract_test.py, cc_clients_test.py, statements_test.py and sdk_test.py against it, stops it,
#    then runs rate_limit_test.py (which starts its own rate-limited server), then starts a server that serves https
#    only (a CA and certificate made with the openssl command) and runs cc_clients_test.py and statements_test.py
#    against it, and prints `N passed, M failed` last.
# Exit status: 0 when every check passed, non-zero otherwise.
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"

# shellcheck source=../lib/suite.sh
source "$REPO/tests/lib/suite.sh"
require_openapi org-v2 iam-v2 apikeys-v2 mds-v2 fcpm-v2 cmk-v2 sql-v1
require_floe_bin
require_python
command -v openssl >/dev/null 2>&1 || fatal "openssl not found (scripts/setup-machine installs it; the https run makes its certificates with it)"

# shellcheck source=../lib/venv.sh
source "$REPO/tests/lib/venv.sh"

mkdir -p "$REPO/.venv"
ensure_venv "$REPO/.venv/compat" "$HERE/requirements.txt" --ignore-requires-python \
  || fatal "could not create $REPO/.venv/compat from tests/compat/requirements.txt"

COMPAT_SDK_PYTHON=""
if [ "${COMPAT_SDK:-1}" != 0 ]; then
  if ensure_venv "$REPO/.venv/compat-sdk" "$HERE/requirements-sdk.txt"; then
    COMPAT_SDK_PYTHON="$REPO/.venv/compat-sdk/bin/python"
  else
    echo "NOTE: confluent-cloud-sdk (optional) could not be installed; sdk_test.py is skipped" >&2
    rm -rf "$REPO/.venv/compat-sdk"
  fi
fi
export COMPAT_SDK_PYTHON

exec "$REPO/.venv/compat/bin/python" "$HERE/run_all.py"
