# The stand-in Flink SQL Gateway for the test suites (tests/flink/standin: the gateway's REST API over real Apache
# Flink 2.1.0 from PyFlink's jars, with an in-JVM MiniCluster whose JobManager REST is Flink's own). Sourced after
# tests/lib/suite.sh and tests/lib/venv.sh; needs REPO and PYTHON set by the caller, and java + javac (JDK 17 or 21;
# scripts/setup-machine installs one).
#
#   start_flink_standin DIR  makes sure of the venv <repo>/.venv/flink (tests/flink/requirements.txt), the Kafka
#                            connector jars and the compiled Java helper, starts the stand-in on two free ports (its
#                            logs and savepoints in DIR), waits until GET /v3/info answers (<= 60 s) and exports
#                              FLOE_TEST_FLINK_GATEWAY=http://127.0.0.1:PORT        the SQL Gateway REST API
#                              FLOE_TEST_FLINK_REST=http://127.0.0.1:REST_PORT      the JobManager REST API
#                              FLOE_TEST_FLINK_SAVEPOINTS=DIR/savepoints            state.savepoints.dir (a path)
#                              FLINK_STANDIN_PID                                    the stand-in's python process
#                              FLINK_STANDIN_PYTHON, FLINK_STANDIN_CLASSPATH        how to start another one (the
#                                                                                   venv's python; HADOOP_CLASSPATH)
#                            Returns non-zero on failure (with the stand-in's log on stderr).
#   stop_flink_standin       SIGTERM to the stand-in, SIGKILL 10 s later if needed, to it and to its JVM (a child
#                            of it, which also exits on its own when the python process is gone). Safe to call twice.
#
# FLINK_STANDIN_IDLE_TIMEOUT (seconds, default 600) sets the sessions' idle timeout; FLINK_STANDIN_ARGS adds arguments
# to gateway.py (e.g. --keep-savepoint-path: keep execution.savepoint.path until RESET, as the real gateway does);
# FLINK_STANDIN_JAVA_OPTS replaces the JVM's options (default -Xmx1g).

FLINK_STANDIN_PID=""
FLINK_STANDIN_JVM_PIDS=""

# The venv holding PyFlink for the stand-in: <repo>/.venv/flink.
FLINK_VENV="${FLINK_VENV:-$REPO/.venv/flink}"
# Only these two jars of the connector wheel go on the JVM's classpath (see tests/flink/requirements.txt).
FLINK_CONNECTORS_PIN="shigawire-apache-flink-libraries==2.0.0.post1"

# ensure_flink_connectors: the Kafka connector jars in $FLINK_VENV/flink-connectors, installed with --target (kept out
# of pyflink/lib: the wheel also carries Flink 2.0.0 core jars). Its own stamp, since ensure_venv's covers only the
# requirements file.
ensure_flink_connectors() {
  local dir="$FLINK_VENV/flink-connectors"
  if [ "$(cat "$dir/.stamp" 2>/dev/null)" = "$FLINK_CONNECTORS_PIN" ] \
    && [ -f "$dir/pyflink/lib/flink-connector-kafka.jar" ] && [ -f "$dir/pyflink/lib/kafka-clients.jar" ]; then
    return 0
  fi
  echo "installing the Flink Kafka connector jars ($FLINK_CONNECTORS_PIN) into $dir ..." >&2
  rm -rf "$dir"
  "$FLINK_VENV/bin/python" -m pip install -q --disable-pip-version-check --no-deps --target "$dir" \
    "$FLINK_CONNECTORS_PIN" || return 1
  echo "$FLINK_CONNECTORS_PIN" >"$dir/.stamp"
}

# ensure_flink_standin_classes: StandIn.java compiled against the venv's Flink into $FLINK_VENV/standin-classes, again
# only when the source (or the javac) changed. Prints the classes directory.
ensure_flink_standin_classes() {
  local src="$REPO/tests/flink/standin/StandIn.java" out="$FLINK_VENV/standin-classes"
  command -v javac >/dev/null 2>&1 || { echo "javac not found (scripts/setup-machine installs a JDK)" >&2; return 1; }
  local pyflink
  pyflink="$("$FLINK_VENV/bin/python" -c 'import os, pyflink; print(os.path.dirname(pyflink.__file__))')" || return 1
  local stamp
  stamp="$({ cat "$src"; javac -version 2>&1; echo "$pyflink"; } | sha256sum | cut -d' ' -f1)"
  if [ "$(cat "$out/.stamp" 2>/dev/null)" != "$stamp" ]; then
    rm -rf "$out"
    mkdir -p "$out" || return 1
    javac -nowarn -Xlint:none -cp "$pyflink/lib/*" -d "$out" "$src" 2>&1 | grep -v '^Note: ' >&2
    [ -f "$out/floe/standin/StandIn.class" ] || { echo "compiling $src failed" >&2; return 1; }
    echo "$stamp" >"$out/.stamp"
  fi
  echo "$out"
}

