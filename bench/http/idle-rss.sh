#!/usr/bin/env bash
# Idle RSS of `floe serve`, with TLS off and on, for one or more binaries measured the same way in the same run:
#
#   bash bench/http/idle-rss.sh .build/release/floe [/path/to/other/floe ...]
#
# For each binary and mode, RUNS times (default 7) and interleaved (binary A off, B off, A on, B on, then again) so that
# a drift of the machine touches both sides alike: start `floe serve` on a free port with a new data directory, wait
# until /healthz answers, let it idle BENCH_IDLE_SECONDS (default 2), read VmRSS from /proc/PID/status, stop it. Prints
# the median, minimum and maximum per binary and mode, in MiB. TLS on uses a P-256 certificate made here with openssl.
#
# Measure binaries in place, where the linker wrote them (bench/README.md: a copy is cached in large folios and idles
# ~3.5 MiB higher), on a quiet machine.
set -euo pipefail
RUNS="${RUNS:-7}"
IDLE="${BENCH_IDLE_SECONDS:-2}"
[ "$#" -ge 1 ] || { echo "usage: $0 FLOE_BINARY [FLOE_BINARY ...]" >&2; exit 2; }
WORK="$(mktemp -d)"
PIDS=()
cleanup() { for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$WORK/tls.key" -out "$WORK/tls.crt" \
  -days 2 -subj "/CN=localhost" -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" >/dev/null 2>&1

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# measure BINARY MODE -> prints the idle VmRSS in KiB
measure() {
  local binary="$1" mode="$2" port dir scheme pid i kib
  port="$(free_port)"
  dir="$(mktemp -d "$WORK/data.XXXX")"
  local extra=()
  scheme=http
  if [ "$mode" = on ]; then extra=(--tls-cert "$WORK/tls.crt" --tls-key "$WORK/tls.key"); scheme=https; fi
  FLOE_BOOTSTRAP_API_KEY=ABCDEFGHIJKLMNOP \
    FLOE_BOOTSTRAP_API_SECRET="$(python3 -c 'import base64,os; print(base64.b64encode(os.urandom(48)).decode())')" \
    "$binary" serve --port "$port" --data-dir "$dir" "${extra[@]}" >"$dir.log" 2>&1 &
  pid=$!
  PIDS+=("$pid")
  for i in $(seq 1 200); do
    if curl -sf --cacert "$WORK/tls.crt" "$scheme://127.0.0.1:$port/healthz" >/dev/null 2>&1; then break; fi
    sleep 0.05
  done
  sleep "$IDLE"
  kib="$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status")"
  kill "$pid"; wait "$pid" 2>/dev/null || true
  echo "$kib"
}

declare -A SAMPLES
for run in $(seq 1 "$RUNS"); do
  for mode in off on; do
    for binary in "$@"; do
      if [ "$mode" = on ] && ! "$binary" serve --help 2>/dev/null | grep -q -- --tls-cert; then continue; fi
      SAMPLES["$binary|$mode"]+="$(measure "$binary" "$mode") "
    done
  done
done

printf '%-60s %-4s %8s %8s %8s   (MiB, %s runs, idle %ss)\n' binary tls median min max "$RUNS" "$IDLE"
for binary in "$@"; do
  version="$("$binary" --version 2>/dev/null | awk '/Git Ref/ {print $3}')"
  for mode in off on; do
    values="${SAMPLES["$binary|$mode"]:-}"
    [ -n "$values" ] || continue
    python3 - "$binary ($version)" "$mode" $values <<'PY'
import statistics, sys
name, mode, *values = sys.argv[1:]
mib = [int(v) / 1024 for v in values]
print(f"{name:<60} {mode:<4} {statistics.median(mib):8.2f} {min(mib):8.2f} {max(mib):8.2f}")
PY
  done
done
