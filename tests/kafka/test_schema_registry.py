"""Floe's Schema Registry against confluent-kafka's own registry client and serializers, unmodified.

Starts the real ``floe serve`` (tests/compat/floe_harness.py: a free port, a temporary data directory, generated
bootstrap credentials), finds the default environment's registry through ``srcm/v3``, creates an API key whose
resource is that registry, and then drives it with ``SchemaRegistryClient``, ``AvroSerializer``/``AvroDeserializer``
and ``JSONSerializer``/``JSONDeserializer`` called directly with a ``SerializationContext`` (no broker is needed).
Raw HTTP checks cover what the client libraries rely on implicitly: Python-spelled booleans, percent-encoded
subjects, the registry's error bodies and codes, the ``/associations`` 404 the 2.16 serializers probe first, and
who may do what. An environment may name an external registry (``schema_registry_config``). A restart on the same
data directory must keep every id and version.

When PyYAML and openapi-schema-validator are importable (tests/compat's venv has them), responses are also
validated against ``schema-registry-v1`` and ``srcm-v3`` from ../shared/reference/confluent-openapi; otherwise that
step is reported as SKIP.

Run: ``/tmp/kv/bin/python tests/kafka/test_schema_registry.py`` (or through tests/kafka/run.sh). FLOE_BIN names the
binary (default .build/debug/floe). Prints one PASS/FAIL/SKIP line per step and ``N passed, M failed``.
"""
from __future__ import annotations

import base64
import json
import struct
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "compat"))

from floe_harness import FloeServer, SkipStep, Steps, check, exit_on_signals, start_or_exit  # noqa: E402

from confluent_kafka.schema_registry import Schema, SchemaRegistryClient  # noqa: E402
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer  # noqa: E402
from confluent_kafka.schema_registry.error import SchemaRegistryError  # noqa: E402
from confluent_kafka.schema_registry.json_schema import JSONDeserializer, JSONSerializer  # noqa: E402
from confluent_kafka.serialization import MessageField, SerializationContext  # noqa: E402

SR_MEDIA_TYPE = "application/vnd.schemaregistry.v1+json"

ORDER_V1 = json.dumps({
    "type": "record", "name": "Order", "namespace": "floe.test",
    "fields": [{"name": "id", "type": "long"}, {"name": "item", "type": "string"}],
})
# Compatible (BACKWARD): a new field with a default.
ORDER_V2 = json.dumps({
    "type": "record", "name": "Order", "namespace": "floe.test",
    "fields": [{"name": "id", "type": "long"}, {"name": "item", "type": "string"},
               {"name": "quantity", "type": "int", "default": 1}],
})
# Incompatible (BACKWARD): a new field without a default cannot be read from old records.
ORDER_BAD = json.dumps({
    "type": "record", "name": "Order", "namespace": "floe.test",
    "fields": [{"name": "id", "type": "long"}, {"name": "item", "type": "string"}, {"name": "price", "type": "double"}],
})
PAYMENT_JSON = json.dumps({
    "$schema": "http://json-schema.org/draft-07/schema#", "title": "Payment", "type": "object",
    "properties": {"id": {"type": "integer"}, "amount": {"type": "number"}}, "required": ["id"],
    "additionalProperties": False,
})


def basic(key: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode()


class HTTP:
    """Raw calls with the headers confluent-kafka sends."""

    def __init__(self, base_url: str, auth: str):
        self.base_url = base_url.rstrip("/")
        self.auth = auth
        self.recorded: list[tuple[str, str, int, object, bool]] = []

    def call(self, method: str, path: str, body: object | None = None, auth: str | None = None,
             content_type: str = SR_MEDIA_TYPE) -> tuple[int, dict, object, bytes]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base_url + path, data=data, method=method)
        request.add_header("Accept", f"{SR_MEDIA_TYPE}, application/vnd.schemaregistry+json, application/json")
        request.add_header("Confluent-Client-Version", "python/2.16.2")
        if auth != "":
            request.add_header("Authorization", auth or self.auth)
        if data is not None:
            request.add_header("Content-Type", content_type)
            request.add_header("Confluent-Accept-Unknown-Properties", "true")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                status, headers, raw = response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            status, headers, raw = error.code, dict(error.headers), error.read()
        try:
            parsed = json.loads(raw) if raw else None
            is_json = bool(raw)
        except ValueError:
            parsed, is_json = None, False
        self.recorded.append((method, urllib.parse.urlsplit(self.base_url + path).path, status, parsed, is_json))
        return status, headers, parsed, raw


