#!/usr/bin/env python3
"""SQL authorization by catalog: who may read, write or run DDL on which environment's catalog, with which key.

A catalog is an environment. A statement may read, write (INSERT) or run DDL on a catalog only where its principal
holds a role that allows it (OrganizationAdmin anywhere; EnvironmentAdmin, FlinkAdmin or FlinkDeveloper on that
environment) AND the calling API key reaches it (a Cloud key reaches every environment of its principal; a Flink key
only its own environment). Denied reads, writes and DDL end FAILED with "... does not exist or you do not have access
to it" and change nothing; a catalog that is denied is simply absent from SHOW CATALOGS and
INFORMATION_SCHEMA.CATALOGS (`examples` is always there).

Set-up (the bootstrap admin): environments `envA` and `envB`, a PROVISIONED pool in each, a table `tb` with a seed row
in each. Principals (service accounts): P1 OrganizationAdmin; P2 EnvironmentAdmin on A; P3 FlinkAdmin on A;
P4 FlinkDeveloper on A; P5 FlinkDeveloper on A and on B; P6 no role. Each gets a Cloud key and a Flink key of A
(aws.us-east-1), minted by the admin. With each key, ten statements in A (A's pool, created concurrently): read
own/other/other-by-id, write own/other, DDL own/other, SHOW CATALOGS, INFORMATION_SCHEMA.CATALOGS, SHOW TABLES of B.
The admin then checks that B's data and tables hold exactly the allowed writes and DDL.

Key minting: a Flink key for an environment where the owner has no Flink role is refused (403); an EnvironmentAdmin
may not mint keys for an OrganizationAdmin, nor for any service account without Assigner on it; an Assigner may not
mint a key for a principal holding more privilege than itself.

Standalone: `python3 tests/reliability/rbac_matrix_test.py` (FLOE_BIN; RELIABILITY_MODE=quick|long: long runs the
matrix twice, the second time on a restarted server).
"""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from reliability_common import (LONG, MODE, TERMINAL, Admin, Api, CheckFailed, FloeServer, SkipStep, Steps,
                                check, require_error, tag)

DENIED = "does not exist or you do not have access to it"
REGION = "aws.us-east-1"
WORKERS = 8
STATEMENT_TIMEOUT = 60.0

PRINCIPALS = {  # number -> (label, role bindings as (role, "org" | "A" | "B"))
    1: ("OrgAdmin", [("OrganizationAdmin", "org")]),
    2: ("EnvAdmin@A", [("EnvironmentAdmin", "A")]),
    3: ("FlinkAdmin@A", [("FlinkAdmin", "A")]),
    4: ("FlinkDev@A", [("FlinkDeveloper", "A")]),
    5: ("FlinkDev@A+B", [("FlinkDeveloper", "A"), ("FlinkDeveloper", "B")]),
    6: ("no role", []),
}
CHECKS = ["read own", "read other", "read other id", "write own", "write other", "ddl own", "ddl other",
          "show catalogs", "info schema", "show tables other"]
SHORT = dict(zip(CHECKS, ["rd own", "rd oth", "rd oth id", "wr own", "wr oth", "ddl own", "ddl oth", "show cat",
                          "info cat", "show tbl"]))


def has_role(p: int, env: str) -> bool:
    return any(scope in ("org", env) for _, scope in PRINCIPALS[p][1])


def key_reaches(kind: str, env: str) -> bool:
    return kind == "cloud" or env == "A"


def allowed(p: int, kind: str, env: str) -> bool:
    return has_role(p, env) and key_reaches(kind, env)


@dataclass
class Cell:
    principal: int
    kind: str               # "cloud" | "flink"
    check: str
    env_touched: str        # "A" | "B"
    sql: str
    expect_allowed: bool
    marker: str = ""
    name: str = ""
    outcome: str = "?"      # "allowed" | "denied" | "error"
    problem: str = ""
    observed: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problem


