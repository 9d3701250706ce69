#!/usr/bin/env bash
# Floe operations suite: TLS, the private endpoint, Prometheus /metrics, JSON logs, backup and restore — each through
# the real binary.
#
#   bash tests/ops/run.sh                       # from the repository root (or from anywhere)
#   OPS_ONLY=tls,metrics bash tests/ops/run.sh  # some modules only (names without _test.py)
#
# 1. Checks the floe binary (FLOE_BIN, default <repo>/.build/debug/floe; it never builds), python3 and openssl (the
#    tests make their CA and server certificates with the openssl command line).
# 2. Runs every tests/ops/*_test.py in name order with the system python3 (the modules need the standard library
#    only), each with a timeout (OPS_MODULE_TIMEOUT seconds, default 600). Each module starts its own floe servers on
#    free ports with temporary data directories, stops them by pid, and prints `N passed, M failed`; here those lines
#    are prefixed with the module's name, and the combined `N passed, M failed` is printed last.
# Exit status: 0 when every check of every module passed, non-zero otherwise.
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"

# shellcheck source=../lib/suite.sh
source "$REPO/tests/lib/suite.sh"
require_floe_bin
require_python
command -v openssl >/dev/null 2>&1 || fatal "openssl not found (scripts/setup-machine installs it)"

MODULE_TIMEOUT="${OPS_MODULE_TIMEOUT:-600}"
suite_start=$(date +%s)

declare -a modules=()
only=",${OPS_ONLY:-},"
only="${only//_test.py/}"
only="${only//_test/}"
for path in "$HERE"/*_test.py; do
  [ -e "$path" ] || continue
  name="$(basename "$path" _test.py)"
  if [ -n "${OPS_ONLY:-}" ] && [[ "$only" != *",$name,"* ]]; then
    continue
  fi
  modules+=("$name")
done
[ "${#modules[@]}" -gt 0 ] || fatal "no module selected (OPS_ONLY=${OPS_ONLY:-})"
echo "ops suite: ${modules[*]}; floe $FLOE_BIN"

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
  timeout -k 20 "$MODULE_TIMEOUT" "$PYTHON" -u "$HERE/${name}_test.py" 2>&1 \
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
  lines+=("$(printf '  %-16s %3d passed, %3d failed, %3d skipped  %4ds%s' "$name" "$passed" "$failed" "$skipped" "$elapsed" "$note")")
done

echo
echo "##### ops summary ($(( $(date +%s) - suite_start ))s in all)"
printf '%s\n' "${lines[@]}"
if [ "$total_skipped" -gt 0 ]; then
  echo "$total_passed passed, $total_failed failed, $total_skipped skipped"
else
  echo "$total_passed passed, $total_failed failed"
fi
[ "$total_failed" = 0 ]
