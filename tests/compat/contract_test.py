#!/usr/bin/env python3
"""Wire-contract suite for Floe's control plane (org/v2, iam/v2, api-keys, role bindings, fcpm/v2), plain `requests`.

Every response is checked against Confluent's OpenAPI files (status declared by the operation, JSON body valid
against the declared schema; see spec_validation.py); every error body must be the envelope
{"errors":[{"id","status","code","title","detail","source"}]} with `status` the HTTP code as a string. After each
refused mutation the stored state is read back and must be unchanged.

Run by run.sh (which starts a server), or alone: `python contract_test.py` starts its own server (FLOE_BIN), or
attaches to COMPAT_FLOE_URL + COMPAT_FLOE_DATA_DIR. Prints PASS/FAIL per step and `N passed, M failed`.
"""
from __future__ import annotations

import json
import re
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests

from floe_harness import CheckFailed, Steps, check, envelope_problems_of, generate_bootstrap_credentials, target_from_env
from spec_validation import SpecRegistry

KEY_ID = re.compile(r"^[A-Z0-9]{16}$")
KEY_SECRET = re.compile(r"^[A-Za-z0-9+/]{64}$")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
ENV_ID = re.compile(r"^env-[a-z0-9]+$")
SA_ID = re.compile(r"^sa-[a-z0-9]+$")
USER_ID = re.compile(r"^u-[a-z0-9]+$")
POOL_ID = re.compile(r"^lfcp-[a-z0-9]+$")
RB_ID = re.compile(r"^rb-[A-Za-z0-9]+$")
LKC_ID = re.compile(r"^lkc-[a-z0-9]+$")
REGION = "aws.us-east-1"
NOBODY = object()
DEFAULT = object()


def tag() -> str:
    return uuid.uuid4().hex[:8]


@dataclass
class Resp:
    method: str
    url: str
    path: str
    status: int
    headers: Any
    text: str
    body: Any
    json_ok: bool
    problems: list[str] = field(default_factory=list)

    def where(self) -> str:
        return f"{self.method} {self.url}"

    def snippet(self) -> str:
        return self.text[:400].replace("\n", " ")


def envelope_problems(resp: Resp) -> list[str]:
    """The Floe error envelope (see floe_harness.envelope_problems_of)."""
    return envelope_problems_of(resp.status, resp.body, resp.json_ok, resp.snippet())


class Api:
    """Sends requests, records every response, validates it against the spec and the envelope."""

    def __init__(self, base: str, registry: SpecRegistry, auth: tuple[str, str] | None, log: list[Resp]):
        self.base = base
        self.registry = registry
        self.auth = auth
        self.log = log
        self.session = requests.Session()
        self.session.trust_env = False  # no proxies or .netrc credentials from the environment

    def as_key(self, key: str, secret: str) -> "Api":
        return Api(self.base, self.registry, (key, secret), self.log)

    def call(self, method: str, target: str, *, body: Any = NOBODY, raw: bytes | str | None = None,
             auth: Any = DEFAULT, headers: dict | None = None, params: Any = None, expect: Any = None,
             content_type: str | None = "application/json") -> Resp:
        url = target if target.startswith("http") else self.base + target
        sent_headers = {"Accept": "application/json"}
        data = None
        if body is not NOBODY:
            data = json.dumps(body).encode()
        elif raw is not None:
            data = raw.encode() if isinstance(raw, str) else raw
        if data is not None and content_type:
            sent_headers["Content-Type"] = content_type
        if headers:
            sent_headers.update(headers)
        r = self.session.request(method, url, data=data, headers=sent_headers, params=params,
                                 auth=self.auth if auth is DEFAULT else auth, timeout=30, allow_redirects=False)
        parsed, json_ok = None, False
        if r.content:
            try:
                parsed, json_ok = r.json(), True
            except ValueError:
                pass
        resp = Resp(method, r.url, urlsplit(r.url).path, r.status_code, r.headers, r.text, parsed, json_ok)
        self.log.append(resp)
        if r.content and not json_ok:
            resp.problems.append(f"body is not JSON: {resp.snippet()!r}")
        elif r.content and not r.headers.get("Content-Type", "").startswith("application/json"):
            resp.problems.append(f"JSON body with Content-Type {r.headers.get('Content-Type')!r}")
        resp.problems += self.registry.validate(method, resp.path, r.status_code, parsed, bool(r.content))
        if r.status_code >= 400:
            resp.problems += envelope_problems(resp)
        if expect is not None:
            allowed = {expect} if isinstance(expect, int) else set(expect)
            if r.status_code not in allowed:
                raise CheckFailed(f"{resp.where()} -> HTTP {r.status_code}, expected {sorted(allowed)}: {resp.snippet()}")
        # Schema and envelope problems are not raised here: conformance() reports them per operation and status,
        # so that one schema deviation shows up once instead of failing every behavioural step that meets it.
        return resp

    def get(self, target, **kw) -> Resp:
        return self.call("GET", target, **kw)

    def post(self, target, body=NOBODY, **kw) -> Resp:
        return self.call("POST", target, body=body, **kw)

    def patch(self, target, body=NOBODY, **kw) -> Resp:
        return self.call("PATCH", target, body=body, **kw)

    def delete(self, target, **kw) -> Resp:
        return self.call("DELETE", target, **kw)


