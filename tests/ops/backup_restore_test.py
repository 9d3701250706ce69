#!/usr/bin/env python3
"""Backup and restore of a data directory, as README.md's "Backup and restore" says, through the real binary.

A server is set up with what an operator would not want to lose: a compute pool, a service account with a Flink API
key, two tables, rows, an unbounded ``INSERT INTO t2 SELECT * FROM t`` and an unbounded query over ``t2`` (both
RUNNING), and a bounded snapshot query with stored results. Then the documented procedure:

    kill -TERM <pid>                                      # a graceful stop: running INSERTs checkpoint
    tar -C <data-dir> -czpf backup.tar.gz .               # the whole directory, modes kept
    (the original directory is destroyed)
    mkdir <new> && tar -C <new> -xzpf backup.tar.gz       # restored under another path
    floe serve --data-dir <new> --port <another port>

Before the archive: no file of the directory names its path (so it may move). Checks on the restored server: the
modes came back private from the archive itself (before the server could tighten anything) and stay so; the
bootstrap key and the service account's key authenticate (a wrong secret does not); the pool and every statement are
there with the same names and phases; the snapshot's stored results read back identically; the RUNNING statements
are RUNNING again; rows inserted after the restore reach the sink ``t2`` exactly once (no loss, no duplicates) and
the running query's changelog holds every row once; links carry the new URL.

Standalone, stdlib only: ``FLOE_BIN=/path/to/floe python3 tests/ops/backup_restore_test.py``. One PASS/FAIL line per
step and a closing ``N passed, M failed``; exit 0 only when every step passed. ``COMPAT_KEEP=1`` keeps the
directories and logs.
"""
from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "compat"))

from floe_harness import CheckFailed, FloeServer, Steps, check, exit_on_signals  # noqa: E402

REGION = "aws.us-east-1"
RUNNING_STATEMENTS = ("copy", "follow")
PHASE_TIMEOUT = 30.0
CATCH_UP_TIMEOUT = 30.0
STOP_TIMEOUT = 30.0


