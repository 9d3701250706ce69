#!/usr/bin/env python3
"""GET /metrics (Prometheus text exposition format 0.0.4), through the real binary.

Every scrape is parsed (names, labels with escaped values, values) and the whole body validated against the format's
rules (each sample in a family declared by `# TYPE` before it, families contiguous, no duplicate series, histogram
buckets cumulative and ending in +Inf = _count). Checks:
* 401 without credentials and with a wrong secret, 403 for a principal without OrganizationAdmin/MetricsViewer (both
  with Confluent's error envelope), 200 `text/plain; version=0.0.4` for the bootstrap OrganizationAdmin, 200 for a
  service account bound MetricsViewer on the organization CRN;
* the families and their types; floe_build_info = 1;
* floe_http_requests_total grows by exactly the requests made, per method, route pattern (no ids in it) and status,
  `unmatched` for 404s of no route; the duration histogram's _count grows by the same number;
* floe_statements{phase} lists every phase and counts exactly the statements RUNNING, COMPLETED and FAILED;
* rows read/written counters of a running INSERT ... SELECT ... WHERE grow by exactly the rows inserted into its
  source (read) and the rows passing its filter (written), with a checkpoint-duration gauge; its series go when the
  statement is deleted; floe_result_store_bytes > 0 once results exist;
* floe_open_connections{listener="public"} counts connections held open;
* on a rate-limited server, floe_rate_limit_refusals_total counts exactly the 429s of a burst over 50 requests/s.

Standalone: `python3 tests/ops/metrics_test.py` (FLOE_BIN). Prints PASS/FAIL per step and `N passed, M failed`.
"""
from __future__ import annotations

import re
import time
from concurrent.futures import ThreadPoolExecutor

from ops_common import (Admin, Api, CheckFailed, Exposition, FloeServer, Steps, check, connect, exit_on_signals,
                        parse_exposition, require_error, tag)

# Every phase a Floe statement can be in (FloeCore's StatementPhase: Floe never emits FAILING or DELETING, which real
# clients crash on, nor DEGRADED).
PHASES = ("PENDING", "RUNNING", "COMPLETED", "FAILED", "STOPPING", "STOPPED")
FAMILIES = {
    "floe_http_requests_total": "counter",
    "floe_http_request_duration_seconds": "histogram",
    "floe_rate_limit_refusals_total": "counter",
    "floe_statements": "gauge",
    "floe_statement_rows_read_total": "counter",
    "floe_statement_rows_written_total": "counter",
    "floe_statement_checkpoint_duration_seconds": "gauge",
    "floe_result_store_bytes": "gauge",
    "floe_open_connections": "gauge",
    "floe_build_info": "gauge",
}
ALWAYS = ("floe_http_requests_total", "floe_http_request_duration_seconds", "floe_statements",
          "floe_result_store_bytes", "floe_open_connections", "floe_build_info")
ENVS = "/org/v2/environments"
BURST = 90
WORKERS = 16


def scrape(api: Api) -> Exposition:
    """One scrape that must succeed and be a valid exposition."""
    r = api.call("GET", "/metrics", headers={"Accept": "text/plain"})
    check(r.status == 200, f"GET /metrics -> {r.status}: {r.snippet()}")
    content_type = r.headers.get("content-type", "")
    check(content_type.startswith("text/plain") and "version=0.0.4" in content_type,
          f"Content-Type {content_type!r}, expected text/plain; version=0.0.4")
    exposition = parse_exposition(r.text)
    check(not exposition.problems, f"{len(exposition.problems)} exposition-format problems: "
                                   f"{'; '.join(exposition.problems[:8])}")
    return exposition


def poll(api: Api, condition, what: str, timeout: float = 20.0) -> Exposition:
    """Scrapes until `condition(exposition)` is true; the last exposition."""
    deadline = time.monotonic() + timeout
    while True:
        exposition = scrape(api)
        if condition(exposition):
            return exposition
        if time.monotonic() > deadline:
            raise CheckFailed(f"{what} (after {timeout:.0f}s)")
        time.sleep(0.25)


