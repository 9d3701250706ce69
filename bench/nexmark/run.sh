#!/usr/bin/env bash
# Nexmark on both engines with the same events: Apache Flink (parallelism 1, where Java 17 and the apache-flink
# wheel can be installed) and Floe's embedded engine on one core; then, per query, events/s and events per CPU second
# ("per core") of each, and the ratios. Floe's per-core figure is its process CPU time; Flink's is the JVM's CPU time
# while the job runs (planning and mini-cluster start-up excluded), as flink/run_query.py measures it.
#
#   bash bench/nexmark/run.sh                          # data/1m, every query, 3 timed runs each
#   DATA=1m-r10k QUERIES="q5 q7" bash bench/nexmark/run.sh
#   FLINK=skip bash bench/nexmark/run.sh               # compare with results/<data>/summary.json of an earlier run
set -euo pipefail

NEXMARK="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$NEXMARK/../.." && pwd)"
DATA="${DATA:-1m}"
REPEAT="${REPEAT:-3}"
QUERIES="${QUERIES:-$(cd "$NEXMARK/queries" && ls q*.sql | sed 's/\.sql$//' | sort -V | tr '\n' ' ')}"

# shellcheck source=data.sh
source "$NEXMARK/data.sh"
make_data "$DATA"

if [ "${FLINK:-run}" != skip ]; then
  if ! DATA="$DATA" REPEAT="$REPEAT" MODE=timed QUERIES="$QUERIES" bash "$NEXMARK/flink/run_all.sh"; then
    echo "run.sh: Flink did not run; Floe is compared with earlier Flink figures where there are any" >&2
  fi
fi

(cd "$ROOT" && swift build -c release --product floe-nexmark-bench)
PIN=()
if command -v taskset > /dev/null; then PIN=(taskset -c 0); fi
# shellcheck disable=SC2086
"${PIN[@]}" "$ROOT/.build/release/floe-nexmark-bench" --data "$NEXMARK/data/$DATA" --mode timed --repeat "$REPEAT" $QUERIES
