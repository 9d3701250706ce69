#!/usr/bin/env bash
# The two execution backends through the public API: one `floe serve` with a compute pool on the embedded engine
# (region aws.us-west-2) and one on Apache Flink (aws.us-east-1, mapped with --flink-gateway/--flink-rest to the
# stand-in SQL Gateway over Flink 2.1.0's MiniCluster, tests/flink/standin). The same sql/v1 calls on both pools:
#   1. `SELECT 1` round trips (POST, results to their end, phase COMPLETED): median and p90 of BENCH_ROUND_TRIPS each;
#   2. a TUMBLE window aggregation over a bounded `kafka` table of BENCH_RECORDS JSON records, POST to COMPLETED:
#      medians of BENCH_RUNS each, records/s and CPU seconds, and both pools' rows checked against each other and
#      against the windows computed from what was produced.
# All measured in this run. A benchmark, not a test: see bench/README.md.
#
#   bash bench/backends/run.sh                 # FLOE_BIN (default .build/release/floe, else .build/debug/floe)
#   BENCH_RECORDS=1000000 BENCH_RUNS=5 BENCH_ROUND_TRIPS=50 bash bench/backends/run.sh
#
# Pinning: the broker (noida-db) on core 0; floe serve on core 1 (BENCH_CORE); the stand-in (its Python gateway and
# Flink's JVM, every thread) on core 1 as well, then on cores 0,1 (BENCH_FLINK_WIDE_CPUS; empty to skip) for a second
# set of Flink aggregation runs, since a JVM on one core also runs its JIT compiler and garbage collector there.
set -uo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
source "$REPO/tests/lib/suite.sh"
require_python
source "$REPO/tests/lib/venv.sh"
source "$REPO/tests/lib/broker.sh"
source "$REPO/tests/lib/flink.sh"

if [ -z "${FLOE_BIN:-}" ]; then
  if [ -x "$REPO/.build/release/floe" ]; then FLOE_BIN="$REPO/.build/release/floe"; else FLOE_BIN="$REPO/.build/debug/floe"; fi
fi
[ -x "$FLOE_BIN" ] || fatal "floe binary not found: $FLOE_BIN (scripts/build-release, or set FLOE_BIN)"
export FLOE_BIN
work="$(mktemp -d)"
trap 'stop_flink_standin; stop_broker; rm -rf "$work"' EXIT
start_broker "$work/broker" || fatal "could not start the broker"
taskset -p -c 0 "$BROKER_PID" >/dev/null
start_flink_standin "$work/flink" || fatal "could not start the Flink stand-in"
export FLINK_STANDIN_JVM_PIDS BROKER_PID
mkdir -p "$REPO/bench/results"
out="$REPO/bench/results/backends-$(date -u +%Y%m%dT%H%M%SZ).txt"
"$KAFKA_VENV/bin/python" -u "$HERE/bench.py" "$work" | tee "$out"
status=${PIPESTATUS[0]}
[ "$status" = 0 ] || { echo "the benchmark failed (exit $status); floe's log:" >&2; tail -n 30 "$work/floe.log" >&2; }
exit "$status"