class RBACMatrix:
    def __init__(self, steps: Steps):
        self.steps = steps
        self.server: FloeServer | None = None
        self.admin: Admin | None = None
        self.env: dict[str, str] = {}
        self.env_name: dict[str, str] = {}
        self.pool: dict[str, str] = {}
        self.sa: dict[int, str] = {}
        self.keys: dict[tuple[int, str], tuple[str, str]] = {}
        self.cells: list[Cell] = []
        self.statements = 0
        self.round = 0
        self.default_name = "default"

    # ---------------------------------------------------------------------------------------- helpers
    @property
    def org(self) -> str:
        return self.admin.org

    def env_crn(self, env: str) -> str:
        return f"crn://confluent.cloud/organization={self.org}/environment={self.env[env]}"

    def org_crn(self) -> str:
        return f"crn://confluent.cloud/organization={self.org}"

    def sa_crn(self, sa: str) -> str:
        return f"crn://confluent.cloud/organization={self.org}/service-account={sa}"

    def api_for(self, p: int, kind: str) -> Api:
        key, secret = self.keys[(p, kind)]
        return self.admin.api.with_key(key, secret)

    def bind(self, principal_id: str, role: str, crn: str, api: Api | None = None) -> None:
        (api or self.admin.api).call("POST", "/iam/v2/role-bindings",
                                     {"principal": f"User:{principal_id}", "role_name": role, "crn_pattern": crn},
                                     expect=(200, 201))

    def key_body(self, owner: str, kind: str, env: str = "A") -> dict:
        resource = {"id": "cloud"} if kind == "cloud" else {"id": REGION, "environment": self.env[env]}
        return {"spec": {"display_name": f"k-{tag()}", "owner": {"id": owner}, "resource": resource}}

    def mint(self, owner: str, kind: str, env: str = "A", api: Api | None = None):
        return (api or self.admin.api).call("POST", "/iam/v2/api-keys", self.key_body(owner, kind, env))

    def run_admin(self, env: str, sql: str, props: dict | None = None) -> dict:
        """A statement of the admin in `env` on its pool, waited for; COMPLETED required."""
        name = f"admin-{tag()}"
        self.admin.post_statement(self.env[env], name, sql, self.pool[env],
                                  {"sql.current-catalog": self.env_name[env], "sql.current-database": "default",
                                   **(props or {})}, expect=201)
        self.statements += 1
        doc = self.admin.wait_statement(self.env[env], name, {"COMPLETED", "FAILED"}, timeout=STATEMENT_TIMEOUT)
        check(doc["status"]["phase"] == "COMPLETED", f"admin statement {sql[:80]!r} is {doc['status']['phase']}: "
                                                     f"{doc['status'].get('detail', '')[:200]!r}")
        doc["_name"] = name
        return doc

    def admin_rows(self, env: str, sql: str) -> list[list]:
        doc = self.run_admin(env, sql, {"sql.snapshot.mode": "now"})
        return self.admin.results(self.env[env], doc["_name"])

    # ------------------------------------------------------------------------------------------ set-up
    def start(self):
        self.server = FloeServer(label="rbac")
        try:
            self.server.start(timeout=60)
        except (RuntimeError, OSError) as e:
            raise CheckFailed(f"the server did not start: {str(e)[-400:]}") from None
        self.admin = Admin(self.server)

    def setup(self):
        for env in ("A", "B"):
            self.env_name[env] = f"env{env}"
            self.env[env] = self.admin.create_environment(self.env_name[env])
            self.pool[env] = self.admin.create_pool(self.env[env], name=f"pool-{env.lower()}", max_cfu=50)
        for env in ("A", "B"):
            self.admin.wait_pool(self.env[env], self.pool[env])
        for env in ("A", "B"):
            self.run_admin(env, f"CREATE TABLE `{self.env_name[env]}`.`default`.tb (x INT, s STRING)")
            self.run_admin(env, f"INSERT INTO `{self.env_name[env]}`.`default`.tb VALUES (0, 'seed-{env}')")
        boot_env = self.admin.boot.environment_id
        self.default_name = self.admin.api.call("GET", f"/org/v2/environments/{boot_env}",
                                                expect=200).body["display_name"]
        self.env["default"] = boot_env
        rows = self.admin_rows("B", "SELECT * FROM `envB`.`default`.tb")
        check(rows == [["0", "seed-B"]], f"seed row of envB.default.tb: {rows}")

    def principals(self):
        for p, (label, bindings) in PRINCIPALS.items():
            r = self.admin.api.call("POST", "/iam/v2/service-accounts",
                                    {"display_name": f"p{p}-{tag()}", "description": label}, expect=(200, 201))
            self.sa[p] = r.body["id"]
            for role, scope in bindings:
                self.bind(self.sa[p], role, self.org_crn() if scope == "org" else self.env_crn(scope))
        for p in PRINCIPALS:
            r = self.mint(self.sa[p], "cloud")
            if p == 6 and r.status not in (201, 202):
                require_error(r, r.status, what="admin minting a Cloud key for P6 (no role)")
                print(f"  note: the admin may not mint a Cloud key for P6 (no role): HTTP {r.status} "
                      f"{r.detail()[:120]!r}", flush=True)
                continue
            check(r.status in (201, 202), f"admin minting a Cloud key for P{p} -> HTTP {r.status}: {r.snippet()}")
            self.keys[(p, "cloud")] = (r.body["id"], r.body["spec"]["secret"])
            if p == 6:
                continue  # no role: its Flink key is refused (checked in the key-minting steps)
            r = self.mint(self.sa[p], "flink", "A")
            check(r.status in (201, 202), f"admin minting a Flink key of A for P{p} -> HTTP {r.status}: {r.snippet()}")
            self.keys[(p, "flink")] = (r.body["id"], r.body["spec"]["secret"])

    # ------------------------------------------------------------------------------------------ matrix
    def build_cells(self) -> list[Cell]:
        cells = []
        b_id = self.env["B"]
        for p in (1, 2, 3, 4, 5):
            for kind in ("cloud", "flink"):
                u = f"r{self.round}-p{p}-{kind}-{tag()[:4]}"
                a_ok, b_ok = allowed(p, kind, "A"), allowed(p, kind, "B")

                def cell(check_: str, env: str, sql: str, ok: bool, marker: str = "") -> Cell:
                    return Cell(p, kind, check_, env, sql, ok, marker)
                cells += [
                    cell("read own", "A", "SELECT * FROM `envA`.`default`.tb", a_ok),
                    cell("read other", "B", "SELECT * FROM `envB`.`default`.tb", b_ok),
                    cell("read other id", "B", f"SELECT * FROM `{b_id}`.`default`.tb", b_ok),
                    cell("write own", "A", f"INSERT INTO `envA`.`default`.tb VALUES ({p}, '{u}-w')", a_ok, f"{u}-w"),
                    cell("write other", "B", f"INSERT INTO `envB`.`default`.tb VALUES ({p}, '{u}-w')", b_ok, f"{u}-w"),
                    cell("ddl own", "A", f"CREATE TABLE `envA`.`default`.t_{u.replace('-', '_')} (x INT)", a_ok,
                         f"t_{u.replace('-', '_')}"),
                    cell("ddl other", "B", f"CREATE TABLE `envB`.`default`.t_{u.replace('-', '_')} (x INT)", b_ok,
                         f"t_{u.replace('-', '_')}"),
                    cell("show catalogs", "B", "SHOW CATALOGS", b_ok),
                    cell("info schema", "B", "SELECT CATALOG_NAME FROM `envA`.`INFORMATION_SCHEMA`.`CATALOGS`", b_ok),
                    cell("show tables other", "B", "SHOW TABLES FROM `envB`.`default`", b_ok),
                ]
        for i, c in enumerate(cells):
            c.name = f"m{self.round}-p{c.principal}-{c.kind}-{CHECKS.index(c.check)}-{i}-{tag()[:6]}"
        return cells

    def post_cell(self, c: Cell) -> None:
        api = self.api_for(c.principal, c.kind)
        props = {"sql.current-catalog": "envA", "sql.current-database": "default"}
        if c.check.startswith("read"):
            props["sql.snapshot.mode"] = "now"
        r = self.admin.post_statement(self.env["A"], c.name, c.sql, self.pool["A"], props, api=api)
        if r.status != 201:
            c.outcome = "error"
            c.observed = f"POST {r.status}"
            c.problem = f"POST -> HTTP {r.status}, expected 201: {r.snippet(160)}"
            if r.status >= 400:
                try:
                    require_error(r, r.status)
                except CheckFailed as e:
                    c.problem += f" ({e})"
            c.extra["done"] = True

    def wait_cells(self, cells: list[Cell]) -> None:
        pending = [c for c in cells if not c.extra.get("done")]
        deadline = time.monotonic() + STATEMENT_TIMEOUT
        while pending and time.monotonic() < deadline:
            still = []
            for c in pending:
                r = self.admin.get_statement(self.env["A"], c.name, api=self.api_for(c.principal, c.kind))
                if r.status != 200:
                    c.outcome, c.observed = "error", f"GET {r.status}"
                    c.problem = f"GET -> HTTP {r.status}: {r.snippet(160)}"
                    continue
                st = r.body["status"]
                if st["phase"] in TERMINAL:
                    c.extra["phase"], c.extra["detail"] = st["phase"], st.get("detail") or ""
                else:
                    still.append(c)
            pending = still
            if pending:
                time.sleep(0.2)
        for c in pending:
            c.outcome, c.observed = "error", "timeout"
            c.problem = f"not terminal within {STATEMENT_TIMEOUT:.0f}s"

    def judge(self, c: Cell) -> None:
        if c.problem:
            return
        phase, detail = c.extra.get("phase"), c.extra.get("detail", "")
        api = self.api_for(c.principal, c.kind)
        if c.check in ("show catalogs", "info schema"):
            if phase != "COMPLETED":
                c.outcome, c.observed = "error", phase
                c.problem = f"{c.check} is {phase}: {detail[:160]!r}"
                return
            rows = self.admin.results(self.env["A"], c.name, api=api)
            names = {row[0] for row in rows if row}
            c.extra["catalogs"] = sorted(names)
            c.outcome = "allowed" if "envB" in names else "denied"
            c.observed = "listed" if "envB" in names else "absent"
            required = ["envA"] + (["examples"] if c.check == "show catalogs" else [])
            missing = [n for n in required if n not in names]
            # Every environment the principal and key reach is listed, and no other one.
            envs = {self.env_name[e]: e for e in ("A", "B")}
            envs[self.default_name] = "default"
            wrong = [f"{n} {'listed' if n in names else 'absent'}" for n, e in sorted(envs.items())
                     if (n in names) != allowed(c.principal, c.kind, e)]
            if missing:
                c.problem = f"{c.check} lacks {missing}: {sorted(names)}"
            elif wrong:
                c.problem = f"{c.check} lists {sorted(names)}: wrongly {', '.join(wrong)}"
            if c.check == "info schema" and "examples" not in names:
                c.extra["note"] = "no examples"
        else:
            if phase == "COMPLETED":
                c.outcome, c.observed = "allowed", "COMPLETED"
                if c.check.startswith("read"):
                    rows = self.admin.results(self.env["A"], c.name, api=api)
                    seed = ["0", f"seed-{c.env_touched}"]
                    if seed not in rows:
                        c.problem = f"read returned {rows[:5]}, lacking the seed row {seed}"
                elif c.check == "show tables other":
                    rows = self.admin.results(self.env["A"], c.name, api=api)
                    if ["tb"] not in rows:
                        c.problem = f"SHOW TABLES FROM envB.default returned {rows[:5]}, lacking tb"
            elif phase == "FAILED":
                if DENIED in detail:
                    c.outcome, c.observed = "denied", "FAILED denied"
                else:
                    c.outcome, c.observed = "error", "FAILED other"
                    c.problem = f"FAILED with an unexpected detail: {detail[:200]!r}"
                    return
            else:
                c.outcome, c.observed = "error", str(phase)
                c.problem = f"ended {phase}: {detail[:160]!r}"
                return
        want = "allowed" if c.expect_allowed else "denied"
        if c.outcome != want and not c.problem:
            c.problem = (f"{c.outcome} ({c.observed}), expected {want}"
                         + (f"; catalogs {c.extra['catalogs']}" if "catalogs" in c.extra else "")
                         + (f"; detail {c.extra.get('detail', '')[:120]!r}" if c.extra.get("detail") else ""))

    def matrix(self):
        self.round += 1
        cells = self.build_cells()
        self.cells += cells
        t = time.monotonic()
        with ThreadPoolExecutor(WORKERS) as pool:
            list(pool.map(self.post_cell, cells))
        self.statements += len(cells)
        self.wait_cells(cells)
        with ThreadPoolExecutor(WORKERS) as pool:
            list(pool.map(self.judge, cells))
        print(f"  matrix round {self.round}: {len(cells)} statements in {time.monotonic() - t:.1f}s", flush=True)
        no_examples = sum(1 for c in cells if c.extra.get("note") == "no examples")
        if no_examples:
            print(f"  note: INFORMATION_SCHEMA.CATALOGS did not list `examples` in {no_examples} cells "
                  f"(SHOW CATALOGS must; not required here)", flush=True)
        self.print_table(cells)
        self.current = cells

    def row_step(self, p: int, kind: str):
        cells = [c for c in self.current if c.principal == p and c.kind == kind]
        bad = [f"{c.check}: {c.problem}" for c in cells if not c.ok]
        check(not bad, f"{len(bad)} of {len(cells)} cells wrong: " + " | ".join(bad))

    def print_table(self, cells: list[Cell]) -> None:
        width = 10
        header = f"  {'principal / key':<22}" + "".join(f"{SHORT[c]:<{width}}" for c in CHECKS)
        print(header, flush=True)
        for p in (1, 2, 3, 4, 5):
            for kind in ("cloud", "flink"):
                row = {c.check: c for c in cells if c.principal == p and c.kind == kind}
                parts = []
                for name in CHECKS:
                    c = row.get(name)
                    if c is None:
                        parts.append(f"{'-':<{width}}")
                        continue
                    mark = {"allowed": "yes", "denied": "no", "error": "ERR"}.get(c.outcome, "?")
                    if not c.ok:
                        mark += "!"
                    parts.append(f"{mark:<{width}}")
                print(f"  P{p} {PRINCIPALS[p][0]:<12} {kind:<5} " + "".join(parts), flush=True)
        print("  (yes = allowed/listed, no = denied/absent, ! = differs from the expectation or malformed)", flush=True)

    # ------------------------------------------------------------------------------------ verification
    def b_data_unchanged(self):
        rows = self.admin_rows("B", "SELECT * FROM `envB`.`default`.tb")
        values = {row[1] for row in rows}
        writes = [c for c in self.current if c.check == "write other"]
        leaked = [c.marker for c in writes if not c.expect_allowed and c.marker in values]
        lost = [c.marker for c in writes if c.expect_allowed and c.outcome == "allowed" and c.marker not in values]
        check("seed-B" in values, f"envB's seed row is gone: {rows[:5]}")
        check(not leaked, f"denied writes reached envB.default.tb: {leaked}")
        check(not lost, f"allowed writes (COMPLETED) are missing from envB.default.tb: {lost}")

    def b_tables_unchanged(self):
        names = {row[0] for row in self.admin_rows("B", "SHOW TABLES FROM `envB`.`default`")}
        ddl = [c for c in self.current if c.check == "ddl other"]
        leaked = [c.marker for c in ddl if not c.expect_allowed and c.marker in names]
        lost = [c.marker for c in ddl if c.expect_allowed and c.outcome == "allowed" and c.marker not in names]
        check(not leaked, f"denied CREATE TABLEs exist in envB.default: {leaked}")
        check(not lost, f"allowed CREATE TABLEs (COMPLETED) are missing from envB.default: {lost}")

    def no_role_refused(self):
        if (6, "cloud") not in self.keys:
            raise SkipStep("P6 has no Cloud key (minting it was refused)")
        api = self.api_for(6, "cloud")
        for sql in ("SELECT * FROM `envA`.`default`.tb", "SHOW CATALOGS"):
            r = self.admin.post_statement(self.env["A"], f"p6-{tag()}", sql, self.pool["A"],
                                          {"sql.snapshot.mode": "now"}, api=api)
            self.statements += 1
            require_error(r, 403, what=f"P6 (no role) POST {sql!r}")

    def files_out_of_reach(self):
        """Filesystem tables are off unless the operator names directories: no statement reads the server's files
        (its bootstrap credentials, its database) or anything else of the host, even an OrganizationAdmin's."""
        bootstrap = str(self.server.data_dir / "bootstrap.json")
        for path in (bootstrap, "/proc/self/environ", "/etc/passwd"):
            name = f"files-{tag()}"
            sql = (f"CREATE TABLE `{self.env_name['A']}`.`default`.t_{tag()} (api_key STRING, api_secret STRING) "
                   f"WITH ('connector' = 'filesystem', 'path' = '{path}', 'format' = 'json')")
            self.admin.post_statement(self.env["A"], name, sql, self.pool["A"], {}, expect=201)
            self.statements += 1
            doc = self.admin.wait_statement(self.env["A"], name, {"COMPLETED", "FAILED"}, timeout=STATEMENT_TIMEOUT)
            detail = doc["status"].get("detail", "")
            check(doc["status"]["phase"] == "FAILED" and "filesystem connector is not enabled" in detail,
                  f"a filesystem table over {path} is {doc['status']['phase']}: {detail[:200]!r}")

    def data_files_private(self):
        """Everything the server keeps (database and its WAL, table logs, checkpoints, catalog, credentials) is private
        to the server's user: no permission for group or others."""
        import stat
        exposed = []
        for path in [self.server.data_dir, *self.server.data_dir.rglob("*")]:
            mode = path.lstat().st_mode
            if not stat.S_ISLNK(mode) and mode & 0o077:
                exposed.append(f"{path.relative_to(self.server.data_dir)} {oct(mode & 0o777)}")
        names = {p.name for p in self.server.data_dir.rglob("*")}
        check({"floe.sqlite", "floe.sqlite-wal", "bootstrap.json", "catalog.json"} <= names, f"expected files missing: {sorted(names)[:20]}")
        check(not exposed, f"readable by others: {exposed[:10]}")

    # ----------------------------------------------------------------------------------------- minting
    def mint_refused(self, caller: Api | None, owner: int, kind: str, env: str, what: str):
        r = self.mint(self.sa[owner], kind, env, api=caller)
        require_error(r, 403, what=what)

    def mint_allowed(self, caller: Api | None, owner: int, kind: str, env: str, what: str):
        r = self.mint(self.sa[owner], kind, env, api=caller)
        check(r.status in (201, 202), f"{what} -> HTTP {r.status}, expected 202: {r.snippet()}")

    def minting(self):
        st = self.steps
        p2 = self.api_for(2, "cloud")
        st.run("mint: admin -> Flink key of B for P4 (no role in B) refused 403",
               lambda: self.mint_refused(None, 4, "flink", "B", "Flink key of B for P4"))
        st.run("mint: admin -> Flink key of A for P6 (no role) refused 403",
               lambda: self.mint_refused(None, 6, "flink", "A", "Flink key of A for P6"))
        st.run("mint: admin -> Flink key of B for P5 (FlinkDeveloper on B) allowed",
               lambda: self.mint_allowed(None, 5, "flink", "B", "Flink key of B for P5"))
        st.run("mint: EnvAdmin@A -> Cloud key for the OrgAdmin SA refused 403",
               lambda: self.mint_refused(p2, 1, "cloud", "A", "P2 minting a Cloud key for P1"))
        st.run("mint: EnvAdmin@A -> Flink key of A for the OrgAdmin SA refused 403",
               lambda: self.mint_refused(p2, 1, "flink", "A", "P2 minting a Flink key of A for P1"))
        st.run("mint: EnvAdmin@A -> Cloud key for P4 without Assigner refused 403",
               lambda: self.mint_refused(p2, 4, "cloud", "A", "P2 minting a Cloud key for P4"))
        st.run("mint: EnvAdmin@A -> Flink key of A for P4 without Assigner refused 403",
               lambda: self.mint_refused(p2, 4, "flink", "A", "P2 minting a Flink key of A for P4"))

        def grant_assigner():
            for owner in (4, 1, 5):
                self.bind(self.sa[2], "Assigner", self.sa_crn(self.sa[owner]))
        if not st.run("mint: admin grants P2 Assigner on P4, P1 and P5", grant_assigner):
            return
        st.run("mint: Assigner (EnvAdmin@A) -> Flink key of A for P4 allowed",
               lambda: self.mint_allowed(p2, 4, "flink", "A", "P2 (Assigner on P4) minting a Flink key of A for P4"))
        st.run("mint: Assigner (EnvAdmin@A) -> Cloud key for P4 allowed",
               lambda: self.mint_allowed(p2, 4, "cloud", "A", "P2 (Assigner on P4) minting a Cloud key for P4"))
        st.run("mint: Assigner (EnvAdmin@A) -> Cloud key for the OrgAdmin SA refused 403 (more privilege)",
               lambda: self.mint_refused(p2, 1, "cloud", "A", "P2 (Assigner on P1) minting a Cloud key for P1"))
        st.run("mint: Assigner (EnvAdmin@A) -> Flink key of A for the OrgAdmin SA refused 403 (more privilege)",
               lambda: self.mint_refused(p2, 1, "flink", "A", "P2 (Assigner on P1) minting a Flink key of A for P1"))
        st.run("mint: Assigner (EnvAdmin@A) -> Cloud key for P5 (also FlinkDeveloper on B) refused 403",
               lambda: self.mint_refused(p2, 5, "cloud", "A", "P2 (Assigner on P5) minting a Cloud key for P5"))

    # -------------------------------------------------------------------------------------------- run
    def run(self):
        st = self.steps
        if not st.run("start the server", self.start):
            return
        if not st.run("set-up: envA and envB, a PROVISIONED pool and a table tb with a seed row in each", self.setup):
            return
        if not st.run("set-up: principals P1-P6 with their role bindings, Cloud keys and Flink keys of A",
                      self.principals):
            return
        rounds = 2 if LONG else 1
        for round_ in range(1, rounds + 1):
            if round_ > 1:
                def restart():
                    self.server.kill()
                    self.server.start(timeout=60)
                if not st.run("long: SIGKILL and restart before matrix round 2", restart):
                    break
            if not st.run(f"matrix round {round_}: {len(CHECKS) * 10} statements created and ended", self.matrix):
                break
            for p in (1, 2, 3, 4, 5):
                for kind in ("cloud", "flink"):
                    st.run(f"matrix r{round_}: P{p} {PRINCIPALS[p][0]} with its {kind} key",
                           lambda p_=p, k=kind: self.row_step(p_, k))
            st.run(f"matrix r{round_}: envB's data holds exactly the allowed writes (admin)", self.b_data_unchanged)
            st.run(f"matrix r{round_}: envB's tables are exactly the allowed DDL (admin)", self.b_tables_unchanged)
        st.run("P6 (no role) with its Cloud key: statement creation refused 403", self.no_role_refused)
        st.run("the server's own files (and the host's) are out of reach of filesystem tables", self.files_out_of_reach)
        st.run("the data directory is private to the server's user (files 0600, directories 0700)", self.data_files_private)
        self.minting()

    def close(self):
        if self.server is not None:
            self.server.stop()


def main() -> None:
    from floe_harness import exit_on_signals
    exit_on_signals()
    steps = Steps(f"reliability: rbac matrix ({MODE})")
    t = time.monotonic()
    suite = RBACMatrix(steps)
    try:
        suite.run()
    finally:
        suite.close()
        allowed_n = sum(1 for c in suite.cells if c.outcome == "allowed")
        denied_n = sum(1 for c in suite.cells if c.outcome == "denied")
        errors_n = sum(1 for c in suite.cells if c.outcome == "error")
        wrong = sum(1 for c in suite.cells if not c.ok)
        expected_allowed = sum(1 for c in suite.cells if c.expect_allowed)
        print(f"FIGURES: statements run={suite.statements}, matrix cells={len(suite.cells)}, "
              f"allowed={allowed_n} (expected {expected_allowed}), denied={denied_n} "
              f"(expected {len(suite.cells) - expected_allowed}), errors={errors_n}, cells wrong={wrong}, "
              f"wall={time.monotonic() - t:.1f}s", flush=True)
    steps.finish()


if __name__ == "__main__":
    main()
