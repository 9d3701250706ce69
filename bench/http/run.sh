#!/usr/bin/env bash
# HTTP load benchmark: Floe's GET compute pool and GET api key against a bare Hummingbird JSON endpoint,
# measured in the same run on the same machine, plus the idle RSS of `floe serve`.
#
#   bash bench/http/run.sh               # build both in release mode, then measure
#   bash bench/http/run.sh --no-build    # reuse the release binaries already built
#
# Environment (all optional):
#   BENCH_THREADS=2 BENCH_CONNECTIONS=64 BENCH_DURATION=10s BENCH_WARMUP=2s   wrk settings
#   BENCH_IDLE_SECONDS=2      how long floe sits idle before its RSS is read
#   BENCH_FLOE_LOG_LEVEL=     passed as `floe serve --log-level` if set (default: floe's own, info, which writes
#                             one line per request; the output goes to a temporary file)
#   FLOE_BIN=/path/to/floe    use this binary instead of the repo's release build (implies no floe build)
#
# Targets (from the issue): each Floe endpoint >= 0.5x the baseline's req/s; idle RSS of floe < 30 MiB.
# Like any benchmark it reports and exits 0 whether the targets are met or not; it exits non-zero only if
# something broke: a build failed, a server did not start, or a request failed (non-200 / socket errors).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BASELINE_DIR="$ROOT/bench/baseline"
RESULTS_DIR="$ROOT/bench/results"

THREADS="${BENCH_THREADS:-2}"
CONNECTIONS="${BENCH_CONNECTIONS:-64}"
DURATION="${BENCH_DURATION:-10s}"
WARMUP="${BENCH_WARMUP:-2s}"
IDLE_SECONDS="${BENCH_IDLE_SECONDS:-2}"
FLOE_LOG_LEVEL="${BENCH_FLOE_LOG_LEVEL:-}"
TARGET_RATIO="0.5"
TARGET_RSS_MIB="30"

BUILD=1
for arg in "$@"; do
    case "$arg" in
        --no-build) BUILD=0 ;;
        -h | --help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "unknown argument: $arg (try --help)" >&2; exit 2 ;;
    esac
done

log() { printf '[bench] %s\n' "$*" >&2; }
die() { printf '[bench] ERROR: %s\n' "$*" >&2; exit 1; }

# --- cleanup: stop only what this script started ----------------------------------------------------
PIDS=()
WORK="$(mktemp -d "${TMPDIR:-/tmp}/floe-bench-http.XXXXXX")"
cleanup() {
    local rc=$?
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${PIDS[@]}"; do
        # give a graceful shutdown 5 s, then force
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$WORK"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- (a) tools -----------------------------------------------------------------------------------------
apt_install() {
    local sudo=""
    if [ "$(id -u)" != 0 ]; then
        command -v sudo >/dev/null || die "need root or sudo to install: $*"
        sudo="sudo"
    fi
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get install -y -q "$@" >&2 || { $sudo apt-get update -q >&2 && $sudo apt-get install -y -q "$@" >&2; } \
        || die "apt-get install $* failed"
}
missing=()
for tool in wrk curl jq; do command -v "$tool" >/dev/null || missing+=("$tool"); done
if [ "${#missing[@]}" -gt 0 ]; then
    log "installing ${missing[*]}"
    apt_install "${missing[@]}"
fi

# --- (b) builds, one after the other -------------------------------------------------------------------
if [ -n "${FLOE_BIN:-}" ]; then
    FLOE="$FLOE_BIN"
else
    if [ "$BUILD" = 1 ]; then
        log "building floe (release)"
        "$ROOT/scripts/build-release" >&2 || die "release build of floe failed"
    fi
    FLOE="$ROOT/.build/release/floe"
fi
if [ "$BUILD" = 1 ]; then
    log "building baseline (release)"
    (cd "$BASELINE_DIR" && swift build -c release) >&2 || die "release build of bench/baseline failed"
fi
BASELINE="$BASELINE_DIR/.build/release/baseline"
[ -x "$FLOE" ] || die "no floe binary at $FLOE (run without --no-build)"
[ -x "$BASELINE" ] || die "no baseline binary at $BASELINE (run without --no-build)"

# --- helpers -------------------------------------------------------------------------------------------
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()' 2>/dev/null \
        || echo $((20000 + RANDOM % 20000))
}

