#!/usr/bin/env bash
# sql/v1 round-trip benchmark: `SELECT 1` submitted, run to COMPLETED and its results read, 1,000 times.
#
#   bash bench/statements/run.sh             # release-build floe (scripts/build-release), then measure
#   bash bench/statements/run.sh --no-build  # reuse .build/release/floe
#
# Environment: BENCH_COUNT (default 1000), FLOE_BIN (a floe binary to use instead; implies no build).
# Prints p50/p99 of the round trip and of a plain authenticated GET on the same connection, and PASS/FAIL for the
# target (p50 < 5 ms). Exits non-zero only when something broke.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
COUNT="${BENCH_COUNT:-1000}"
BUILD=1
[ "${1:-}" = "--no-build" ] && BUILD=0
if [ -n "${FLOE_BIN:-}" ]; then
    FLOE="$FLOE_BIN"
else
    [ "$BUILD" = 1 ] && "$ROOT/scripts/build-release" >&2
    FLOE="$ROOT/.build/release/floe"
fi
WORK="$(mktemp -d "${TMPDIR:-/tmp}/floe-bench-statements.XXXXXX")"
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
"$FLOE" serve --port "$PORT" --data-dir "$WORK/data" --rate-limit off --log-level warning >"$WORK/floe.log" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf "$WORK"' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done
mkdir -p "$ROOT/bench/results"
python3 "$ROOT/bench/statements/roundtrip.py" "http://127.0.0.1:$PORT" "$WORK/data" "$COUNT" | tee "$ROOT/bench/results/statements-$(date +%Y%m%d-%H%M%S).txt"
