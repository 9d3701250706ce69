# A throwaway Kafka broker for the test suites: noida-db (a single-process Kafka-protocol server from PyPI, pinned
# in tests/kafka/requirements.txt) on a free port with its own data directory.
# Sourced after tests/lib/suite.sh and tests/lib/venv.sh; needs REPO and PYTHON set by the caller.
#
#   start_broker DIR   starts it (data and log in DIR), waits until it answers a metadata request (<= 10 s), and
#                      exports FLOE_TEST_KAFKA=127.0.0.1:PORT (and BROKER_PID). Returns non-zero on failure.
#   stop_broker        stops that broker: SIGTERM, SIGKILL if it is still there 5 s later. Safe to call twice.
#
# noida-db is not Apache Kafka; tests must not assert on where it differs (see tests/kafka/run.sh).

BROKER_PID=""

# The venv holding noida-db (and confluent-kafka for the Python tests): <repo>/.venv/kafka.
KAFKA_VENV="${KAFKA_VENV:-$REPO/.venv/kafka}"

start_broker() {
  local dir="$1"
  mkdir -p "$REPO/.venv" "$dir" || return 1
  ensure_venv "$KAFKA_VENV" "$REPO/tests/kafka/requirements.txt" || { echo "could not create $KAFKA_VENV" >&2; return 1; }
  command -v kcat >/dev/null 2>&1 || { echo "kcat not found (scripts/setup-machine installs it)" >&2; return 1; }
  # The package's console script is a Python wrapper that runs the binary as a child; run the binary itself so
  # BROKER_PID is the broker and stopping it leaves nothing behind.
  local binary
  binary="$("$KAFKA_VENV/bin/python" -c 'from importlib.resources import files; print(files("noida_db").joinpath("noida-db"))')" || return 1
  [ -x "$binary" ] || chmod +x "$binary" || return 1
  local port
  port="$("$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')" || return 1
  "$binary" start --only kafka --kafka-port "$port" --host 127.0.0.1 --data-dir "$dir" >"$dir/broker.log" 2>&1 &
  BROKER_PID=$!
  local deadline=$((SECONDS + 10))
  until kcat -L -b "127.0.0.1:$port" -m 1 >/dev/null 2>&1; do
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
  echo "broker (noida-db, pid $BROKER_PID) on $FLOE_TEST_KAFKA, data in $dir"
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