class Contract:
    def __init__(self, steps: Steps):
        self.steps = steps
        self.target = target_from_env("contract")
        self.base = self.target.base_url
        self.boot = self.target.bootstrap
        self.org = self.boot.organization_id
        self.env = self.boot.environment_id
        self.registry = SpecRegistry()
        self.log: list[Resp] = []
        self.admin = Api(self.base, self.registry, (self.boot.api_key, self.boot.api_secret), self.log)
        self.s: dict[str, Any] = {}   # ids created along the way

    # ----------------------------------------------------------------------------------------------- helpers
    def need(self, name: str) -> Any:
        if name not in self.s:
            raise CheckFailed(f"prerequisite '{name}' was not created by an earlier step")
        return self.s[name]

    def check_self(self, obj: dict, path: str) -> None:
        own = obj.get("metadata", {}).get("self")
        check(own == self.base + path, f"metadata.self {own!r} != {self.base + path!r}")

    def list_all(self, path: str, params: dict | None = None, api: Api | None = None) -> list[dict]:
        """All items by following metadata.next (page_size=100)."""
        api = api or self.admin
        items, seen = [], 0
        resp = api.get(path, params={**(params or {}), "page_size": 100}, expect=200)
        while True:
            items += resp.body["data"]
            nxt = (resp.body.get("metadata") or {}).get("next")
            seen += 1
            if not nxt or seen > 50:
                return items
            resp = api.get(nxt, expect=200)

    def ids(self, path: str, params: dict | None = None) -> set[str]:
        return {item["id"] for item in self.list_all(path, params)}

    def refused_and_unchanged(self, snapshot, action, label: str = "state") -> Resp:
        before = snapshot()
        resp = action()
        after = snapshot()
        check(before == after, f"{label} changed by a refused request: before={before!r} after={after!r}")
        return resp

    def get_body(self, path: str, params: dict | None = None):
        return lambda: self.admin.get(path, params=params, expect=200).body

    def env_ids(self):
        return self.ids("/org/v2/environments")

    # ----------------------------------------------------------------------------------------------- basics
    def basics(self):
        st = self.steps

        def bootstrap_credentials():
            b = self.boot
            if self.target.expected_key is not None:
                check(b.api_key == self.target.expected_key, f"bootstrap api_key {b.api_key!r} != FLOE_BOOTSTRAP_API_KEY")
                check(b.api_secret == self.target.expected_secret, "bootstrap api_secret != FLOE_BOOTSTRAP_API_SECRET")
            check(KEY_ID.match(b.api_key), f"api_key format {b.api_key!r}")
            check(KEY_SECRET.match(b.api_secret), "api_secret is not 64 chars of the base64 alphabet")
            check(UUID.match(b.organization_id), f"organization_id not a UUID: {b.organization_id!r}")
            check(ENV_ID.match(b.environment_id), f"environment_id {b.environment_id!r}")
            check(USER_ID.match(b.user_id), f"user_id {b.user_id!r}")

        def healthz():
            r = requests.get(self.base + "/healthz", timeout=10)
            check(r.status_code == 200, f"GET /healthz -> {r.status_code}")

        def admin_key_works():
            self.admin.get("/org/v2/environments", expect=200)

        st.run("bootstrap: FLOE_BOOTSTRAP_* credentials and ids in bootstrap.json", bootstrap_credentials)
        st.run("healthz: 200", healthz)
        st.run("auth: bootstrap Cloud key accepted", admin_key_works)

    # ----------------------------------------------------------------------------------------------- org/v2
    def organizations(self):
        st, a = self.steps, self.admin
        org_path = f"/org/v2/organizations/{self.org}"

        def list_orgs():
            r = a.get("/org/v2/organizations", expect=200)
            check(r.body["kind"] == "OrganizationList", f"kind {r.body.get('kind')!r}")
            check(self.org in [o["id"] for o in r.body["data"]], f"{self.org} not listed")
            check(r.body["metadata"].get("total_size") == len(r.body["data"]), f"total_size {r.body['metadata']}")

        def get_org():
            r = a.get(org_path, expect=200)
            check(r.body["id"] == self.org and r.body["kind"] == "Organization", f"body {r.body}")
            self.check_self(r.body, org_path)
            self.s["org_name"] = r.body.get("display_name")

        def patch_org():
            name = f"floe-compat-{tag()}"
            r = a.patch(org_path, {"display_name": name}, expect=200)
            check(r.body.get("display_name") == name, f"display_name not updated: {r.body}")
            check(a.get(org_path, expect=200).body.get("display_name") == name, "GET does not show the new name")
            if self.s.get("org_name"):
                a.patch(org_path, {"display_name": self.s["org_name"]}, expect=200)

        def unknown_org():
            a.get(f"/org/v2/organizations/{uuid.uuid4()}", expect=404)

        def patch_org_malformed():
            self.refused_and_unchanged(self.get_body(org_path),
                                       lambda: a.call("PATCH", org_path, raw=b'{"display_name": ', expect=400))

        def patch_org_wrong_type():
            self.refused_and_unchanged(self.get_body(org_path),
                                       lambda: a.patch(org_path, {"display_name": 42}, expect=400))

        st.run("org: list organizations", list_orgs)
        st.run("org: get organization", get_org)
        st.run("org: patch organization display_name -> 200", patch_org)
        st.run("org: unknown organization -> 404", unknown_org)
        st.run("org: patch organization malformed JSON -> 400, unchanged", patch_org_malformed)
        st.run("org: patch organization wrong type -> 400, unchanged", patch_org_wrong_type)

    def environments(self):
        st, a = self.steps, self.admin

        def default_listed():
            r = a.get("/org/v2/environments", params={"cell_based_self_url": "true"}, expect=200)  # unknown parameter ignored
            check(r.body["kind"] == "EnvironmentList" and r.body["api_version"] == "org/v2", f"{r.body.get('kind')}")
            check(self.env in self.env_ids(), f"default environment {self.env} not listed")

        def create():
            name = f"compat-env-{tag()}"
            r = a.post("/org/v2/environments", {"display_name": name}, expect=201)
            b = r.body
            check(ENV_ID.match(b.get("id", "")), f"id {b.get('id')!r}")
            check(b.get("display_name") == name and b.get("kind") == "Environment", f"body {b}")
            self.check_self(b, f"/org/v2/environments/{b['id']}")
            crn = f"crn://confluent.cloud/organization={self.org}/environment={b['id']}"
            check(b["metadata"].get("resource_name") == crn, f"resource_name {b['metadata'].get('resource_name')!r} != {crn}")
            check(b["metadata"].get("created_at"), "metadata.created_at missing")
            a.get(b["metadata"]["self"], expect=200)
            self.s["env2"], self.s["env2_name"] = b["id"], name

        def create_lenient():
            body = {"display_name": f"compat-env-{tag()}", "api_version": None, "kind": None, "metadata": None,
                    "floe_compat_unknown_field": {"x": 1}}
            r = a.post("/org/v2/environments", body, expect=201)
            a.delete(f"/org/v2/environments/{r.body['id']}", expect=204)

        def get():
            env2 = self.need("env2")
            r = a.get(f"/org/v2/environments/{env2}", expect=200)
            check(r.body["id"] == env2 and r.body["display_name"] == self.s["env2_name"], f"body {r.body}")

        def patch():
            env2 = self.need("env2")
            name = f"compat-env-renamed-{tag()}"
            r = a.patch(f"/org/v2/environments/{env2}", {"display_name": name}, expect=200)
            check(r.body.get("display_name") == name, f"PATCH response {r.body}")
            check(a.get(f"/org/v2/environments/{env2}", expect=200).body["display_name"] == name, "GET not updated")
            self.s["env2_name"] = name

        def create_malformed():
            self.refused_and_unchanged(self.env_ids, lambda: a.call(
                "POST", "/org/v2/environments", raw=b'{"display_name": "x",', expect=400))

        def create_wrong_type():
            self.refused_and_unchanged(self.env_ids, lambda: a.post("/org/v2/environments", {"display_name": 12}, expect=400))
            self.refused_and_unchanged(self.env_ids, lambda: a.post("/org/v2/environments", [{"display_name": "x"}], expect=400))

        def create_missing_name():
            self.refused_and_unchanged(self.env_ids, lambda: a.post("/org/v2/environments", {}, expect=(400, 422)))

        def patch_malformed():
            path = f"/org/v2/environments/{self.need('env2')}"
            self.refused_and_unchanged(self.get_body(path), lambda: a.call("PATCH", path, raw=b"{not json", expect=400))

        def patch_wrong_type():
            path = f"/org/v2/environments/{self.need('env2')}"
            self.refused_and_unchanged(self.get_body(path), lambda: a.patch(path, {"display_name": ["x"]}, expect=400))

        def unknown():
            path = "/org/v2/environments/env-zz00nonexistent"
            a.get(path, expect=404)
            a.patch(path, {"display_name": "x"}, expect=404)
            self.refused_and_unchanged(self.env_ids, lambda: a.delete(path, expect=404))

        def delete():
            r = a.post("/org/v2/environments", {"display_name": f"compat-env-del-{tag()}"}, expect=201)
            doomed = r.body["id"]
            a.delete(f"/org/v2/environments/{doomed}", expect=204)
            a.get(f"/org/v2/environments/{doomed}", expect=404)
            check(doomed not in self.env_ids(), f"{doomed} still listed after delete")
            a.delete(f"/org/v2/environments/{doomed}", expect=404)

        def delete_cascades():
            doomed = a.post("/org/v2/environments", {"display_name": f"compat-env-cascade-{tag()}"}, expect=201).body["id"]
            pool = a.post("/fcpm/v2/compute-pools", self.pool_body(f"compat-cascade-{tag()}", env=doomed), expect=202).body["id"]
            a.delete(f"/org/v2/environments/{doomed}", expect=204)
            a.get(f"/fcpm/v2/compute-pools/{pool}", params={"environment": doomed}, expect=(403, 404))
            r = a.call("GET", "/fcpm/v2/compute-pools", params={"environment": doomed})
            check(r.status in (403, 404) or (r.status == 200 and not r.body["data"]),
                  f"pools of a deleted environment still listed: {r.status} {r.snippet()}")

        st.run("env: list contains the default environment (unknown query parameter ignored)", default_listed)
        st.run("env: create -> 201", create)
        st.run("env: create ignores unknown fields and null read-only fields -> 201", create_lenient)
        st.run("env: get -> 200", get)
        st.run("env: patch display_name -> 200", patch)
        st.run("env: create malformed JSON -> 400, nothing created", create_malformed)
        st.run("env: create wrong types / non-object body -> 400, nothing created", create_wrong_type)
        st.run("env: create without display_name -> 400/422, nothing created", create_missing_name)
        st.run("env: patch malformed JSON -> 400, unchanged", patch_malformed)
        st.run("env: patch wrong type -> 400, unchanged", patch_wrong_type)
        st.run("env: unknown id get/patch/delete -> 404", unknown)
        st.run("env: delete -> 204, then 404 and not listed", delete)
        st.run("env: deleting an environment deletes its compute pools", delete_cascades)

    # ----------------------------------------------------------------------------------------------- iam/v2 users, SAs
    def users(self):
        st, a = self.steps, self.admin
        uid = self.boot.user_id
        path = f"/iam/v2/users/{uid}"

        def list_users():
            r = a.get("/iam/v2/users", expect=200)
            check(r.body["kind"] == "UserList", f"kind {r.body.get('kind')}")
            check(uid in {u["id"] for u in self.list_all("/iam/v2/users")}, f"bootstrap user {uid} not listed")

        def get_user():
            r = a.get(path, expect=200)
            check(r.body["id"] == uid and r.body["kind"] == "User", f"body {r.body}")
            self.check_self(r.body, path)

        def patch_user():
            name = f"Compat User {tag()}"
            r = a.patch(path, {"full_name": name}, expect=200)
            check(r.body.get("full_name") == name, f"PATCH response {r.body}")
            check(a.get(path, expect=200).body.get("full_name") == name, "GET not updated")

        def patch_bad():
            self.refused_and_unchanged(self.get_body(path), lambda: a.patch(path, {"full_name": 7}, expect=400))
            self.refused_and_unchanged(self.get_body(path), lambda: a.call("PATCH", path, raw=b'{"full_name"', expect=400))

        def unknown():
            p = "/iam/v2/users/u-zz00nonexistent"
            a.get(p, expect=404)
            a.patch(p, {"full_name": "x"}, expect=404)
            a.delete(p, expect=404)

        st.run("users: list contains the bootstrap user", list_users)
        st.run("users: get -> 200", get_user)
        st.run("users: patch full_name -> 200", patch_user)
        st.run("users: patch wrong type / malformed JSON -> 400, unchanged", patch_bad)
        st.run("users: unknown id get/patch/delete -> 404", unknown)

    def create_sa(self, name: str | None = None, description: str = "floe compat") -> dict:
        name = name or f"compat-sa-{tag()}"
        r = self.admin.post("/iam/v2/service-accounts", {"display_name": name, "description": description}, expect=201)
        return r.body

    def sa_ids(self):
        return self.ids("/iam/v2/service-accounts")

    def service_accounts(self):
        st, a = self.steps, self.admin

        def create():
            name = f"compat-sa-{tag()}"
            b = self.create_sa(name, "main compat account")
            check(SA_ID.match(b.get("id", "")), f"id {b.get('id')!r}")
            check(b.get("display_name") == name and b.get("description") == "main compat account", f"body {b}")
            check(b.get("kind") == "ServiceAccount" and b.get("api_version") == "iam/v2", f"body {b}")
            self.check_self(b, f"/iam/v2/service-accounts/{b['id']}")
            check(str(b["metadata"].get("resource_name", "")).startswith("crn://"), f"resource_name {b['metadata']}")
            check(b["metadata"]["resource_name"].endswith(f"service-account={b['id']}"), f"resource_name {b['metadata']}")
            a.get(b["metadata"]["self"], expect=200)
            self.s["sa"], self.s["sa_name"] = b["id"], name

        def create_without_content_type():
            name = f"compat-sa-noct-{tag()}"
            r = a.call("POST", "/iam/v2/service-accounts", raw=json.dumps({"display_name": name}),
                       content_type=None, expect=201)
            check(r.body.get("display_name") == name, f"body {r.body}")
            for content_type in ("application/json; charset=utf-8", "text/plain"):
                name = f"compat-sa-ct-{tag()}"
                r = a.call("POST", "/iam/v2/service-accounts", raw=json.dumps({"display_name": name}),
                           content_type=content_type, expect=201)
                check(r.body.get("display_name") == name, f"{content_type}: body {r.body}")

        def get():
            sa = self.need("sa")
            r = a.get(f"/iam/v2/service-accounts/{sa}", expect=200)
            check(r.body["id"] == sa and r.body["display_name"] == self.s["sa_name"], f"body {r.body}")

        def list_filter():
            sa = self.need("sa")
            check(sa in self.sa_ids(), f"{sa} not listed")
            other = self.create_sa()
            self.create_sa()  # a third one that must be filtered out
            r = a.get("/iam/v2/service-accounts",
                      params=[("display_name", self.s["sa_name"]), ("display_name", other["display_name"])], expect=200)
            got = {x["id"] for x in r.body["data"]}
            check(got == {sa, other["id"]}, f"display_name filter (OR) returned {got}, expected {{{sa}, {other['id']}}}")

        def patch():
            sa = self.need("sa")
            r = a.patch(f"/iam/v2/service-accounts/{sa}", {"description": "patched description"}, expect=200)
            check(r.body.get("description") == "patched description", f"PATCH response {r.body}")
            check(r.body.get("display_name") == self.s["sa_name"], "display_name changed by a description-only PATCH")
            check(a.get(f"/iam/v2/service-accounts/{sa}", expect=200).body.get("description") == "patched description",
                  "GET not updated")

        def create_bad():
            self.refused_and_unchanged(self.sa_ids, lambda: a.call(
                "POST", "/iam/v2/service-accounts", raw=b'{"display_name": "x" "description": 1}', expect=400))
            self.refused_and_unchanged(self.sa_ids, lambda: a.post(
                "/iam/v2/service-accounts", {"display_name": {"a": 1}}, expect=400))
            self.refused_and_unchanged(self.sa_ids, lambda: a.post("/iam/v2/service-accounts", "just a string", expect=400))

        def create_missing_name():
            self.refused_and_unchanged(self.sa_ids, lambda: a.post(
                "/iam/v2/service-accounts", {"description": "no name"}, expect=(400, 422)))

        def patch_bad():
            path = f"/iam/v2/service-accounts/{self.need('sa')}"
            self.refused_and_unchanged(self.get_body(path), lambda: a.call("PATCH", path, raw=b"{{", expect=400))
            self.refused_and_unchanged(self.get_body(path), lambda: a.patch(path, {"description": False}, expect=400))

        def unknown():
            p = "/iam/v2/service-accounts/sa-zz00nonexistent"
            a.get(p, expect=404)
            a.patch(p, {"description": "x"}, expect=404)
            self.refused_and_unchanged(self.sa_ids, lambda: a.delete(p, expect=404))

        def delete():
            doomed = self.create_sa()["id"]
            a.delete(f"/iam/v2/service-accounts/{doomed}", expect=204)
            a.get(f"/iam/v2/service-accounts/{doomed}", expect=404)
            check(doomed not in self.sa_ids(), "still listed after delete")

        def delete_cascades_keys():
            doomed = self.create_sa()["id"]
            key = self.create_key(doomed, {"id": "cloud"})
            a.delete(f"/iam/v2/service-accounts/{doomed}", expect=204)
            a.get(f"/iam/v2/api-keys/{key['id']}", expect=404)
            a.as_key(key["id"], key["spec"]["secret"]).get("/org/v2/environments", expect=401)

        st.run("sa: create -> 201", create)
        st.run("sa: create with a JSON body and no / charset / text Content-Type -> 201", create_without_content_type)
        st.run("sa: get -> 200", get)
        st.run("sa: list, display_name filter is repeatable (OR)", list_filter)
        st.run("sa: patch description -> 200", patch)
        st.run("sa: create malformed JSON / wrong types -> 400, nothing created", create_bad)
        st.run("sa: create without display_name -> 400/422, nothing created", create_missing_name)
        st.run("sa: patch malformed JSON / wrong type -> 400, unchanged", patch_bad)
        st.run("sa: unknown id get/patch/delete -> 404", unknown)
        st.run("sa: delete -> 204, then 404 and not listed", delete)
        st.run("sa: deleting a service account deletes its API keys", delete_cascades_keys)

    # ----------------------------------------------------------------------------------------------- api keys
    def create_key(self, owner: str, resource: dict | None, api: Api | None = None, expect=202) -> dict:
        spec: dict[str, Any] = {"display_name": f"compat-key-{tag()}", "description": "floe compat", "owner": {"id": owner}}
        if resource is not None:
            spec["resource"] = resource
        return (api or self.admin).post("/iam/v2/api-keys", {"spec": spec}, expect=expect).body

    def key_ids(self):
        return self.ids("/iam/v2/api-keys")

    def api_keys(self):
        st, a = self.steps, self.admin

        def key_owner():
            # The keys' owner: a service account that may run statements in the environment, since a Flink API key
            # needs a Flink role of its owner where it is scoped (refused with 403 before the role is granted).
            sa = a.post("/iam/v2/service-accounts", {"display_name": f"compat-keys-{tag()}", "description": "key owner"},
                        expect=201).body["id"]
            r = a.post("/iam/v2/api-keys", {"spec": {"display_name": f"compat-key-{tag()}", "owner": {"id": sa},
                                                     "resource": {"id": REGION, "environment": self.env}}}, expect=403)
            check("needs a role" in r.text, f"403 without the reason: {r.snippet()}")
            a.post("/iam/v2/role-bindings", {"principal": f"User:{sa}", "role_name": "FlinkDeveloper",
                                             "crn_pattern": f"crn://confluent.cloud/organization={self.org}/environment={self.env}"},
                   expect=201)
            self.s["key_sa"] = sa

        def flink_key():
            sa = self.need("key_sa")
            b = self.create_key(sa, {"id": REGION, "environment": self.env})
            check(KEY_ID.match(b.get("id", "")), f"key id {b.get('id')!r} is not 16 upper-case alphanumerics")
            secret = b.get("spec", {}).get("secret", "")
            check(KEY_SECRET.match(secret or ""), f"secret {secret!r} is not 64 chars of the base64 alphabet")
            check(b["kind"] == "ApiKey" and b["api_version"] == "iam/v2", f"kind/api_version {b}")
            check(b["spec"]["owner"]["id"] == sa, f"owner {b['spec']['owner']}")
            res = b["spec"].get("resource") or {}
            check(res.get("id") == REGION and res.get("environment") == self.env, f"resource {res}")
            check(res.get("kind") == "Region" and res.get("api_version") == "fcpm/v2", f"resource kind/api_version {res}")
            check(str(res.get("resource_name", "")).endswith(f"/environment={self.env}/flink-region={REGION}")
                  and f"organization={self.org}" in str(res.get("resource_name")), f"resource.resource_name {res}")
            self.check_self(b, f"/iam/v2/api-keys/{b['id']}")
            self.s["flink_key"] = (b["id"], secret)

        def flink_key_default_env():
            b = self.create_key(self.need("key_sa"), {"id": REGION})
            res = b["spec"].get("resource") or {}
            check(res.get("environment") == self.env,
                  f"Flink key without environment: resource.environment {res.get('environment')!r}, expected default {self.env}")
            self.s["flink_key2"] = b["id"]

        def cloud_key():
            b = self.create_key(self.need("key_sa"), {"id": "cloud"})
            res = b["spec"].get("resource") or {}
            check(res.get("id") == "cloud" and res.get("kind") == "Cloud", f"resource {res}")
            check(KEY_SECRET.match(b["spec"].get("secret") or ""), "secret format")
            self.s["cloud_key"] = (b["id"], b["spec"]["secret"])
            # a Cloud key authenticates (the SA has no role yet, so 403 is fine; 401 is not)
            r = a.as_key(*self.s["cloud_key"]).call("GET", "/fcpm/v2/compute-pools", params={"environment": self.env})
            check(r.status != 401, f"new Cloud key rejected: {r.status} {r.snippet()}")

        def get_no_secret():
            kid, secret = self.need("flink_key")
            r = a.get(f"/iam/v2/api-keys/{kid}", expect=200)
            got = r.body.get("spec", {}).get("secret")
            check(got in (None, ""), f"GET returns spec.secret {got!r}; it is only for the create response")
            check(secret not in r.text, "the secret appears in the GET body")
            listed = self.list_all("/iam/v2/api-keys")
            check(all(k.get("spec", {}).get("secret") in (None, "") for k in listed), "a listed key carries its secret")

        def list_filters():
            sa = self.need("key_sa")
            kid, _ = self.need("flink_key")
            cloud_kid, _ = self.need("cloud_key")
            check({kid, cloud_kid} <= self.key_ids(), "created keys not in the unfiltered list")
            owned = self.list_all("/iam/v2/api-keys", {"spec.owner": sa})
            check({kid, cloud_kid} <= {k["id"] for k in owned}, "keys missing from spec.owner listing")
            check(all(k["spec"]["owner"]["id"] == sa for k in owned), "spec.owner filter let other owners through")
            cloud = self.list_all("/iam/v2/api-keys", {"spec.resource": "cloud"})
            check(cloud_kid in {k["id"] for k in cloud} and kid not in {k["id"] for k in cloud},
                  "spec.resource=cloud filter wrong")
            check(all((k["spec"].get("resource") or {}).get("id") == "cloud" for k in cloud), "non-cloud key in spec.resource=cloud")
            flink = self.list_all("/iam/v2/api-keys", {"spec.resource": REGION})
            check(kid in {k["id"] for k in flink} and cloud_kid not in {k["id"] for k in flink},
                  f"spec.resource={REGION} filter wrong")

        def patch():
            kid, _ = self.need("flink_key")
            r = a.patch(f"/iam/v2/api-keys/{kid}", {"spec": {"display_name": "renamed-key", "description": "patched"}},
                        expect=200)
            check(r.body["spec"].get("display_name") == "renamed-key", f"PATCH response {r.body}")
            got = a.get(f"/iam/v2/api-keys/{kid}", expect=200).body["spec"]
            check(got.get("display_name") == "renamed-key" and got.get("description") == "patched", f"GET {got}")

        def create_bad():
            sa = self.need("key_sa")
            self.refused_and_unchanged(self.key_ids, lambda: a.call("POST", "/iam/v2/api-keys",
                                                                    raw=b'{"spec": {"owner": ', expect=400))
            self.refused_and_unchanged(self.key_ids, lambda: a.post("/iam/v2/api-keys", {"spec": "cloud"}, expect=400))
            self.refused_and_unchanged(self.key_ids, lambda: a.post(
                "/iam/v2/api-keys", {"spec": {"owner": {"id": 17}, "resource": {"id": "cloud"}}}, expect=400))
            self.refused_and_unchanged(self.key_ids, lambda: a.post(
                "/iam/v2/api-keys", {"spec": {"owner": {"id": sa}, "resource": {"id": "cloud"}, "display_name": 5}},
                expect=400))

        def create_missing_owner():
            self.refused_and_unchanged(self.key_ids, lambda: a.post(
                "/iam/v2/api-keys", {"spec": {"resource": {"id": "cloud"}}}, expect=(400, 422)))

        def create_unknown_owner():
            self.refused_and_unchanged(self.key_ids, lambda: a.post(
                "/iam/v2/api-keys", {"spec": {"owner": {"id": "sa-zz00nonexistent"}, "resource": {"id": "cloud"}}},
                expect=(400, 403, 422)))

        def create_unknown_resource():
            self.refused_and_unchanged(self.key_ids, lambda: a.post(
                "/iam/v2/api-keys", {"spec": {"owner": {"id": self.need("key_sa")},
                                              "resource": {"id": "aws.mars-north-9", "environment": self.env}}},
                expect=(400, 403, 422)))

        def patch_bad():
            kid, _ = self.need("flink_key")
            path = f"/iam/v2/api-keys/{kid}"
            self.refused_and_unchanged(self.get_body(path), lambda: a.call("PATCH", path, raw=b'{"spec":', expect=400))
            self.refused_and_unchanged(self.get_body(path), lambda: a.patch(path, {"spec": {"display_name": 1}}, expect=400))

        def unknown():
            p = "/iam/v2/api-keys/ZZZZZZZZZZZZZZZZ"
            a.get(p, expect=404)
            a.patch(p, {"spec": {"display_name": "x"}}, expect=404)
            self.refused_and_unchanged(self.key_ids, lambda: a.delete(p, expect=404))

        def flink_key_refused():
            kid, secret = self.need("flink_key")
            fk = a.as_key(kid, secret)
            for path, params in self.control_plane_reads():
                r = fk.get(path, params=params, expect=401)
                check(r.headers.get("WWW-Authenticate"), f"{r.where()}: 401 without WWW-Authenticate")
            self.refused_and_unchanged(self.env_ids, lambda: fk.post(
                "/org/v2/environments", {"display_name": f"by-flink-key-{tag()}"}, expect=401))

        def delete():
            b = self.create_key(self.need("key_sa"), {"id": "cloud"})
            ak = a.as_key(b["id"], b["spec"]["secret"])
            ak.call("GET", "/fcpm/v2/regions")  # used once while valid
            a.delete(f"/iam/v2/api-keys/{b['id']}", expect=204)
            a.get(f"/iam/v2/api-keys/{b['id']}", expect=404)
            check(b["id"] not in self.key_ids(), "deleted key still listed")
            r = ak.get("/fcpm/v2/regions", expect=401)
            check(r.headers.get("WWW-Authenticate"), "401 without WWW-Authenticate")

        st.run("keys: a Flink key needs a Flink role of its owner in its environment (403, then 202 once granted)", key_owner)
        st.run("keys: create Flink key (aws.us-east-1 + environment) -> 202 with secret", flink_key)
        st.run("keys: Flink key without environment is scoped to the default environment", flink_key_default_env)
        st.run("keys: create Cloud key -> 202 with secret, authenticates", cloud_key)
        st.run("keys: get/list never return the secret", get_no_secret)
        st.run("keys: list filters spec.owner and spec.resource", list_filters)
        st.run("keys: patch display_name/description -> 200", patch)
        st.run("keys: create malformed JSON / wrong types -> 400, nothing created", create_bad)
        st.run("keys: create without owner -> 400/422, nothing created", create_missing_owner)
        st.run("keys: create for an unknown owner -> 400/403/422 (declared), nothing created", create_unknown_owner)
        st.run("keys: create for an unknown Flink region -> 400/403/422, nothing created", create_unknown_resource)
        st.run("keys: patch malformed JSON / wrong type -> 400, unchanged", patch_bad)
        st.run("keys: unknown id get/patch/delete -> 404", unknown)
        st.run("keys: Flink API key refused on fcpm/iam/org -> 401", flink_key_refused)
        st.run("keys: delete -> 204, then 404; deleted key -> 401", delete)

    def control_plane_reads(self) -> list[tuple[str, dict | None]]:
        return [
            ("/org/v2/organizations", None),
            ("/org/v2/environments", None),
            (f"/org/v2/environments/{self.env}", None),
            ("/iam/v2/users", None),
            ("/iam/v2/service-accounts", None),
            ("/iam/v2/api-keys", None),
            ("/iam/v2/role-bindings", {"crn_pattern": f"crn://confluent.cloud/organization={self.org}"}),
            ("/fcpm/v2/regions", None),
            ("/fcpm/v2/compute-pools", {"environment": self.env}),
            ("/fcpm/v2/compute-pool-config", None),
        ]

    # ----------------------------------------------------------------------------------------------- role bindings
    def rb_snapshot(self, principal: str):
        org_crn = f"crn://confluent.cloud/organization={self.org}"
        return lambda: self.ids("/iam/v2/role-bindings", {"crn_pattern": org_crn, "principal": principal})

    def role_bindings(self):
        st, a = self.steps, self.admin
        org_crn = f"crn://confluent.cloud/organization={self.org}"
        env_crn = f"{org_crn}/environment={self.env}"

        def create():
            principal = f"User:{self.need('sa')}"
            r = a.post("/iam/v2/role-bindings",
                       {"principal": principal, "role_name": "FlinkDeveloper", "crn_pattern": env_crn}, expect=201)
            b = r.body
            check(RB_ID.match(b.get("id", "")), f"id {b.get('id')!r}")
            check((b.get("principal"), b.get("role_name"), b.get("crn_pattern")) == (principal, "FlinkDeveloper", env_crn),
                  f"body {b}")
            check(b.get("kind") == "RoleBinding" and b.get("api_version") == "iam/v2", f"body {b}")
            self.check_self(b, f"/iam/v2/role-bindings/{b['id']}")
            self.s["rb"] = b["id"]

        def get():
            rb = self.need("rb")
            r = a.get(f"/iam/v2/role-bindings/{rb}", expect=200)
            check(r.body["id"] == rb and r.body["role_name"] == "FlinkDeveloper", f"body {r.body}")

        def list_partial():
            rb = self.need("rb")
            items = self.list_all("/iam/v2/role-bindings", {"crn_pattern": org_crn})
            check(rb in {x["id"] for x in items}, f"{rb} not found with crn_pattern={org_crn} (partial match)")
            admin_binding = [x for x in items if x["principal"] == f"User:{self.boot.user_id}"
                             and x["role_name"] == "OrganizationAdmin"]
            check(admin_binding, "the bootstrap user's OrganizationAdmin binding is not listed")

        def list_filters():
            rb, sa = self.need("rb"), self.need("sa")
            by_principal = self.list_all("/iam/v2/role-bindings", {"crn_pattern": org_crn, "principal": f"User:{sa}"})
            check({x["id"] for x in by_principal} == {rb}, f"principal filter returned {[x['id'] for x in by_principal]}")
            by_role = self.list_all("/iam/v2/role-bindings", {"crn_pattern": org_crn, "role_name": "FlinkDeveloper"})
            check(rb in {x["id"] for x in by_role} and all(x["role_name"] == "FlinkDeveloper" for x in by_role),
                  "role_name filter wrong")
            other_env = self.s.get("env2")
            if other_env:
                elsewhere = self.list_all("/iam/v2/role-bindings", {"crn_pattern": f"{org_crn}/environment={other_env}"})
                check(rb not in {x["id"] for x in elsewhere}, "binding on the default env listed under another env")

        def list_requires_crn_pattern():
            a.get("/iam/v2/role-bindings", expect=400)

        def create_bad():
            snap = self.rb_snapshot(f"User:{self.need('sa')}")
            ok = {"principal": f"User:{self.need('sa')}", "role_name": "FlinkAdmin", "crn_pattern": env_crn}
            self.refused_and_unchanged(snap, lambda: a.call("POST", "/iam/v2/role-bindings", raw=b'{"principal"', expect=400))
            self.refused_and_unchanged(snap, lambda: a.post("/iam/v2/role-bindings", {**ok, "role_name": 3}, expect=400))
            self.refused_and_unchanged(snap, lambda: a.post("/iam/v2/role-bindings", {**ok, "principal": self.need("sa")}, expect=400))
            self.refused_and_unchanged(snap, lambda: a.post("/iam/v2/role-bindings", {**ok, "crn_pattern": "env-123"}, expect=400))
            self.refused_and_unchanged(snap, lambda: a.post("/iam/v2/role-bindings", {**ok, "role_name": "GalacticEmperor"}, expect=400))
            self.refused_and_unchanged(snap, lambda: a.post("/iam/v2/role-bindings", {"principal": ok["principal"]}, expect=400))

        def unknown():
            a.get("/iam/v2/role-bindings/rb-ZZ00none", expect=404)
            a.delete("/iam/v2/role-bindings/rb-ZZ00none", expect=404)

        def delete():
            sa = self.need("sa")
            r = a.post("/iam/v2/role-bindings", {"principal": f"User:{sa}", "role_name": "FlinkAdmin",
                                                 "crn_pattern": env_crn}, expect=201)
            rb = r.body["id"]
            d = a.delete(f"/iam/v2/role-bindings/{rb}", expect=200)
            check(d.body.get("id") == rb and d.body.get("role_name") == "FlinkAdmin", f"DELETE body {d.body}")
            a.get(f"/iam/v2/role-bindings/{rb}", expect=404)
            check(rb not in self.rb_snapshot(f"User:{sa}")(), "deleted binding still listed")

        st.run("rb: create -> 201", create)
        st.run("rb: get -> 200", get)
        st.run("rb: list with a partial crn_pattern", list_partial)
        st.run("rb: list filters principal / role_name / crn_pattern", list_filters)
        st.run("rb: list without crn_pattern -> 400", list_requires_crn_pattern)
        st.run("rb: create malformed / wrong type / bad principal / bad crn / unknown role / missing fields -> 400, nothing created",
               create_bad)
        st.run("rb: unknown id get/delete -> 404", unknown)
        st.run("rb: delete -> 200 with the binding, then 404", delete)

    # ----------------------------------------------------------------------------------------------- fcpm regions
    def regions(self):
        st, a = self.steps, self.admin

        def list_regions():
            r = a.get("/fcpm/v2/regions", expect=200)
            check(r.body["kind"] == "RegionList" and r.body["api_version"] == "fcpm/v2", f"kind {r.body.get('kind')}")
            items = self.list_all("/fcpm/v2/regions")
            by_id = {x["id"]: x for x in items}
            check(REGION in by_id, f"{REGION} not in default regions {sorted(by_id)}")
            reg = by_id[REGION]
            check(reg["cloud"] == "AWS" and reg["region_name"] == "us-east-1", f"{REGION}: {reg}")
            check(reg["kind"] == "Region" and reg.get("display_name"), f"{REGION}: {reg}")
            ep = urlsplit(reg["http_endpoint"])
            check(ep.scheme in ("http", "https") and ep.netloc, f"http_endpoint {reg['http_endpoint']!r}")
            check(all(str(x["metadata"]["self"]).startswith(self.base + "/") for x in items), "region self not on base URL")
            self.s["regions"] = by_id

        def filters():
            by_id = self.need("regions")
            aws = self.list_all("/fcpm/v2/regions", {"cloud": "AWS"})
            check(REGION in {x["id"] for x in aws} and all(x["cloud"] == "AWS" for x in aws), "cloud=AWS filter")
            check(len(aws) == sum(1 for x in by_id.values() if x["cloud"] == "AWS"), "cloud=AWS dropped AWS regions")
            named = self.list_all("/fcpm/v2/regions", {"region_name": "us-east-1"})
            check(REGION in {x["id"] for x in named} and all(x["region_name"] == "us-east-1" for x in named),
                  "region_name filter")
            both = self.list_all("/fcpm/v2/regions", {"cloud": "AWS", "region_name": "us-east-1"})
            check([x["id"] for x in both] == [REGION], f"cloud+region_name returned {[x['id'] for x in both]}")
            none = self.list_all("/fcpm/v2/regions", {"region_name": "mars-north-9"})
            check(none == [], f"unknown region_name returned {none}")

        st.run("regions: list includes aws.us-east-1", list_regions)
        st.run("regions: cloud / region_name filters", filters)

    # ----------------------------------------------------------------------------------------------- fcpm pools
    def pool_body(self, name: str, env: str | None = None, max_cfu: Any = 5, region: str = "us-east-1",
                  cloud: str = "AWS") -> dict:
        return {"spec": {"display_name": name, "cloud": cloud, "region": region, "max_cfu": max_cfu,
                         "environment": {"id": env or self.env}}}

    def pool_ids(self, env: str | None = None):
        return self.ids("/fcpm/v2/compute-pools", {"environment": env or self.env})

    def pool_snapshot(self, pool: str, env: str | None = None):
        return self.get_body(f"/fcpm/v2/compute-pools/{pool}", {"environment": env or self.env})

    def wait_provisioned(self, pool: str, env: str | None = None, timeout: float = 30) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            b = self.admin.get(f"/fcpm/v2/compute-pools/{pool}", params={"environment": env or self.env}, expect=200).body
            if b["status"]["phase"] == "PROVISIONED":
                return b
            check(time.monotonic() < deadline, f"{pool} still {b['status']['phase']} after {timeout}s")
            time.sleep(0.2)

    def pools(self):
        st, a = self.steps, self.admin

        def create():
            name = f"compat-pool-{tag()}"
            r = a.post("/fcpm/v2/compute-pools", self.pool_body(name), expect=202)
            b = r.body
            check(POOL_ID.match(b.get("id", "")), f"id {b.get('id')!r}")
            spec = b["spec"]
            check((spec["display_name"], spec["cloud"], spec["region"], spec["max_cfu"]) == (name, "AWS", "us-east-1", 5),
                  f"spec {spec}")
            check(spec["environment"]["id"] == self.env, f"spec.environment {spec['environment']}")
            check(b["status"] == {**b["status"], "phase": "PROVISIONING", "current_cfu": 0},
                  f"status {b['status']} (expected PROVISIONING, current_cfu 0)")
            self.check_self(b, f"/fcpm/v2/compute-pools/{b['id']}")
            crn = f"crn://confluent.cloud/organization={self.org}/environment={self.env}/flink-region={REGION}/compute-pool={b['id']}"
            check(b["metadata"].get("resource_name") == crn, f"resource_name {b['metadata'].get('resource_name')!r} != {crn}")
            self.s["pool"], self.s["pool_name"] = b["id"], name

        def provisioned():
            b = self.wait_provisioned(self.need("pool"))
            check(b["status"]["current_cfu"] >= 0, f"status {b['status']}")

        def get_requires_env():
            pool = self.need("pool")
            a.get(f"/fcpm/v2/compute-pools/{pool}", expect=400)
            a.get("/fcpm/v2/compute-pools", expect=400)

        def list_pools():
            pool = self.need("pool")
            r = a.get("/fcpm/v2/compute-pools", params={"environment": self.env}, expect=200)
            check(r.body["kind"] == "ComputePoolList" and r.body["api_version"] == "fcpm/v2", f"kind {r.body.get('kind')}")
            check(pool in self.pool_ids(), f"{pool} not listed")
            regional = self.list_all("/fcpm/v2/compute-pools", {"environment": self.env, "spec.region": "us-east-1"})
            check(pool in {x["id"] for x in regional} and all(x["spec"]["region"] == "us-east-1" for x in regional),
                  "spec.region filter")
            elsewhere = self.list_all("/fcpm/v2/compute-pools", {"environment": self.env, "spec.region": "mars-north-9"})
            check(elsewhere == [], "spec.region=mars-north-9 returned pools")
            if self.s.get("env2"):
                check(pool not in self.pool_ids(self.s["env2"]), "pool listed under another environment")

        def patch():
            pool = self.need("pool")
            name = f"compat-pool-renamed-{tag()}"
            r = a.patch(f"/fcpm/v2/compute-pools/{pool}",
                        {"spec": {"display_name": name, "max_cfu": 10, "environment": {"id": self.env}}}, expect=200)
            check(r.body["spec"]["display_name"] == name and r.body["spec"]["max_cfu"] == 10, f"PATCH response {r.body['spec']}")
            got = a.get(f"/fcpm/v2/compute-pools/{pool}", params={"environment": self.env}, expect=200).body["spec"]
            check(got["display_name"] == name and got["max_cfu"] == 10, f"GET {got}")
            check(got["region"] == "us-east-1" and got["cloud"] == "AWS", f"immutable fields changed: {got}")
            self.s["pool_name"] = name

        def duplicate_name():
            name = self.need("pool_name")
            r = self.refused_and_unchanged(self.pool_ids, lambda: a.post("/fcpm/v2/compute-pools", self.pool_body(name),
                                                                         expect=409))
            check(r.body["errors"][0].get("code"), "409 without error code")

        def patch_to_existing_name():
            pool = self.need("pool")
            other = a.post("/fcpm/v2/compute-pools", self.pool_body(f"compat-pool-other-{tag()}"), expect=202).body["id"]
            self.s["pool_other"] = other
            self.refused_and_unchanged(self.pool_snapshot(other), lambda: a.patch(
                f"/fcpm/v2/compute-pools/{other}",
                {"spec": {"display_name": self.s["pool_name"], "environment": {"id": self.env}}}, expect=409))
            check(pool != other, "same id")

        def bad_max_cfu():
            pool = self.need("pool")
            for bad in (7, 0, -5, 1000):
                self.refused_and_unchanged(self.pool_ids, lambda: a.post(
                    "/fcpm/v2/compute-pools", self.pool_body(f"compat-pool-cfu-{tag()}", max_cfu=bad), expect=(400, 422)))
            self.refused_and_unchanged(self.pool_snapshot(pool), lambda: a.patch(
                f"/fcpm/v2/compute-pools/{pool}", {"spec": {"max_cfu": 7, "environment": {"id": self.env}}},
                expect=(400, 422)))

        def wrong_types():
            pool = self.need("pool")
            self.refused_and_unchanged(self.pool_ids, lambda: a.post(
                "/fcpm/v2/compute-pools", self.pool_body(f"compat-pool-{tag()}", max_cfu="ten"), expect=400))
            self.refused_and_unchanged(self.pool_ids, lambda: a.post(
                "/fcpm/v2/compute-pools", {"spec": [1, 2]}, expect=400))
            self.refused_and_unchanged(self.pool_snapshot(pool), lambda: a.patch(
                f"/fcpm/v2/compute-pools/{pool}", {"spec": {"display_name": 5, "environment": {"id": self.env}}}, expect=400))

        def malformed():
            pool = self.need("pool")
            self.refused_and_unchanged(self.pool_ids, lambda: a.call(
                "POST", "/fcpm/v2/compute-pools", raw=b'{"spec": {"display_name": "x"', expect=400))
            self.refused_and_unchanged(self.pool_snapshot(pool), lambda: a.call(
                "PATCH", f"/fcpm/v2/compute-pools/{pool}", raw=b"}", expect=400))

        def invalid_fields():
            body = self.pool_body("bad name!")
            self.refused_and_unchanged(self.pool_ids, lambda: a.post("/fcpm/v2/compute-pools", body, expect=(400, 422)))
            body = self.pool_body(f"compat-pool-{tag()}")
            del body["spec"]["cloud"]
            self.refused_and_unchanged(self.pool_ids, lambda: a.post("/fcpm/v2/compute-pools", body, expect=(400, 422)))
            body = self.pool_body(f"compat-pool-{tag()}", region="mars-north-9")
            self.refused_and_unchanged(self.pool_ids, lambda: a.post("/fcpm/v2/compute-pools", body, expect=(400, 422)))

        def patch_without_env():
            pool = self.need("pool")
            self.refused_and_unchanged(self.pool_snapshot(pool), lambda: a.patch(
                f"/fcpm/v2/compute-pools/{pool}", {"spec": {"display_name": f"compat-x-{tag()}"}}, expect=(400, 422)))

        def unknown_pool():
            p = "/fcpm/v2/compute-pools/lfcp-zz00none"
            for r in (a.get(p, params={"environment": self.env}, expect=403),
                      a.patch(p, {"spec": {"max_cfu": 10, "environment": {"id": self.env}}}, expect=403),
                      a.delete(p, params={"environment": self.env}, expect=403)):
                check("lfcp-zz00none" in r.body["errors"][0]["detail"], f"detail does not name the pool: {r.snippet()}")
            pool = self.need("pool")
            if self.s.get("env2"):  # a real pool looked up in the wrong environment is not found either
                a.get(f"/fcpm/v2/compute-pools/{pool}", params={"environment": self.s["env2"]}, expect=403)

        def unknown_env():
            a.post("/fcpm/v2/compute-pools", self.pool_body(f"compat-pool-{tag()}", env="env-zz00none"),
                   expect=(400, 403, 422))

        def delete():
            other = self.need("pool_other")
            a.delete(f"/fcpm/v2/compute-pools/{other}", params={"environment": self.env}, expect=204)
            a.get(f"/fcpm/v2/compute-pools/{other}", params={"environment": self.env}, expect=403)
            check(other not in self.pool_ids(), "deleted pool still listed")

        def delete_requires_env():
            pool = self.need("pool")
            self.refused_and_unchanged(self.pool_ids, lambda: a.delete(f"/fcpm/v2/compute-pools/{pool}", expect=400))

        st.run("pools: create -> 202 PROVISIONING", create)
        st.run("pools: becomes PROVISIONED", provisioned)
        st.run("pools: get and list without environment -> 400", get_requires_env)
        st.run("pools: list with environment and spec.region", list_pools)
        st.run("pools: patch display_name and max_cfu -> 200", patch)
        st.run("pools: duplicate display_name -> 409, nothing created", duplicate_name)
        st.run("pools: patch to an existing display_name -> 409, unchanged", patch_to_existing_name)
        st.run("pools: bad max_cfu (7, 0, -5, 1000) -> 400/422, nothing created or changed", bad_max_cfu)
        st.run("pools: wrong types -> 400, nothing created or changed", wrong_types)
        st.run("pools: malformed JSON -> 400, nothing created or changed", malformed)
        st.run("pools: bad display_name / missing cloud / unknown region -> 400/422, nothing created", invalid_fields)
        st.run("pools: patch without spec.environment -> 400/422, unchanged", patch_without_env)
        st.run("pools: unknown pool get/patch/delete -> 403", unknown_pool)
        st.run("pools: create in an unknown environment refused", unknown_env)
        st.run("pools: delete without environment -> 400, not deleted", delete_requires_env)
        st.run("pools: delete -> 204, then 403", delete)

    # ----------------------------------------------------------------------------------------------- cmk/v2
    def cluster_body(self, name: str, env: str | None = None, **spec: Any) -> dict:
        body = {"display_name": name, "availability": "SINGLE_ZONE", "cloud": "GCP", "region": "us-east4",
                "config": {"kind": "Basic"}, "environment": {"id": env or self.env},
                "kafka_bootstrap_endpoint": "127.0.0.1:1"}
        body.update(spec)
        return {"spec": body}

    def cluster_ids(self, env: str | None = None):
        return self.ids("/cmk/v2/clusters", {"environment": env or self.env})

    def cluster_snapshot(self, cluster: str):
        return self.get_body(f"/cmk/v2/clusters/{cluster}", {"environment": self.env})

    def clusters(self):
        """Kafka clusters: this server has no broker at 127.0.0.1:1 (and may have no Kafka client), so an attached
        cluster ends FAILED with a reason; the shapes are what is checked here, against cmk-v2's schemas."""
        st, a = self.steps, self.admin
        password = f"compat-kafka-password-{tag()}"

        def create():
            name = f"compat-kafka-{tag()}"
            body = self.cluster_body(name, credentials={"mechanism": "SCRAM-SHA-256", "username": "floe", "password": password})
            r = a.post("/cmk/v2/clusters", body, expect=202)
            b = r.body
            check(LKC_ID.match(b.get("id", "")), f"id {b.get('id')!r}")
            check(b["api_version"] == "cmk/v2" and b["kind"] == "Cluster", f"api_version/kind {b.get('api_version')}/{b.get('kind')}")
            check(b["status"]["phase"] in ("PROVISIONING", "FAILED"), f"status {b['status']}")
            spec = b["spec"]
            check((spec["display_name"], spec["cloud"], spec["region"], spec["availability"], spec["config"]) ==
                  (name, "GCP", "us-east4", "SINGLE_ZONE", {"kind": "Basic"}), f"spec {spec}")
            check(spec["kafka_bootstrap_endpoint"] == "127.0.0.1:1", f"kafka_bootstrap_endpoint {spec.get('kafka_bootstrap_endpoint')!r}")
            check(spec["http_endpoint"] == self.base, f"http_endpoint {spec.get('http_endpoint')!r}")
            check("credentials" not in spec and password not in r.text, "the SASL password is in the response")
            self.check_self(b, f"/cmk/v2/clusters/{b['id']}")
            crn = f"crn://confluent.cloud/organization={self.org}/environment={self.env}/cloud-cluster={b['id']}"
            check(b["metadata"].get("resource_name") == crn, f"resource_name {b['metadata'].get('resource_name')!r} != {crn}")
            self.s["cluster"], self.s["cluster_name"] = b["id"], name

        def failed_with_reason():
            cluster = self.need("cluster")
            deadline = time.time() + 30
            while True:
                b = a.get(f"/cmk/v2/clusters/{cluster}", params={"environment": self.env}, expect=200).body
                if b["status"]["phase"] != "PROVISIONING" or time.time() > deadline:
                    break
                time.sleep(0.2)
            check(b["status"]["phase"] == "FAILED", f"status {b['status']} (nothing listens on 127.0.0.1:1)")
            check(b["status"].get("detail"), f"FAILED without status.detail: {b['status']}")
            check(password not in json.dumps(b), "the SASL password is in the response")

        def list_clusters():
            cluster = self.need("cluster")
            r = a.get("/cmk/v2/clusters", params={"environment": self.env}, expect=200)
            check(r.body["kind"] == "ClusterList" and r.body["api_version"] == "cmk/v2", f"kind {r.body.get('kind')}")
            check(cluster in self.cluster_ids(), f"{cluster} not listed")
            a.get("/cmk/v2/clusters", expect=400)
            a.get(f"/cmk/v2/clusters/{cluster}", expect=400)

        def patch():
            cluster = self.need("cluster")
            name = f"compat-kafka-renamed-{tag()}"
            r = a.patch(f"/cmk/v2/clusters/{cluster}", {"spec": {"display_name": name, "environment": {"id": self.env}}}, expect=200)
            check(r.body["spec"]["display_name"] == name, f"PATCH response {r.body['spec']}")
            check(a.get(f"/cmk/v2/clusters/{cluster}", params={"environment": self.env}, expect=200).body["spec"]["display_name"] == name,
                  "GET does not show the new name")
            self.s["cluster_name"] = name

        def duplicate_name():
            self.refused_and_unchanged(self.cluster_ids, lambda: a.post(
                "/cmk/v2/clusters", self.cluster_body(self.need("cluster_name")), expect=409))

        def invalid():
            cluster = self.need("cluster")
            body = self.cluster_body(f"compat-kafka-{tag()}")
            del body["spec"]["availability"]
            self.refused_and_unchanged(self.cluster_ids, lambda: a.post("/cmk/v2/clusters", body, expect=400))
            for bad in ({"cloud": "MOON"}, {"config": {"kind": "Huge"}}, {"kafka_bootstrap_endpoint": "no-port"},
                        {"credentials": {"mechanism": "GSSAPI", "username": "u", "password": "p"}}):
                self.refused_and_unchanged(self.cluster_ids, lambda: a.post(
                    "/cmk/v2/clusters", self.cluster_body(f"compat-kafka-{tag()}", **bad), expect=400))
            self.refused_and_unchanged(self.cluster_snapshot(cluster), lambda: a.patch(
                f"/cmk/v2/clusters/{cluster}", {"spec": {"region": "elsewhere", "environment": {"id": self.env}}}, expect=400))
            self.refused_and_unchanged(self.cluster_ids, lambda: a.call(
                "POST", "/cmk/v2/clusters", raw=b'{"spec": {"display_name": "x"', expect=400))

        def unknown():
            p = "/cmk/v2/clusters/lkc-zz00none"
            a.get(p, params={"environment": self.env}, expect=404)
            a.patch(p, {"spec": {"display_name": "x", "environment": {"id": self.env}}}, expect=404)
            a.delete(p, params={"environment": self.env}, expect=404)

        def delete():
            other = a.post("/cmk/v2/clusters", self.cluster_body(f"compat-kafka-other-{tag()}"), expect=202).body["id"]
            a.delete(f"/cmk/v2/clusters/{other}", params={"environment": self.env}, expect=204)
            a.get(f"/cmk/v2/clusters/{other}", params={"environment": self.env}, expect=404)
            check(other not in self.cluster_ids(), "deleted cluster still listed")

        def no_password_anywhere():
            leaks = [r.where() for r in self.log if password in r.text]
            check(not leaks, f"the SASL password appears in response bodies: {leaks[:3]}")

        st.run("clusters: create -> 202 with an lkc id, CRN and endpoints, no credentials", create)
        st.run("clusters: unreachable brokers -> FAILED with status.detail", failed_with_reason)
        st.run("clusters: list with environment; without -> 400", list_clusters)
        st.run("clusters: patch display_name -> 200", patch)
        st.run("clusters: duplicate display_name -> 409, nothing created", duplicate_name)
        st.run("clusters: invalid fields, immutable region, malformed JSON -> 400, nothing created or changed", invalid)
        st.run("clusters: unknown cluster get/patch/delete -> 404", unknown)
        st.run("clusters: delete -> 204, then 404", delete)
        st.run("clusters: the SASL password is in no response", no_password_anywhere)

    def pool_config(self):
        st, a = self.steps, self.admin
        path = "/fcpm/v2/compute-pool-config"

        def get():
            r = a.get(path, expect=200)
            b = r.body
            check(b.get("kind") == "OrgComputePoolConfig" and b.get("api_version") == "fcpm/v2", f"body {b}")
            check(b.get("organization_id") == self.org, f"organization_id {b.get('organization_id')!r}")
            spec = b.get("spec") or {}
            check(isinstance(spec.get("default_pool_enabled"), bool), f"spec {spec}")
            check(spec.get("default_pool_max_cfu") in (5, 10, 20, 30, 40, 50), f"spec {spec}")
            self.s["config"] = spec

        def patch():
            orig = self.need("config")
            new_cfu = 20 if orig["default_pool_max_cfu"] != 20 else 10
            r = a.patch(path, {"spec": {"default_pool_max_cfu": new_cfu}}, expect=200)
            check(r.body["spec"]["default_pool_max_cfu"] == new_cfu, f"PATCH response {r.body}")
            check(r.body["spec"]["default_pool_enabled"] == orig["default_pool_enabled"], "PATCH touched default_pool_enabled")
            check(a.get(path, expect=200).body["spec"]["default_pool_max_cfu"] == new_cfu, "GET not updated")
            r = a.patch(path, {"spec": {"default_pool_enabled": not orig["default_pool_enabled"]}}, expect=200)
            check(r.body["spec"]["default_pool_enabled"] == (not orig["default_pool_enabled"]), f"PATCH response {r.body}")
            check(r.body["spec"]["default_pool_max_cfu"] == new_cfu, "PATCH of enabled touched max_cfu")
            a.patch(path, {"spec": orig}, expect=200)
            restored = a.get(path, expect=200).body["spec"]
            check(all(restored.get(k) == v for k, v in orig.items()), f"restore failed: {restored} != {orig}")

        def bad():
            snap = self.get_body(path)
            self.refused_and_unchanged(snap, lambda: a.patch(path, {"spec": {"default_pool_max_cfu": 7}}, expect=(400, 422)))
            self.refused_and_unchanged(snap, lambda: a.patch(path, {"spec": {"default_pool_max_cfu": "20"}}, expect=400))
            self.refused_and_unchanged(snap, lambda: a.patch(path, {"spec": {"default_pool_enabled": "yes"}}, expect=400))
            self.refused_and_unchanged(snap, lambda: a.call("PATCH", path, raw=b'{"spec": {', expect=400))

        st.run("config: get compute-pool-config", get)
        st.run("config: patch default_pool_max_cfu / default_pool_enabled -> 200", patch)
        st.run("config: bad value / wrong type / malformed JSON -> 400/422, unchanged", bad)

    # ----------------------------------------------------------------------------------------------- 401
    def authentication(self):
        st, a = self.steps, self.admin
        key, secret = self.boot.api_key, self.boot.api_secret
        unknown_key, unknown_secret = generate_bootstrap_credentials()
        variants = [
            ("no Authorization", None, None),
            ("wrong secret", (key, secret[:-4] + ("AAAA" if not secret.endswith("AAAA") else "BBBB")), None),
            ("unknown key", (unknown_key, unknown_secret), None),
            ("empty secret", (key, ""), None),
            ("not base64", None, {"Authorization": "Basic %%%not-base64%%%"}),
            ("no colon", None, {"Authorization": "Basic " + __import__("base64").b64encode(key.encode()).decode()}),
            ("Bearer token", None, {"Authorization": f"Bearer {secret}"}),
        ]

        def probe(path, params):
            for label, auth, headers in variants:
                r = a.call("GET", path, params=params, auth=auth, headers=headers)
                check(r.status == 401, f"{label}: {r.where()} -> {r.status}, expected 401")
                challenge = r.headers.get("WWW-Authenticate", "")
                check(challenge.lower().startswith("basic"), f"{label}: {r.where()} WWW-Authenticate {challenge!r}")

        for path, params in self.control_plane_reads():
            st.run(f"auth: {path} missing/wrong/unknown/malformed credentials -> 401 + WWW-Authenticate", probe, path, params)

        def mutation_unchanged():
            self.refused_and_unchanged(self.env_ids, lambda: a.post(
                "/org/v2/environments", {"display_name": f"anon-{tag()}"}, auth=None, expect=401))
            self.refused_and_unchanged(self.sa_ids, lambda: a.post(
                "/iam/v2/service-accounts", {"display_name": f"anon-{tag()}"}, auth=(unknown_key, unknown_secret), expect=401))
            self.refused_and_unchanged(self.pool_ids, lambda: a.post(
                "/fcpm/v2/compute-pools", self.pool_body(f"anon-{tag()}"), auth=(key, "x" * 64), expect=401))

        st.run("auth: refused unauthenticated mutations leave state unchanged", mutation_unchanged)

    # ----------------------------------------------------------------------------------------------- 403
    def authorization(self):
        st, a = self.steps, self.admin
        org_crn = f"crn://confluent.cloud/organization={self.org}"
        env_crn = f"{org_crn}/environment={self.env}"

        def setup():
            sa = self.create_sa(f"compat-noroles-{tag()}")["id"]
            key = self.create_key(sa, {"id": "cloud"})
            self.s["nr_sa"] = sa
            self.s["nr"] = a.as_key(key["id"], key["spec"]["secret"])
            check(not self.rb_snapshot(f"User:{sa}")(), "new service account already has bindings")

        def nr() -> Api:
            return self.need("nr")

        def forbidden_env():
            n = nr()
            self.refused_and_unchanged(self.env_ids, lambda: n.post(
                "/org/v2/environments", {"display_name": f"nr-{tag()}"}, expect=403))
            path = f"/org/v2/environments/{self.env}"
            self.refused_and_unchanged(self.get_body(path), lambda: n.patch(path, {"display_name": "hijacked"}, expect=403))
            victim = a.post("/org/v2/environments", {"display_name": f"compat-victim-{tag()}"}, expect=201).body["id"]
            self.refused_and_unchanged(self.env_ids, lambda: n.delete(f"/org/v2/environments/{victim}", expect=403))
            org_path = f"/org/v2/organizations/{self.org}"
            self.refused_and_unchanged(self.get_body(org_path), lambda: n.patch(org_path, {"display_name": "hijacked"},
                                                                                expect=403))

        def forbidden_iam():
            n = nr()
            self.refused_and_unchanged(self.sa_ids, lambda: n.post(
                "/iam/v2/service-accounts", {"display_name": f"nr-{tag()}"}, expect=403))
            victim = self.create_sa()["id"]
            path = f"/iam/v2/service-accounts/{victim}"
            self.refused_and_unchanged(self.get_body(path), lambda: n.patch(path, {"description": "hijacked"}, expect=403))
            self.refused_and_unchanged(self.sa_ids, lambda: n.delete(path, expect=403))
            upath = f"/iam/v2/users/{self.boot.user_id}"
            self.refused_and_unchanged(self.get_body(upath), lambda: n.patch(upath, {"full_name": "hijacked"}, expect=403))

        def forbidden_role_binding():
            n, sa = nr(), self.need("nr_sa")
            self.refused_and_unchanged(self.rb_snapshot(f"User:{sa}"), lambda: n.post(
                "/iam/v2/role-bindings", {"principal": f"User:{sa}", "role_name": "OrganizationAdmin",
                                          "crn_pattern": org_crn}, expect=403))
            if "rb" in self.s:
                path = f"/iam/v2/role-bindings/{self.s['rb']}"
                self.refused_and_unchanged(self.get_body(path), lambda: n.delete(path, expect=(403, 404)))

        def forbidden_api_key():
            n = nr()
            self.refused_and_unchanged(self.key_ids, lambda: n.post("/iam/v2/api-keys", {"spec": {
                "owner": {"id": self.boot.user_id}, "resource": {"id": "cloud"}}}, expect=403))
            victim = self.create_key(self.create_sa()["id"], {"id": "cloud"})["id"]
            path = f"/iam/v2/api-keys/{victim}"
            self.refused_and_unchanged(self.key_ids, lambda: n.delete(path, expect=(403, 404)))
            self.refused_and_unchanged(self.get_body(path), lambda: n.patch(
                path, {"spec": {"display_name": "hijacked"}}, expect=(403, 404)))

        def forbidden_pools():
            n = nr()
            self.refused_and_unchanged(self.pool_ids, lambda: n.post(
                "/fcpm/v2/compute-pools", self.pool_body(f"nr-{tag()}"), expect=403))
            pool = self.need("pool")
            self.refused_and_unchanged(self.pool_snapshot(pool), lambda: n.patch(
                f"/fcpm/v2/compute-pools/{pool}", {"spec": {"max_cfu": 50, "environment": {"id": self.env}}}, expect=403))
            self.refused_and_unchanged(self.pool_ids, lambda: n.delete(
                f"/fcpm/v2/compute-pools/{pool}", params={"environment": self.env}, expect=403))
            n.get(f"/fcpm/v2/compute-pools/{pool}", params={"environment": self.env}, expect=403)

        def forbidden_config():
            n = nr()
            path = "/fcpm/v2/compute-pool-config"
            self.refused_and_unchanged(self.get_body(path), lambda: n.patch(
                path, {"spec": {"default_pool_max_cfu": 50}}, expect=403))

        def grant_and_revoke():
            n, sa = nr(), self.need("nr_sa")
            rb = a.post("/iam/v2/role-bindings", {"principal": f"User:{sa}", "role_name": "FlinkAdmin",
                                                  "crn_pattern": env_crn}, expect=201).body["id"]
            pool = n.post("/fcpm/v2/compute-pools", self.pool_body(f"nr-granted-{tag()}"), expect=202).body["id"]
            n.get(f"/fcpm/v2/compute-pools/{pool}", params={"environment": self.env}, expect=200)
            a.delete(f"/iam/v2/role-bindings/{rb}", expect=200)
            self.refused_and_unchanged(self.pool_ids, lambda: n.post(
                "/fcpm/v2/compute-pools", self.pool_body(f"nr-revoked-{tag()}"), expect=403))
            self.refused_and_unchanged(self.pool_ids, lambda: n.delete(
                f"/fcpm/v2/compute-pools/{pool}", params={"environment": self.env}, expect=403))
            a.delete(f"/fcpm/v2/compute-pools/{pool}", params={"environment": self.env}, expect=204)

        st.run("authz: service account without roles gets a Cloud key", setup)
        st.run("authz: no role -> 403 on environment create/patch/delete and organization patch, unchanged", forbidden_env)
        st.run("authz: no role -> 403 on service account create/patch/delete and user patch, unchanged", forbidden_iam)
        st.run("authz: no role -> 403 granting itself OrganizationAdmin, unchanged", forbidden_role_binding)
        st.run("authz: no role -> 403 creating a key for another principal, unchanged", forbidden_api_key)
        st.run("authz: no role -> 403 on compute pool create/patch/delete/get, unchanged", forbidden_pools)
        st.run("authz: no role -> 403 on compute-pool-config patch, unchanged", forbidden_config)
        st.run("authz: FlinkAdmin binding allows pool create; after revoking it -> 403", grant_and_revoke)

    # ----------------------------------------------------------------------------------------------- pagination
    def walk(self, path: str, params: dict | None = None) -> None:
        a = self.admin
        params = dict(params or {})
        reference = self.list_all(path, params)
        expected = [x["id"] for x in reference]
        check(len(expected) == len(set(expected)), f"full listing has duplicate ids: {expected}")
        r = a.get(path, params={**params, "page_size": 1}, expect=200)
        got: list[str] = []
        pages = 0
        while True:
            pages += 1
            data = r.body["data"]
            check(len(data) <= 1, f"page {pages} has {len(data)} items with page_size=1")
            got += [x["id"] for x in data]
            total = r.body["metadata"].get("total_size")
            check(total == len(expected), f"page {pages}: total_size {total!r}, expected {len(expected)}")
            nxt = r.body["metadata"].get("next")
            if not nxt:
                break
            check(nxt.startswith(self.base + path + "?"), f"next {nxt!r} is not an absolute URL on {self.base}{path}")
            check(pages <= len(expected) + 1, f"more than {len(expected) + 1} pages; next={nxt}")
            r = a.get(nxt, expect=200)
        dupes = [i for i, n in Counter(got).items() if n > 1]
        check(not dupes, f"ids seen twice while paging: {dupes}")
        check(sorted(got) == sorted(expected), f"paged ids {got} != listed ids {expected}")
        check(pages in (len(expected), len(expected) + 1) or (not expected and pages == 1), f"{pages} pages for {len(expected)} items")

    def pagination(self):
        st, a = self.steps, self.admin
        org_crn = f"crn://confluent.cloud/organization={self.org}"

        def prepare():
            for _ in range(2):
                a.post("/org/v2/environments", {"display_name": f"compat-page-env-{tag()}"}, expect=201)
                a.post("/fcpm/v2/compute-pools", self.pool_body(f"compat-page-pool-{tag()}"), expect=202)
            sa = self.need("sa")
            for role in ("FlinkAdmin", "EnvironmentAdmin"):
                a.post("/iam/v2/role-bindings", {"principal": f"User:{sa}", "role_name": role,
                                                 "crn_pattern": f"{org_crn}/environment={self.env}"}, expect=201)

        st.run("paging: prepare extra resources", prepare)
        for label, path, params in [
            ("organizations", "/org/v2/organizations", None),
            ("environments", "/org/v2/environments", None),
            ("users", "/iam/v2/users", None),
            ("service accounts", "/iam/v2/service-accounts", None),
            ("api keys", "/iam/v2/api-keys", None),
            ("api keys by owner", "/iam/v2/api-keys", {"spec.owner": self.s.get("sa", "sa-none")}),
            ("role bindings", "/iam/v2/role-bindings", {"crn_pattern": org_crn}),
            ("regions", "/fcpm/v2/regions", None),
            ("compute pools", "/fcpm/v2/compute-pools", {"environment": self.env}),
        ]:
            st.run(f"paging: {label} page_size=1 walks metadata.next, every item once, total_size right",
                   self.walk, path, params)

        def bad_token():
            a.get("/org/v2/environments", params={"page_token": "not-a-real-token!"}, expect=400)
            a.get("/fcpm/v2/compute-pools", params={"environment": self.env, "page_token": "zzz"}, expect=400)

        def bad_page_size():
            a.get("/org/v2/environments", params={"page_size": "ten"}, expect=400)
            a.get("/iam/v2/service-accounts", params={"page_size": "-1"}, expect=400)

        st.run("paging: invalid page_token -> 400", bad_token)
        st.run("paging: non-numeric / negative page_size -> 400", bad_page_size)

    # ----------------------------------------------------------------------------------------------- conformance
    IN_SCOPE_UNTESTABLE = {("delete", "/iam/v2/users/{id}")}  # the only user is the bootstrap admin

    def conformance(self):
        st = self.steps
        log = list(self.log)
        groups: dict[tuple, list[Resp]] = {}
        unknown: list[Resp] = []
        for r in log:
            op = self.registry.operation(r.method, r.path)
            if op is None:
                if r.path != "/healthz":
                    unknown.append(r)
                continue
            groups.setdefault((op.spec, op.method.upper(), op.template, r.status), []).append(r)

        def conforms(rs: list[Resp]):
            bad = [(r, p) for r in rs for p in r.problems]
            if bad:
                examples = "; ".join(f"[{r.method} {urlsplit(r.url).path}{'?' + urlsplit(r.url).query if urlsplit(r.url).query else ''}] {p}"
                                     for r, p in bad[:3])
                raise CheckFailed(f"{len({id(r) for r, _ in bad})}/{len(rs)} responses deviate: {examples}")

        for (spec, method, template, status), rs in sorted(groups.items()):
            what = "schema + error envelope" if status >= 400 else "schema"
            st.run(f"conformance: {spec} {method} {template} -> {status} ({what}, {len(rs)} responses)", conforms, rs)

        def no_unknown_paths():
            check(not unknown, f"responses for paths outside the specs: {[r.where() for r in unknown[:3]]}")

        def coverage():
            hit = {(spec, method.lower(), template) for (spec, method, template, status) in groups if status < 300}
            missing = []
            for name in ("org-v2", "iam-v2", "apikeys-v2", "mds-v2", "fcpm-v2", "cmk-v2"):
                for template, item in self.registry.docs[name]["paths"].items():
                    if "/invitations" in template:
                        continue  # not in Floe's scope
                    for method in item:
                        if method in ("get", "post", "put", "patch", "delete") and (method, template) not in self.IN_SCOPE_UNTESTABLE \
                                and (name, method, template) not in hit:
                            missing.append(f"{method.upper()} {template}")
            check(not missing, f"operations never answered with 2xx in this run: {missing}")

        st.run("conformance: no request hit a path outside the control-plane specs", no_unknown_paths)
        st.run("conformance: every in-scope operation was exercised with a 2xx answer", coverage)

    # ----------------------------------------------------------------------------------------------- headers
    def headers(self):
        st = self.steps
        log = list(self.log)

        def request_id():
            missing = [r.where() + f" -> {r.status}" for r in log if not r.headers.get("X-Request-Id")]
            check(not missing, f"{len(missing)}/{len(log)} responses lack X-Request-Id, e.g. {missing[:3]}")
            ids = Counter(r.headers.get("X-Request-Id") for r in log)
            repeated = [i for i, n in ids.items() if n > 1]
            check(not repeated, f"X-Request-Id values repeat: {repeated[:3]}")

        def declared(header: str):
            relevant, missing, bad = 0, [], []
            for r in log:
                op = self.registry.operation(r.method, r.path)
                if op is None or header not in self.registry.declared_headers(op, r.status):
                    continue
                relevant += 1
                value = r.headers.get(header)
                if value is None:
                    missing.append(f"{r.method} {r.path} -> {r.status}")
                elif header.startswith("X-RateLimit") and not re.fullmatch(r"\d+", value.strip()):
                    bad.append(f"{r.method} {r.path}: {header}={value!r}")
            if relevant == 0:
                raise CheckFailed(f"no recorded response for which the spec declares {header}")
            check(not missing, f"{len(missing)}/{relevant} responses for which the spec declares {header} lack it, "
                               f"e.g. {sorted(set(missing))[:4]}")
            check(not bad, f"non-integer values: {bad[:3]}")

        def no_secrets_leak():
            secret = self.boot.api_secret
            leaks = [r.where() for r in log if secret in r.text]
            check(not leaks, f"the bootstrap secret appears in response bodies: {leaks[:3]}")

        st.run(f"headers: X-Request-Id on every response ({len(log)} recorded), unique", request_id)
        # This suite's server runs with --rate-limit off (the suite sends bursts), and a server that does not limit
        # sends no X-RateLimit-* headers; rate_limit_test.py checks them on a server that limits.
        st.run("headers: WWW-Authenticate wherever the spec declares it", declared, "WWW-Authenticate")
        st.run("headers: no response body contains the bootstrap secret", no_secrets_leak)


def main():
    steps = Steps("contract_test.py (control-plane wire contract)")
    c = Contract(steps)
    c.basics()
    c.organizations()
    c.environments()
    c.users()
    c.service_accounts()
    c.api_keys()
    c.role_bindings()
    c.regions()
    c.pools()
    c.clusters()
    c.pool_config()
    c.authentication()
    c.authorization()
    c.pagination()
    c.conformance()
    c.headers()
    steps.finish()


if __name__ == "__main__":
    main()
