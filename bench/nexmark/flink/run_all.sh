#!/usr/bin/env bash
# Runs every Nexmark query on Flink: setup (Java 17, the venv with PyFlink), the data sets if they are
# missing, then flink/run_query.py over them, one job at a time. Numbers and results go to
# bench/nexmark/results/<data set>/ (summary.json and one QUERY.tsv per query).
#
#   bash bench/nexmark/flink/run_all.sh                 # data/1m: 1,000,000 events at the default rate
#   DATA=1m-r10k bash bench/nexmark/flink/run_all.sh    # 1,000,000 events at 10,000 events/s
#   QUERIES="q5 q7" REPEAT=1 MODE=results bash bench/nexmark/flink/run_all.sh
#
# Data sets it knows how to make (generate.py, seed 42): 10k, 1m, 10m (default rate, 10M events/s),
# 10k-r10k, 1m-r10k (10,000 events/s). Each is warmed up on the 10k set of the same rate.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
NEXMARK="$(cd "$HERE/.." && pwd)"
DATA="${DATA:-1m}"
REPEAT="${REPEAT:-3}"
MODE="${MODE:-both}"

bash "$HERE/setup.sh"

# shellcheck source=../data.sh
source "$NEXMARK/data.sh"

case "$DATA" in *-r10k) WARMUP=10k-r10k ;; *) WARMUP=10k ;; esac
make_data "$WARMUP"
make_data "$DATA"

if [ -z "${QUERIES:-}" ]; then
  QUERIES="$(cd "$NEXMARK/queries" && ls q*.sql | sed 's/\.sql$//' | sort -V | tr '\n' ' ')"
fi

# shellcheck disable=SC2086
exec "$NEXMARK/.venv/bin/python" "$HERE/run_query.py" --data "$NEXMARK/data/$DATA" \
  --warmup-data "$NEXMARK/data/$WARMUP" --repeat "$REPEAT" --mode "$MODE" $QUERIES
