#!/usr/bin/env python3
"""Drives the real cc-clients-python-lib 0.30.3.0 against Floe's control plane.

What the library does on the wire (read from its installed source, cc_clients_python_lib/*.py):
* IamClient.create_api_key: POST /iam/v2/api-keys {"spec":{display_name, description, owner{id}, resource{id}}}
  (no resource.environment; Floe scopes a Flink key without one to the organization's default environment), reads
  `id` and `spec.secret`.
* IamClient.get_all_api_keys_by_principal_id: GET /iam/v2/api-keys?spec.owner=P&page_size=N, pages by cutting the
  text after "?page_token=" out of metadata.next, and indexes spec.resource["environment"] of every key.
* IamClient.delete_api_key: DELETE /iam/v2/api-keys/{id}.
* EnvironmentClient.get_environments: GET /org/v2/environments?page_size=N, pages like the API-key listing.
* FlinkClient.compute_pool(): GET /fcpm/v2/compute-pools?spec.region=R&environment=E&page_size=10 with the Cloud key,
  pages by cutting the text after "&page_token=" out of metadata.next, and looks for compute_pool_id in data[].id.
* FlinkClient statements (sql/v1, Flink key; bodies sent with data=<json> and no Content-Type):
  submit_statement POSTs its pydantic model_dump_json() (nulls included, name + "-<uuid4>"); get_statement_list pages
  by cutting the text after "&page_token=" out of metadata.next; stop_statement PATCHes
  [{"path":"/spec/stopped","value":true,"op":"REPLACE"}]; update_statement stops, GETs, PUTs the whole object back
  (new compute pool) and succeeds only if the PUT answer's resource_version equals the GET's (else it retries 9 times,
  5 s apart) and returns the PUT's status; delete_statement DELETEs, then GETs until 404 (or COMPLETED);
  delete_statements_by_phase lists and deletes every statement of the environment in that phase.
The library hard-codes https://api.confluent.cloud; its public base-URL attributes are overwritten after
construction. Every library call runs under a bound on the number of HTTP requests it may make, so a paging loop
that never ends is reported as a failure instead of hanging.
"""
from __future__ import annotations

import os
import re
import time
import uuid

import requests
from requests.auth import HTTPBasicAuth

from cc_clients_python_lib.environment_client import EnvironmentClient
from cc_clients_python_lib.flink_client import FlinkClient, StatementPhase
from cc_clients_python_lib.http_status import HttpStatus
from cc_clients_python_lib.iam_client import IamClient

from floe_harness import CheckFailed, Steps, check, target_from_env

REGION_ID = "aws.us-east-1"
VALUES_SQL = "SELECT * FROM (VALUES (1, 'alice'), (2, 'bob')) AS t(id, name)"
TERMINAL = ("COMPLETED", "FAILED", "STOPPED")
KEY_ID = re.compile(r"^[A-Z0-9]{16}$")
KEY_SECRET = re.compile(r"^[A-Za-z0-9+/]{64}$")


def tag() -> str:
    return uuid.uuid4().hex[:8]


class RequestBudget:
    """Counts (and bounds) the requests a library call makes through the `requests` module functions."""

    def __init__(self, limit: int):
        self.limit = limit
        self.urls: list[str] = []
        self._saved = {}

    def _wrap(self, name):
        original = self._saved[name]

        def wrapper(*args, **kwargs):
            url = kwargs.get("url", args[0] if args else "?")
            self.urls.append(f"{name.upper()} {url}")
            if len(self.urls) > self.limit:
                raise CheckFailed(f"library made more than {self.limit} requests (endless paging?): {self.urls[-3:]}")
            kwargs.setdefault("timeout", 30)
            return original(*args, **kwargs)
        return wrapper

    def __enter__(self):
        for name in ("get", "post", "patch", "put", "delete"):
            self._saved[name] = getattr(requests, name)
            setattr(requests, name, self._wrap(name))
        return self

    def __exit__(self, *exc):
        for name, fn in self._saved.items():
            setattr(requests, name, fn)