VALID = """# HELP t_total Things.
# TYPE t_total counter
t_total{route="/a\\"b\\\\c\\n",status="200"} 3
t_total{route="/a",status="200"} 4
# TYPE h histogram
h_bucket{route="/a",le="0.1"} 1
h_bucket{route="/a",le="+Inf"} 2
h_sum{route="/a"} 0.25
h_count{route="/a"} 2
# TYPE g gauge
g 1e3
"""
INVALID = {
    "a sample without # TYPE": VALID + "u 1\n",
    "a duplicate series": VALID + 'g 2\n',
    "a family split in two": VALID + 't_total{route="/z",status="200"} 1\n',
    "_count unlike the +Inf bucket": VALID.replace('h_count{route="/a"} 2', 'h_count{route="/a"} 3'),
    "buckets not cumulative": VALID.replace('le="0.1"} 1', 'le="0.1"} 5'),
    "an unterminated label value": VALID.replace('{route="/a",status="200"} 4', '{route="/a,status="200"} 4'),
    "a bad value": VALID.replace("g 1e3", "g one"),
    "a bad escape": VALID.replace("\\\\c", "\\qc"),
}


def validator_self_check():
    """The parser reads labels with escapes and values, and the validator rejects each rule broken once."""
    e = parse_exposition(VALID)
    check(not e.problems, f"a valid body was rejected: {e.problems}")
    check(e.value("t_total", route='/a"b\\c\n', status="200") == 3, f"escaped label value misread: {e.samples[:2]}")
    check(e.value("g") == 1000 and e.total("t_total") == 7, "values misread")
    for what, body in INVALID.items():
        check(parse_exposition(body).problems, f"the validator accepted {what}")


