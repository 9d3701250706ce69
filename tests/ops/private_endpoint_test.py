#!/usr/bin/env python3
"""The private endpoint, through the real binary: a second listener serving the same API.

Server A: public https (one certificate) and `--private-port P` with its own TLS material (another certificate); the
startup line `Floe's private endpoint is serving on <url>` must name https://127.0.0.1:P. Checks:
* each listener shows its own certificate, and SIGHUP reloads the private listener's from its files; the same credentials, console and /metrics work on both;
* `GET /fcpm/v2/regions` (with and without `?cloud=`) reports `http_endpoint` = the public URL and
  `private_http_endpoint` = the private URL through either listener, while its own links use the answering listener;
* a statement created through the private listener has `status.network_kind` PRIVATE, read through either listener
  (and after a restart); one created through the public listener PUBLIC; `metadata.self`, `Location` and a listing's
  `next` use the base URL of the listener that answered.
Server B: plain http on both listeners, configured through FLOE_PRIVATE_PORT/FLOE_PRIVATE_HOST/FLOE_PRIVATE_URL: the
externally visible private URL is what regions report and what the private listener's links use.
Server C: `--private-port 0`: the startup line names the port actually bound, and it answers.

Standalone: `python3 tests/ops/private_endpoint_test.py` (FLOE_BIN). Prints PASS/FAIL per step and `N passed, M failed`.
"""
from __future__ import annotations

import os
import shutil
import signal
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

from ops_common import (Admin, Api, CheckFailed, FloeServer, Pki, Steps, check, der_of, exit_on_signals, free_port,
                        log_size, parse_exposition, peer_certificate, require_error, tag, wait_for_line)

PRIVATE_LINE = r"Floe's private endpoint is serving on (\S+)"
CUSTOM_PRIVATE_URL = "http://flink.us-east-1.aws.private.floe.test:8443"


