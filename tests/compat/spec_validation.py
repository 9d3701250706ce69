"""Validates HTTP responses against Confluent's published OpenAPI files (read in place, never copied).

The files live in ``<repo>/../shared/reference/confluent-openapi/`` (override: FLOE_OPENAPI_DIR). For a response
this module finds the operation by method and path among the control-plane specs (org-v2, iam-v2, apikeys-v2,
mds-v2, fcpm-v2, cmk-v2), or among the files named by ``SpecRegistry(names=SQL_SPECS)`` (sql-v1), checks that the status
code is one the operation declares, and validates the JSON body against
the declared schema with openapi-schema-validator's OAS 3.0 *read* validator (readOnly fields are expected in
responses). ``$ref``s resolve inside the same file.
"""
from __future__ import annotations

import copy
import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import yaml
from jsonschema import FormatChecker
from openapi_schema_validator import OAS30ReadValidator
from openapi_schema_validator import oas30_format_checker

CONTROL_PLANE_SPECS = ("org-v2", "iam-v2", "apikeys-v2", "mds-v2", "fcpm-v2", "cmk-v2")
SQL_SPECS = ("sql-v1",)


def spec_dir() -> Path:
    configured = os.environ.get("FLOE_OPENAPI_DIR")
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parent.parent.parent.parent / "shared" / "reference" / "confluent-openapi"


class _StringTimestampLoader(yaml.SafeLoader):
    """Keeps YAML timestamps (examples) as strings so the documents stay JSON-like."""


_StringTimestampLoader.add_constructor("tag:yaml.org,2002:timestamp", lambda loader, node: loader.construct_scalar(node))


def _is_uri(value: object) -> bool:
    """`format: uri`: an absolute URI (scheme and authority). The empty string is tolerated because Confluent's own
    list responses use it for absent links (recorded fixtures: "first":"","next":"")."""
    if not isinstance(value, str) or value == "":
        return True
    parts = urlsplit(value)
    return bool(re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*", parts.scheme or "")) and bool(parts.netloc)


def _is_date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    return re.fullmatch(
        r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})", value) is not None


def _format_checker() -> FormatChecker:
    checker = copy.deepcopy(oas30_format_checker)
    checker.checks("uri")(_is_uri)
    checker.checks("date-time")(_is_date_time)
    return checker


# Deliberate, documented departures from the published schemas, each forced by a real client that the schema
# would break. Keep this list short and specific.
KNOWN_DEVIATIONS = (
    # apikeys-v2 types spec.resource.environment as a non-null string, but cc-clients-python-lib indexes
    # spec.resource["environment"] for every key it lists, so Cloud API keys (no environment) carry it as null.
    ("apikeys-v2", re.compile(r"^(/data/\d+)?/spec/resource/environment$"), ("None for not nullable", "None is not of type")),
)


def _known_deviation(spec: str, location: str, message: str) -> bool:
    return any(spec == name and pattern.match(location) and message.startswith(prefixes)
               for name, pattern, prefixes in KNOWN_DEVIATIONS)


@dataclass
class Operation:
    spec: str
    template: str
    method: str
    definition: dict


class SpecRegistry:
    def __init__(self, directory: Path | None = None, names: tuple[str, ...] = CONTROL_PLANE_SPECS):
        self.directory = directory or spec_dir()
        self.names = names
        if not self.directory.is_dir():
            raise FileNotFoundError(
                f"OpenAPI folder not found: {self.directory} (expected <repo>/../shared/reference/confluent-openapi; "
                f"set FLOE_OPENAPI_DIR)")
        self.docs: dict[str, dict] = {}
        self.routes: list[tuple[re.Pattern, str, str]] = []
        for name in names:
            path = self.directory / f"{name}-openapi.yaml"
            if not path.is_file():
                raise FileNotFoundError(f"OpenAPI file missing: {path}")
            with open(path, encoding="utf-8") as handle:
                doc = yaml.load(handle, Loader=_StringTimestampLoader)
            self.docs[name] = doc
            for template in doc.get("paths", {}):
                regex = "^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template)) + "$"
                self.routes.append((re.compile(regex), name, template))
        self.format_checker = _format_checker()
        self._validators: dict[tuple, OAS30ReadValidator] = {}

    def operation(self, method: str, url_path: str) -> Operation | None:
        method = method.lower()
        for regex, name, template in self.routes:
            if regex.match(url_path):
                definition = self.docs[name]["paths"][template].get(method)
                if definition is not None:
                    return Operation(name, template, method, definition)
        return None

    def _resolve(self, spec: str, node: dict) -> dict:
        seen = 0
        while isinstance(node, dict) and "$ref" in node:
            ref = node["$ref"]
            if not ref.startswith("#/"):
                raise ValueError(f"external $ref not supported: {ref}")
            target = self.docs[spec]
            for part in ref[2:].split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            node = target
            seen += 1
            if seen > 20:
                raise ValueError(f"$ref loop at {ref}")
        return node

    def response_definition(self, op: Operation, status: int) -> dict | None:
        responses = op.definition.get("responses", {})
        entry = responses.get(str(status))
        if entry is None:
            entry = responses.get(f"{str(status)[0]}XX") or responses.get("default")
        return None if entry is None else self._resolve(op.spec, entry)

    def declared_statuses(self, op: Operation) -> list[str]:
        return list(op.definition.get("responses", {}).keys())

    def declared_headers(self, op: Operation, status: int) -> list[str]:
        definition = self.response_definition(op, status)
        if not definition:
            return []
        return list((definition.get("headers") or {}).keys())

    def schema_for(self, op: Operation, status: int) -> dict | None:
        definition = self.response_definition(op, status)
        if not definition:
            return None
        content = definition.get("content") or {}
        media = content.get("application/json")
        if media is None:
            return None
        return media.get("schema")

    def validate(self, method: str, url_path: str, status: int, body: object, has_body: bool) -> list[str]:
        """Problems with one response (empty when it conforms)."""
        op = self.operation(method, url_path)
        if op is None:
            return [f"no operation {method.upper()} {url_path} in {', '.join(self.names)}"]
        where = f"{op.spec} {method.upper()} {op.template} -> {status}"
        if str(status) not in op.definition.get("responses", {}):
            return [f"{where}: status {status} is not declared (declared: {', '.join(self.declared_statuses(op))})"]
        schema = self.schema_for(op, status)
        if schema is None:
            if status == 204 and has_body:
                return [f"{where}: 204 must have an empty body"]
            return []
        if not has_body:
            return [f"{where}: empty body, the spec declares an application/json body"]
        key = (op.spec, op.template, method, status)
        validator = self._validators.get(key)
        if validator is None:
            # Validate against the response schema with the file's components beside it, so '#/components/...'
            # resolves within the same document.
            root = dict(schema)
            root["components"] = self.docs[op.spec].get("components", {})
            validator = OAS30ReadValidator(root, format_checker=self.format_checker)
            self._validators[key] = validator
        problems = []
        for error in sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path)):
            location = "/" + "/".join(str(p) for p in error.absolute_path)
            if _known_deviation(op.spec, location, error.message):
                continue
            problems.append(f"{where}: {location}: {error.message[:300]}")
            if len(problems) >= 8:
                problems.append("... (more)")
                break
        return problems
