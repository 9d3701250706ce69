#!/usr/bin/env python3
"""Deeply nested SQL must never take the server down, and no stored statement may stop it from starting.

Each input below is well under the 131,072-character statement limit but nests thousands of levels deep (in the
syntax, or only in the plan: left-deep UNION/JOIN/`+` chains). The server must refuse it with
`too deeply nested (limit N)`:

1. as a dry run (`sql.dry-run`): POST answers 400 with the error envelope;
2. as a statement: POST 201, then FAILED with that detail; the server stays healthy and answers other requests;
3. across a crash: the nested statements (some still PENDING on a pool that is PROVISIONING) and a normal running
   query are stored, the server is SIGKILLed and started again on the same data directory: it becomes healthy, the
   nested statements end FAILED with the message and the normal query runs;
4. through views: a linear chain of N+5 views (N: the limit the first dry run reported; 1,100 in long mode) and a
   doubling chain (v_i = v_{i-1} UNION ALL v_{i-1}, 40 levels) fail cleanly with a limit message (or the linear
   one succeeds) within a time bound, and the server stays healthy (RSS is watched: a runaway server is killed).

When a case crashes the server, the case FAILs and the next one gets a fresh server (a fresh data directory: the
crashing statement stays stored in the old one and would crash every restart).

Standalone: `python3 tests/reliability/nesting_test.py` (FLOE_BIN; RELIABILITY_MODE=quick|long).
"""
from __future__ import annotations

import re
import signal
import time

from reliability_common import (LONG, MODE, TERMINAL, Admin, CheckFailed, FloeServer, Steps, alive, check, healthz,
                                require_error, rss_kib, tag)

STATEMENT_LIMIT = 131_072
NESTED = re.compile(r"too deeply nested \(limit (\d+)\)")
LIMIT_MESSAGE = re.compile(r"too deeply nested|nest(ing|ed)[^.]*limit|limit[^.]*(nest|depth|view|expan|size)|"
                           r"too (many|large|complex|deep)|exceed", re.IGNORECASE)
# The crash guard's detail for a statement the server was preparing when it stopped (accepted only for statements
# that were being prepared when we sent SIGKILL; those still PENDING on a PROVISIONING pool must get the real reason).
INTERRUPTED = re.compile(r"stopped while preparing", re.IGNORECASE)
FAIL_WITHIN = 30.0          # seconds for a nested statement to reach FAILED
RSS_CAP_KIB = 4 * 1024 * 1024  # a server above 4 GiB during the view chains is runaway: killed, the check FAILs


def inputs() -> list[tuple[str, str]]:
    joins = "SELECT 1 FROM (VALUES (1)) AS t0(x)" + "".join(
        f" JOIN (VALUES (1)) AS t{i}(x) ON TRUE" for i in range(1, 3001))
    return [
        ("parens", "SELECT " + "(" * 5000 + "1" + ")" * 5000),
        ("not", "SELECT " + "NOT " * 20000 + "TRUE"),
        ("abs", "SELECT " + "ABS(" * 20000 + "1" + ")" * 20000),
        ("union", "SELECT 1" + " UNION ALL SELECT 1" * 3000),
        ("plus", "SELECT 1" + "+1" * 60000),
        ("case", "SELECT " + "CASE WHEN TRUE THEN " * 3000 + "1" + " END" * 3000),
        ("array-type", "SELECT CAST(NULL AS " + "ARRAY<" * 3000 + "INT" + ">" * 3000 + ")"),
        ("subquery", "SELECT * FROM (" * 3000 + "SELECT 1 AS x" + ") AS t" * 3000),
        ("joins", joins),
    ]


