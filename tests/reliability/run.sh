#!/usr/bin/env bash
# Floe reliability suite (fuzzing, crash recovery, connection and nesting limits, RBAC matrix).
#
#   bash tests/reliability/run.sh                          # quick mode (CI): ~6 minutes in all on 2 cores
#   RELIABILITY_MODE=long bash tests/reliability/run.sh    # release checks: ~10x the examples / kills / minutes
#   RELIABILITY_ONLY=fuzz,crash bash tests/reliability/run.sh   # some modules only (names without _test.py)
#
# 1. Checks the OpenAPI files at <repo>/../shared/reference/confluent-openapi/ (or FLOE_OPENAPI_DIR) and the floe
#    binary (FLOE_BIN, default <repo>/.build/debug/floe). It never builds: build first.
# 2. Creates / reuses the venv <repo>/.venv/reliability from tests/reliability/requirements.txt (exact pins of the
#    whole closure, installed with --no-deps; a hash stamp decides reuse).
# 3. Runs every tests/reliability/*_test.py in name order, each with a timeout (RELIABILITY_MODULE_TIMEOUT seconds;
#    default 600 in quick mode, 5400 in long mode). Each module starts its own floe servers on free ports with
#    temporary data directories and prints `N passed, M failed`; here those lines are prefixed with the module's
#    name, and the combined `N passed, M failed` is printed last.
# Exit status: 0 when every check of every module passed, non-zero otherwise.
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"

# shellcheck source=../lib/suite.sh
source "$REPO/tests/lib/suite.sh"
require_openapi org-v2 iam-v2 apikeys-v2 mds-v2 fcpm-v2 sql-v1
require_floe_bin
require_python

RELIABILITY_MODE="${RELIABILITY_MODE:-quick}"
case "$RELIABILITY_MODE" in
  quick) default_timeout=600 ;;
  long) default_timeout=5400 ;;
  *) fatal "RELIABILITY_MODE must be quick or long, not '$RELIABILITY_MODE'" ;;
esac
export RELIABILITY_MODE
MODULE_TIMEOUT="${RELIABILITY_MODULE_TIMEOUT:-$default_timeout}"

# shellcheck source=../lib/venv.sh
source "$REPO/tests/lib/venv.sh"

suite_start=$(date +%s)
mkdir -p "$REPO/.venv"
ensure_venv "$REPO/.venv/reliability" "$HERE/requirements.txt" \
  || fatal "could not create $REPO/.venv/reliability from tests/reliability/requirements.txt"
VENV_PYTHON="$REPO/.venv/reliability/bin/python"
echo "venv ready after $(( $(date +%s) - suite_start ))s; mode $RELIABILITY_MODE; floe $FLOE_BIN"

# The modules, in name order, optionally narrowed by RELIABILITY_ONLY (comma-separated names, with or without _test).
declare -a modules=()
only=",${RELIABILITY_ONLY:-},"
only="${only//_test.py/}"
only="${only//_test/}"
for path in "$HERE"/*_test.py; do
  [ -e "$path" ] || continue
  name="$(basename "$path" _test.py)"
  if [ -n "${RELIABILITY_ONLY:-}" ] && [[ "$only" != *",$name,"* ]]; then
    continue
  fi
  modules+=("$name")
done
[ "${#modules[@]}" -gt 0 ] || fatal "no module selected (RELIABILITY_ONLY=${RELIABILITY_ONLY:-})"

total_passed=0
total_failed=0
total_skipped=0
declare -a lines=()
for name in "${modules[@]}"; do
  echo
  echo "##### $name: ${name}_test.py (timeout ${MODULE_TIMEOUT}s)"
  out="$(mktemp)"
  started=$(date +%s)
  # SIGTERM at the timeout (the module then stops the servers it started), SIGKILL 20 s later if it lingers.
  timeout -k 20 "$MODULE_TIMEOUT" "$VENV_PYTHON" -u "$HERE/${name}_test.py" 2>&1 \
    | sed -u -E "s/^([0-9]+ passed, [0-9]+ failed(, [0-9]+ skipped)?)\$/$name: \\1/" \
    | tee "$out"
  status=${PIPESTATUS[0]}
  elapsed=$(( $(date +%s) - started ))
  summary="$(grep -E "^$name: [0-9]+ passed, [0-9]+ failed" "$out" | tail -n 1)"
  rm -f "$out"
  passed=0; failed=0; skipped=0
  if [ -n "$summary" ]; then
    passed=$(sed -E 's/^[^:]+: ([0-9]+) passed.*/\1/' <<<"$summary")
    failed=$(sed -E 's/^[^:]+: [0-9]+ passed, ([0-9]+) failed.*/\1/' <<<"$summary")
    if [[ "$summary" == *skipped* ]]; then
      skipped=$(sed -E 's/.* ([0-9]+) skipped$/\1/' <<<"$summary")
    fi
  fi
  note=""
  if [ "$status" = 124 ] || [ "$status" = 137 ]; then
    echo "FAIL $name: timed out after ${MODULE_TIMEOUT}s"
    failed=$((failed + 1)); note=" (timed out)"
  elif [ -z "$summary" ]; then
    echo "FAIL $name: exited $status without a summary line"
    failed=$((failed + 1)); note=" (no summary)"
  elif [ "$status" != 0 ] && [ "$failed" = 0 ]; then
    echo "FAIL $name: exited $status although it reported no failure"
    failed=1; note=" (exit $status)"
  fi
  total_passed=$((total_passed + passed))
  total_failed=$((total_failed + failed))
  total_skipped=$((total_skipped + skipped))
  lines+=("$(printf '  %-14s %3d passed, %3d failed, %3d skipped  %4ds%s' "$name" "$passed" "$failed" "$skipped" "$elapsed" "$note")")
done

echo
echo "##### reliability summary ($RELIABILITY_MODE mode, $(( $(date +%s) - suite_start ))s in all, venv included)"
printf '%s\n' "${lines[@]}"
if [ "$total_skipped" -gt 0 ]; then
  echo "$total_passed passed, $total_failed failed, $total_skipped skipped"
else
  echo "$total_passed passed, $total_failed failed"
fi
[ "$total_failed" = 0 ]
