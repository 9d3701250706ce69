"""A stand-in Flink SQL Gateway for Floe's tests: the gateway's REST API (v1–v4) over real Apache Flink 2.1.0.

Neither Debian nor PyPI ships flink-sql-gateway, so this serves the part of its REST API that Floe uses and runs the
SQL on PyFlink 2.1.0's jars: an in-JVM MiniCluster (its JobManager REST on --rest-port is Flink's own code: stop with
savepoint, job status, exceptions, metrics, cancel) and per session TableEnvironments with execution.target=remote.
The Java half (StandIn.java, on the JVM's classpath through HADOOP_CLASSPATH with the Kafka connector jars) does all
planning on one thread and keeps the gateway's operation and result-fetching rules; this file is the HTTP half.

    HADOOP_CLASSPATH=<standin classes>:<flink-connector-kafka.jar>:<kafka-clients.jar> \\
      python gateway.py --port P --rest-port R --savepoint-dir DIR [--session-idle-timeout 600] [--keep-savepoint-path]

Endpoints (each also under /v1, /v2, /v3, /v4): GET /api_versions, GET /info, POST /sessions, POST
/sessions/:s/heartbeat, GET /sessions/:s, POST /sessions/:s/configure-session, DELETE /sessions/:s, POST
/sessions/:s/statements, GET /sessions/:s/operations/:op/status, GET /sessions/:s/operations/:op/result/:token
?rowFormat=JSON|PLAIN_TEXT, POST /sessions/:s/operations/:op/cancel, DELETE /sessions/:s/operations/:op/close.
A failure in the service is HTTP 500 {"errors":["Internal server error.","<Exception on server side:\\n…"]} as
Flink's REST handlers send it (an unknown session: "Session '…' does not exist."; an unknown operation: "Can not find
the submitted operation in the OperationManager with the …."). An unknown path is 404 {"errors":["Not found: …"]}.
Sessions idle longer than --session-idle-timeout seconds are closed (Flink's sql-gateway.session.idle-timeout,
10 minutes by default).

`execution.savepoint.path` is dropped from a session once a job was submitted with it, so later jobs start fresh; the
real gateway keeps it until RESET (--keep-savepoint-path behaves like that).

Fidelity. Taken from Flink 2.1's flink-sql-gateway source: the logicalType JSON (LogicalTypeJsonSerializer), the
token rule of ResultFetcher (current token: a new page, maybe empty, or EOS; previous token: the same page again;
else "Expecting token to be N or N-1, but found T."), the operation statuses and their transitions with the messages
"Failed to convert the Operation Status from X to Y for …", "Can not fetch results from the … in X status.",
"Failed to execute the operation ….", the unknown session/operation messages, "Failed to fetchResults." (wrapped once
more by the REST handler) and "Failed to execute statement.", the 500 framing of Flink's REST handlers, and which
statements configure-session accepts. Approximations, not confirmed against a real gateway:
- the Java stack frames are the stand-in's, the operation error class is floe.standin.StandIn$SqlExecutionException
  (Flink: org.apache.flink.table.gateway.service.utils.SqlExecutionException), and the "Failed to <method>." wrappers
  of the other endpoints (openSession, heartbeat, getSessionConfig, configure session, closeSession,
  getOperationInfo, cancelOperation, closeOperation) are named by analogy; handles print as bare UUIDs;
- the 404 body for an unknown path and the 400 bodies for malformed requests;
- GET /sessions/:s lists the session's own settings (the stand-in's defaults, the properties, SET), not all of Flink's
  effective configuration;
- a page holds at most 1000 rows (and about 1 MiB); the real gateway hands out whatever it has buffered;
- after a failed cancel of a FINISHED operation its results stay fetchable (as Flink's source reads); the reference
  saw later fetches answer 500 there;
- the runtime mode: a TableEnvironment's mode is fixed, so each session has one per mode, sharing the default_catalog
  instance; temporary objects and catalogs made with CREATE CATALOG are not shared between the modes (the real gateway
  shares one session state);
- all sessions' statements are planned and submitted one at a time, on one Java thread;
- not served: complete-statement, the STOP JOB / SHOW JOBS statements (TableEnvironment refuses them; use the
  JobManager REST), executionTimeout (ignored), materialized tables, scripts.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from py4j.protocol import Py4JJavaError
from pyflink.java_gateway import get_gateway

VERSION_PREFIX = re.compile(r"^/(v[1-4])(/.*)$")
UUID = r"([^/]+)"
ROUTES = [
    ("GET", re.compile(r"^/api_versions$"), "api_versions"),
    ("GET", re.compile(r"^/info$"), "info"),
    ("POST", re.compile(r"^/sessions$"), "open_session"),
    ("POST", re.compile(rf"^/sessions/{UUID}/heartbeat$"), "heartbeat"),
    ("GET", re.compile(rf"^/sessions/{UUID}$"), "get_session"),
    ("POST", re.compile(rf"^/sessions/{UUID}/configure-session$"), "configure_session"),
    ("DELETE", re.compile(rf"^/sessions/{UUID}$"), "close_session"),
    ("POST", re.compile(rf"^/sessions/{UUID}/statements$"), "execute_statement"),
    ("GET", re.compile(rf"^/sessions/{UUID}/operations/{UUID}/status$"), "operation_status"),
    ("GET", re.compile(rf"^/sessions/{UUID}/operations/{UUID}/result/{UUID}$"), "fetch_results"),
    ("POST", re.compile(rf"^/sessions/{UUID}/operations/{UUID}/cancel$"), "cancel_operation"),
    ("DELETE", re.compile(rf"^/sessions/{UUID}/operations/{UUID}/close$"), "close_operation"),
]


def log(message: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} standin: {message}", file=sys.stderr, flush=True)


class BadRequest(Exception):
    """A request the gateway's REST layer would refuse with 400 before reaching the service."""


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: Floe's client polls results over one connection
    server_version = "floe-flink-standin"
    standin = None  # the Java StandIn, set before serving

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - the base class's name
        pass  # polling would flood the log; failures are logged where they happen

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self.dispatch("GET")

    def do_POST(self) -> None:  # noqa: N802
        self.dispatch("POST")

    def do_DELETE(self) -> None:  # noqa: N802
        self.dispatch("DELETE")

    def do_PUT(self) -> None:  # noqa: N802
        self.dispatch("PUT")

    def do_PATCH(self) -> None:  # noqa: N802
        self.dispatch("PATCH")

    def dispatch(self, method: str) -> None:
        parts = urlsplit(self.path)
        path = parts.path.rstrip("/") or "/"
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        match = VERSION_PREFIX.match(path)
        version_prefix, route_path = (f"/{match.group(1)}", match.group(2)) if match else ("", path)
        for route_method, pattern, name in ROUTES:
            m = pattern.match(route_path)
            if not m:
                continue
            if route_method != method:
                continue
            try:
                status, text = getattr(self, name)(*m.groups(), body=body, query=parse_qs(parts.query),
                                                   prefix=version_prefix)
            except BadRequest as e:
                status, text = 400, json.dumps({"errors": [str(e)]})
            except Py4JJavaError as e:
                status, text = 500, self.standin.errorBody(e.java_exception)
                first = str(e.java_exception.getMessage() or "").splitlines()[:1]
                log(f"{method} {self.path} -> 500 {first[0][:300] if first else ''}")
            except Exception as e:  # noqa: BLE001 - a stand-in bug must still answer, in the gateway's error shape
                status, text = 500, json.dumps({"errors": ["Internal server error.", f"<Exception on server side:\n{e!r}\nEnd of exception on server side>"]})
                log(f"{method} {self.path} -> 500 (stand-in) {e!r}")
            self.reply(status, text)
            return
        self.reply(404, json.dumps({"errors": [f"Not found: {parts.path}"]}))

    def reply(self, status: int, text: str) -> None:
        data = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    @staticmethod
    def json_body(body: bytes) -> str:
        """The request body as JSON text for the Java side (which parses it); refuses what is not a JSON object."""
        if not body.strip():
            return "{}"
        try:
            value = json.loads(body)
        except ValueError as e:
            raise BadRequest(f"Request did not match expected format: {e}") from None
        if not isinstance(value, dict):
            raise BadRequest("Request did not match expected format: a JSON object is expected.")
        return json.dumps(value)

    # -- handlers: each returns (HTTP status, JSON text) ---------------------------------------------------------

    def api_versions(self, **_) -> tuple[int, str]:
        return 200, json.dumps({"versions": ["V1", "V2", "V3", "V4"]}, separators=(",", ":"))

    def info(self, **_) -> tuple[int, str]:
        return 200, json.dumps({"productName": "Apache Flink", "version": "2.1.0"}, separators=(",", ":"))

    def open_session(self, *, body: bytes, **_) -> tuple[int, str]:
        text = self.standin.openSession(self.json_body(body))
        log(f"session opened {json.loads(text)['sessionHandle']}")
        return 200, text

    def heartbeat(self, session: str, **_) -> tuple[int, str]:
        return 200, self.standin.heartbeat(session)

    def get_session(self, session: str, **_) -> tuple[int, str]:
        return 200, self.standin.getSessionConfig(session)

    def configure_session(self, session: str, *, body: bytes, **_) -> tuple[int, str]:
        statement = json.loads(self.json_body(body)).get("statement")
        if not isinstance(statement, str):
            raise BadRequest("Request did not match expected format: field 'statement' is required.")
        log(f"configure {session}: {statement[:200]}")
        return 200, self.standin.configureSession(session, statement)

    def close_session(self, session: str, **_) -> tuple[int, str]:
        text = self.standin.closeSession(session)
        log(f"session closed {session}")
        return 200, text

    def execute_statement(self, session: str, *, body: bytes, **_) -> tuple[int, str]:
        request = self.json_body(body)
        text = self.standin.executeStatement(session, request)
        log(f"statement {json.loads(text)['operationHandle']} in {session}: {json.loads(request).get('statement', '')[:200]}")
        return 200, text

    def operation_status(self, session: str, operation: str, **_) -> tuple[int, str]:
        return 200, self.standin.operationStatus(session, operation)

    def fetch_results(self, session: str, operation: str, token: str, *, query: dict, prefix: str, **_) -> tuple[int, str]:
        try:
            token_number = int(token)
        except ValueError:
            raise BadRequest(f"Bad request, could not parse parameter token: {token}") from None
        row_format = (query.get("rowFormat") or ["JSON"])[0].upper()
        if row_format not in ("JSON", "PLAIN_TEXT"):
            raise BadRequest(f"Bad request, could not parse query parameter rowFormat: {row_format}")
        uri_prefix = f"{prefix}/sessions/{session}/operations/{operation}/result/"
        return 200, self.standin.fetchResults(session, operation, token_number, row_format, uri_prefix)

    def cancel_operation(self, session: str, operation: str, **_) -> tuple[int, str]:
        log(f"cancel {operation}")
        return 200, self.standin.cancelOperation(session, operation)

    def close_operation(self, session: str, operation: str, **_) -> tuple[int, str]:
        log(f"close {operation}")
        return 200, self.standin.closeOperation(session, operation)


