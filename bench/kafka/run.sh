#!/usr/bin/env bash
# Kafka tables throughput: one core for Floe, a topic of Avro records -> filter + project -> an Avro topic written in
# transactions, against (a) the same query over an embedded log table and (b) confluent-kafka's plain consumer
# reading the same topic (the ceiling for a consumer on this machine). Medians of BENCH_RUNS runs of each, all
# measured in this run. A benchmark, not a test: see bench/README.md.
#
#   bash bench/kafka/run.sh                 # FLOE_BIN (default .build/release/floe, else .build/debug/floe)
#   BENCH_RECORDS=1000000 BENCH_RUNS=3 bash bench/kafka/run.sh
#
# Pinning: the broker (noida-db) runs on core 0; Floe and the plain consumer each run alone on core 1.
set -uo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
source "$REPO/tests/lib/suite.sh"
require_python
source "$REPO/tests/lib/venv.sh"
source "$REPO/tests/lib/broker.sh"

if [ -z "${FLOE_BIN:-}" ]; then
  if [ -x "$REPO/.build/release/floe" ]; then FLOE_BIN="$REPO/.build/release/floe"; else FLOE_BIN="$REPO/.build/debug/floe"; fi
fi
export FLOE_BIN
work="$(mktemp -d)"
trap 'stop_broker; rm -rf "$work"' EXIT
start_broker "$work/broker" || { echo "could not start the broker" >&2; exit 1; }
taskset -p -c 0 "$BROKER_PID" >/dev/null
mkdir -p "$REPO/bench/results"
"$KAFKA_VENV/bin/python" "$HERE/bench.py" "$work" | tee "$REPO/bench/results/kafka-$(date -u +%Y%m%dT%H%M%SZ).txt"