# wait_http NAME PID URL LOGFILE: wait up to 60 s for URL to answer 200 while PID is alive.
wait_http() {
    local name=$1 pid=$2 url=$3 logfile=$4
    for _ in $(seq 600); do
        if ! kill -0 "$pid" 2>/dev/null; then
            tail -n 30 "$logfile" >&2 || true
            die "$name exited before it answered $url"
        fi
        if [ "$(curl -s --max-time 2 -o /dev/null -w '%{http_code}' "$url" 2>/dev/null)" = 200 ]; then return 0; fi
        sleep 0.1
    done
    tail -n 30 "$logfile" >&2 || true
    die "$name did not answer 200 on $url within 60 s"
}

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
mib() { awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}'; }

# expect_200 NAME URL [curl args...]: one request that must answer 200.
expect_200() {
    local name=$1 url=$2; shift 2
    local code
    code="$(curl -s --max-time 10 -o "$WORK/check.out" -w '%{http_code}' "$@" "$url" || true)"
    if [ "$code" != 200 ]; then
        head -c 2000 "$WORK/check.out" >&2 2>/dev/null || true; echo >&2
        die "$name: GET $url answered ${code:-nothing}, expected 200"
    fi
}

# --- (c) start the servers -----------------------------------------------------------------------------
API_KEY="$(head -c 4096 /dev/urandom | LC_ALL=C tr -dc 'A-Z0-9')"
API_KEY="${API_KEY:0:16}"
API_SECRET="$(head -c 48 /dev/urandom | base64 -w0)" # 48 bytes -> exactly 64 base64 characters
[ "${#API_KEY}" = 16 ] && [ "${#API_SECRET}" = 64 ] || die "could not generate bootstrap credentials"
AUTH_HEADER="Authorization: Basic $(printf '%s:%s' "$API_KEY" "$API_SECRET" | base64 -w0)"

BASELINE_PORT="$(free_port)"
log "starting baseline on 127.0.0.1:$BASELINE_PORT"
"$BASELINE" --port "$BASELINE_PORT" >"$WORK/baseline.log" 2>&1 &
BASELINE_PID=$!
PIDS+=("$BASELINE_PID")
BASELINE_URL="http://127.0.0.1:$BASELINE_PORT"
wait_http baseline "$BASELINE_PID" "$BASELINE_URL/json" "$WORK/baseline.log"

FLOE_PORT="$(free_port)"
while [ "$FLOE_PORT" = "$BASELINE_PORT" ]; do FLOE_PORT="$(free_port)"; done
DATA_DIR="$WORK/floe-data"
mkdir -p "$DATA_DIR"
log "starting floe serve on port $FLOE_PORT (data dir $DATA_DIR)"
FLOE_ARGS=(serve --port "$FLOE_PORT" --data-dir "$DATA_DIR" --rate-limit off)
[ -n "$FLOE_LOG_LEVEL" ] && FLOE_ARGS+=(--log-level "$FLOE_LOG_LEVEL")
FLOE_BOOTSTRAP_API_KEY="$API_KEY" FLOE_BOOTSTRAP_API_SECRET="$API_SECRET" "$FLOE" "${FLOE_ARGS[@]}" >"$WORK/floe.log" 2>&1 &
FLOE_PID=$!
PIDS+=("$FLOE_PID")
FLOE_URL="http://127.0.0.1:$FLOE_PORT"
wait_http floe "$FLOE_PID" "$FLOE_URL/healthz" "$WORK/floe.log"