class Api:
    """JSON over HTTP Basic auth to one base URL (stdlib only)."""

    def __init__(self, base_url: str, key: str, secret: str):
        self.base_url, self.key, self.secret = base_url, key, secret

    def call(self, method: str, target: str, body: object = None, *, params: dict | None = None,
             auth: tuple[str, str] | None = None) -> tuple[int, dict]:
        url = target if target.startswith("http") else self.base_url + target
        if params:
            url += ("&" if "?" in url else "?") + urllib.parse.urlencode(params)
        key, secret = auth or (self.key, self.secret)
        headers = {"Authorization": "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode("ascii"),
                   "Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=15) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as e:
            status, raw = e.code, e.read()
        try:
            doc = json.loads(raw) if raw else {}
        except ValueError:
            doc = {"_raw": raw[:300].decode(errors="replace")}
        return status, doc if isinstance(doc, dict) else {"_value": doc}

    def expect(self, method: str, target: str, body: object = None, *, status: int | tuple[int, ...] = 200,
               params: dict | None = None, auth: tuple[str, str] | None = None) -> dict:
        wanted = (status,) if isinstance(status, int) else status
        got, doc = self.call(method, target, body, params=params, auth=auth)
        check(got in wanted, f"{method} {target}: HTTP {got}, wanted {wanted}: {json.dumps(doc)[:400]}")
        return doc


def wait_for(predicate, timeout: float, what: str, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise CheckFailed(f"{what} (not within {timeout:.0f}s)")
        time.sleep(interval)


def private_mode_problems(root: Path) -> list[str]:
    """Entries under `root` (itself included) that group or others may use: files must be 0600, directories 0700."""
    problems = []
    for entry in [root, *sorted(root.rglob("*"))]:
        info = entry.lstat()
        if stat.S_ISLNK(info.st_mode):
            continue
        mode = stat.S_IMODE(info.st_mode)
        if mode & 0o077:
            problems.append(f"{entry.relative_to(root.parent)}: {mode:04o}")
    return problems


def row_key(row: list) -> tuple:
    """A result row as a comparable tuple; every value as its text (INT columns come back as JSON strings or numbers
    depending on the type, and only the values matter here)."""
    return tuple(None if v is None else str(v) for v in row)


def rows_of(*pairs: tuple[int, str]) -> Counter:
    """Each (id, v) once."""
    return Counter(row_key(list(p)) for p in pairs)


def tree(root: Path) -> dict[str, tuple[str, int]]:
    """Relative path -> (kind, permission bits) of every entry under `root`."""
    result = {}
    for entry in sorted(root.rglob("*")):
        info = entry.lstat()
        kind = "dir" if stat.S_ISDIR(info.st_mode) else "link" if stat.S_ISLNK(info.st_mode) else "file"
        result[str(entry.relative_to(root))] = (kind, stat.S_IMODE(info.st_mode))
    return result


class Scenario:
    def __init__(self) -> None:
        self.original = FloeServer(label="ops-backup")
        self.restored: FloeServer | None = None
        self.work = Path(tempfile.mkdtemp(prefix="floe-ops-backup-"))
        self.archive = self.work / "floe-backup.tar.gz"
        self.api: Api | None = None
        self.boot = None
        self.pool = ""
        self.sa = ""
        self.flink_key: tuple[str, str] = ("", "")
        self.path = ""
        self.names: list[str] = []            # statements made before the backup, in creation order
        self.before: dict = {}                 # what the original server answered before it stopped
        self.original_port = 0
        self.original_tree: dict[str, tuple[str, int]] = {}
        self.snapshots = 0

    # -- helpers

    def statement(self, name: str, sql: str, properties: dict | None = None) -> None:
        spec = {"statement": sql, "compute_pool_id": self.pool}
        if properties:
            spec["properties"] = properties
        self.api.expect("POST", self.path, {"name": name, "spec": spec}, status=201)

    def phase(self, name: str) -> str | None:
        status, doc = self.api.call("GET", f"{self.path}/{name}")
        return (doc.get("status") or {}).get("phase") if status == 200 else None

    def wait_phase(self, name: str, wanted: set[str], timeout: float = PHASE_TIMEOUT) -> str:
        phase = wait_for(lambda: (lambda p: p if p in wanted | {"FAILED"} else None)(self.phase(name)), timeout,
                         f"statement {name} reaching {sorted(wanted)}", interval=0.05)
        if phase == "FAILED" and "FAILED" not in wanted:
            detail = self.api.expect("GET", f"{self.path}/{name}")["status"].get("detail")
            raise CheckFailed(f"statement {name} FAILED: {detail}")
        return phase

    def run_to_completion(self, name: str, sql: str, properties: dict | None = None) -> None:
        self.statement(name, sql, properties)
        self.wait_phase(name, {"COMPLETED"})

    def results(self, name: str, *, follow_until_final: bool = True, timeout: float = PHASE_TIMEOUT) -> list[dict]:
        """Every stored change of `name`, following `next` until it is empty (a COMPLETED statement) or, for a running
        query, until a page comes back empty (everything stored so far was read)."""
        url, changes = f"{self.path}/{name}/results", []
        deadline = time.monotonic() + timeout
        while url:
            check(time.monotonic() < deadline, f"results of {name} still had a next link after {timeout:.0f}s")
            doc = self.api.expect("GET", url)
            page = doc["results"]["data"]
            changes += page
            url = doc["metadata"].get("next")
            if not follow_until_final and not page:
                break
        return changes

    def snapshot(self, table: str) -> list[list]:
        """The rows of `table` now, read with a bounded snapshot query that is deleted again."""
        self.snapshots += 1
        name = f"peek-{table}-{self.snapshots}"
        self.run_to_completion(name, f"SELECT id, v FROM {table}", {"sql.snapshot.mode": "now"})
        changes = self.results(name)
        self.api.expect("DELETE", f"{self.path}/{name}", status=(200, 202, 204))
        check(all(c.get("op") == 0 for c in changes), f"snapshot of {table} holds non-insert changes: {changes[:5]}")
        return [c["row"] for c in changes]

    def wait_rows(self, table: str, wanted: Counter, what: str) -> None:
        """Waits until `table` holds at least as many rows as `wanted`, then checks it holds exactly those."""
        rows: list = []

        def caught_up():
            nonlocal rows
            rows = self.snapshot(table)
            return len(rows) >= sum(wanted.values())
        try:
            wait_for(caught_up, CATCH_UP_TIMEOUT, f"{table} reaching {sum(wanted.values())} rows", interval=0.2)
        except CheckFailed as e:
            raise CheckFailed(f"{e}; it holds {sorted(map(row_key, rows))}") from None
        got = Counter(row_key(r) for r in rows)
        check(got == wanted, f"{what}: {table} holds {sorted(got.elements())}, wanted each of {sorted(wanted)} once "
                             f"(extra {sorted((got - wanted).elements())}, missing {sorted((wanted - got).elements())})")

    def listing(self) -> dict[str, str]:
        """Statement name -> phase, over every page."""
        found: dict[str, str] = {}
        url = self.path
        params = {"page_size": 100}
        while url:
            doc = self.api.expect("GET", url, params=params)
            for item in doc["data"]:
                found[item["name"]] = item["status"]["phase"]
            url, params = doc["metadata"].get("next"), None
        return found

    # -- before the backup

    def start_original(self) -> None:
        self.original.start()
        self.original_port = self.original.port
        self.boot = self.original.bootstrap()
        check(self.boot.api_key == self.original.key, "the bootstrap key is not the one asked for")
        self.api = Api(self.original.base_url, self.boot.api_key, self.boot.api_secret)
        self.path = f"/sql/v1/organizations/{self.boot.organization_id}/environments/{self.boot.environment_id}/statements"
        print(f"   floe {self.original.binary} at {self.original.base_url}, data dir {self.original.data_dir}", flush=True)

    def make_pool(self) -> None:
        doc = self.api.expect("POST", "/fcpm/v2/compute-pools", {"spec": {
            "display_name": "backup-pool", "cloud": "AWS", "region": "us-east-1", "max_cfu": 10,
            "environment": {"id": self.boot.environment_id}}}, status=(200, 201, 202))
        self.pool = doc["id"]
        wait_for(lambda: self.api.expect("GET", f"/fcpm/v2/compute-pools/{self.pool}",
                                         params={"environment": self.boot.environment_id})["status"]["phase"] == "PROVISIONED",
                 PHASE_TIMEOUT, f"compute pool {self.pool} PROVISIONED")

    def make_service_account_key(self) -> None:
        self.sa = self.api.expect("POST", "/iam/v2/service-accounts",
                                  {"display_name": "backup-sa", "description": "backup and restore test"}, status=201)["id"]
        crn = f"crn://confluent.cloud/organization={self.boot.organization_id}/environment={self.boot.environment_id}"
        self.api.expect("POST", "/iam/v2/role-bindings",
                        {"principal": f"User:{self.sa}", "role_name": "FlinkDeveloper", "crn_pattern": crn}, status=(200, 201))
        doc = self.api.expect("POST", "/iam/v2/api-keys", {"spec": {
            "display_name": "backup-flink", "owner": {"id": self.sa},
            "resource": {"id": REGION, "environment": self.boot.environment_id}}}, status=(201, 202))
        self.flink_key = (doc["id"], doc["spec"]["secret"])
        # The key works now, so a failure after the restore is the restore's.
        self.api.expect("GET", self.path, auth=self.flink_key)

    def make_statements(self) -> None:
        self.run_to_completion("ddl-t", "CREATE TABLE t (id INT, v STRING)")
        self.run_to_completion("ddl-t2", "CREATE TABLE t2 (id INT, v STRING)")
        self.run_to_completion("fill-1", "INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, 'c')")
        self.statement("copy", "INSERT INTO t2 SELECT * FROM t")
        self.statement("follow", "SELECT id, v FROM t2")
        for name in RUNNING_STATEMENTS:
            self.wait_phase(name, {"RUNNING"})
        self.wait_rows("t2", rows_of((1, "a"), (2, "b"), (3, "c")), "before the backup")
        self.run_to_completion("fill-2", "INSERT INTO t VALUES (4, 'd')")
        self.wait_rows("t2", rows_of((1, "a"), (2, "b"), (3, "c"), (4, "d")), "before the backup")
        # The running query's stored results are compared after the restore: let it catch up with t2 first.
        wait_for(lambda: len(self.results("follow", follow_until_final=False)) >= 4, CATCH_UP_TIMEOUT,
                 "the running query's results reaching 4 rows", interval=0.2)
        self.run_to_completion("report", "SELECT id, v FROM t2 WHERE id <= 3", {"sql.snapshot.mode": "now"})
        report = self.results("report")
        check(Counter(row_key(c["row"]) for c in report) == rows_of((1, "a"), (2, "b"), (3, "c")),
              f"the snapshot query's results are {report}")

    def record(self) -> None:
        """What the restored server must answer the same."""
        self.before["listing"] = self.listing()
        self.before["report"] = self.results("report")
        self.before["follow"] = self.results("follow", follow_until_final=False)
        self.before["pool"] = self.api.expect("GET", f"/fcpm/v2/compute-pools/{self.pool}",
                                              params={"environment": self.boot.environment_id})
        self.before["bootstrap"] = (self.original.data_dir / "bootstrap.json").read_text()
        listing = self.before["listing"]
        check(all(listing.get(n) == "RUNNING" for n in RUNNING_STATEMENTS), f"not all RUNNING before the backup: {listing}")
        check({"ddl-t", "ddl-t2", "fill-1", "fill-2", "report", *RUNNING_STATEMENTS} <= set(listing),
              f"statements missing from the listing: {listing}")

    # -- the procedure

    def stop_gracefully(self) -> None:
        process = self.original.process
        check(process is not None and process.poll() is None, "the original server is not running")
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)  # our own child, by pid
        try:
            status = process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
            raise CheckFailed(f"the server did not stop within {STOP_TIMEOUT:.0f}s of SIGTERM")
        finally:
            self.original.process = None
        check(status == 0, f"the server exited with status {status} after SIGTERM; log tail:\n{self.original.log_tail()}")
        print(f"   stopped in {time.monotonic() - started:.2f}s", flush=True)

    def archive_and_destroy(self) -> None:
        data_dir = self.original.data_dir
        self.original_tree = tree(data_dir)
        check("floe.sqlite" in self.original_tree and "bootstrap.json" in self.original_tree,
              f"the data directory lacks the database or bootstrap.json: {sorted(self.original_tree)}")
        check(any(p.startswith("engine/checkpoints/") and p.endswith(".ckpt") for p in self.original_tree),
              f"no checkpoint of the running INSERT in engine/checkpoints: {sorted(self.original_tree)}")
        # The README says a directory may be restored under another path: nothing in it may name its own.
        named = [p for p, (kind, _) in self.original_tree.items()
                 if kind == "file" and str(data_dir).encode() in (data_dir / p).read_bytes()]
        check(not named, f"files that name the data directory's path: {named}")
        subprocess.run(["tar", "-C", str(data_dir), "-czpf", str(self.archive), "."], check=True)
        shutil.rmtree(data_dir)
        check(not data_dir.exists(), f"{data_dir} still exists")

    def extract(self) -> None:
        target = self.work / "restored"
        target.mkdir(mode=0o700)
        subprocess.run(["tar", "-C", str(target), "-xzpf", str(self.archive)], check=True)
        restored_tree = tree(target)
        check(restored_tree == self.original_tree,
              "the extracted tree differs from the original: "
              f"{sorted(set(restored_tree.items()) ^ set(self.original_tree.items()))[:20]}")
        # Checked before any server runs on it: the archive itself kept the modes (the server would tighten them).
        problems = private_mode_problems(target)
        check(not problems, f"entries not private after extraction: {problems[:20]}")
        self.restored = FloeServer(label="ops-restored")
        self.restored.data_dir = target
        self.restored.log_path = self.work / "restored.log"

    def start_restored(self) -> None:
        # Another port than the original's, so that links must change; its FLOE_BOOTSTRAP_* credentials are fresh ones
        # and must be ignored: the restored store is bootstrapped already.
        for _ in range(5):
            self.restored.start()
            if self.restored.port != self.original_port:
                break
            self.restored.shutdown()
        check(self.restored.port != self.original_port, "could not get a port other than the original's")
        self.api = Api(self.restored.base_url, self.boot.api_key, self.boot.api_secret)
        print(f"   restored server at {self.restored.base_url}, data dir {self.restored.data_dir}", flush=True)

    # -- checks on the restored server

    def check_credentials(self) -> None:
        check((self.restored.data_dir / "bootstrap.json").read_text() == self.before["bootstrap"],
              "bootstrap.json changed on the restored server")
        self.api.expect("GET", "/org/v2/environments")
        self.api.expect("GET", "/org/v2/environments", status=401, auth=(self.restored.key, self.restored.secret))
        self.api.expect("GET", "/org/v2/environments", status=401, auth=(self.boot.api_key, "x" * 64))
        listed = self.api.expect("GET", self.path, auth=self.flink_key)
        check({"copy", "report"} <= {s["name"] for s in listed["data"]},
              f"the service account's key lists {[s['name'] for s in listed['data']]}")
        self.api.expect("GET", self.path, status=401, auth=(self.flink_key[0], "y" * 64))
        sa = self.api.expect("GET", f"/iam/v2/service-accounts/{self.sa}")
        check(sa.get("display_name") == "backup-sa", f"service account {self.sa}: {sa}")

    def check_pool(self) -> None:
        pool = self.api.expect("GET", f"/fcpm/v2/compute-pools/{self.pool}", params={"environment": self.boot.environment_id})
        old = self.before["pool"]
        check(pool["spec"]["display_name"] == old["spec"]["display_name"] and pool["status"]["phase"] == "PROVISIONED",
              f"pool after restore: {pool}")
        check(pool["metadata"]["self"].startswith(self.restored.base_url + "/"),
              f"pool's metadata.self {pool['metadata']['self']!r} is not on {self.restored.base_url}")

    def check_statements(self) -> None:
        for name in RUNNING_STATEMENTS:
            self.wait_phase(name, {"RUNNING"})
        now = self.listing()
        check(now == self.before["listing"], f"statements after restore {now}, before {self.before['listing']}")
        doc = self.api.expect("GET", f"{self.path}/copy")
        check(doc["metadata"]["self"].startswith(self.restored.base_url + "/"),
              f"statement's metadata.self {doc['metadata']['self']!r} is not on {self.restored.base_url}")

    def check_stored_results(self) -> None:
        report = self.results("report")
        check(report == self.before["report"], f"stored results differ: {report} vs {self.before['report']}")
        status, doc = self.api.call("GET", f"{self.path}/follow/results")
        check(status == 200, f"results of follow: HTTP {status}")
        following = doc["metadata"].get("next") or ""
        check(following.startswith(self.restored.base_url + "/"), f"results next link {following!r} is not on the new URL")

    def check_exactly_once(self) -> None:
        self.run_to_completion("fill-3", "INSERT INTO t VALUES (5, 'e'), (6, 'f')")
        wanted = rows_of((1, "a"), (2, "b"), (3, "c"), (4, "d"), (5, "e"), (6, "f"))
        self.wait_rows("t2", wanted, "after the restore")
        self.wait_phase("copy", {"RUNNING"})

    def check_running_query(self) -> None:
        before = self.before["follow"]
        check(Counter(row_key(c["row"]) for c in before) == rows_of((1, "a"), (2, "b"), (3, "c"), (4, "d")),
              f"the running query had stored {before} before the backup")
        changes: list = []

        def caught_up():
            nonlocal changes
            changes = self.results("follow", follow_until_final=False)
            return len(changes) >= 6
        wait_for(caught_up, CATCH_UP_TIMEOUT, "the running query's changelog reaching 6 rows", interval=0.2)
        check(changes[:len(before)] == before, f"the running query's stored changes changed: {changes[:len(before)]} vs {before}")
        rows = Counter(row_key(c["row"]) for c in changes)
        check(all(c["op"] == 0 for c in changes) and rows == rows_of((1, "a"), (2, "b"), (3, "c"), (4, "d"), (5, "e"), (6, "f")),
              f"the running query's changelog after the restore: {changes}")

    def check_modes_after_run(self) -> None:
        problems = private_mode_problems(self.restored.data_dir)
        check(not problems, f"entries not private on the restored server: {problems[:20]}")

    def cleanup(self) -> None:
        for server in (self.original, self.restored):
            if server is not None:
                server.stop()
        if os.environ.get("COMPAT_KEEP") == "1":
            print(f"(kept {self.work})", flush=True)
        else:
            shutil.rmtree(self.work, ignore_errors=True)


def main() -> None:
    exit_on_signals()
    steps = Steps("ops: backup and restore of the data directory")
    scenario = Scenario()
    plan = [
        ("start a server", scenario.start_original),
        ("compute pool PROVISIONED", scenario.make_pool),
        ("service account with a Flink API key", scenario.make_service_account_key),
        ("tables, rows, a RUNNING INSERT and query, a snapshot query with results", scenario.make_statements),
        ("record what the server answers", scenario.record),
        ("stop with SIGTERM: graceful, exit status 0", scenario.stop_gracefully),
        ("archive with tar -czpf, destroy the original directory", scenario.archive_and_destroy),
        ("extract under a new path: same tree, modes private", scenario.extract),
        ("start a server on the restored directory and another port", scenario.start_restored),
    ]
    checks = [
        ("bootstrap key and service account key authenticate; wrong secrets do not", scenario.check_credentials),
        ("compute pool kept, its links on the new URL", scenario.check_pool),
        ("statements listed with the same names and phases, RUNNING ones RUNNING again", scenario.check_statements),
        ("stored results read back identically, links on the new URL", scenario.check_stored_results),
        ("rows inserted after the restore reach the sink exactly once", scenario.check_exactly_once),
        ("the RUNNING query kept its results and follows on, each row once", scenario.check_running_query),
        ("files 0600 and directories 0700 on the restored server", scenario.check_modes_after_run),
    ]
    try:
        for name, step in plan:
            if steps.run(name, step) is None:
                print("   (the remaining steps need this one)", flush=True)
                break
        else:
            for name, step in checks:
                steps.run(name, step)
    finally:
        scenario.cleanup()
    steps.finish()


if __name__ == "__main__":
    main()
