# What every Python suite's run.sh checks before it starts (sourced by tests/compat, tests/browser and
# tests/reliability run.sh). Needs REPO (the repository root) set by the caller.

# fatal MESSAGE: reports the failure in the suites' `N passed, M failed` form and exits 2.
fatal() {
  echo "FATAL: $*" >&2
  echo "0 passed, 1 failed"
  exit 2
}

# require_floe_bin: FLOE_BIN (default <repo>/.build/debug/floe) must be an executable; exported.
require_floe_bin() {
  FLOE_BIN="${FLOE_BIN:-$REPO/.build/debug/floe}"
  [ -f "$FLOE_BIN" ] && [ -x "$FLOE_BIN" ] || fatal "floe binary not found or not executable: $FLOE_BIN (run 'swift build' first, or set FLOE_BIN)"
  export FLOE_BIN
}

# require_openapi SPEC...: Confluent's OpenAPI files (<repo>/../shared/reference/confluent-openapi, or FLOE_OPENAPI_DIR)
# must hold SPEC-openapi.yaml for each SPEC; FLOE_OPENAPI_DIR is exported as an absolute path.
require_openapi() {
  local dir="${FLOE_OPENAPI_DIR:-$REPO/../shared/reference/confluent-openapi}"
  [ -d "$dir" ] || fatal "OpenAPI folder not found: $dir (the suites read shared/reference/confluent-openapi next to the repository; set FLOE_OPENAPI_DIR to point elsewhere)"
  local spec
  for spec in "$@"; do
    [ -f "$dir/$spec-openapi.yaml" ] || fatal "OpenAPI file missing: $dir/$spec-openapi.yaml"
  done
  FLOE_OPENAPI_DIR="$(cd "$dir" && pwd)"
  export FLOE_OPENAPI_DIR
}

# require_python: PYTHON (default python3) must be on the PATH.
require_python() {
  PYTHON="${PYTHON:-python3}"
  command -v "$PYTHON" >/dev/null 2>&1 || fatal "$PYTHON not found"
}
