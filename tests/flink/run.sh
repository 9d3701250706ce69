#!/usr/bin/env bash
# Floe Flink suite: the stand-in Flink SQL Gateway (tests/flink/standin, self-tested by test_standin.py) and Floe's
# end-to-end tests of its Apache Flink backend (test_flink_backend.py: the statement lifecycle on Flink, restarts with
# re-attachment; test_differential.py: the same queries on both backends, equal results; both share flink_e2e.py),
# against real Flink 2.1.0 (PyFlink's jars) and a real Kafka-protocol broker.
#
#   bash tests/flink/run.sh            # from the repository root (or from anywhere); build first
#
# 1. Starts a noida-db broker on a free port (tests/lib/broker.sh; venv .venv/kafka) and exports FLOE_TEST_KAFKA.
# 2. Starts the stand-in gateway (tests/lib/flink.sh; venv .venv/flink from tests/flink/requirements.txt, the Kafka
#    connector jars, StandIn.java compiled with javac) on two free ports and exports FLOE_TEST_FLINK_GATEWAY (the SQL
#    Gateway REST API), FLOE_TEST_FLINK_REST (the MiniCluster's JobManager REST) and FLOE_TEST_FLINK_SAVEPOINTS.
# 3. Runs every tests/flink/test_*.py with .venv/kafka's python (it has confluent-kafka and what tests/compat's
#    harness needs; the Flink venv holds only PyFlink for the stand-in). FLOE_BIN (default <repo>/.build/debug/floe)
#    is exported for the tests that start Floe; it must exist once there are any besides test_standin.py. Each
#    module prints `N passed, M failed` last; FLINK_MODULE_TIMEOUT (default 900 s) bounds each.
# Prints the combined `N passed, M failed` last; exit status 0 when everything passed.
#
# The stand-in's log (and Flink's) and the savepoints stay in a temporary directory that is removed at exit; set
# FLINK_KEEP_WORK=1 to keep it (its path is printed). The machine has 2 cores: an idle unbounded Kafka source costs
# the JVM and the broker about a core together, so tests should stop their unbounded jobs when done.
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"

# shellcheck source=../lib/suite.sh
source "$REPO/tests/lib/suite.sh"
require_python
# shellcheck source=../lib/venv.sh
source "$REPO/tests/lib/venv.sh"
# shellcheck source=../lib/broker.sh
source "$REPO/tests/lib/broker.sh"
# shellcheck source=../lib/flink.sh
source "$REPO/tests/lib/flink.sh"

suite_start=$(date +%s)
work="$(mktemp -d)"
cleanup() {
  stop_flink_standin
  stop_broker
  if [ "${FLINK_KEEP_WORK:-0}" = 1 ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
start_broker "$work/broker" || fatal "could not start the test broker"
start_flink_standin "$work/flink" || fatal "could not start the Flink stand-in"

passed=0
failed=0
declare -a lines=()

record() { # NAME STATUS SECONDS [DETAIL]
  if [ "$2" = 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
  lines+=("$(printf '  %-28s %s  %4ds%s' "$1" "$([ "$2" = 0 ] && echo pass || echo FAIL)" "$3" "${4:+  $4}")")
}

declare -a modules=()
for path in "$HERE"/test_*.py; do
  [ -e "$path" ] && modules+=("$path")
done
# FLOE_BIN is needed by the tests that start Floe, i.e. all but the stand-in's self-test.
for path in "${modules[@]}"; do
  [ "$(basename "$path")" = test_standin.py ] || { require_floe_bin; break; }
done
export FLOE_BIN="${FLOE_BIN:-$REPO/.build/debug/floe}"

for path in "${modules[@]}"; do
  name="$(basename "$path" .py)"
  echo
  echo "##### $name"
  started=$(date +%s)
  timeout -k 20 "${FLINK_MODULE_TIMEOUT:-900}" "$KAFKA_VENV/bin/python" -u "$path"
  status=$?
  record "$name" "$status" $(( $(date +%s) - started )) "$([ "$status" = 124 ] && echo "timed out")"
done

if ! kill -0 "$FLINK_STANDIN_PID" 2>/dev/null; then
  record standin-alive 1 0 "the stand-in died during the suite; its log: $work/flink/standin.log"
  tail -n 40 "$work/flink/standin.log"
fi

for pid in $FLINK_STANDIN_JVM_PIDS; do
  echo "stand-in JVM $pid: RSS $(( $(ps -o rss= -p "$pid" 2>/dev/null || echo 0) / 1024 )) MiB"
done

echo
echo "##### flink summary ($(( $(date +%s) - suite_start ))s in all, venvs, broker and stand-in included)"
printf '%s\n' "${lines[@]}"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