class CcClients:
    def __init__(self, steps: Steps):
        self.steps = steps
        t = target_from_env("cc-clients")
        self.base = t.base_url
        self.boot = t.bootstrap
        self.env = self.boot.environment_id
        self.http = requests.Session()
        self.http.trust_env = False
        self.http.verify = os.environ.get("COMPAT_CA_CERT") or True  # the test CA of an https run (run_all.py)
        self.http.auth = HTTPBasicAuth(self.boot.api_key, self.boot.api_secret)
        self.cloud = {"confluent_cloud_api_key": self.boot.api_key, "confluent_cloud_api_secret": self.boot.api_secret}
        self.s: dict = {}

    # plain-HTTP helpers for setup and for checking what the library did
    def rest(self, method: str, path: str, expect: int, **kw):
        r = self.http.request(method, self.base + path, timeout=30, **kw)
        check(r.status_code == expect, f"{method} {path} -> {r.status_code}, expected {expect}: {r.text[:300]}")
        return r.json() if r.content else None

    def rest_list(self, path: str, params: dict) -> list[dict]:
        items, url, params = [], self.base + path, {**params, "page_size": 100}
        for _ in range(50):
            r = self.http.get(url, params=params, timeout=30)
            check(r.status_code == 200, f"GET {url} -> {r.status_code}: {r.text[:300]}")
            body = r.json()
            items += body["data"]
            url, params = (body.get("metadata") or {}).get("next"), None
            if not url:
                return items
        raise CheckFailed(f"listing {path} did not end")

    def need(self, name):
        if name not in self.s:
            raise CheckFailed(f"prerequisite '{name}' was not created by an earlier step")
        return self.s[name]

    def iam(self, key=None, secret=None) -> IamClient:
        client = IamClient({"confluent_cloud_api_key": key or self.boot.api_key,
                            "confluent_cloud_api_secret": secret or self.boot.api_secret})
        client.base_url = self.base
        return client

    def environments_client(self, secret=None) -> EnvironmentClient:
        client = EnvironmentClient({**self.cloud, **({"confluent_cloud_api_secret": secret} if secret else {})})
        client.base_url = self.base
        return client

    def flink(self, pool_id: str, key_name: str = "key1") -> FlinkClient:
        key, secret = self.s.get(key_name, ("unused-flink-key", "unused"))
        client = FlinkClient({
            "flink_api_key": key, "flink_api_secret": secret,
            "organization_id": self.boot.organization_id, "environment_id": self.env,
            "cloud_provider": "aws", "cloud_region": "us-east-1", "compute_pool_id": pool_id, "principal_id": None,
            **self.cloud})
        client.flink_sql_base_url = f"{self.base}/sql/v1/organizations/{self.boot.organization_id}/environments/{self.env}/"
        client.flink_compute_pool_base_url = f"{self.base}/fcpm/v2/compute-pools"
        return client

    # ------------------------------------------------------------------------------------------------ steps
    def setup(self):
        sa = self.rest("POST", "/iam/v2/service-accounts", 201,
                       json={"display_name": f"cc-clients-{tag()}", "description": "cc-clients owner"})
        self.s["sa"] = sa["id"]
        # Its Flink API keys need a Flink role of it in the environment they are scoped to.
        self.rest("POST", "/iam/v2/role-bindings", 201, json={
            "principal": f"User:{sa['id']}", "role_name": "FlinkDeveloper",
            "crn_pattern": f"crn://confluent.cloud/organization={self.boot.organization_id}/environment={self.env}"})
        pools = []
        for _ in range(2):
            body = {"spec": {"display_name": f"cc-pool-{tag()}", "cloud": "AWS", "region": "us-east-1", "max_cfu": 5,
                             "environment": {"id": self.env}}}
            pools.append(self.rest("POST", "/fcpm/v2/compute-pools", 202, json=body)["id"])
        self.s["pools"] = pools
        self.rest("POST", "/org/v2/environments", 201, json={"display_name": f"cc-env-{tag()}"})

    def create_key(self, label: str):
        sa = self.need("sa")
        with RequestBudget(1):
            code, text, pair = self.iam().create_api_key(resource_id=REGION_ID, principal_id=sa,
                                                         display_name=f"cc-{label}-{tag()}", description="cc-clients test")
        check(code == HttpStatus.ACCEPTED, f"create_api_key -> {code}: {text}")
        check(KEY_ID.match(pair.get("key", "")), f"key id {pair.get('key')!r}")
        check(KEY_SECRET.match(pair.get("secret", "")), "secret is not 64 chars of the base64 alphabet")
        stored = self.rest("GET", f"/iam/v2/api-keys/{pair['key']}", 200)
        resource = stored["spec"].get("resource") or {}
        check(resource.get("id") == REGION_ID, f"resource {resource}")
        check(resource.get("environment") == self.env,
              f"key created without environment: resource.environment {resource.get('environment')!r}, "
              f"expected the default environment {self.env}")
        check(stored["spec"]["owner"]["id"] == sa, f"owner {stored['spec']['owner']}")
        self.s[label] = (pair["key"], pair["secret"])

    def list_by_principal(self):
        sa = self.need("sa")
        k1, k2 = self.need("key1")[0], self.need("key2")[0]
        with RequestBudget(3):
            code, text, keys = self.iam().get_all_api_keys_by_principal_id(sa)
        check(code == HttpStatus.OK, f"get_all_api_keys_by_principal_id -> {code}: {text}")
        check({k1, k2} <= set(keys), f"{k1}/{k2} not in {sorted(keys)}")
        for k in (k1, k2):
            entry = keys[k]
            check(entry["resource_id"] == REGION_ID and entry["environment_id"] == self.env, f"{k}: {entry}")
            check(entry["display_name"].startswith("cc-key") and entry["description"] == "cc-clients test", f"{k}: {entry}")
        expected = {k["id"] for k in self.rest_list("/iam/v2/api-keys", {"spec.owner": sa})}
        check(set(keys) == expected, f"library saw {sorted(keys)}, server lists {sorted(expected)}")

    def list_by_principal_paged(self):
        sa = self.need("sa")
        expected = {k["id"] for k in self.rest_list("/iam/v2/api-keys", {"spec.owner": sa})}
        check(len(expected) >= 2, f"need two keys to page, have {expected}")
        with RequestBudget(len(expected) + 2) as budget:
            code, text, keys = self.iam().get_all_api_keys_by_principal_id(sa, page_size=1)
        check(code == HttpStatus.OK, f"-> {code}: {text}")
        check(set(keys) == expected, f"paged library listing {sorted(keys)} != {sorted(expected)}; requests: {budget.urls}")
        check(len(budget.urls) in (len(expected), len(expected) + 1), f"{len(budget.urls)} requests for {len(expected)} keys: {budget.urls}")

    def cloud_key_listing(self):
        sa = self.need("sa")
        with RequestBudget(1):
            code, text, pair = self.iam().create_api_key(resource_id="cloud", principal_id=sa,
                                                         display_name=f"cc-cloud-{tag()}", description="cc-clients test")
        check(code == HttpStatus.ACCEPTED, f"create_api_key(cloud) -> {code}: {text}")
        self.s["cloud_key"] = pair["key"]
        try:
            with RequestBudget(3):
                code, text, keys = self.iam().get_all_api_keys_by_principal_id(sa)
        except KeyError as e:
            raise CheckFailed(f"library raised KeyError {e}: spec.resource of a Cloud key lacks 'environment'") from e
        check(code == HttpStatus.OK and pair["key"] in keys, f"-> {code}: cloud key not listed")
        check(keys[pair["key"]]["resource_id"] == "cloud", f"{keys[pair['key']]}")

    def delete_key(self):
        sa = self.need("sa")
        key = self.need("key2")[0]
        with RequestBudget(1):
            code, text = self.iam().delete_api_key(key)
        check(code == HttpStatus.NO_CONTENT, f"delete_api_key -> {code}: {text}")
        self.rest("GET", f"/iam/v2/api-keys/{key}", 404)
        with RequestBudget(3):
            code, text, keys = self.iam().get_all_api_keys_by_principal_id(sa)
        check(code == HttpStatus.OK and key not in keys, f"deleted key still listed ({code})")
        with RequestBudget(1):
            code, _ = self.iam().delete_api_key(key)
        check(code == HttpStatus.NOT_FOUND, f"second delete_api_key -> {code}, expected 404")

    def environments(self):
        count = len(self.rest_list("/org/v2/environments", {}))
        with RequestBudget(count // 10 + 3):
            code, text, envs = self.environments_client().get_environments()
        check(code == HttpStatus.OK, f"get_environments -> {code}: {text}")
        check(self.env in envs, f"default environment {self.env} not in {sorted(envs)}")
        check(envs[self.env]["display_name"], f"{envs[self.env]}")
        expected = {e["id"] for e in self.rest_list("/org/v2/environments", {})}
        check(set(envs) == expected, f"library saw {sorted(envs)}, server lists {sorted(expected)}")

    def environments_paged(self):
        expected = {e["id"] for e in self.rest_list("/org/v2/environments", {})}
        check(len(expected) >= 2, f"need two environments to page, have {expected}")
        with RequestBudget(len(expected) + 2) as budget:
            code, text, envs = self.environments_client().get_environments(page_size=1)
        check(code == HttpStatus.OK, f"-> {code}: {text}")
        check(set(envs) == expected, f"paged library listing {sorted(envs)} != {sorted(expected)}; requests: {budget.urls}")

    def compute_pool(self):
        pool = self.need("pools")[0]
        with RequestBudget(20):
            code, text, found = self.flink(pool).compute_pool()
        check(code == HttpStatus.OK, f"compute_pool -> {code}: {text[:300] if isinstance(text, str) else text}")
        check(found["id"] == pool, f"found {found.get('id')}")
        check(found["spec"]["region"] == "us-east-1" and found["spec"]["environment"]["id"] == self.env, f"{found['spec']}")
        check(found["status"]["phase"] in ("PROVISIONING", "PROVISIONED"), f"{found['status']}")

    def compute_pool_list_paged(self):
        expected = [p["id"] for p in self.rest_list("/fcpm/v2/compute-pools", {"environment": self.env, "spec.region": "us-east-1"})]
        check(set(self.need("pools")) <= set(expected), f"setup pools missing from {expected}")
        with RequestBudget(len(expected) + 2) as budget:
            code, text, pools = self.flink(self.need("pools")[1]).compute_pool_list(page_size=1)
        check(code == HttpStatus.OK, f"compute_pool_list -> {code}: {text}")
        got = [p["id"] for p in pools]
        check(sorted(got) == sorted(expected), f"paged library listing {got} != {expected}; requests: {budget.urls}")

    def unknown_pool(self):
        with RequestBudget(20):
            code, _, _ = self.flink("lfcp-zz00none").compute_pool()
        check(code == HttpStatus.NOT_FOUND, f"compute_pool for an unknown id -> {code}, expected the library's 404")

    def wrong_credentials(self):
        bad = self.boot.api_secret[::-1]
        with RequestBudget(1):
            code, _, _ = self.iam(secret=bad).get_all_api_keys_by_principal_id(self.need("sa"))
        check(code == HttpStatus.UNAUTHORIZED, f"IamClient with a wrong secret -> {code}, expected 401")
        with RequestBudget(1):
            code, _, _ = self.environments_client(secret=bad).get_environments()
        check(code == HttpStatus.UNAUTHORIZED, f"EnvironmentClient with a wrong secret -> {code}, expected 401")
        with RequestBudget(1):
            code, _, pair = self.iam(secret=bad).create_api_key(resource_id=REGION_ID, principal_id=self.need("sa"),
                                                                display_name="x", description="x")
        check(code == HttpStatus.UNAUTHORIZED, f"create_api_key with a wrong secret -> {code}, expected 401")

    # ------------------------------------------------------------------------------------ statements (sql/v1)
    def statements_path(self) -> str:
        return f"/sql/v1/organizations/{self.boot.organization_id}/environments/{self.env}/statements"

    def wait_phase(self, name: str, wanted: tuple, timeout: float = 60) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            doc = self.rest("GET", f"{self.statements_path()}/{name}", 200)
            if doc["status"]["phase"] in wanted:
                return doc
            check(doc["status"]["phase"] not in TERMINAL,
                  f"{name} reached {doc['status']['phase']} ({doc['status'].get('detail')!r}), waiting for {wanted}")
            check(time.monotonic() < deadline, f"{name} not in {wanted} after {timeout:.0f}s: {doc['status']}")
            time.sleep(0.2)

    def statement_key(self):
        # A Flink key of the bootstrap user (who may run statements), created by the library (default environment).
        with RequestBudget(1):
            code, text, pair = self.iam().create_api_key(resource_id=REGION_ID, principal_id=self.boot.user_id,
                                                         display_name=f"cc-stmt-{tag()}", description="cc statements")
        check(code == HttpStatus.ACCEPTED, f"create_api_key -> {code}: {text}")
        self.s["user_key"] = (pair["key"], pair["secret"])

    def submit(self, label: str, sql: str):
        pool = self.need("pools")[0]
        self.need("user_key")
        props = {"sql.current-catalog": self.env, "sql.current-database": "cc_db"}
        with RequestBudget(1) as budget:
            code, text, body = self.flink(pool, "user_key").submit_statement(f"cc_{label}", sql, props)
        check(HttpStatus.OK <= code <= HttpStatus.NO_CONTENT, f"submit_statement -> {code}: {text}")
        check(re.fullmatch(rf"cc-{label}-[0-9a-f-]{{36}}", body["name"]), f"name {body['name']!r}")
        check(body["spec"]["statement"] == sql and body["spec"]["compute_pool_id"] == pool, f"spec {body['spec']}")
        check(body["spec"]["principal"] == self.boot.user_id, f"principal {body['spec']['principal']!r} (null was sent)")
        check(body["spec"]["properties"] == props, f"properties {body['spec']['properties']}")
        check(budget.urls == [f"POST {self.base}{self.statements_path()}"], f"requests {budget.urls}")
        self.s.setdefault("submitted", []).append(body["name"])
        return body["name"]

    def submit_statements(self):
        self.s["stmt"] = self.submit("values", VALUES_SQL)
        self.s["stmt2"] = self.submit("second", VALUES_SQL)

    def statement_list(self):
        names = {self.need("stmt"), self.need("stmt2")}
        expected = [d["name"] for d in self.rest_list(self.statements_path(), {})]
        with RequestBudget(len(expected) + 2) as budget:
            code, text, items = self.flink(self.need("pools")[0], "user_key").get_statement_list(page_size=1)
        check(code == HttpStatus.OK, f"get_statement_list -> {code}: {text}")
        got = [i["name"] for i in items]
        check(names <= set(got), f"{names} not all in {got}")
        check(sorted(got) == sorted(expected), f"library saw {got}, server lists {expected}; requests {budget.urls}")
        check(len(budget.urls) in (len(expected), len(expected) + 1),
              f"{len(budget.urls)} requests for {len(expected)} statements: {budget.urls}")
        check(all("&page_token=" in u for u in budget.urls[1:]), f"paging requests {budget.urls}")

    def stop_statement(self):
        name = self.need("stmt")
        self.wait_phase(name, TERMINAL)  # no race with the scheduler's own transition
        with RequestBudget(1):
            code, text = self.flink(self.need("pools")[0], "user_key").stop_statement(name)
        check(code == HttpStatus.OK, f"stop_statement -> {code}: {text[:300]}")
        doc = self.rest("GET", f"{self.statements_path()}/{name}", 200)
        check(doc["spec"]["stopped"] is True, f"spec.stopped {doc['spec']['stopped']} after the PATCH")

    def update_statement(self):
        name = self.need("stmt")
        target = self.need("pools")[1]
        before = self.rest("GET", f"{self.statements_path()}/{name}", 200)
        check(before["status"]["phase"] in TERMINAL, f"phase {before['status']['phase']}")
        # PATCH + GET + PUT; a resource_version mismatch would make the library retry (5 s apart): bound it.
        with RequestBudget(3) as budget:
            code, text = self.flink(self.need("pools")[0], "user_key").update_statement(
                name, stop=True, new_compute_pool_id=target)
        check(code == HttpStatus.ACCEPTED,  # the library returns the PUT's status: 202 (sql-v1 spec, Floe)
              f"update_statement -> {code}: {str(text)[:300]}; requests {budget.urls}")
        check([u.split(" ")[0] for u in budget.urls] == ["PATCH", "GET", "PUT"], f"requests {budget.urls}")
        after = self.rest("GET", f"{self.statements_path()}/{name}", 200)
        check(after["spec"]["compute_pool_id"] == target and after["spec"]["stopped"] is True,
              f"after update: pool {after['spec']['compute_pool_id']}, stopped {after['spec']['stopped']}")

    def delete_statement(self):
        name = self.need("stmt")
        with RequestBudget(2) as budget:
            code, text = self.flink(self.need("pools")[0], "user_key").delete_statement(name)
        check(code == HttpStatus.OK, f"delete_statement -> {code}: {text[:300]}; requests {budget.urls}")
        self.rest("GET", f"{self.statements_path()}/{name}", 404)

    def delete_by_phase(self, phase: StatementPhase, sql: str):
        name = self.submit(f"phase-{phase.value.lower()}", sql)
        self.wait_phase(name, (phase.value,))
        listed = self.rest_list(self.statements_path(), {})
        doomed = [d["name"] for d in listed if d["status"]["phase"] == phase.value]
        with RequestBudget(len(listed) + 2 + 2 * len(doomed)) as budget:
            code, text = self.flink(self.need("pools")[0], "user_key").delete_statements_by_phase(phase)
        check(code == HttpStatus.OK, f"delete_statements_by_phase({phase.value}) -> {code}: {text[:300]}")
        left = self.rest_list(self.statements_path(), {})
        check(name not in [d["name"] for d in left], f"{name} still listed")
        check(not [d["name"] for d in left if d["status"]["phase"] == phase.value and d["name"] in doomed],
              f"statements in {phase.value} left: {left}; requests {budget.urls}")

    def run(self):
        st = self.steps
        st.run("cc setup: service account, two pools in the default environment (us-east-1), a second environment",
               self.setup)
        st.run("cc IamClient.create_api_key(aws.us-east-1, no environment) -> 202, scoped to the default environment",
               self.create_key, "key1")
        st.run("cc IamClient.create_api_key: a second key for the same principal", self.create_key, "key2")
        st.run("cc IamClient.get_all_api_keys_by_principal_id", self.list_by_principal)
        st.run("cc IamClient.get_all_api_keys_by_principal_id(page_size=1) pages via '?page_token='",
               self.list_by_principal_paged)
        st.run("cc IamClient lists a principal that owns a Cloud key (spec.resource.environment present)",
               self.cloud_key_listing)
        st.run("cc IamClient.delete_api_key -> 204, gone; again -> 404", self.delete_key)
        st.run("cc EnvironmentClient.get_environments", self.environments)
        st.run("cc EnvironmentClient.get_environments(page_size=1) pages via '?page_token='", self.environments_paged)
        st.run("cc FlinkClient.compute_pool() finds the pool (Cloud key, spec.region + environment)", self.compute_pool)
        st.run("cc FlinkClient.compute_pool_list(page_size=1) pages via '&page_token='", self.compute_pool_list_paged)
        st.run("cc FlinkClient.compute_pool() for an unknown pool id -> library NOT_FOUND", self.unknown_pool)
        st.run("cc clients surface 401 for a wrong secret", self.wrong_credentials)
        st.run("cc statements setup: IamClient.create_api_key for the bootstrap user (Flink key, default environment)",
               self.statement_key)
        st.run("cc FlinkClient.submit_statement x2 (no Content-Type, null members) -> 201, echoed", self.submit_statements)
        st.run("cc FlinkClient.get_statement_list(page_size=1) pages via '&page_token='", self.statement_list)
        st.run("cc FlinkClient.stop_statement (PATCH op REPLACE) -> 200, spec.stopped", self.stop_statement)
        st.run("cc FlinkClient.update_statement: PATCH, GET, PUT with a new pool; resource_version unchanged by PUT",
               self.update_statement)
        st.run("cc FlinkClient.delete_statement -> DELETE, then GET 404 -> OK", self.delete_statement)
        st.run("cc FlinkClient.delete_statements_by_phase(FAILED) with a SELEC statement",
               self.delete_by_phase, StatementPhase.FAILED, "SELEC 1")
        st.run("cc FlinkClient.delete_statements_by_phase(COMPLETED) with a VALUES query (engine)",
               self.delete_by_phase, StatementPhase.COMPLETED, VALUES_SQL)


def main():
    steps = Steps("cc_clients_test.py (cc-clients-python-lib 0.30.3.0)")
    CcClients(steps).run()
    steps.finish()


if __name__ == "__main__":
    main()