def expect_error(status: int, body: object, http_status: int, code: int, what: str) -> None:
    check(status == http_status, f"{what}: HTTP {status}, expected {http_status} ({body!r})")
    check(isinstance(body, dict) and body.get("error_code") == code and isinstance(body.get("message"), str),
          f"{what}: body {body!r}, expected error_code {code} with a message")
    check(set(body) == {"error_code", "message"}, f"{what}: the registry's error body has only error_code and message: {body!r}")


def expect_client_error(call, http_status: int, code: int, what: str) -> None:
    try:
        call()
    except SchemaRegistryError as error:
        check(error.http_status_code == http_status and error.error_code == code,
              f"{what}: got HTTP {error.http_status_code} / {error.error_code}: {error.error_message}")
        return
    raise AssertionError(f"{what}: no SchemaRegistryError raised")


def main() -> None:
    exit_on_signals()
    server = start_or_exit(FloeServer(label="kafka-sr"))
    steps = Steps("schema registry (confluent-kafka)")
    try:
        run(steps, server)
    finally:
        server.stop()
    steps.finish()


def run(steps: Steps, server: FloeServer) -> None:
    boot = server.bootstrap()
    admin = basic(boot.api_key, boot.api_secret)
    control = HTTP(server.base_url, admin)
    state: dict = {}

    def discover() -> None:
        status, _, body, _ = control.call("GET", f"/srcm/v3/clusters?environment={boot.environment_id}")
        check(status == 200, f"srcm list: HTTP {status} {body!r}")
        clusters = body["data"]
        check(len(clusters) == 1, f"one registry per environment: {clusters!r}")
        cluster = clusters[0]
        check(cluster["id"].startswith("lsrc-") and cluster["status"]["phase"] == "PROVISIONED", f"{cluster!r}")
        check(cluster["spec"]["http_endpoint"] == f"{server.base_url}/schema-registry/{cluster['id']}", f"{cluster['spec']!r}")
        check(cluster["metadata"]["resource_name"]
              == f"crn://confluent.cloud/organization={boot.organization_id}/environment={boot.environment_id}/schema-registry={cluster['id']}",
              f"{cluster['metadata']!r}")
        status, _, one, _ = control.call("GET", f"/srcm/v3/clusters/{cluster['id']}?environment={boot.environment_id}")
        check(status == 200 and one == cluster, f"srcm get: HTTP {status} {one!r}")
        state["lsrc"], state["url"] = cluster["id"], cluster["spec"]["http_endpoint"]

    def registry_key() -> None:
        status, _, key, _ = control.call("POST", "/iam/v2/api-keys", {
            "spec": {"display_name": "sr", "owner": {"id": boot.user_id}, "resource": {"id": state["lsrc"]}}})
        check(status == 202, f"create key: HTTP {status} {key!r}")
        resource = key["spec"]["resource"]
        check(resource["id"] == state["lsrc"] and resource["kind"] == "SchemaRegistry"
              and resource["environment"] == boot.environment_id, f"{resource!r}")
        state["key"], state["secret"] = key["id"], key["spec"]["secret"]
        state["sr"] = HTTP(state["url"], basic(key["id"], key["spec"]["secret"]))
        state["client"] = SchemaRegistryClient(
            {"url": state["url"], "basic.auth.user.info": f"{key['id']}:{key['spec']['secret']}"})

    def avro_round_trip() -> None:
        client = state["client"]
        serializer = AvroSerializer(client, ORDER_V1)
        context = SerializationContext("orders", MessageField.VALUE)
        data = serializer({"id": 7, "item": "tea"}, context)
        check(data[0] == 0, f"magic byte {data[0]}")
        schema_id = struct.unpack(">I", data[1:5])[0]
        registered = client.get_latest_version("orders-value")
        check(registered.schema_id == schema_id and registered.version == 1, f"{registered!r} vs id {schema_id}")
        # Registering the same schema again (another spelling) is idempotent.
        again = client.register_schema("orders-value", Schema(json.dumps(json.loads(ORDER_V1), indent=2), "AVRO"))
        check(again == schema_id, f"same schema, new id {again} != {schema_id}")
        value = AvroDeserializer(client)(data, context)
        check(value == {"id": 7, "item": "tea"}, f"{value!r}")
        state["v1_bytes"], state["v1_id"] = data, schema_id

    def avro_evolve() -> None:
        client = state["client"]
        context = SerializationContext("orders", MessageField.VALUE)
        data = AvroSerializer(client, ORDER_V2)({"id": 8, "item": "cake", "quantity": 3}, context)
        new_id = struct.unpack(">I", data[1:5])[0]
        check(new_id != state["v1_id"], "an evolved schema gets a new id")
        check(client.get_versions("orders-value") == [1, 2], f"{client.get_versions('orders-value')!r}")
        # Old bytes stay readable, by their writer id; with the new reader schema the default fills the new field.
        old = AvroDeserializer(client, ORDER_V2)(state["v1_bytes"], context)
        check(old == {"id": 7, "item": "tea", "quantity": 1}, f"{old!r}")
        new = AvroDeserializer(client)(data, context)
        check(new == {"id": 8, "item": "cake", "quantity": 3}, f"{new!r}")
        state["v2_id"] = new_id

    def avro_incompatible() -> None:
        client = state["client"]
        expect_client_error(lambda: client.register_schema("orders-value", Schema(ORDER_BAD, "AVRO")), 409, 40901,
                            "incompatible register")
        check(not client.test_compatibility("orders-value", Schema(ORDER_BAD, "AVRO")), "test_compatibility says compatible")
        status, _, body, _ = state["sr"].call(
            "POST", "/compatibility/subjects/orders-value/versions/latest?verbose=True", {"schema": ORDER_BAD})
        check(status == 200 and body["is_compatible"] is False and body["messages"], f"{body!r}")
        check(client.get_versions("orders-value") == [1, 2], "nothing registered")

    def same_schema_other_subject() -> None:
        client = state["client"]
        schema_id = client.register_schema("orders-copy-value", Schema(ORDER_V1, "AVRO"))
        check(schema_id == state["v1_id"], f"ids are per registry and shared by subjects: {schema_id} != {state['v1_id']}")
        status, _, body, _ = state["sr"].call("GET", f"/schemas/ids/{schema_id}/versions")
        check(status == 200 and body == [{"subject": "orders-copy-value", "version": 1}, {"subject": "orders-value", "version": 1}],
              f"{body!r}")

    def json_round_trip() -> None:
        client = state["client"]
        context = SerializationContext("payments", MessageField.VALUE)
        data = JSONSerializer(PAYMENT_JSON, client)({"id": 1, "amount": 9.5}, context)
        check(data[0] == 0, "magic byte")
        schema_id = struct.unpack(">I", data[1:5])[0]
        registered = client.get_schema(schema_id)
        check(registered.schema_type == "JSON", f"{registered!r}")
        value = JSONDeserializer(PAYMENT_JSON, schema_registry_client=client)(data, context)
        check(value == {"id": 1, "amount": 9.5}, f"{value!r}")
        # Under BACKWARD an optional property may be added to a closed object; changing a property's type may not.
        wider = json.loads(PAYMENT_JSON)
        wider["properties"]["note"] = {"type": "string"}
        check(client.test_compatibility("payments-value", Schema(json.dumps(wider), "JSON")) is True,
              "adding an optional property to a closed object is compatible under BACKWARD")
        changed = json.loads(PAYMENT_JSON)
        changed["properties"]["id"] = {"type": "string"}
        check(client.test_compatibility("payments-value", Schema(json.dumps(changed), "JSON")) is False,
              "changing a property's type is refused under BACKWARD")
        expect_client_error(lambda: client.register_schema("payments-value", Schema(json.dumps(changed), "JSON")), 409, 40901,
                            "incompatible JSON Schema")

    def config() -> None:
        client = state["client"]
        check(client.get_compatibility() == "BACKWARD", "default level")
        expect_client_error(lambda: client.get_compatibility("orders-value"), 404, 40408, "no subject level")
        # A Schema Registry key of a FlinkDeveloper-or-above owner may register; changing levels needs
        # EnvironmentAdmin (the bootstrap user is OrganizationAdmin).
        check(client.set_compatibility("orders-value", "FULL") == {"compatibility": "FULL"}, "set subject level")
        check(client.get_compatibility("orders-value") == "FULL", "get subject level")
        status, _, body, _ = state["sr"].call("PUT", "/config", {"compatibility": "forward_transitive"})
        check(status == 200 and body == {"compatibility": "FORWARD_TRANSITIVE"}, f"{body!r}")
        status, _, body, _ = state["sr"].call("GET", "/config/payments-value?defaultToGlobal=True")
        check(status == 200 and body == {"compatibilityLevel": "FORWARD_TRANSITIVE"}, f"{body!r}")
        status, _, body, _ = state["sr"].call("PUT", "/config", {"compatibility": "SIDEWAYS"})
        expect_error(status, body, 422, 42203, "invalid level")
        status, _, body, _ = state["sr"].call("DELETE", "/config")
        check(status == 200 and body == "FORWARD_TRANSITIVE", f"DELETE /config answers the previous level: {body!r}")
        check(client.get_compatibility() == "BACKWARD", "reset to the default")

    def header_quirks() -> None:
        sr = state["sr"]
        # Subjects percent-encoded with safe='', Python booleans, schemaType absent.
        subject = "team/a b-value"
        encoded = urllib.parse.quote(subject, safe="")
        status, headers, body, _ = sr.call("POST", f"/subjects/{encoded}/versions?normalize=False", {"schema": '"string"'})
        check(status == 200 and isinstance(body.get("id"), int), f"register under {subject!r}: HTTP {status} {body!r}")
        check(headers.get("Content-Type") == SR_MEDIA_TYPE, f"content type {headers.get('Content-Type')!r}")
        status, _, listed, _ = sr.call("GET", "/subjects?deleted=False")
        check(subject in listed, f"{listed!r}")
        status, _, found, _ = sr.call("POST", f"/subjects/{encoded}?normalize=False&deleted=False",
                                      {"schema": '"string"', "schemaType": "AVRO", "references": []})
        check(status == 200 and found["subject"] == subject and found["version"] == 1 and "schemaType" not in found, f"{found!r}")
        status, _, by_id, _ = sr.call("GET", f"/schemas/ids/{found['id']}?subject={encoded}")
        check(status == 200 and by_id == {"schema": '"string"'}, f"{by_id!r}")
        status, _, raw_body, raw = sr.call("GET", f"/subjects/{encoded}/versions/latest/schema")
        check(status == 200 and raw == b'"string"', f"{raw!r}")
        # application/json bodies are accepted as well.
        status, _, body, _ = sr.call("POST", f"/subjects/{encoded}/versions", {"schema": '"string"'}, content_type="application/json")
        check(status == 200 and body["id"] == found["id"], f"{body!r}")
        status, _, body, _ = sr.call("GET", "/associations/resources/-/orders?resourceType=topic&associationType=value")
        check(status == 404 and body.get("error_code") == 40401, f"associations: HTTP {status} {body!r}")
        for path, expected in (("/mode", {"mode": "READWRITE"}), ("/contexts", ["."]), ("/schemas/types", ["JSON", "AVRO"])):
            status, _, body, _ = sr.call("GET", path)
            check(status == 200 and body == expected, f"{path}: {body!r}")

    def error_codes() -> None:
        sr = state["sr"]
        cases = [
            ("GET", "/subjects/nothing/versions", None, 404, 40401),
            ("GET", "/subjects/orders-value/versions/99", None, 404, 40402),
            ("GET", "/subjects/orders-value/versions/zero", None, 422, 42202),
            ("GET", "/schemas/ids/999999", None, 404, 40403),
            ("POST", "/subjects/orders-value", {"schema": '"bytes"'}, 404, 40403),
            ("POST", "/subjects/x-value/versions", {"schema": "{not json"}, 422, 42201),
            ("POST", "/subjects/x-value/versions", {"schema": "{}", "schemaType": "PROTOBUF"}, 422, 42201),
            ("POST", "/subjects/x-value/versions", {"schema": '"int"', "references": [{"name": "a", "subject": "b", "version": 1}]}, 422, 42201),
            ("GET", "/no/such/route", None, 404, 404),
        ]
        for method, path, body, http_status, code in cases:
            status, _, answer, _ = sr.call(method, path, body)
            expect_error(status, answer, http_status, code, f"{method} {path}")
        status, headers, answer, _ = sr.call("GET", "/subjects", auth=basic("NOPE", "nope"))
        expect_error(status, answer, 401, 401, "bad credentials")

    def access_rules() -> None:
        sr = state["sr"]
        # The registry key is refused on the control plane, and on another environment's registry.
        status, _, body, _ = control.call("GET", "/org/v2/environments", auth=sr.auth)
        check(status == 401, f"registry key on org/v2: HTTP {status}")
        status, _, env, _ = control.call("POST", "/org/v2/environments", {"display_name": "other"})
        check(status == 201, f"create environment: {env!r}")
        status, _, listed, _ = control.call("GET", f"/srcm/v3/clusters?environment={env['id']}")
        other = listed["data"][0]["id"]
        check(other != state["lsrc"], "each environment has its own registry")
        status, _, body, _ = control.call("GET", f"/schema-registry/{other}/subjects", auth=sr.auth)
        expect_error(status, body, 401, 401, "registry key on another registry")
        # A Cloud key works on every registry its principal may use; the new registry is empty.
        status, _, body, _ = control.call("GET", f"/schema-registry/{other}/subjects")
        check(status == 200 and body == [], f"{body!r}")
        state["other_env"], state["other_lsrc"] = env["id"], other

    def deletes() -> None:
        client = state["client"]
        expect_client_error(lambda: client.delete_subject("orders-value", permanent=True), 404, 40405,
                            "permanent before soft")
        check(client.delete_subject("orders-value") == [1, 2], "soft delete returns the versions")
        check("orders-value" not in client.get_subjects(), "soft-deleted subject listed")
        status, _, listed, _ = state["sr"].call("GET", "/subjects?deleted=TRUE")
        check("orders-value" in listed, f"deleted=TRUE lists soft-deleted subjects: {listed!r}")
        expect_client_error(lambda: client.delete_subject("orders-value"), 404, 40404, "soft delete twice")
        # Soft-deleted schemas stay readable by id: records written with them must still decode.
        context = SerializationContext("orders", MessageField.VALUE)
        fresh = SchemaRegistryClient({"url": state["url"], "basic.auth.user.info": f"{state['key']}:{state['secret']}"})
        check(AvroDeserializer(fresh)(state["v1_bytes"], context) == {"id": 7, "item": "tea"}, "decode after soft delete")
        check(client.delete_subject("orders-value", permanent=True) == [1, 2], "permanent delete")
        status, _, body, _ = state["sr"].call("GET", "/subjects/orders-value/versions?deleted=true")
        expect_error(status, body, 404, 40401, "after permanent delete")
        # v2 was used by orders-value only: gone; v1 is still registered under orders-copy-value.
        status, _, body, _ = state["sr"].call("GET", f"/schemas/ids/{state['v2_id']}")
        expect_error(status, body, 404, 40403, "schema of a permanently deleted subject")
        status, _, body, _ = state["sr"].call("GET", f"/schemas/ids/{state['v1_id']}")
        check(status == 200, f"a schema still used elsewhere: HTTP {status}")
        # Versions: soft then permanent, with their own codes.
        check(client.delete_version("orders-copy-value", 1) == 1, "soft delete version")
        expect_client_error(lambda: client.delete_version("orders-copy-value", 1), 404, 40406, "soft delete version twice")
        status, _, body, _ = state["sr"].call("DELETE", "/subjects/team%2Fa%20b-value/versions/1?permanent=true")
        expect_error(status, body, 404, 40407, "permanent delete of a live version")
        check(client.delete_version("orders-copy-value", 1, permanent=True) == 1, "permanent delete version")

    def external_registry() -> None:
        # The other environment names this registry as its external one: srcm/v3 shows the URL, no response the
        # secret; an https URL is refused (Floe's client speaks no TLS yet); an empty URL goes back to its own.
        path = f"/org/v2/environments/{state['other_env']}"
        config = {"schema_registry_config": {"url": state["url"], "api_key": state["key"], "api_secret": state["secret"]}}
        status, _, body, raw = control.call("PATCH", path, config, content_type="application/json")
        check(status == 200 and state["secret"].encode() not in raw, f"PATCH: HTTP {status} {body!r}")
        status, _, listed, raw = control.call("GET", f"/srcm/v3/clusters?environment={state['other_env']}")
        check(listed["data"][0]["spec"]["http_endpoint"] == state["url"] and state["secret"].encode() not in raw, f"{listed!r}")
        status, _, body, _ = control.call("PATCH", path, {"schema_registry_config": {"url": "https://psrc-x.confluent.cloud"}})
        check(status == 400 and "https" in json.dumps(body), f"https: HTTP {status} {body!r}")
        status, _, _, _ = control.call("PATCH", path, {"schema_registry_config": {"url": ""}})
        status, _, listed, _ = control.call("GET", f"/srcm/v3/clusters?environment={state['other_env']}")
        check(listed["data"][0]["spec"]["http_endpoint"].endswith(f"/schema-registry/{state['other_lsrc']}"), f"{listed!r}")

    def persistence() -> None:
        before = state["client"].get_latest_version("payments-value")
        server.shutdown()
        server.start()  # on a new free port: the endpoint moves with it
        control.base_url = server.base_url
        state["url"] = f"{server.base_url}/schema-registry/{state['lsrc']}"
        client = SchemaRegistryClient({"url": state["url"], "basic.auth.user.info": f"{state['key']}:{state['secret']}"})
        after = client.get_latest_version("payments-value")
        check((after.schema_id, after.version, after.schema.schema_str) == (before.schema_id, before.version, before.schema.schema_str),
              f"{after!r} != {before!r}")
        status, _, listed, _ = control.call("GET", f"/srcm/v3/clusters?environment={boot.environment_id}")
        check(listed["data"][0]["id"] == state["lsrc"] and listed["data"][0]["spec"]["http_endpoint"] == state["url"],
              "the registry keeps its id")
        # Deleting the environment deletes its registry.
        status, _, _, _ = control.call("DELETE", f"/org/v2/environments/{state['other_env']}")
        check(status == 204, f"delete environment: HTTP {status}")
        status, _, body, _ = control.call("GET", f"/schema-registry/{state['other_lsrc']}/subjects")
        expect_error(status, body, 404, 404, "registry of a deleted environment")

    def openapi() -> None:
        try:
            from spec_validation import SpecRegistry  # needs PyYAML and openapi-schema-validator
        except ImportError as error:
            raise SkipStep(f"OpenAPI validation needs tests/compat's packages ({error.name} is missing)")
        class RegistrySpecs(SpecRegistry):
            """The registry's spec declares its bodies under its own media type (and `application/json; qs=0.5`)."""

            def schema_for(self, op, status):
                definition = self.response_definition(op, status)
                content = (definition or {}).get("content") or {}
                media = content.get(SR_MEDIA_TYPE) or content.get("application/json")
                return None if media is None else media.get("schema")

        registry = RegistrySpecs(names=("schema-registry-v1", "srcm-v3"))
        check(registry.validate("get", "/subjects/x/versions/1", 200, {"subject": 1}, True), "the validator sees bodies")
        prefix = f"/schema-registry/{state['lsrc']}"
        problems = []
        for method, path, status, body, is_json in state["sr"].recorded + control.recorded:
            if path.startswith(prefix):
                path = path[len(prefix):] or "/"
            elif not path.startswith("/srcm/"):
                continue
            if path in ("/no/such/route",) or path.startswith("/associations"):
                continue
            problems += registry.validate(method, path, status, body, is_json)
        check(not problems, "\n  ".join(problems[:12]))

    steps.run("srcm/v3 lists the environment's registry", discover)
    steps.run("API key for the registry", registry_key)
    steps.run("avro: serialize, register, deserialize", avro_round_trip)
    steps.run("avro: compatible evolution, old bytes readable", avro_evolve)
    steps.run("avro: incompatible evolution refused (409/40901)", avro_incompatible)
    steps.run("same schema under another subject keeps its id", same_schema_other_subject)
    steps.run("json schema: serialize, deserialize, compatibility", json_round_trip)
    steps.run("config: global and subject levels", config)
    steps.run("confluent-kafka header quirks", header_quirks)
    steps.run("error codes and bodies", error_codes)
    steps.run("keys and environments", access_rules)
    steps.run("soft and permanent deletes", deletes)
    steps.run("an environment may name an external registry", external_registry)
    steps.run("restart keeps ids; environment delete drops its registry", persistence)
    steps.run("responses match the OpenAPI files", openapi)


if __name__ == "__main__":
    main()