class Private:
    def __init__(self, steps: Steps, workdir: Path):
        self.steps = steps
        self.dir = workdir
        self.pki: Pki | None = None
        self.public_leaf = self.private_leaf = None
        self.a: FloeServer | None = None
        self.b: FloeServer | None = None
        self.c: FloeServer | None = None
        self.private_url = ""
        self.s: dict = {}

    # ---------------------------------------------------------------------------------------------- helpers
    def need(self, name: str):
        if name not in self.s:
            raise CheckFailed(f"prerequisite '{name}' was not set up by an earlier step")
        return self.s[name]

    def running(self, server: FloeServer | None, what: str) -> FloeServer:
        if server is None or server.process is None or server.process.poll() is not None:
            raise CheckFailed(f"prerequisite: {what} is not running")
        return server

    def creds(self, server: FloeServer) -> tuple[str, str]:
        boot = server.bootstrap()
        return boot.api_key, boot.api_secret

    def public(self) -> Api:
        a = self.running(self.a, "server A")
        return Api(a.base_url, self.creds(a), self.pki.context())

    def private(self) -> Api:
        a = self.running(self.a, "server A")
        check(self.private_url, "prerequisite: the private URL is unknown")
        return Api(self.private_url, self.creds(a), self.pki.context())

    def admin(self) -> Admin:
        return Admin(self.public(), self.a.bootstrap().organization_id)

    def start_a(self):
        self.pki = Pki(self.dir / "pki")
        self.public_leaf = self.pki.issue("public", "floe-public")
        self.private_leaf = self.pki.issue("private", "floe-private", key_kind="ec")
        self.live_cert, self.live_key = self.dir / "private-live.pem", self.dir / "private-live.key"
        shutil.copyfile(self.private_leaf.cert, self.live_cert)
        shutil.copyfile(self.private_leaf.key, self.live_key)
        self.a = FloeServer(label="private-a", tls=(str(self.public_leaf.cert), str(self.public_leaf.key)),
                            ca_file=str(self.pki.ca_cert),
                            extra_args=["--private-tls-cert", str(self.live_cert),
                                        "--private-tls-key", str(self.live_key)])
        self.start_and_read_url()

    def start_and_read_url(self):
        """(Re)starts server A with a fresh free private port and checks the private URL its startup line names."""
        private_port = free_port()
        args = [a for a in self.a.extra_args]
        if "--private-port" in args:
            del args[args.index("--private-port"):args.index("--private-port") + 2]
        self.a.extra_args = args + ["--private-port", str(private_port)]
        mark = log_size(self.a.log_path) if self.a.log_path else 0  # a restart appends to the same log
        try:
            self.a.start(timeout=60)
        except RuntimeError as e:
            raise CheckFailed(f"floe serve --private-port P --private-tls-* did not start: {str(e)[-800:]}")
        line = wait_for_line(self.a.log_path, PRIVATE_LINE, timeout=10, start=mark)
        check(line is not None, f"no {PRIVATE_LINE!r} line; log tail:\n{self.a.log_tail(10)}")
        url = line.group(1).rstrip("/")
        check(url == f"https://127.0.0.1:{private_port}", f"the startup line names the private URL {url!r}, expected "
                                                          f"https://127.0.0.1:{private_port} (own TLS material, "
                                                          f"--private-host defaults to --host)")
        self.private_url = url

    # ------------------------------------------------------------------------------------------------ steps
    def certificates(self):
        self.running(self.a, "server A")
        public_port, private_port = self.a.port, urlsplit(self.private_url).port
        check(peer_certificate("127.0.0.1", public_port, self.pki.context()) == der_of(self.public_leaf.cert),
              "the public listener does not show the public certificate")
        check(peer_certificate("127.0.0.1", private_port, self.pki.context()) == der_of(self.private_leaf.cert),
              "the private listener does not show its own certificate")
        check(self.private().call("GET", "/healthz").status == 200, "GET /healthz on the private listener")

    def same_api(self):
        boot = self.a.bootstrap()
        r = self.private().call("GET", "/org/v2/environments", expect=200)
        check(boot.environment_id in [e["id"] for e in r.body["data"]], "the bootstrap environment is not listed")
        first = r.body["metadata"]["first"]
        check(first.startswith(self.private_url + "/"), f"metadata.first {first!r} is not on {self.private_url}")
        bad = Api(self.private_url, (boot.api_key, "y" * 64), self.pki.context())
        require_error(bad.call("GET", "/org/v2/environments"), 401, "a wrong secret on the private listener")
        require_error(self.private().without_key().call("GET", "/org/v2/environments"), 401, "no credentials")
        r = self.private().without_key().call("GET", "/login", headers={"Accept": "text/html"})
        check(r.status == 200 and "<html" in r.text.lower(), f"console sign-in page on the private listener -> {r.status}")

    def metrics_both(self):
        for label, api in (("public", self.public()), ("private", self.private())):
            r = api.call("GET", "/metrics", headers={"Accept": "text/plain"})
            check(r.status == 200, f"GET /metrics on the {label} listener -> {r.status}: {r.snippet()}")
            exposition = parse_exposition(r.text)
            value = exposition.value("floe_open_connections", listener=label)
            check(value is not None and value >= 1,
                  f"floe_open_connections{{listener=\"{label}\"}} is {value} when scraped through the {label} listener")

    def regions(self):
        for label, api in (("public", self.public()), ("private", self.private())):
            for query in ("", "cloud=AWS&"):
                r = api.call("GET", f"/fcpm/v2/regions?{query}page_size=100", expect=200)
                items = r.body["data"]
                check(items, f"no regions for {query!r} through the {label} listener")
                for item in items:
                    check(item.get("http_endpoint") == self.a.base_url,
                          f"{item['id']} http_endpoint {item.get('http_endpoint')!r} != {self.a.base_url} ({label})")
                    check(item.get("private_http_endpoint") == self.private_url,
                          f"{item['id']} private_http_endpoint {item.get('private_http_endpoint')!r} != "
                          f"{self.private_url} ({label})")
                base = self.a.base_url if label == "public" else self.private_url
                for link in (r.body["metadata"].get("first"), items[0]["metadata"].get("self")):
                    check(link and link.startswith(base + "/"), f"link {link!r} through the {label} listener")

    def setup_statements(self):
        admin = self.admin()
        env = admin.create_environment(f"private-{tag()}")
        self.s["env"] = env
        self.s["pool"] = admin.create_pool(env)

    def statement_network_kind(self):
        env, pool = self.need("env"), self.need("pool")
        admin = self.admin()
        path = admin.statements_path(env)
        made = {}
        for label, api, kind, base in (("private", self.private(), "PRIVATE", self.private_url),
                                       ("public", self.public(), "PUBLIC", self.a.base_url)):
            name = f"via-{label}-{tag()}"
            r = admin.post_statement(env, name, "SELECT 1", pool, api=api)
            doc = r.body
            check(doc["status"].get("network_kind") == kind,
                  f"created through the {label} listener: network_kind {doc['status'].get('network_kind')!r}, "
                  f"expected {kind}")
            check(doc["metadata"]["self"] == f"{base}{path}/{name}",
                  f"POST through the {label} listener: metadata.self {doc['metadata']['self']!r}")
            location = r.headers.get("location")
            check(location is None or location == f"{base}{path}/{name}",
                  f"POST through the {label} listener: Location {location!r}")
            made[name] = kind
        self.s["made"] = made
        for name, kind in made.items():
            admin.wait_phase(env, name, {"COMPLETED"})
            for label, api, base in (("private", self.private(), self.private_url),
                                     ("public", self.public(), self.a.base_url)):
                doc = admin.get_statement(env, name, api=api)
                check(doc["status"].get("network_kind") == kind,
                      f"{name} read through the {label} listener: network_kind {doc['status'].get('network_kind')!r}")
                check(doc["metadata"]["self"] == f"{base}{path}/{name}",
                      f"{name} read through the {label} listener: metadata.self {doc['metadata']['self']!r}")
                results = api.call("GET", f"{path}/{name}/results", expect=200).body
                link = results["metadata"].get("self") or ""
                check(link.startswith(base + "/"), f"results metadata.self {link!r} through the {label} listener")

    def listing_links(self):
        env = self.need("env")
        self.need("made")
        path = Admin(self.private(), self.a.bootstrap().organization_id).statements_path(env)
        for label, api, base in (("private", self.private(), self.private_url), ("public", self.public(), self.a.base_url)):
            r = api.call("GET", f"{path}?page_size=1", expect=200)
            nxt = r.body["metadata"].get("next")
            check(nxt and nxt.startswith(f"{base}{path}?"), f"next {nxt!r} through the {label} listener")
            r2 = api.call("GET", nxt, expect=200)
            kinds = {d["name"]: d["status"].get("network_kind") for d in r.body["data"] + r2.body["data"]}
            for name, kind in kinds.items():
                check(kind == self.s["made"].get(name), f"listed {name}: network_kind {kind!r}")

    def reload_private(self):
        a = self.running(self.a, "server A")
        private_port = urlsplit(self.private_url).port
        renewed = self.pki.issue("private-renewed", "floe-private-renewed")
        shutil.copyfile(renewed.key, self.live_key)
        shutil.copyfile(renewed.cert, self.live_cert)
        mark = log_size(a.log_path)
        a.process.send_signal(signal.SIGHUP)  # our own child, by pid
        line = wait_for_line(a.log_path, r"listener=private.*reloaded TLS certificate", timeout=15, start=mark)
        check(line is not None, f"no 'reloaded TLS certificate' of listener=private after SIGHUP; log tail:\n"
                                f"{a.log_tail(8)}")
        check(peer_certificate("127.0.0.1", private_port, self.pki.context()) == der_of(renewed.cert),
              "the private listener does not show its renewed certificate after SIGHUP")
        check(peer_certificate("127.0.0.1", a.port, self.pki.context()) == der_of(self.public_leaf.cert),
              "the public listener's certificate changed with the private one's")
        self.private_leaf = renewed

    def restart(self):
        made = self.need("made")
        self.a.shutdown()
        self.private_url = ""
        self.start_and_read_url()
        admin = self.admin()
        for name, kind in made.items():
            doc = admin.get_statement(self.need("env"), name, api=self.private())
            check(doc["status"].get("network_kind") == kind, f"after a restart {name} is {doc['status'].get('network_kind')!r}")

    def custom_url(self):
        private_port = free_port()
        self.b = FloeServer(label="private-b", extra_env={"FLOE_PRIVATE_PORT": str(private_port),
                                                         "FLOE_PRIVATE_HOST": "127.0.0.1",
                                                         "FLOE_PRIVATE_URL": CUSTOM_PRIVATE_URL})
        try:
            self.b.start(timeout=60)
        except RuntimeError as e:
            raise CheckFailed(f"floe serve with FLOE_PRIVATE_PORT/HOST/URL did not start: {str(e)[-600:]}")
        line = wait_for_line(self.b.log_path, PRIVATE_LINE, timeout=10)
        check(line is not None and line.group(1).rstrip("/") == CUSTOM_PRIVATE_URL,
              f"startup line {line and line.group(0)!r}, expected the private URL {CUSTOM_PRIVATE_URL}")
        creds = self.creds(self.b)
        listener = Api(f"http://127.0.0.1:{private_port}", creds)
        r = listener.call("GET", "/fcpm/v2/regions?cloud=AWS", expect=200)
        for item in r.body["data"]:
            check(item["http_endpoint"] == self.b.base_url, f"http_endpoint {item['http_endpoint']!r}")
            check(item["private_http_endpoint"] == CUSTOM_PRIVATE_URL,
                  f"private_http_endpoint {item['private_http_endpoint']!r}, expected {CUSTOM_PRIVATE_URL}")
        first = r.body["metadata"]["first"]
        check(first.startswith(CUSTOM_PRIVATE_URL + "/"), f"metadata.first {first!r} on the private listener")
        first = Api(self.b.base_url, creds).call("GET", "/fcpm/v2/regions", expect=200).body["metadata"]["first"]
        check(first.startswith(self.b.base_url + "/"), f"metadata.first {first!r} on the public listener")

    def port_zero(self):
        self.c = FloeServer(label="private-c", extra_args=["--private-port", "0"])
        try:
            self.c.start(timeout=60)
        except RuntimeError as e:
            raise CheckFailed(f"floe serve --private-port 0 did not start: {str(e)[-600:]}")
        line = wait_for_line(self.c.log_path, PRIVATE_LINE, timeout=10)
        check(line is not None, f"no {PRIVATE_LINE!r} line; log tail:\n{self.c.log_tail(10)}")
        url = line.group(1).rstrip("/")
        port = urlsplit(url).port
        check(url.startswith("http://127.0.0.1:") and port not in (None, 0, self.c.port),
              f"with --private-port 0 the startup line names {url!r}: not the port bound")
        check(Api(url).call("GET", "/healthz").status == 200, f"GET {url}/healthz")
        creds = self.creds(self.c)
        item = Api(self.c.base_url, creds).call("GET", "/fcpm/v2/regions?cloud=AWS", expect=200).body["data"][0]
        check(item["private_http_endpoint"] == url, f"private_http_endpoint {item['private_http_endpoint']!r} != {url}")

    def stop(self):
        for server in (self.a, self.b, self.c):
            if server is not None:
                if server.process is not None and server.process.poll() is not None:
                    print(f"--- {server.label} server exited; log tail:\n{server.log_tail(20)}", flush=True)
                server.stop()


