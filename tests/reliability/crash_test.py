#!/usr/bin/env python3
"""kill -9 at random points under concurrent writers: nothing acknowledged is lost, and exactly-once holds.

Set-up: a compute pool, tables ``src (seq BIGINT)`` and ``dst (seq BIGINT)``, and a long-running
``INSERT INTO dst SELECT seq FROM src``. Writers loop, each step creating a service account (acknowledged by a 201)
and an ``INSERT INTO src VALUES (n)`` statement with a unique name (acknowledged by a 201; its n is an acknowledged
row once the statement is seen COMPLETED). A killer SIGKILLs the server at random intervals and restarts it on the
same data directory. Writers ride through the outages: a request whose outcome is unknown (connection dropped) is
resolved by looking the resource up by name once the server is back, and only work that is not there is submitted
again, under the same name.

Checks at the end, once the statements have settled:
* every acknowledged service account and statement exists (and exactly one service account per name);
* every acknowledged INSERT statement ends COMPLETED (none FAILED, none stuck), and none seen COMPLETED went back;
* ``src`` holds every acknowledged n exactly once, and nothing else;
* ``dst`` catches up with ``src`` exactly: same rows, no duplicates, no gaps;
* the long-running INSERT is RUNNING after every restart and at the end (re-attached, not FAILED).

Tables are read with bounded snapshot queries (``sql.snapshot.mode = now``), following the results pages.

Environment: RELIABILITY_MODE=quick (8 kills, the default) or long (60 kills); RELIABILITY_CRASH_KILLS overrides the
number of kills; RELIABILITY_SEED fixes the random kill schedule; FLOE_BIN.
"""
from __future__ import annotations

import collections
import os
import random
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "compat"))

from floe_harness import CheckFailed, FloeServer, Steps, check, exit_on_signals  # noqa: E402

import requests  # noqa: E402

MODE = os.environ.get("RELIABILITY_MODE", "quick")
LONG = MODE == "long"
KILLS = int(os.environ.get("RELIABILITY_CRASH_KILLS", "60" if LONG else "8"))
SEED = int(os.environ["RELIABILITY_SEED"]) if os.environ.get("RELIABILITY_SEED") else random.SystemRandom().randrange(1 << 32)
WRITERS = 2
INTERVAL = (1.0, 5.0)        # seconds between a restart and the next kill
DOWNTIME = (0.0, 0.5)        # seconds the server stays dead
MAX_OUTSTANDING = 6          # acknowledged INSERTs per writer not yet seen COMPLETED before it waits
REQUEST_TIMEOUT = 10.0
SETTLE_TIMEOUT = 90.0        # for the statements to finish and dst to catch up after the last restart
TERMINAL = {"COMPLETED", "FAILED", "STOPPED"}


def json_of(r: requests.Response) -> dict:
    try:
        doc = r.json()
        return doc if isinstance(doc, dict) else {}
    except ValueError:
        return {}


class Outage(Exception):
    """The server did not answer (killed, restarting): the request's outcome is unknown."""


class Live:
    """The server under test, restarted by the killer; every request reads the current base URL."""

    def __init__(self, server: FloeServer):
        self.server = server
        self.boot = None
        self.up = threading.Event()
        self.gone = threading.Event()      # the server could not be started again: stop waiting for it
        self.session_local = threading.local()

    def session(self) -> requests.Session:
        s = getattr(self.session_local, "s", None)
        if s is None:
            s = requests.Session()
            s.auth = (self.boot.api_key, self.boot.api_secret)
            self.session_local.s = s
        return s

    def request(self, method: str, path: str, **kw) -> requests.Response:
        """One attempt. Raises Outage when the server did not answer."""
        if not self.up.is_set():
            raise Outage("server down")
        url = path if path.startswith("http") else self.server.base_url + path
        try:
            return self.session().request(method, url, timeout=REQUEST_TIMEOUT, **kw)
        except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError) as e:
            # Drop the pooled connection: the next request opens a fresh one to the (new) port.
            self.session_local.s = None
            raise Outage(f"{type(e).__name__}") from e

    def until_answered(self, method: str, path: str, deadline: float = 120.0, **kw) -> requests.Response:
        """Retries through outages (for idempotent requests only: GETs and lookups)."""
        end = time.monotonic() + deadline
        while True:
            try:
                return self.request(method, path, **kw)
            except Outage:
                if time.monotonic() > end or self.gone.is_set():
                    raise
                self.up.wait(timeout=1.0)
                time.sleep(0.02)