class Nesting:
    def __init__(self, steps: Steps):
        self.steps = steps
        self.server: FloeServer | None = None
        self.admin: Admin | None = None
        self.env = self.pool = ""
        self.limit: int | None = None
        self.crashes = 0
        self.statements_checked = 0
        self.figures: dict[str, object] = {}
        self.cases = inputs()
        self.progress = ""

    # ------------------------------------------------------------------------------------------ servers
    def fresh(self) -> None:
        """A new server on a new data directory, with an environment and a PROVISIONED pool."""
        if self.server is not None:
            self.server.stop()
        self.server = FloeServer(label="nesting")
        self.server.start(timeout=60)
        self.admin = Admin(self.server)
        self.env = self.admin.create_environment(f"nest-{tag()}")
        self.pool = self.admin.create_pool(self.env)
        self.admin.wait_pool(self.env, self.pool)

    def usable(self) -> bool:
        return self.server is not None and alive(self.server) and healthz(self.server.base_url) == 200

    def ensure_server(self) -> None:
        if not self.usable():
            self.fresh()

    def died(self, what: str) -> bool:
        """True (and counts a crash) when the server process is gone or no longer healthy after `what`."""
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline and alive(self.server):
            if healthz(self.server.base_url, timeout=3) == 200:
                return False
            time.sleep(0.2)
        self.crashes += 1
        return True

    def crash_report(self, what: str) -> str:
        proc = self.server.process
        code = proc.poll() if proc is not None else None
        if code is None:
            return "the server is running but no longer answers /healthz"
        if code < 0:
            try:
                return f"the server crashed (killed by {signal.Signals(-code).name})"
            except ValueError:
                return f"the server crashed (signal {-code})"
        tail = " | ".join(self.server.log_tail(3).splitlines())[-300:]
        return f"the server exited with status {code}; log tail: {tail}"

    def case_step(self, name: str, fn) -> None:
        """Runs a step on a usable server; a crash during it fails the step and the next step gets a fresh one."""
        def body():
            try:
                self.ensure_server()
            except (RuntimeError, OSError) as e:
                raise CheckFailed(f"could not start a fresh server: {str(e)[-300:]}") from None
            self.progress = ""
            try:
                fn()
            except Exception as e:  # noqa: BLE001 - a crash shows up as any connection error
                if self.died(name):
                    raise CheckFailed(f"{self.crash_report(name)}{self.progress} [{e}]") from None
                raise
            if self.died(name):
                raise CheckFailed(self.crash_report(name) + self.progress)
        self.steps.run(name, body)

    # --------------------------------------------------------------------------------------- checks
    def lengths(self):
        for name, sql in self.cases:
            check(len(sql) < STATEMENT_LIMIT, f"{name}: {len(sql)} characters, not under {STATEMENT_LIMIT}")
        self.figures["longest input"] = max(len(sql) for _, sql in self.cases)

    def dry_run(self, name: str, sql: str):
        r = self.admin.post_statement(self.env, f"dry-{name}-{tag()}", sql, self.pool, {"sql.dry-run": "true"})
        self.statements_checked += 1
        self.learn_limit(r.text)
        if r.status < 400:
            phase = ((r.body or {}).get("status") or {}).get("phase") if isinstance(r.body, dict) else None
            detail = ((r.body or {}).get("status") or {}).get("detail") if isinstance(r.body, dict) else None
            raise CheckFailed(f"dry run -> HTTP {r.status} (phase {phase}, detail {str(detail)[:160]!r}), expected 400")
        require_error(r, 400, what="dry run")
        m = NESTED.search(r.detail())
        check(m, f"dry run 400 detail lacks 'too deeply nested (limit N)': {r.detail()[:200]!r}")

    def learn_limit(self, text: str) -> None:
        """The nesting limit N, from the first message that states it."""
        m = NESTED.search(text or "")
        if m and self.limit is None:
            self.limit = int(m.group(1))

    def run_statement(self, name: str, sql: str):
        stmt = f"nest-{name}-{tag()}"
        start = time.monotonic()
        self.admin.post_statement(self.env, stmt, sql, self.pool, expect=201)
        self.statements_checked += 1
        doc = self.admin.wait_statement(self.env, stmt, {"FAILED"}, timeout=FAIL_WITHIN)
        status = doc["status"]
        self.learn_limit(status.get("detail") or "")
        check(status["phase"] == "FAILED",
              f"{stmt} is {status['phase']} after {time.monotonic() - start:.1f}s, expected FAILED "
              f"(detail {status.get('detail', '')[:160]!r})")
        check(NESTED.search(status.get("detail") or ""),
              f"{stmt} FAILED without 'too deeply nested (limit N)': {status.get('detail', '')[:200]!r}")
        self.others_answer()

    def others_answer(self):
        check(healthz(self.server.base_url) == 200, "GET /healthz is not 200")
        t = time.monotonic()
        self.admin.api.call("GET", "/org/v2/environments", expect=200, timeout=10)
        r = self.admin.post_statement(self.env, f"ok-{tag()}", "SELECT 1 AS one", self.pool,
                                      {"sql.dry-run": "true"}, expect=(200, 201))
        check(r.body["status"]["phase"] == "COMPLETED", f"dry run of SELECT 1 is {r.body['status']}")
        check(time.monotonic() - t < 10, f"other requests took {time.monotonic() - t:.1f}s")

    # ---------------------------------------------------------------------------------------- restart
    def restart(self):
        a, s = self.admin, self.server
        names: dict[str, str] = {}
        normal = f"normal-{tag()}"
        self.restart_state = (names, normal)
        problems: list[str] = []
        pending_names: list[str] = []
        phases: dict[str, object] = {}
        try:
            a.post_statement(self.env, normal, "SELECT order_id FROM examples.marketplace.orders", self.pool,
                             expect=201)
            doc = a.wait_statement(self.env, normal, {"RUNNING"}, timeout=30)
            if doc["status"]["phase"] != "RUNNING":
                problems.append(f"normal query is {doc['status']['phase']} before the crash, expected RUNNING: "
                                f"{doc['status'].get('detail', '')[:160]!r}")
            for name, sql in self.cases:
                stmt = f"r1-{name}-{tag()}"
                a.post_statement(self.env, stmt, sql, self.pool, expect=201)
                names[stmt] = name
            # A second pool, still PROVISIONING: statements on it stay PENDING until it is PROVISIONED.
            pool2 = a.create_pool(self.env)
            for name, sql in [c for c in self.cases if c[0] in ("array-type", "parens", "union", "case")]:
                stmt = f"r2-{name}-{tag()}"
                a.post_statement(self.env, stmt, sql, pool2, expect=201)
                names[stmt] = name
                pending_names.append(stmt)
            for stmt in pending_names:
                r = a.get_statement(self.env, stmt)
                phases[stmt] = r.body["status"]["phase"] if r.status == 200 else r.status
        except Exception as e:  # noqa: BLE001 - the server may crash while we store the statements
            problems.append(f"storing the statements failed: {type(e).__name__}: {str(e)[:200]}")
        self.statements_checked += len(names) + 1
        was_alive = alive(s) and healthz(s.base_url) == 200
        s.kill()
        pending = sum(1 for p in phases.values() if p == "PENDING")
        self.figures["PENDING at kill"] = pending
        print(f"  restart: {len(names)} nested statements stored; SIGKILL (server alive before it: {was_alive}); "
              f"{pending} of {len(pending_names)} statements on the PROVISIONING pool were PENDING", flush=True)
        if not was_alive:
            problems.append("the server was already down before the SIGKILL (the nested statements crashed it): "
                            + " | ".join(s.log_tail(3).splitlines())[-300:])
        check(not problems, "; ".join(problems))

    def restart_healthy(self):
        t = time.monotonic()
        try:
            self.server.start(timeout=60)
        except (RuntimeError, OSError) as e:
            tail = " | ".join(str(e).splitlines()[-4:])[-500:]
            raise CheckFailed(f"the server did not become healthy on its data directory: {tail}") from None
        self.figures["restart to healthy"] = f"{time.monotonic() - t:.1f}s"

    def restart_nested_failed(self):
        names, _ = self.restart_state
        deadline = time.monotonic() + FAIL_WITHIN
        remaining = dict(names)
        wrong: list[str] = []
        interrupted: list[str] = []
        while remaining and time.monotonic() < deadline:
            for stmt in list(remaining):
                r = self.admin.get_statement(self.env, stmt)
                check(r.status == 200, f"GET {stmt} after restart -> HTTP {r.status}: {r.snippet()}")
                st = r.body["status"]
                if st["phase"] in TERMINAL:
                    detail = st.get("detail") or ""
                    if st["phase"] == "FAILED" and NESTED.search(detail):
                        pass
                    elif st["phase"] == "FAILED" and stmt.startswith("r1-") and INTERRUPTED.search(detail):
                        # SIGKILLed while it was being prepared: the server's crash guard fails it rather than
                        # preparing it again (it cannot tell our SIGKILL from a crash the statement caused).
                        interrupted.append(stmt)
                    else:
                        wrong.append(f"{stmt}: {st['phase']} {detail[:100]!r}")
                    del remaining[stmt]
            time.sleep(0.2)
        if interrupted:
            print(f"  restart: {len(interrupted)} statement(s) SIGKILLed while being prepared were FAILED by the "
                  f"crash guard instead: {interrupted}", flush=True)
        self.figures["failed by the crash guard"] = len(interrupted)
        check(not remaining, f"not terminal {FAIL_WITHIN:.0f}s after the restart: {sorted(remaining)}")
        check(not wrong, f"not FAILED with 'too deeply nested (limit N)': {wrong}")

    def restart_normal_runs(self):
        _, normal = self.restart_state
        doc = self.admin.wait_statement(self.env, normal, {"RUNNING"}, timeout=30)
        check(doc["status"]["phase"] == "RUNNING", f"normal query after restart is {doc['status']['phase']}: "
                                                   f"{doc['status'].get('detail', '')[:160]!r}")
        r = self.admin.api.call("GET", f"{self.admin.statements_path(self.env)}/{normal}/results", expect=200)
        check(isinstance(r.body["results"]["data"], list), "results.data is not a list")
        fresh = f"after-{tag()}"
        self.admin.post_statement(self.env, fresh, "SELECT * FROM (VALUES (1), (2)) AS t(x)", self.pool,
                                  {"sql.snapshot.mode": "now"}, expect=201)
        doc = self.admin.wait_statement(self.env, fresh, {"COMPLETED"}, timeout=30)
        check(doc["status"]["phase"] == "COMPLETED", f"a new query after restart is {doc['status']}")
        check(sorted(self.admin.results(self.env, fresh)) == [["1"], ["2"]], "a new query's rows are wrong")
        self.others_answer()

    def restart_again(self, round_: int):
        self.server.kill()
        try:
            self.server.start(timeout=60)
        except (RuntimeError, OSError) as e:
            tail = " | ".join(str(e).splitlines()[-4:])[-400:]
            raise CheckFailed(f"restart #{round_} did not become healthy: {tail}") from None
        self.others_answer()

    # ------------------------------------------------------------------------------------------ views
    def create_view(self, stmt: str, sql: str, timeout: float) -> dict:
        self.admin.post_statement(self.env, stmt, sql, self.pool, expect=201)
        self.statements_checked += 1
        return self.watch(stmt, timeout)

    def watch(self, stmt: str, timeout: float) -> dict:
        """Polls a statement until terminal or `timeout`; kills a server whose RSS passes RSS_CAP_KIB."""
        deadline = time.monotonic() + timeout
        while True:
            pid = self.server.process.pid if self.server.process else 0
            rss = rss_kib(pid)
            self.figures["view RSS peak MiB"] = max(int(self.figures.get("view RSS peak MiB", 0)), rss // 1024)
            if rss > RSS_CAP_KIB:
                self.server.kill()
                raise CheckFailed(f"{stmt}: server RSS reached {rss // 1024} MiB (runaway expansion); killed it")
            r = self.admin.get_statement(self.env, stmt)
            check(r.status == 200, f"GET {stmt} -> HTTP {r.status}: {r.snippet()}")
            if r.body["status"]["phase"] in TERMINAL or time.monotonic() > deadline:
                return r.body
            time.sleep(0.01)

    def view_chain_linear(self):
        wanted = 1100 if (LONG or self.limit is None) else min(1100, self.limit + 5)
        prefix = f"lv{tag()}_"
        t = time.monotonic()
        created = 0
        stopped_by = None
        for i in range(wanted + 1):
            sql = (f"CREATE VIEW {prefix}0 AS SELECT 1 AS x" if i == 0
                   else f"CREATE VIEW {prefix}{i} AS SELECT x FROM {prefix}{i - 1}")
            self.progress = f" (while creating linear view #{i} of {wanted})"
            doc = self.create_view(f"{prefix.replace('_', '-')}{i}", sql, timeout=FAIL_WITHIN)
            phase, detail = doc["status"]["phase"], doc["status"].get("detail") or ""
            if phase == "FAILED":
                check(LIMIT_MESSAGE.search(detail), f"CREATE VIEW #{i} FAILED without a limit message: {detail[:200]!r}")
                stopped_by = detail
                break
            check(phase == "COMPLETED", f"CREATE VIEW #{i} is {phase} after {FAIL_WITHIN:.0f}s")
            created = i
        self.figures["linear views"] = created + 1
        self.figures["linear view creation"] = f"{time.monotonic() - t:.1f}s"
        if stopped_by:
            print(f"  linear views: creation of view #{created + 1} refused: {stopped_by[:120]!r}", flush=True)
        q = f"lq-{tag()}"
        self.progress = f" (while querying linear view #{created})"
        t = time.monotonic()
        self.admin.post_statement(self.env, q, f"SELECT x FROM {prefix}{created}", self.pool,
                                  {"sql.snapshot.mode": "now"}, expect=201)
        self.statements_checked += 1
        doc = self.watch(q, FAIL_WITHIN)
        phase, detail = doc["status"]["phase"], doc["status"].get("detail") or ""
        print(f"  linear views: query over view #{created} -> {phase} in {time.monotonic() - t:.1f}s "
              f"{detail[:120]!r}", flush=True)
        check(phase in ("COMPLETED", "FAILED", "RUNNING"), f"query over the chain is {phase}")
        if phase == "FAILED":
            check(LIMIT_MESSAGE.search(detail), f"query over the chain FAILED without a limit message: {detail[:200]!r}")
        elif phase == "COMPLETED":
            check(self.admin.results(self.env, q) == [["1"]], "query over the chain returned wrong rows")
        else:
            raise CheckFailed(f"query over the chain still RUNNING after {FAIL_WITHIN:.0f}s")
        self.others_answer()

    def view_chain_doubling(self):
        prefix = f"dv{tag()}_"
        start = time.monotonic()
        failed_with = None
        levels = 40
        for i in range(levels + 1):
            sql = (f"CREATE VIEW {prefix}0 AS SELECT 1 AS x" if i == 0 else
                   f"CREATE VIEW {prefix}{i} AS SELECT x FROM {prefix}{i - 1} UNION ALL SELECT x FROM {prefix}{i - 1}")
            t = time.monotonic()
            self.progress = f" (while creating doubling view level {i})"
            doc = self.create_view(f"{prefix.replace('_', '-')}{i}", sql, timeout=FAIL_WITHIN)
            phase, detail = doc["status"]["phase"], doc["status"].get("detail") or ""
            check(phase in TERMINAL, f"CREATE VIEW level {i} still {phase} after {time.monotonic() - t:.1f}s")
            if phase == "FAILED":
                check(LIMIT_MESSAGE.search(detail), f"CREATE VIEW level {i} FAILED without a limit message: "
                                                    f"{detail[:200]!r}")
                failed_with = f"CREATE VIEW level {i}: {detail[:120]!r}"
                break
        if failed_with is None:
            q = f"dq-{tag()}"
            t = time.monotonic()
            self.admin.post_statement(self.env, q, f"SELECT COUNT(*) AS n FROM {prefix}{levels}", self.pool,
                                      {"sql.snapshot.mode": "now"}, expect=201)
            self.statements_checked += 1
            doc = self.watch(q, FAIL_WITHIN)
            phase, detail = doc["status"]["phase"], doc["status"].get("detail") or ""
            check(phase == "FAILED", f"query over the 2^{levels} doubling chain is {phase} after "
                                     f"{time.monotonic() - t:.1f}s, expected FAILED with a limit message")
            check(LIMIT_MESSAGE.search(detail), f"query over the doubling chain FAILED without a limit message: "
                                                f"{detail[:200]!r}")
            failed_with = f"query: {detail[:120]!r}"
        print(f"  doubling views: refused at {failed_with} after {time.monotonic() - start:.1f}s", flush=True)
        self.figures["doubling chain refused"] = f"{time.monotonic() - start:.1f}s"
        self.others_answer()

    # -------------------------------------------------------------------------------------------- run
    def run(self):
        st = self.steps
        st.run("inputs: each under the 131,072-character limit", self.lengths)
        try:
            self.fresh()
        except (RuntimeError, OSError) as e:
            print(f"FAIL start server: {e}", flush=True)
            st.failed += 1
            return
        for name, sql in self.cases:
            self.case_step(f"dry run {name} ({len(sql)} chars): 400 'too deeply nested (limit N)'",
                           lambda n=name, q=sql: self.dry_run(n, q))
        print(f"  nesting limit reported: {self.limit}", flush=True)
        for name, sql in self.cases:
            self.case_step(f"statement {name}: FAILED 'too deeply nested (limit N)', server healthy",
                           lambda n=name, q=sql: self.run_statement(n, q))

        # Restart: a fresh server so that crashes above leave nothing behind.
        try:
            self.fresh()
        except (RuntimeError, OSError) as e:
            print(f"FAIL start server for the restart checks: {e}", flush=True)
            st.failed += 1
            return
        st.run("restart: nested statements stored (some PENDING on a PROVISIONING pool), then SIGKILL",
               self.restart)
        if hasattr(self, "restart_state"):
            if st.run("restart: the server becomes healthy on the same data directory", self.restart_healthy):
                st.run("restart: every nested statement is FAILED 'too deeply nested (limit N)'",
                       self.restart_nested_failed)
                st.run("restart: the normal query runs and new statements run", self.restart_normal_runs)
                for round_ in range(2, 5 if LONG else 3):
                    st.run(f"restart: SIGKILL and start again (#{round_}) is healthy",
                           lambda r=round_: self.restart_again(r))

        self.case_step("views: linear chain of N+5 views fails cleanly (or succeeds), server healthy",
                       self.view_chain_linear)
        self.case_step("views: doubling chain (40 levels of UNION ALL) refused within 30s with a limit message",
                       self.view_chain_doubling)

    def close(self):
        if self.server is not None:
            self.server.stop()


def main() -> None:
    from floe_harness import exit_on_signals
    exit_on_signals()
    steps = Steps(f"reliability: nesting ({MODE})")
    t = time.monotonic()
    suite = Nesting(steps)
    try:
        suite.run()
    finally:
        suite.close()
        figures = {"statements checked": suite.statements_checked, "inputs": len(suite.cases),
                   "limit": suite.limit, "server crashes": suite.crashes, **suite.figures,
                   "wall": f"{time.monotonic() - t:.1f}s"}
        print("FIGURES: " + ", ".join(f"{k}={v}" for k, v in figures.items()), flush=True)
    steps.finish()


if __name__ == "__main__":
    main()