# --- (d) idle RSS, before any load ---------------------------------------------------------------------
sleep "$IDLE_SECONDS"
FLOE_IDLE_KIB="$(rss_kib "$FLOE_PID")"
BASELINE_IDLE_KIB="$(rss_kib "$BASELINE_PID")"
log "idle RSS: floe $(mib "$FLOE_IDLE_KIB") MiB, baseline $(mib "$BASELINE_IDLE_KIB") MiB"

# --- (e) resources to read -----------------------------------------------------------------------------
BOOTSTRAP="$DATA_DIR/bootstrap.json"
[ -s "$BOOTSTRAP" ] || die "floe wrote no $BOOTSTRAP"
ENV_ID="$(jq -er '.environment_id' "$BOOTSTRAP")" || die "no environment_id in $BOOTSTRAP"
USER_ID="$(jq -er '.user_id' "$BOOTSTRAP")" || die "no user_id in $BOOTSTRAP"

# create NAME PATH BODY: POST with the bootstrap key, expect 2xx, print the new resource's id.
create() {
    local name=$1 path=$2 body=$3 code id
    code="$(curl -s --max-time 10 -o "$WORK/create.out" -w '%{http_code}' -X POST -u "$API_KEY:$API_SECRET" \
        -H 'Content-Type: application/json' --data "$body" "$FLOE_URL$path" || true)"
    case "$code" in
        2??) ;;
        *) head -c 2000 "$WORK/create.out" >&2 2>/dev/null || true; echo >&2
           die "creating the $name: POST $path answered ${code:-nothing}" ;;
    esac
    id="$(jq -er '.id' "$WORK/create.out")" || die "creating the $name: no id in the response"
    printf '%s' "$id"
}
POOL_ID="$(create "compute pool" /fcpm/v2/compute-pools \
    "{\"spec\":{\"display_name\":\"bench\",\"cloud\":\"AWS\",\"region\":\"us-east-1\",\"max_cfu\":10,\"environment\":{\"id\":\"$ENV_ID\"}}}")"
KEY_ID="$(create "api key" /iam/v2/api-keys \
    "{\"spec\":{\"display_name\":\"bench\",\"owner\":{\"id\":\"$USER_ID\"},\"resource\":{\"id\":\"cloud\"}}}")"
log "environment $ENV_ID, user $USER_ID, compute pool $POOL_ID, api key $KEY_ID"

# --- (f) load ------------------------------------------------------------------------------------------
NAMES=("baseline GET /json" "floe GET compute pool" "floe GET api key")
URLS=("$BASELINE_URL/json" "$FLOE_URL/fcpm/v2/compute-pools/$POOL_ID?environment=$ENV_ID" "$FLOE_URL/iam/v2/api-keys/$KEY_ID")
AUTHS=("" "$AUTH_HEADER" "$AUTH_HEADER")

# to_ms VALUE: wrk's latency ("812.00us", "3.41ms", "1.02s", "1.5m") in milliseconds.
to_ms() {
    awk -v v="$1" 'BEGIN {
        n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
        if (u == "us") n /= 1000; else if (u == "s") n *= 1000; else if (u == "m") n *= 60000; else if (u == "h") n *= 3600000
        printf "%.2f", n }'
}

