#!/usr/bin/env python3
"""Drives confluent-cloud-sdk 0.2.3 (compose-x; iam/v2 API keys and service accounts) against Floe.

Runs in its own venv (.venv/compat-sdk: the SDK needs pydantic 1.x). What the SDK does (read from its installed
source, confluent_cloud_sdk/{client_factory,confluent_iam_v2,errors}.py):
* HTTP Basic + `Accept: application/json`; base URL `client.api_url` (overwritten here to point at Floe).
* Parses every object with pydantic models that forbid unknown fields (ApiKey, ServiceAccount, list envelopes).
* read/update/delete go to the object's `metadata.self` verbatim; list_all follows `metadata.next` verbatim.
* update sends PATCH `{"description": ...}` (top level, not under `spec`).
* Upstream bug: IamV2Object.__init__ sets `self.api_path = None`, shadowing the class attribute, so ApiKey.create and
  ServiceAccount.create/read-by-id go to "<api_url>None". The instance attribute is dropped right after __init__
  here, so the class attributes ("/iam/v2/api-keys", "/iam/v2/service-accounts") apply.
"""
from __future__ import annotations

import contextlib
import io
import re
import uuid

from confluent_cloud_sdk.client_factory import ConfluentClient
from confluent_cloud_sdk.confluent_cloud_api.iam_v2_apikey import SpecModel as ApiKeyModel
from confluent_cloud_sdk.confluent_cloud_api.iam_v2_serviceaccount import Spec as ServiceAccountModel
from confluent_cloud_sdk.confluent_iam_v2 import ApiKey, IamV2Object, ServiceAccount
from confluent_cloud_sdk.errors import GenericNotFound, GenericUnauthorized

from floe_harness import CheckFailed, Steps, check, target_from_env

REGION_ID = "aws.us-east-1"

_upstream_init = IamV2Object.__init__


def _init_without_shadowing(self, *args, **kwargs):
    _upstream_init(self, *args, **kwargs)
    if self.__dict__.get("api_path") is None:
        self.__dict__.pop("api_path", None)


IamV2Object.__init__ = _init_without_shadowing


def tag() -> str:
    return uuid.uuid4().hex[:8]


def quiet(fn, *args, **kwargs):
    """list_all prints 'RESOURCE URL? ...' on every call; keep the step output readable."""
    with contextlib.redirect_stdout(io.StringIO()):
        return fn(*args, **kwargs)