class Metrics:
    def __init__(self, steps: Steps):
        self.steps = steps
        self.server: FloeServer | None = None
        self.limited: FloeServer | None = None
        self.s: dict = {}
        self.completed = 0   # statements of ours that ended COMPLETED and still exist
        self.failed = 0

    # ---------------------------------------------------------------------------------------------- helpers
    def need(self, name: str):
        if name not in self.s:
            raise CheckFailed(f"prerequisite '{name}' was not set up by an earlier step")
        return self.s[name]

    def api(self) -> Api:
        if self.server is None or self.server.process is None or self.server.process.poll() is not None:
            raise CheckFailed("prerequisite: the server is not running")
        boot = self.server.bootstrap()
        return Api(self.server.base_url, (boot.api_key, boot.api_secret))

    def admin(self) -> Admin:
        return Admin(self.api(), self.server.bootstrap().organization_id)

    def props(self) -> dict:
        return {"sql.current-catalog": self.need("env_name"), "sql.current-database": "default"}

    def run_sql(self, sql: str) -> None:
        admin = self.admin()
        name = f"m-{tag()}"
        admin.post_statement(self.need("env"), name, sql, self.need("pool"), props=self.props())
        admin.wait_phase(self.need("env"), name, {"COMPLETED"})
        self.completed += 1

    def start_running(self, name: str, sql: str) -> None:
        admin = self.admin()
        admin.post_statement(self.need("env"), name, sql, self.need("pool"), props=self.props())
        admin.wait_phase(self.need("env"), name, {"RUNNING"})

    # ------------------------------------------------------------------------------------------------ steps
    def start(self):
        self.server = FloeServer(label="metrics")
        try:
            self.server.start(timeout=60)
        except RuntimeError as e:
            self.server = None
            raise CheckFailed(f"the server did not start: {str(e)[-600:]}")

    def access(self):
        api, admin = self.api(), self.admin()
        boot = self.server.bootstrap()
        require_error(api.without_key().call("GET", "/metrics"), 401, "GET /metrics without credentials")
        require_error(Api(api.base, (boot.api_key, "z" * 64)).call("GET", "/metrics"), 401,
                      "GET /metrics with a wrong secret")
        dev = admin.service_account("metrics-dev")
        admin.bind(dev, "FlinkDeveloper", admin.env_crn(boot.environment_id))
        key, secret = admin.cloud_key(dev)
        self.s["dev_key"] = (key, secret)
        deadline = time.monotonic() + 10  # a new key may take a moment to be known
        while True:
            r = api.with_key(key, secret).call("GET", "/metrics")
            if r.status != 401 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        require_error(r, 403, "GET /metrics as a FlinkDeveloper")

    def families(self):
        exposition = scrape(self.api())
        for name, kind in FAMILIES.items():
            family = exposition.families.get(name)
            if name in ALWAYS:
                check(family is not None and family.samples, f"no samples of {name}")
            if family is not None and family.samples:
                check(family.type == kind, f"{name} is typed {family.type!r}, expected {kind}")
        info = exposition.find("floe_build_info")
        check(len(info) == 1 and info[0].value == 1, f"floe_build_info: {info}")
        check(info[0].labels.get("version") and "commit" in info[0].labels, f"floe_build_info labels {info[0].labels}")
        for phase in PHASES:
            check(exposition.value("floe_statements", phase=phase) is not None, f"floe_statements{{phase=\"{phase}\"}} "
                                                                                f"is not listed (zeros included)")

    def request_counts(self):
        api = self.api()
        boot = self.server.bootstrap()
        wrong = Api(api.base, (boot.api_key, "w" * 64))
        before = scrape(api)
        made = {"list": 7, "one": 3, "none": 4, "unauthorized": 2}
        for _ in range(made["list"]):
            api.call("GET", ENVS, expect=200)
        for _ in range(made["one"]):
            api.call("GET", f"{ENVS}/{boot.environment_id}", expect=200)
        for _ in range(made["none"]):
            api.call("GET", f"/no/such/route/{tag()}", expect=404)
        for _ in range(made["unauthorized"]):
            wrong.call("GET", ENVS, expect=401)

        def delta(after: Exposition, name: str, **labels) -> float:
            return (after.value(name, **labels) or 0) - (before.value(name, **labels) or 0)

        after = poll(api, lambda e: delta(e, "floe_http_requests_total", method="GET", route=ENVS, status="200")
                     >= made["list"], "the GET /org/v2/environments 200s are not all counted", timeout=5)
        self.s["counts"] = (before, after, made)
        got = delta(after, "floe_http_requests_total", method="GET", route=ENVS, status="200")
        check(got == made["list"], f"GET {ENVS} 200: counted {got:g}, made {made['list']}")
        one_routes = {s.labels["route"] for s in after.find("floe_http_requests_total", method="GET", status="200")
                      if s.labels.get("route", "").startswith(ENVS + "/")}
        check(len(one_routes) == 1, f"routes of GET {ENVS}/<id>: {sorted(one_routes)}")
        route = one_routes.pop()
        check(boot.environment_id not in route and re.fullmatch(re.escape(ENVS) + r"/(:\w+|\{\w+\})", route),
              f"the route label {route!r} is not a pattern")
        self.s["one_route"] = route
        got = delta(after, "floe_http_requests_total", method="GET", route=route, status="200")
        check(got == made["one"], f"GET {route} 200: counted {got:g}, made {made['one']}")
        leaked = sorted({s.labels.get("route", "") for s in after.find("floe_http_requests_total")
                         if "no/such" in s.labels.get("route", "") or boot.environment_id in s.labels.get("route", "")})
        check(not leaked, f"request paths leaked into route labels: {leaked}")

    def delta(self, name: str, **labels) -> float:
        before, after, _ = self.need("counts")
        return (after.value(name, **labels) or 0) - (before.value(name, **labels) or 0)

    def histogram_counts(self):
        before, after, made = self.need("counts")
        route = self.need("one_route")
        # the histogram counts every request of a route, whatever its status
        for r, least in ((ENVS, made["list"]), (route, made["one"])):
            counted = sum((s.value - (before.value(s.name, **s.labels) or 0))
                          for s in after.find("floe_http_requests_total", method="GET", route=r))
            observed = self.delta("floe_http_request_duration_seconds_count", method="GET", route=r)
            check(observed == counted, f"duration _count of GET {r} grew {observed:g}, requests counted {counted:g}")
            check(observed >= least, f"duration _count of GET {r} grew {observed:g}, made at least {least}")
            grown = self.delta("floe_http_request_duration_seconds_sum", method="GET", route=r)
            check(grown > 0, f"duration _sum of GET {r} did not grow ({grown})")

    def unmatched_counted(self):
        _, after, made = self.need("counts")
        got = self.delta("floe_http_requests_total", method="GET", route="unmatched", status="404")
        routes_404 = sorted({s.labels.get("route") for s in after.find("floe_http_requests_total", status="404")})
        check(got == made["none"], f"GET unmatched 404: counted {got:g}, made {made['none']} "
                                   f"(routes with 404s: {routes_404})")

    def unauthorized_counted(self):
        _, _, made = self.need("counts")
        got = self.delta("floe_http_requests_total", method="GET", route=ENVS, status="401")
        check(got == made["unauthorized"], f"GET {ENVS} 401: counted {got:g}, made {made['unauthorized']}")

    def setup_statements(self):
        admin = self.admin()
        name = f"metrics-{tag()}"
        self.s["env"] = admin.create_environment(name)
        self.s["env_name"] = name
        self.s["pool"] = admin.create_pool(self.s["env"], max_cfu=20)
        self.run_sql("CREATE TABLE src (id INT)")
        self.run_sql("CREATE TABLE dst (id INT)")

    def statements_by_phase(self):
        env = self.need("env")
        admin = self.admin()
        selects = [f"sel-{i}-{tag()}" for i in range(2)]
        for name in selects:
            self.start_running(name, "SELECT id FROM src")
        self.s["selects"] = selects
        sink = f"sink-{tag()}"
        self.start_running(sink, "INSERT INTO dst SELECT id FROM src WHERE id > 2")
        self.s["sink"] = sink
        bad = f"bad-{tag()}"
        admin.post_statement(env, bad, "SELECT * FROM no_such_table_here", self.need("pool"), props=self.props())
        admin.wait_phase(env, bad, {"FAILED"})
        self.failed += 1
        api = self.api()
        exposition = scrape(api)
        got = {p: exposition.value("floe_statements", phase=p) for p in ("RUNNING", "COMPLETED", "FAILED", "PENDING")}
        check(got == {"RUNNING": 3, "COMPLETED": self.completed, "FAILED": self.failed, "PENDING": 0},
              f"floe_statements {got}, expected RUNNING 3, COMPLETED {self.completed}, FAILED {self.failed}, PENDING 0")
        admin.delete_statement(env, selects[0])
        poll(api, lambda e: e.value("floe_statements", phase="RUNNING") == 2,
             "floe_statements{phase=\"RUNNING\"} did not go to 2 after deleting a running statement", timeout=15)

    def rows(self):
        env, sink = self.need("env"), self.need("sink")
        api = self.api()

        def rows_of(e: Exposition) -> tuple[float | None, float | None]:
            return (e.value("floe_statement_rows_read_total", environment=env, statement=sink),
                    e.value("floe_statement_rows_written_total", environment=env, statement=sink))

        exposition = scrape(api)
        check(rows_of(exposition) == (0, 0), f"rows (read, written) of the running {sink} before any input: "
                                             f"{rows_of(exposition)}, expected (0, 0)")
        for batch, expected in (((1, 2, 3), (3, 1)), ((4, 5, 6, 7), (7, 5))):
            self.run_sql("INSERT INTO src VALUES " + ", ".join(f"({i})" for i in batch))
            exposition = poll(api, lambda e: rows_of(e)[0] is not None and rows_of(e)[0] >= expected[0]
                              and (rows_of(e)[1] or 0) >= expected[1],
                              f"rows read/written of {sink} did not reach {expected}", timeout=30)
            time.sleep(0.5)  # nothing more may come: the source holds exactly these rows
            exposition = scrape(api)
            check(rows_of(exposition) == expected, f"rows (read, written) of {sink}: {rows_of(exposition)}, "
                                                   f"expected {expected} after inserting {batch}")
        checkpoint = exposition.value("floe_statement_checkpoint_duration_seconds", environment=env, statement=sink)
        check(checkpoint is not None and checkpoint >= 0, f"checkpoint duration of {sink}: {checkpoint}")
        size = exposition.value("floe_result_store_bytes")
        check(size is not None and size > 0, f"floe_result_store_bytes {size} although statements have results")

    def rows_gone(self):
        env, sink = self.need("env"), self.need("sink")
        self.admin().delete_statement(env, sink)
        poll(self.api(), lambda e: not e.find("floe_statement_rows_read_total", statement=sink)
             and not e.find("floe_statement_rows_written_total", statement=sink),
             f"the rows series of the deleted {sink} are still exposed", timeout=15)

    def open_connections(self):
        api = self.api()
        value = scrape(api).value("floe_open_connections", listener="public")
        check(value is not None and value >= 1, f"floe_open_connections{{listener=\"public\"}} {value} during a scrape")
        held = []
        try:
            for _ in range(3):
                conn = connect(api.base, None)
                conn.request("GET", "/healthz")
                r = conn.getresponse()
                r.read()
                check(r.status == 200 and not r.will_close, "a keep-alive /healthz")
                held.append(conn)
            value = scrape(api).value("floe_open_connections", listener="public")
            check(value is not None and value >= 4, f"floe_open_connections {value} with 3 connections held open "
                                                    f"and one scraping")
        finally:
            for conn in held:
                conn.close()
        poll(api, lambda e: (e.value("floe_open_connections", listener="public") or 0) <= value - 3,
             f"floe_open_connections did not go down from {value} after closing 3 connections", timeout=10)

    def metrics_viewer(self):
        admin = self.admin()
        viewer = admin.service_account("metrics-viewer")
        admin.bind(viewer, "MetricsViewer", admin.org_crn())
        key, secret = admin.cloud_key(viewer)
        api = self.api().with_key(key, secret)
        deadline = time.monotonic() + 10
        while True:
            r = api.call("GET", "/metrics")
            if r.status != 401 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        check(r.status == 200, f"GET /metrics as a MetricsViewer -> {r.status}: {r.snippet()}")
        exposition = scrape(api)
        check(exposition.find("floe_statements"), "a MetricsViewer's scrape lacks floe_statements")

    def rate_limit(self):
        self.limited = FloeServer(label="metrics-rl", rate_limit=True)
        try:
            self.limited.start(timeout=60)
        except RuntimeError as e:
            raise CheckFailed(f"the rate-limited server did not start: {str(e)[-600:]}")
        boot = self.limited.bootstrap()
        api = Api(self.limited.base_url, (boot.api_key, boot.api_secret))
        refused = 0

        def limited_scrape() -> Exposition:
            nonlocal refused
            for _ in range(10):
                r = api.call("GET", "/metrics")
                if r.status != 429:
                    break
                refused += 1
                time.sleep(1.1)
            check(r.status == 200, f"GET /metrics on the rate-limited server -> {r.status}")
            return parse_exposition(r.text)

        time.sleep(1.1)
        before = limited_scrape()
        before_total = before.total("floe_rate_limit_refusals_total")
        time.sleep(1.0 - (time.time() % 1.0) + 0.02)  # start just after a wall-clock second boundary
        with ThreadPoolExecutor(WORKERS) as pool:
            statuses = list(pool.map(lambda _: api.call("GET", ENVS).status, range(BURST)))
        burst_refused = statuses.count(429)
        check(burst_refused > 0, f"a burst of {BURST} requests got no 429 (statuses {sorted(set(statuses))})")
        refused_before = refused
        time.sleep(1.2)
        after = limited_scrape()
        problems = after.problems
        check(not problems, f"exposition problems: {problems[:5]}")
        grown = after.total("floe_rate_limit_refusals_total") - before_total
        expected = burst_refused + (refused - refused_before)
        check(grown == expected, f"floe_rate_limit_refusals_total grew {grown:g}, the client saw {expected} refusals")
        per_second = (after.value("floe_rate_limit_refusals_total", limit="per_second") or 0) - \
            (before.value("floe_rate_limit_refusals_total", limit="per_second") or 0)
        check(per_second > 0, f"no refusal counted under limit=\"per_second\": "
                              f"{[(s.labels, s.value) for s in after.find('floe_rate_limit_refusals_total')]}")
        limits = {s.labels.get("limit") for s in after.find("floe_rate_limit_refusals_total")}
        check(limits <= {"concurrent", "per_second", "per_minute"}, f"unknown limit labels {limits}")

    def stop(self):
        for server in (self.server, self.limited):
            if server is not None:
                if server.process is not None and server.process.poll() is not None:
                    print(f"--- {server.label} server exited; log tail:\n{server.log_tail(20)}", flush=True)
                server.stop()