def main() -> None:
    exit_on_signals()
    steps = Steps("ops: private endpoint")
    workdir = Path(tempfile.mkdtemp(prefix="floe-ops-private-"))
    p = Private(steps, workdir)
    started = time.monotonic()
    try:
        if steps.run("private: serve with --private-port P and its own TLS material; URL from the startup line",
                     p.start_a):
            steps.run("private: each listener shows its own certificate", p.certificates)
            steps.run("private: same credentials, API and console on the private listener", p.same_api)
            steps.run("private: /metrics on both listeners counts their connections", p.metrics_both)
            steps.run("private: regions report http_endpoint and private_http_endpoint", p.regions)
            steps.run("private: set-up (environment and compute pool)", p.setup_statements)
            steps.run("private: network_kind PRIVATE/PUBLIC by listener; links of the answering listener",
                      p.statement_network_kind)
            steps.run("private: listing next links per listener", p.listing_links)
            steps.run("private: SIGHUP reloads the private listener's own certificate", p.reload_private)
            steps.run("private: network_kind survives a restart", p.restart)
        steps.run("private: FLOE_PRIVATE_PORT/HOST/URL: the external private URL in regions and links", p.custom_url)
        steps.run("private: --private-port 0 announces the port it bound", p.port_zero)
    finally:
        p.stop()
        if os.environ.get("COMPAT_KEEP") != "1":
            shutil.rmtree(workdir, ignore_errors=True)
    print(f"({time.monotonic() - started:.1f}s)", flush=True)
    steps.finish()


if __name__ == "__main__":
    main()