class Sdk:
    def __init__(self, steps: Steps):
        self.steps = steps
        t = target_from_env("sdk")
        self.base = t.base_url
        self.boot = t.bootstrap
        self.client = self.make_client(self.boot.api_key, self.boot.api_secret)
        self.s: dict = {}

    def make_client(self, key: str, secret: str) -> ConfluentClient:
        client = ConfluentClient(key, secret)
        client.api_url = self.base
        return client

    def need(self, name):
        if name not in self.s:
            raise CheckFailed(f"prerequisite '{name}' was not created by an earlier step")
        return self.s[name]

    def new_key(self) -> ApiKey:
        return ApiKey(self.client)

    def create_service_account(self):
        sa = ServiceAccount(self.client, display_name=f"sdk-sa-{tag()}", description="confluent-cloud-sdk test")
        resp = sa.create()
        check(resp.status_code == 201, f"create -> {resp.status_code}")
        check(re.match(r"^sa-[a-z0-9]+$", sa.obj_id or ""), f"id {sa.obj_id!r}")
        check(sa.resource.metadata.self == f"{self.base}/iam/v2/service-accounts/{sa.obj_id}", f"self {sa.resource.metadata.self}")
        self.s["sa"] = sa

    def read_service_account(self):
        sa = self.need("sa")
        again = ServiceAccount(self.client, resource_id=sa.obj_id)  # GET + strict model
        check(again.resource.display_name == sa.resource.display_name, f"{again.resource}")
        resp = sa.read()
        ServiceAccountModel(**resp.json())

    def list_service_accounts(self):
        sa = self.need("sa")
        found = quiet(self.client.list_all, ServiceAccount)
        check(sa.obj_id in {x.obj_id for x in found}, f"{sa.obj_id} not listed")
        paged = quiet(self.client.list_all, ServiceAccount, url_args="?page_size=1")
        ids = [x.obj_id for x in paged]
        check(len(ids) == len(set(ids)) and set(ids) == {x.obj_id for x in found},
              f"page_size=1 listing following metadata.next verbatim gave {ids}")

    def grant_flink_role(self, principal_id: str) -> None:
        """FlinkDeveloper in the default environment (a Flink API key needs a Flink role of its owner there); the SDK
        has no role-binding object, so this is a plain request."""
        import base64
        import json
        import urllib.request
        body = json.dumps({"principal": f"User:{principal_id}", "role_name": "FlinkDeveloper",
                           "crn_pattern": f"crn://confluent.cloud/organization={self.boot.organization_id}/environment={self.boot.environment_id}"})
        token = base64.b64encode(f"{self.boot.api_key}:{self.boot.api_secret}".encode()).decode()
        request = urllib.request.Request(f"{self.base}/iam/v2/role-bindings", data=body.encode(), method="POST",
                                         headers={"Authorization": f"Basic {token}", "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            check(response.status == 201, f"role binding -> {response.status}")

    def create_keys(self):
        sa = self.need("sa")
        self.grant_flink_role(sa.obj_id)
        flink = self.new_key()
        resp = flink.create(sa.obj_id, REGION_ID, self.boot.environment_id, f"sdk-flink-{tag()}", "sdk flink key")
        check(resp.status_code == 202, f"create -> {resp.status_code}")
        check(flink.resource.spec.secret and len(flink.resource.spec.secret) == 64, "no 64-char secret in the create response")
        check(flink.resource.spec.resource.id.__root__ == REGION_ID, f"{flink.resource.spec.resource}")
        check(flink.resource.spec.resource.environment == self.boot.environment_id, f"{flink.resource.spec.resource}")
        cloud = self.new_key()
        resp = cloud.create(sa.obj_id, "cloud", None, f"sdk-cloud-{tag()}", "sdk cloud key")
        check(resp.status_code == 202, f"create (cloud) -> {resp.status_code}")
        self.s["flink"], self.s["cloud"] = flink, cloud

    def read_key(self):
        key = self.need("flink")
        resp = key.read()
        check(resp.status_code == 200, f"read -> {resp.status_code}")
        model = ApiKeyModel(**resp.json())
        check(not model.spec.secret, "secret returned by a read")
        check(model.id.__root__ == key.obj_id, f"id {model.id}")

    def update_key(self):
        key = self.need("flink")
        resp = key.update("updated by confluent-cloud-sdk")
        check(resp.status_code == 200, f"update -> {resp.status_code}")
        check(key.resource.id.__root__ == key.obj_id, "update response did not parse into the strict model")

    def list_keys(self):
        sa, flink, cloud = self.need("sa"), self.need("flink"), self.need("cloud")
        found = quiet(self.client.list_all, ApiKey, url_args=f"?spec.owner={sa.obj_id}")
        ids = {x.obj_id for x in found}
        check({flink.obj_id, cloud.obj_id} <= ids, f"keys not listed: {ids}")
        paged = quiet(self.client.list_all, ApiKey, url_args=f"?spec.owner={sa.obj_id}&page_size=1")
        paged_ids = [x.obj_id for x in paged]
        check(len(paged_ids) == len(set(paged_ids)) and set(paged_ids) == ids, f"page_size=1 listing gave {paged_ids}")
        sa.import_api_keys()
        check({flink.obj_id, cloud.obj_id} <= set(sa.api_keys), f"import_api_keys found {sorted(sa.api_keys)}")

    def delete_key(self):
        cloud = self.need("cloud")
        resp = cloud.delete()
        check(resp.status_code == 204, f"delete -> {resp.status_code}")
        try:
            cloud.read()
        except GenericNotFound:
            return
        raise CheckFailed("reading a deleted key did not raise GenericNotFound (404)")

    def wrong_credentials(self):
        bad = self.make_client(self.boot.api_key, self.boot.api_secret[::-1])
        try:
            quiet(bad.list_all, ServiceAccount)
        except GenericUnauthorized:
            return
        raise CheckFailed("a wrong secret did not raise GenericUnauthorized (401)")

    def delete_service_account(self):
        sa = self.need("sa")
        resp = sa.delete()
        check(resp.status_code == 204, f"delete -> {resp.status_code}")
        try:
            ServiceAccount(self.client, resource_id=sa.obj_id)
        except GenericNotFound:
            return
        raise CheckFailed("reading a deleted service account did not raise GenericNotFound (404)")

    def run(self):
        st = self.steps
        st.run("sdk ServiceAccount.create -> 201, strict model", self.create_service_account)
        st.run("sdk ServiceAccount read by id and via metadata.self", self.read_service_account)
        st.run("sdk list_all(ServiceAccount), also page_size=1 following metadata.next", self.list_service_accounts)
        st.run("sdk ApiKey.create (Flink key with environment, Cloud key) -> 202 with secret", self.create_keys)
        st.run("sdk ApiKey.read via metadata.self, strict model, no secret", self.read_key)
        st.run("sdk ApiKey.update (PATCH {description}) -> 200, strict model", self.update_key)
        st.run("sdk list_all(ApiKey, spec.owner), page_size=1, import_api_keys", self.list_keys)
        st.run("sdk ApiKey.delete -> 204, then GenericNotFound", self.delete_key)
        st.run("sdk wrong secret -> GenericUnauthorized", self.wrong_credentials)
        st.run("sdk ServiceAccount.delete -> 204, then GenericNotFound", self.delete_service_account)


def main():
    steps = Steps("sdk_test.py (confluent-cloud-sdk 0.2.3)")
    Sdk(steps).run()
    steps.finish()


if __name__ == "__main__":
    main()