def main() -> None:
    exit_on_signals()
    steps = Steps("ops: metrics")
    m = Metrics(steps)
    try:
        steps.run("metrics: the exposition parser and validator (known good and bad bodies)", validator_self_check)
        if steps.run("metrics: start a server", m.start):
            steps.run("metrics: 401 without or with wrong credentials, 403 for a FlinkDeveloper (envelopes)", m.access)
            steps.run("metrics: 200 text/plain 0.0.4, valid exposition, families typed, build_info", m.families)
            steps.run("metrics: 200s counted exactly by method and route pattern (no ids in routes)",
                      m.request_counts)
            steps.run("metrics: the duration histogram's _count agrees with the requests counted", m.histogram_counts)
            steps.run("metrics: 404s of no route counted under route=\"unmatched\"", m.unmatched_counted)
            steps.run("metrics: 401s counted under their route", m.unauthorized_counted)
            steps.run("metrics: set-up (environment, pool, tables)", m.setup_statements)
            steps.run("metrics: floe_statements{phase} counts RUNNING/COMPLETED/FAILED exactly", m.statements_by_phase)
            steps.run("metrics: rows read/written of a running INSERT grow with its input", m.rows)
            steps.run("metrics: a deleted statement's rows series go away", m.rows_gone)
            steps.run("metrics: floe_open_connections counts held connections", m.open_connections)
            steps.run("metrics: a MetricsViewer on the organization scrapes", m.metrics_viewer)
        steps.run("metrics: rate-limit refusals counted exactly", m.rate_limit)
    finally:
        m.stop()
    steps.finish()


if __name__ == "__main__":
    main()