RPS=() P99=() ERRORS=()
BROKEN=0
for i in "${!NAMES[@]}"; do
    name="${NAMES[$i]}" url="${URLS[$i]}" auth="${AUTHS[$i]}"
    hdr=()
    [ -n "$auth" ] && hdr=(-H "$auth")
    expect_200 "$name" "$url" "${hdr[@]}"
    log "$name: warm-up $WARMUP, then $DURATION with $THREADS threads / $CONNECTIONS connections"
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"$WARMUP" "${hdr[@]}" "$url" >/dev/null
    out="$WORK/wrk-$i.txt"
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "${hdr[@]}" "$url" >"$out"
    rps="$(awk '/^Requests\/sec:/ {print $2}' "$out")"
    p99="$(awk '$1 == "99%" {print $2}' "$out")"
    [ -n "$rps" ] && [ -n "$p99" ] || { cat "$out" >&2; die "$name: could not read wrk's output"; }
    non2xx="$(awk -F: '/Non-2xx or 3xx responses/ {gsub(/ /, "", $2); print $2}' "$out")"
    sock="$(sed -n 's/^ *Socket errors: *//p' "$out")"
    err=""
    [ -n "$non2xx" ] && err="non-2xx: $non2xx"
    [ -n "$sock" ] && err="${err:+$err; }socket errors: $sock"
    if [ -n "$err" ]; then
        BROKEN=1
        log "$name: $err"
    fi
    RPS+=("$rps") P99+=("$(to_ms "$p99")") ERRORS+=("$err")
done
FLOE_LOADED_KIB="$(rss_kib "$FLOE_PID" || echo 0)"
kill -0 "$FLOE_PID" 2>/dev/null || { BROKEN=1; log "floe died under load"; }

# --- (g) report ----------------------------------------------------------------------------------------
STAMP="$(date -u +%Y-%m-%dT%H%M%SZ)"
mkdir -p "$RESULTS_DIR"
RESULT_FILE="$RESULTS_DIR/http-$STAMP.txt"
report() {
    echo "Floe HTTP benchmark, $STAMP"
    echo "commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$ROOT" diff --quiet HEAD 2>/dev/null || echo ' (dirty)'), $(nproc) cores, $(wrk -v 2>&1 | head -n 1 | awk '{print $1, $2}'), $THREADS threads, $CONNECTIONS connections, $DURATION after $WARMUP warm-up, floe log level ${FLOE_LOG_LEVEL:-default}"
    echo
    printf '%-24s %12s %10s %10s\n' endpoint req/s "p99 ms" ratio
    for i in "${!NAMES[@]}"; do
        ratio="$(awk -v a="${RPS[$i]}" -v b="${RPS[0]}" 'BEGIN {printf "%.2f", (b > 0 ? a / b : 0)}')"
        printf '%-24s %12.0f %10s %10s%s\n' "${NAMES[$i]}" "${RPS[$i]}" "${P99[$i]}" "$ratio" "${ERRORS[$i]:+  (${ERRORS[$i]})}"
    done
    echo
    printf '%-24s %8s MiB\n' "floe idle RSS" "$(mib "$FLOE_IDLE_KIB")"
    printf '%-24s %8s MiB\n' "floe RSS after load" "$(mib "$FLOE_LOADED_KIB")"
    printf '%-24s %8s MiB\n' "baseline idle RSS" "$(mib "$BASELINE_IDLE_KIB")"
    echo
    for i in 1 2; do
        ratio="$(awk -v a="${RPS[$i]}" -v b="${RPS[0]}" 'BEGIN {printf "%.2f", (b > 0 ? a / b : 0)}')"
        verdict="$(awk -v r="$ratio" -v t="$TARGET_RATIO" 'BEGIN {print (r >= t ? "PASS" : "FAIL")}')"
        echo "$verdict ${NAMES[$i]}: ratio $ratio (target >= $TARGET_RATIO)"
    done
    verdict="$(awk -v k="$FLOE_IDLE_KIB" -v t="$TARGET_RSS_MIB" 'BEGIN {print (k / 1024 < t ? "PASS" : "FAIL")}')"
    echo "$verdict floe idle RSS: $(mib "$FLOE_IDLE_KIB") MiB (target < $TARGET_RSS_MIB MiB)"
}
report | tee "$RESULT_FILE"
log "written to ${RESULT_FILE#"$ROOT"/}"

if [ "$BROKEN" = 1 ]; then
    log "some requests failed under load (see above): the figures are not trustworthy"
    exit 1
fi
exit 0
