#!/usr/bin/env bash
# Engine throughput: filter+projection and streaming GROUP BY over 10M generated rows on one core, with a
# hand-written baseline measured in the same run (see bench/README.md). BENCH_ROWS overrides the row count.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
[ "${1:-}" = "--no-build" ] || swift build -c release --product floe-engine-bench >&2
mkdir -p bench/results
taskset -c 0 .build/release/floe-engine-bench | tee "bench/results/engine-$(date +%Y%m%d-%H%M%S).txt"