# flink_free_port: a free TCP port on 127.0.0.1 (free when asked: the stand-in binds it a moment later).
flink_free_port() {
  "$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

start_flink_standin() {
  local dir="$1"
  mkdir -p "$REPO/.venv" "$dir/savepoints" || return 1
  dir="$(cd "$dir" && pwd)"
  command -v java >/dev/null 2>&1 || { echo "java not found (scripts/setup-machine installs a JDK)" >&2; return 1; }
  ensure_venv "$FLINK_VENV" "$REPO/tests/flink/requirements.txt" || { echo "could not create $FLINK_VENV" >&2; return 1; }
  ensure_flink_connectors || { echo "could not install the Flink Kafka connector jars" >&2; return 1; }
  local classes
  classes="$(ensure_flink_standin_classes)" || return 1
  local jars="$FLINK_VENV/flink-connectors/pyflink/lib"
  local port rest_port
  local launched
  launched=$(date +%s%N)
  port="$(flink_free_port)" || return 1
  rest_port="$(flink_free_port)" || return 1
  while [ "$rest_port" = "$port" ]; do rest_port="$(flink_free_port)" || return 1; done
  # HADOOP_CLASSPATH: PyFlink's JVM launcher appends it to the classpath, so the MiniCluster loads the helper and the
  # connector from the application class loader. FLINK_LOG_DIR keeps Flink's log in DIR (not in the venv).
  FLINK_STANDIN_CLASSPATH="$classes:$jars/flink-connector-kafka.jar:$jars/kafka-clients.jar"
  FLINK_STANDIN_PYTHON="$FLINK_VENV/bin/python"
  # FLINK_ENV_JAVA_OPTS: the JVM's options (PyFlink's launcher reads it); the heap is capped so that the JVM does not
  # grow to a quarter of the machine's memory on a shared box (FLINK_STANDIN_JAVA_OPTS overrides).
  HADOOP_CLASSPATH="$FLINK_STANDIN_CLASSPATH" FLINK_LOG_DIR="$dir" \
    FLINK_ENV_JAVA_OPTS="${FLINK_STANDIN_JAVA_OPTS:--Xmx1g}" "$FLINK_STANDIN_PYTHON" -u "$REPO/tests/flink/standin/gateway.py" --port "$port" --rest-port "$rest_port" \
    --savepoint-dir "$dir/savepoints" --session-idle-timeout "${FLINK_STANDIN_IDLE_TIMEOUT:-600}" \
    ${FLINK_STANDIN_ARGS:-} \
    >"$dir/standin.log" 2>&1 &
  FLINK_STANDIN_PID=$!
  local deadline=$((SECONDS + 60))
  until curl -sf -o /dev/null "http://127.0.0.1:$port/v3/info"; do
    if ! kill -0 "$FLINK_STANDIN_PID" 2>/dev/null; then
      echo "the Flink stand-in exited during start-up; its log:" >&2
      cat "$dir/standin.log" >&2
      FLINK_STANDIN_PID=""
      return 1
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "the Flink stand-in on 127.0.0.1:$port did not answer GET /v3/info within 60 s; its log:" >&2
      cat "$dir/standin.log" >&2
      stop_flink_standin
      return 1
    fi
    sleep 0.2
  done
  FLINK_STANDIN_JVM_PIDS="$(pgrep -P "$FLINK_STANDIN_PID" 2>/dev/null | tr '\n' ' ')"
  export FLOE_TEST_FLINK_GATEWAY="http://127.0.0.1:$port" FLOE_TEST_FLINK_REST="http://127.0.0.1:$rest_port"
  export FLOE_TEST_FLINK_SAVEPOINTS="$dir/savepoints" FLINK_STANDIN_PID FLINK_STANDIN_PYTHON FLINK_STANDIN_CLASSPATH
  echo "Flink stand-in (pid $FLINK_STANDIN_PID, JVM ${FLINK_STANDIN_JVM_PIDS% }) answered in" \
    "$(( ($(date +%s%N) - launched) / 1000000 )) ms: gateway $FLOE_TEST_FLINK_GATEWAY, JobManager $FLOE_TEST_FLINK_REST," \
    "log and savepoints in $dir"
}

stop_flink_standin() {
  [ -n "$FLINK_STANDIN_PID" ] || return 0
  local pid="$FLINK_STANDIN_PID" children
  FLINK_STANDIN_PID=""
  # the JVM is the python process's child; note it now, since it is reparented once python is gone
  children="$FLINK_STANDIN_JVM_PIDS $(pgrep -P "$pid" 2>/dev/null | tr '\n' ' ')"
  FLINK_STANDIN_JVM_PIDS=""
  kill -TERM "$pid" 2>/dev/null
  local waited=0 p
  while [ "$waited" -lt 100 ]; do
    local alive=""
    kill -0 "$pid" 2>/dev/null && alive=1
    for p in $children; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ -n "$alive" ] || break
    sleep 0.1
    waited=$((waited + 1))
  done
  for p in $pid $children; do
    kill -0 "$p" 2>/dev/null && kill -KILL "$p" 2>/dev/null
  done
  wait "$pid" 2>/dev/null || true
}