@dataclass
class Ledger:
    """What the writers were told (acknowledgements) and saw, shared under a lock."""
    lock: threading.Lock = field(default_factory=threading.Lock)
    sas: dict = field(default_factory=dict)              # display name -> id
    statements: dict = field(default_factory=dict)       # statement name -> n
    completed: set = field(default_factory=set)          # statement names seen COMPLETED
    acked_via: collections.Counter = field(default_factory=collections.Counter)
    unknown_outcomes: int = 0
    unknown_found: int = 0                                # unknown outcomes that turned out created
    attempts: int = 0
    problems: list = field(default_factory=list)         # unexpected answers
    failed_seen: dict = field(default_factory=dict)      # statement name -> status.detail, seen FAILED while writing
    restart_problems: list = field(default_factory=list)
    restart_times: list = field(default_factory=list)
    kills: int = 0

    def problem(self, text: str) -> None:
        with self.lock:
            if len(self.problems) < 50:
                self.problems.append(text)


class Writer(threading.Thread):
    def __init__(self, index: int, live: Live, ledger: Ledger, statements_path: str, pool: str, stop: threading.Event):
        super().__init__(daemon=True, name=f"writer-{index}")
        self.index, self.live, self.ledger, self.path, self.pool, self.stop = index, live, ledger, statements_path, pool, stop
        self.outstanding: list[str] = []
        self.error: BaseException | None = None

    # -- creation with unknown-outcome resolution

    def ensure(self, kind: str, name: str, post, lookup) -> str | None:
        """Creates `name` until acknowledged; returns its id (or name). Never creates it under another name."""
        refusals = 0
        while True:
            if refusals >= 50:
                raise CheckFailed(f"{kind} {name}: refused 50 times in a row, giving up")
            with self.ledger.lock:
                self.ledger.attempts += 1
            try:
                r = post()
            except Outage:
                with self.ledger.lock:
                    self.ledger.unknown_outcomes += 1
                found = lookup()          # waits for the server to be back
                if found is not None:
                    with self.ledger.lock:
                        self.ledger.unknown_found += 1
                        self.ledger.acked_via[f"{kind} found after unknown outcome"] += 1
                    return found
                continue                  # not created: submit again, same name
            if r.status_code in (200, 201, 202):
                with self.ledger.lock:
                    self.ledger.acked_via[f"{kind} {r.status_code}"] += 1
                return json_of(r).get("id") or name
            if r.status_code == 409:
                # An earlier attempt whose answer we did not get created it; confirm it is ours.
                found = lookup()
                if found is not None:
                    with self.ledger.lock:
                        self.ledger.acked_via[f"{kind} 409 then found"] += 1
                    return found
                self.ledger.problem(f"{kind} {name}: 409 but not found by name: {r.text[:200]}")
                refusals += 1
                time.sleep(0.2)
                continue
            self.ledger.problem(f"{kind} {name}: unexpected {r.status_code}: {r.text[:200]}")
            refusals += 1
            time.sleep(0.2)

    def create_service_account(self, name: str) -> str:
        body = {"display_name": name, "description": f"crash writer {self.index}"}

        def lookup():
            r = self.live.until_answered("GET", "/iam/v2/service-accounts", params={"display_name": name, "page_size": 100})
            if r.status_code != 200:
                self.ledger.problem(f"lookup of service account {name}: {r.status_code}: {r.text[:200]}")
                return None
            matches = [sa for sa in json_of(r).get("data", []) if sa.get("display_name") == name]
            if len(matches) > 1:
                self.ledger.problem(f"service account {name} exists {len(matches)} times")
            return matches[0]["id"] if matches else None
        return self.ensure("service account", name, lambda: self.live.request("POST", "/iam/v2/service-accounts", json=body), lookup)

    def create_insert(self, name: str, n: int) -> None:
        sql = f"INSERT INTO src VALUES ({n})"
        body = {"name": name, "spec": {"statement": sql, "compute_pool_id": self.pool}}

        def lookup():
            r = self.live.until_answered("GET", f"{self.path}/{name}")
            if r.status_code == 404:
                return None
            if r.status_code != 200:
                self.ledger.problem(f"lookup of statement {name}: {r.status_code}: {r.text[:200]}")
                return None
            if json_of(r).get("spec", {}).get("statement") != sql:
                self.ledger.problem(f"statement {name} exists with other SQL: {json_of(r).get('spec', {}).get('statement')!r}")
                return None
            return name
        self.ensure("statement", name, lambda: self.live.request("POST", self.path, json=body), lookup)

    # -- observation of phases

    def observe(self) -> None:
        still = []
        for name in self.outstanding:
            try:
                r = self.live.request("GET", f"{self.path}/{name}")
            except Outage:
                still.append(name)
                continue
            phase = json_of(r).get("status", {}).get("phase") if r.status_code == 200 else None
            if phase == "COMPLETED":
                with self.ledger.lock:
                    self.ledger.completed.add(name)
            elif phase == "FAILED":
                # Reported by the settle check; not watched any further.
                with self.ledger.lock:
                    self.ledger.failed_seen[name] = json_of(r).get("status", {}).get("detail", "")
            else:
                if r.status_code != 200:
                    self.ledger.problem(f"statement {name}: GET answered {r.status_code}: {r.text[:200]}")
                still.append(name)
        self.outstanding = still

    def run(self) -> None:
        try:
            k = 0
            while not self.stop.is_set():
                n = self.index + WRITERS * k
                sa_name = f"crash-sa-{self.index}-{k}"
                sa_id = self.create_service_account(sa_name)
                with self.ledger.lock:
                    self.ledger.sas[sa_name] = sa_id
                stmt_name = f"crash-ins-{n}"
                self.create_insert(stmt_name, n)
                with self.ledger.lock:
                    self.ledger.statements[stmt_name] = n
                self.outstanding.append(stmt_name)
                self.observe()
                while len(self.outstanding) >= MAX_OUTSTANDING and not self.stop.is_set():
                    time.sleep(0.05)
                    self.observe()
                k += 1
        except BaseException as e:  # noqa: BLE001 - reported by the step that joins the writers
            self.error = e


