#!/usr/bin/env python3
"""`floe serve --log-format json`, through the real binary.

Starts a server with `--log-format json` (and a private listener on a free port) whose stdout and stderr go to
separate files, makes a few requests, stops it with SIGTERM and checks:
* every stdout line (bootstrap, start-up, requests, shutdown) is one JSON object with `time` (ISO 8601 UTC with
  milliseconds), `level`, `logger` and `message`, metadata keys at top level with string (or nested JSON) values;
* the start-up records `floe serving` (public_url) and `private endpoint serving` (private_url) name the real URLs;
* a request's log lines carry its request id (the `X-Request-Id` the response had), for a 200, a 401 and a 404;
* `--log-format xml` and `FLOE_LOG_FORMAT=xml` make `floe serve` exit non-zero naming the option.

Standalone: `python3 tests/ops/json_logs_test.py` (FLOE_BIN). Prints PASS/FAIL per step and `N passed, M failed`.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from ops_common import (Api, CheckFailed, Steps, check, default_binary, exit_on_signals, free_port,
                        generate_bootstrap_credentials, read_bootstrap)

TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
LEVELS = {"trace", "debug", "info", "notice", "warning", "error", "critical"}


def clean_env(**extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLOE_") or k == "FLOE_LIBRDKAFKA"}
    env.update(extra)
    return env


class JsonLogs:
    def __init__(self, steps: Steps, workdir: Path):
        self.steps = steps
        self.dir = workdir
        self.proc: subprocess.Popen | None = None
        self.port = 0
        self.stdout = workdir / "stdout.log"
        self.stderr = workdir / "stderr.log"
        self.records: list[dict] = []
        self.ids: dict[str, str] = {}

    def start(self):
        key, secret = generate_bootstrap_credentials()
        self.port = free_port()
        self.private_port = free_port()
        data = self.dir / "data"
        with open(self.stdout, "wb") as out, open(self.stderr, "wb") as err:
            self.proc = subprocess.Popen(
                [default_binary(), "serve", "--host", "127.0.0.1", "--port", str(self.port), "--data-dir", str(data),
                 "--rate-limit", "off", "--log-format", "json", "--private-port", str(self.private_port)],
                stdout=out, stderr=err, stdin=subprocess.DEVNULL, start_new_session=True,
                env=clean_env(FLOE_BOOTSTRAP_API_KEY=key, FLOE_BOOTSTRAP_API_SECRET=secret))
        deadline = time.monotonic() + 60
        while True:
            check(self.proc.poll() is None, f"floe serve --log-format json exited {self.proc.returncode}: "
                                            f"{self.tail(self.stdout)} {self.tail(self.stderr)}")
            try:
                if Api(f"http://127.0.0.1:{self.port}").call("GET", "/healthz").status == 200:
                    break
            except OSError:
                pass
            check(time.monotonic() < deadline, "floe serve --log-format json did not become healthy in 60s")
            time.sleep(0.1)
        self.boot = read_bootstrap(data)

    def tail(self, path: Path) -> str:
        try:
            return path.read_text(errors="replace")[-600:]
        except OSError:
            return ""

    def requests(self):
        check(self.proc is not None and self.proc.poll() is None, "prerequisite: the server is not running")
        api = Api(f"http://127.0.0.1:{self.port}", (self.boot.api_key, self.boot.api_secret))
        for label, r in (("ok", api.call("GET", "/org/v2/environments", expect=200)),
                         ("unauthorized", api.without_key().call("GET", "/org/v2/environments", expect=401)),
                         ("missing", api.call("GET", "/no/such/route", expect=404))):
            request_id = r.headers.get("x-request-id")
            check(request_id, f"the {label} response has no X-Request-Id")
            self.ids[label] = request_id

    def stop_and_read(self):
        check(self.proc is not None, "prerequisite: the server was not started")
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # our own child, by pid
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
                raise CheckFailed("the server did not stop within 20s of SIGTERM")
        problems = []
        lines = self.stdout.read_text(errors="replace").splitlines()
        check(len(lines) >= 5, f"only {len(lines)} stdout lines: {lines}")
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                problems.append(f"line {number} is empty")
                continue
            try:
                record = json.loads(line)
            except ValueError:
                problems.append(f"line {number} is not JSON: {line[:160]!r}")
                continue
            if not isinstance(record, dict):
                problems.append(f"line {number} is not a JSON object: {line[:160]!r}")
                continue
            for name in ("time", "level", "logger", "message"):
                if not isinstance(record.get(name), str) or not record[name]:
                    problems.append(f"line {number} lacks a string {name}: {line[:160]!r}")
            if isinstance(record.get("time"), str) and not TIME.match(record["time"]):
                problems.append(f"line {number}: time {record['time']!r} is not ISO 8601 UTC with milliseconds")
            if record.get("level") not in LEVELS:
                problems.append(f"line {number}: level {record.get('level')!r}")
            for k, v in record.items():
                if not isinstance(v, (str, dict, list)):
                    problems.append(f"line {number}: metadata {k} is {type(v).__name__}, not a string or nested JSON")
            self.records.append(record)
        check(not problems, f"{len(problems)} problems in {len(lines)} lines: {'; '.join(problems[:6])}")

    def startup_records(self):
        check(self.records, "prerequisite: no records read")
        serving = [r for r in self.records if r.get("message") == "floe serving"]
        check(serving, "no 'floe serving' record")
        for record in serving:
            check(record.get("public_url") == f"http://127.0.0.1:{self.port}", f"'floe serving' record {record}")
        private = [r for r in self.records if r.get("message") == "private endpoint serving"]
        check(len(private) == 1, f"{len(private)} 'private endpoint serving' records")
        url = private[0].get("private_url")
        check(url == f"http://127.0.0.1:{self.private_port}", f"private_url {url!r}, expected "
                                                               f"http://127.0.0.1:{self.private_port}")

    def request_ids(self):
        check(self.records and self.ids, "prerequisite: no records or no requests")
        for label, request_id in self.ids.items():
            carrying = [r for r in self.records if request_id in r.values()]
            check(carrying, f"no log record carries the request id {request_id} of the {label} request")
            keys = {k for r in carrying for k, v in r.items() if v == request_id}
            print(f"  {label}: {len(carrying)} record(s) carry {request_id} under {sorted(keys)}", flush=True)
        ok = [r for r in self.records if self.ids["ok"] in r.values()]
        check(any("/org/v2/environments" in json.dumps(r) for r in ok),
              f"the records of the GET /org/v2/environments request do not name its path: {ok}")

    def invalid(self, args: list[str], env: dict, names: tuple[str, ...], what: str):
        data = self.dir / f"bad-{len(os.listdir(self.dir))}"
        proc = subprocess.Popen([default_binary(), "serve", "--host", "127.0.0.1", "--port", str(free_port()),
                                 "--data-dir", str(data), "--rate-limit", "off", *args],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True,
                                env=clean_env(**env), start_new_session=True)
        try:
            out, _ = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()  # our own child, by pid
            out, _ = proc.communicate(timeout=10)
            raise CheckFailed(f"{what}: floe serve kept running: {out[-300:]}")
        check(proc.returncode != 0, f"{what}: floe serve exited 0: {out[-300:]}")
        check(any(name in out for name in names), f"{what}: the message names none of {names}: {out[-400:]!r}")
        check("Unknown option" not in out and "xml" in out, f"{what}: the message does not reject the value xml: "
                                                           f"{out[-400:]!r}")

    def invalid_flag(self):
        self.invalid(["--log-format", "xml"], {}, ("--log-format",), "--log-format xml")

    def invalid_env(self):
        self.invalid([], {"FLOE_LOG_FORMAT": "xml"}, ("FLOE_LOG_FORMAT", "log-format"), "FLOE_LOG_FORMAT=xml")

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()  # our own child, by pid
            self.proc.wait(timeout=10)


def main() -> None:
    exit_on_signals()
    steps = Steps("ops: JSON logs")
    workdir = Path(tempfile.mkdtemp(prefix="floe-ops-json-"))
    j = JsonLogs(steps, workdir)
    try:
        if steps.run("json logs: floe serve --log-format json --private-port P starts", j.start):
            steps.run("json logs: requests (200, 401, 404) answered with X-Request-Id", j.requests)
        steps.run("json logs: every stdout line is a JSON object with time/level/logger/message", j.stop_and_read)
        steps.run("json logs: start-up records name the public and private URLs", j.startup_records)
        steps.run("json logs: a request's records carry its request id", j.request_ids)
        steps.run("json logs: --log-format xml exits non-zero naming the option", j.invalid_flag)
        steps.run("json logs: FLOE_LOG_FORMAT=xml exits non-zero naming the setting", j.invalid_env)
    finally:
        j.stop()
        if os.environ.get("COMPAT_KEEP") != "1":
            shutil.rmtree(workdir, ignore_errors=True)
    steps.finish()


if __name__ == "__main__":
    main()