def expire_sessions(standin, timeout_s: float, stop: threading.Event) -> None:
    """Closes the sessions idle for longer than the timeout, checking a few times per timeout (at most every 5 s)."""
    period = max(0.5, min(5.0, timeout_s / 4))
    while not stop.wait(period):
        try:
            n = standin.expireIdleSessions(int(timeout_s * 1000))
            if n:
                log(f"closed {n} session(s) idle for more than {timeout_s:g} s")
        except Exception as e:  # noqa: BLE001 - the sweeper must outlive one failure
            log(f"session expiry failed: {e!r}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True, help="the gateway REST port (127.0.0.1)")
    parser.add_argument("--rest-port", type=int, required=True, help="the MiniCluster's JobManager REST port")
    parser.add_argument("--savepoint-dir", required=True, help="state.savepoints.dir (a directory or a file: URI)")
    parser.add_argument("--session-idle-timeout", type=float, default=600.0,
                        help="seconds without a request before a session is closed (default 600)")
    parser.add_argument("--slots", type=int, default=16, help="task slots of the MiniCluster (default 16)")
    parser.add_argument("--keep-savepoint-path", action="store_true",
                        help="keep execution.savepoint.path after a job used it, as the real gateway does")
    args = parser.parse_args()

    savepoints = args.savepoint_dir
    if "://" not in savepoints and not savepoints.startswith("file:"):
        Path(savepoints).mkdir(parents=True, exist_ok=True)
        savepoints = Path(savepoints).resolve().as_uri()

    started = time.monotonic()
    jvm = get_gateway().jvm  # launches the JVM as PyFlink does (HADOOP_CLASSPATH joins its classpath)
    standin = jvm.floe.standin.StandIn.start(args.rest_port, savepoints, args.slots, args.keep_savepoint_path)
    log(f"MiniCluster up, JobManager REST on 127.0.0.1:{args.rest_port}, savepoints in {savepoints} "
        f"({time.monotonic() - started:.1f} s)")

    Handler.standin = standin
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    stop = threading.Event()
    threading.Thread(target=expire_sessions, args=(standin, args.session_idle_timeout, stop), daemon=True).start()

    def terminate(signum, _frame) -> None:
        log(f"signal {signum}: stopping")
        stop.set()
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, terminate)
    signal.signal(signal.SIGINT, terminate)
    log(f"gateway REST on 127.0.0.1:{args.port} (pid {os.getpid()})")
    try:
        server.serve_forever(poll_interval=0.5)
    finally:
        server.server_close()
        try:
            standin.shutdown()
        except Exception as e:  # noqa: BLE001 - exiting anyway
            log(f"shutdown: {e!r}")
        log("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