# --------------------------------------------------------------------------------------------------------------------

def wait_for(predicate, timeout: float, what: str, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise CheckFailed(f"{what} (not within {timeout:.0f}s)")
        time.sleep(interval)


class Scenario:
    def __init__(self, steps: Steps):
        self.steps = steps
        self.rng = random.Random(SEED)
        self.server = FloeServer(label="crash")
        self.live = Live(self.server)
        self.ledger = Ledger()
        self.pool = ""
        self.path = ""
        self.snapshots = 0
        self.rows_checked = 0

    # -- set-up

    def setup(self) -> None:
        self.server.start()
        self.live.boot = self.server.bootstrap()
        self.live.up.set()
        b = self.live.boot
        print(f"floe {self.server.binary} at {self.server.base_url} (data dir {self.server.data_dir}), seed {SEED}", flush=True)
        r = self.live.request("POST", "/fcpm/v2/compute-pools", json={"spec": {
            "display_name": "crash-pool", "cloud": "AWS", "region": "us-east-1", "max_cfu": 50,
            "environment": {"id": b.environment_id}}})
        check(r.status_code in (200, 201, 202), f"create pool: {r.status_code} {r.text[:300]}")
        self.pool = r.json()["id"]
        wait_for(lambda: self.live.request("GET", f"/fcpm/v2/compute-pools/{self.pool}",
                                           params={"environment": b.environment_id}).json()["status"]["phase"] == "PROVISIONED",
                 60, f"compute pool {self.pool} PROVISIONED")
        self.path = f"/sql/v1/organizations/{b.organization_id}/environments/{b.environment_id}/statements"
        for name, sql in (("crash-ddl-src", "CREATE TABLE src (seq BIGINT)"), ("crash-ddl-dst", "CREATE TABLE dst (seq BIGINT)")):
            self.create_statement(name, sql)
            phase = self.wait_phase(name, TERMINAL, 60)
            check(phase == "COMPLETED", f"{name} ended {phase}")
        self.create_statement("crash-copy", "INSERT INTO dst SELECT seq FROM src")
        phase = self.wait_phase("crash-copy", {"RUNNING", "FAILED", "COMPLETED"}, 60)
        check(phase == "RUNNING", f"crash-copy is {phase}, not RUNNING")

    def restart(self) -> None:
        """Starts the server again on its data directory; retried a few times when the binary is being replaced
        by a build (ETXTBSY) or is briefly missing."""
        for attempt in range(10):
            try:
                self.server.start()
                return
            except OSError as e:
                if attempt == 9:
                    self.live.gone.set()
                    raise
                print(f"   restart attempt {attempt + 1} failed ({e}); retrying", flush=True)
                time.sleep(3)
            except RuntimeError:
                self.live.gone.set()
                raise

    def create_statement(self, name: str, sql: str, properties: dict | None = None) -> None:
        spec = {"statement": sql, "compute_pool_id": self.pool}
        if properties:
            spec["properties"] = properties
        r = self.live.until_answered("POST", self.path, json={"name": name, "spec": spec})
        check(r.status_code == 201, f"create statement {name}: {r.status_code} {r.text[:300]}")

    def phase(self, name: str) -> tuple[str | None, dict]:
        r = self.live.until_answered("GET", f"{self.path}/{name}")
        if r.status_code != 200:
            return None, {"http": r.status_code, "body": r.text[:300]}
        doc = json_of(r)
        return doc.get("status", {}).get("phase"), doc

    def wait_phase(self, name: str, phases: set, timeout: float) -> str:
        return wait_for(lambda: (lambda p: p if p in phases else None)(self.phase(name)[0]), timeout,
                        f"statement {name} reaching {sorted(phases)}", interval=0.05)

    # -- the crash loop

    def crash_loop(self) -> None:
        stop = threading.Event()
        writers = [Writer(i, self.live, self.ledger, self.path, self.pool, stop) for i in range(WRITERS)]
        for w in writers:
            w.start()
        started = time.monotonic()
        try:
            for kill in range(KILLS):
                time.sleep(self.rng.uniform(*INTERVAL))
                dead = [w.name for w in writers if not w.is_alive()]
                check(not dead, f"writer(s) {dead} died: {[repr(w.error) for w in writers if w.error]}")
                # The long-running INSERT must have been re-attached after the last restart: RUNNING, not FAILED.
                phase, doc = self.phase("crash-copy")
                if phase != "RUNNING":
                    self.ledger.restart_problems.append(f"before kill {kill + 1}: crash-copy is {phase}: {str(doc)[:300]}")
                self.live.up.clear()
                t0 = time.monotonic()
                self.server.kill()
                self.ledger.kills += 1
                time.sleep(self.rng.uniform(*DOWNTIME))
                self.restart()
                self.ledger.restart_times.append(time.monotonic() - t0)
                self.live.up.set()
                with self.ledger.lock:
                    acked, done = len(self.ledger.statements), len(self.ledger.completed)
                print(f"   kill {kill + 1}/{KILLS} at {time.monotonic() - started:.1f}s: restarted in "
                      f"{self.ledger.restart_times[-1]:.2f}s; acknowledged so far: {len(self.ledger.sas)} service accounts, "
                      f"{acked} statements ({done} seen COMPLETED)", flush=True)
            time.sleep(self.rng.uniform(*INTERVAL))   # some work on the last incarnation too
        finally:
            stop.set()
            for w in writers:
                w.join(timeout=180)
        stuck = [w.name for w in writers if w.is_alive()]
        check(not stuck, f"writer(s) {stuck} did not stop")
        errors = [f"{w.name}: {w.error!r}" for w in writers if w.error]
        check(not errors, f"writer errors: {errors}")
        check(self.ledger.kills == KILLS, f"{self.ledger.kills} kills injected, wanted {KILLS}")
        check(self.ledger.statements and self.ledger.sas, "the writers got nothing acknowledged")

    # -- the checks

    def check_no_unexpected_answers(self) -> None:
        check(not self.ledger.problems, "unexpected answers during the run:\n  " + "\n  ".join(self.ledger.problems[:20]))

    def check_service_accounts(self) -> None:
        missing, wrong = [], []
        for name, sa_id in sorted(self.ledger.sas.items()):
            r = self.live.until_answered("GET", f"/iam/v2/service-accounts/{sa_id}")
            if r.status_code != 200:
                missing.append(f"{name} ({sa_id}): {r.status_code}")
            elif json_of(r).get("display_name") != name:
                wrong.append(f"{sa_id}: display_name {json_of(r).get('display_name')!r}, wanted {name!r}")
        # Exactly one account per name, and none of ours that was never acknowledged.
        names = collections.Counter()
        url = "/iam/v2/service-accounts?page_size=100"
        while url:
            r = self.live.until_answered("GET", url)
            check(r.status_code == 200, f"list service accounts: {r.status_code} {r.text[:200]}")
            doc = r.json()
            names.update(sa["display_name"] for sa in doc.get("data", []) if sa.get("display_name", "").startswith("crash-sa-"))
            url = doc.get("metadata", {}).get("next") or ""
            url = self.rebase(url) if url else ""
        duplicates = [n for n, c in names.items() if c > 1]
        extra = sorted(set(names) - set(self.ledger.sas))
        check(not missing and not wrong and not duplicates and not extra,
              f"{len(missing)} acknowledged service accounts missing {missing[:10]}; wrong {wrong[:5]}; "
              f"duplicated {duplicates[:10]}; never acknowledged {extra[:10]}")

    def check_statements_settle(self) -> None:
        names = sorted(self.ledger.statements)
        pending = set(names)
        final: dict[str, str | None] = {}
        deadline = time.monotonic() + SETTLE_TIMEOUT
        while pending and time.monotonic() < deadline:
            for name in sorted(pending):
                phase, doc = self.phase(name)
                final[name] = phase
                if phase in TERMINAL or phase is None:
                    pending.discard(name)
            if pending:
                time.sleep(0.2)
        missing = [n for n in names if final.get(n) is None]
        failed = [f"{n}: {final[n]}" for n in names if final.get(n) in ("FAILED", "STOPPED")]
        stuck = [f"{n}: {final.get(n)}" for n in sorted(pending)]
        regressed = [n for n in self.ledger.completed if final.get(n) != "COMPLETED"]
        details = []
        for n in [f.split(":")[0] for f in failed][:5]:
            doc = self.phase(n)[1]
            status = doc.get("status", {})
            r = self.live.until_answered("GET", f"{self.path}/{n}/exceptions")
            exceptions = [e.get("message", "")[:200] for e in json_of(r).get("data", [])]
            details.append(f"{n} ({doc.get('spec', {}).get('statement')}): phase {status.get('phase')}, "
                           f"detail {status.get('detail', '')[:300]!r}, exceptions {exceptions[:3]}")
        if self.ledger.failed_seen:
            details.append(f"{len(self.ledger.failed_seen)} of them were already seen FAILED while the writers ran")
        check(not missing and not failed and not stuck and not regressed,
              f"of {len(names)} acknowledged INSERT statements: missing {missing[:10]}, FAILED/STOPPED {failed[:10]}, "
              f"not finished after {SETTLE_TIMEOUT:.0f}s {stuck[:10]}, seen COMPLETED but now not {regressed[:10]}"
              + ("\n  " + "\n  ".join(details) if details else ""))

    def rebase(self, url: str) -> str:
        """A `next`/`self` link of an earlier incarnation points at its port: keep only path and query."""
        parts = urlsplit(url)
        return parts.path + (f"?{parts.query}" if parts.query else "")

    def snapshot(self, table: str) -> collections.Counter:
        """SELECT seq FROM table, bounded (sql.snapshot.mode=now), all results pages followed."""
        self.snapshots += 1
        name = f"crash-check-{table}-{self.snapshots}"
        self.create_statement(name, f"SELECT seq FROM {table}", {"sql.snapshot.mode": "now"})
        rows: collections.Counter = collections.Counter()
        url = f"{self.path}/{name}/results"
        deadline = time.monotonic() + 120
        while url:
            check(time.monotonic() < deadline, f"results of {name} did not end within 120s")
            r = self.live.until_answered("GET", url)
            check(r.status_code == 200, f"results of {name}: {r.status_code} {r.text[:300]}")
            doc = r.json()
            for change in doc.get("results", {}).get("data", []):
                value = change["row"][0]
                op = change.get("op", 0)
                if op in (0, 2):
                    rows[int(value) if value is not None else None] += 1
                else:
                    rows[int(value) if value is not None else None] -= 1
            nxt = doc.get("metadata", {}).get("next") or ""
            url = self.rebase(nxt) if nxt else ""
        phase, doc = self.phase(name)
        check(phase == "COMPLETED", f"snapshot {name} ended {phase}: {str(doc)[:300]}")
        self.live.until_answered("DELETE", f"{self.path}/{name}")
        return +rows

    @staticmethod
    def describe_difference(got: collections.Counter, wanted: collections.Counter) -> str:
        missing = sorted(k for k in wanted if got[k] < wanted[k])
        duplicated = sorted(k for k in got if got[k] > 1)
        extra = sorted(k for k in got if k not in wanted)
        return (f"{sum(got.values())} rows ({len(got)} distinct), wanted {sum(wanted.values())}: "
                f"missing {len(missing)} {missing[:15]}, duplicated {len(duplicated)} "
                f"{[(k, got[k]) for k in duplicated[:15]]}, never acknowledged {len(extra)} {extra[:15]}")

    def check_src(self) -> None:
        wanted = collections.Counter(self.ledger.statements.values())
        got = self.snapshot("src")
        self.src = got   # dst must become exactly what src holds, whether or not src is right
        self.rows_checked += sum(got.values())
        check(got == wanted, "src is not exactly the acknowledged rows: " + self.describe_difference(got, wanted))

    def check_dst(self) -> None:
        wanted = getattr(self, "src", None) or collections.Counter(self.ledger.statements.values())
        deadline = time.monotonic() + SETTLE_TIMEOUT
        while True:
            got = self.snapshot("dst")
            duplicated = [k for k in got if got[k] > 1]
            if got == wanted or duplicated or any(k not in wanted for k in got) or time.monotonic() > deadline:
                break
            time.sleep(0.5)   # still catching up: only rows missing so far
        self.rows_checked += sum(got.values())
        check(got == wanted, "dst did not become exactly src: " + self.describe_difference(got, wanted))

    def check_copy_running(self) -> None:
        check(not self.ledger.restart_problems, "the long-running INSERT was not RUNNING after a restart:\n  "
              + "\n  ".join(self.ledger.restart_problems[:10]))
        phase, doc = self.phase("crash-copy")
        check(phase == "RUNNING", f"crash-copy is {phase} at the end: {str(doc)[:400]}")

    def check_graceful_restart(self) -> None:
        """A graceful stop and start after all that: the data survives it too, and the copy keeps running."""
        self.live.up.clear()
        self.server.shutdown()
        self.restart()
        self.live.up.set()
        self.check_copy_running()
        got = self.snapshot("src")
        before = getattr(self, "src", None)
        check(before is not None, "no earlier snapshot of src to compare with")
        check(got == before, "src changed across a graceful restart: " + self.describe_difference(got, before))
        r = self.live.until_answered("GET", "/healthz")
        check(r.status_code == 200, f"/healthz -> {r.status_code}")


def main() -> None:
    exit_on_signals()
    steps = Steps(f"reliability: crash ({MODE} mode, {KILLS} kills, {WRITERS} writers, seed {SEED})")
    started = time.monotonic()
    scenario = Scenario(steps)
    import atexit
    atexit.register(scenario.server.stop)
    ok = steps.run("setup: pool, src, dst and the long-running INSERT", scenario.setup)
    if ok:
        ran = steps.run(f"writers under {KILLS} random kill -9s", scenario.crash_loop)
        if (ran or scenario.ledger.statements) and not scenario.live.gone.is_set():
            steps.run("no unexpected answers while writing (no 5xx, no lost 409s)", scenario.check_no_unexpected_answers)
            steps.run("every acknowledged service account exists, once", scenario.check_service_accounts)
            steps.run("every acknowledged INSERT exists and ends COMPLETED", scenario.check_statements_settle)
            steps.run("src holds every acknowledged row exactly once", scenario.check_src)
            steps.run("dst catches up to exactly src", scenario.check_dst)
            steps.run("the long-running INSERT is RUNNING after every restart", scenario.check_copy_running)
            steps.run("a graceful restart changes nothing", scenario.check_graceful_restart)
    if scenario.server.process is not None and (steps.failed or os.environ.get("RELIABILITY_VERBOSE") == "1"):
        print(f"--- floe log tail ({scenario.server.log_path}):\n{scenario.server.log_tail(30)}", flush=True)
    led = scenario.ledger
    restart = (f"{min(led.restart_times):.2f}/{sum(led.restart_times) / len(led.restart_times):.2f}/"
               f"{max(led.restart_times):.2f}s") if led.restart_times else "n/a"
    print(f"FIGURES: mode={MODE} seed={SEED} crashes injected={led.kills} restart min/avg/max={restart} "
          f"service accounts acknowledged={len(led.sas)} statements acknowledged={len(led.statements)} "
          f"(seen COMPLETED while writing: {len(led.completed)}) create attempts={led.attempts} "
          f"unknown outcomes={led.unknown_outcomes} (found created after restart: {led.unknown_found}) "
          f"acknowledged via={dict(led.acked_via)} rows checked={scenario.rows_checked} "
          f"snapshot queries={scenario.snapshots} wall time={time.monotonic() - started:.0f}s", flush=True)
    steps.finish()


if __name__ == "__main__":
    main()
