#!/usr/bin/env python3
"""TLS on the public listener, through the real binary: `floe serve --tls-cert/--tls-key`.

Makes a CA and two server certificates (SAN IP:127.0.0.1 and DNS:localhost; the first with a PKCS#8 RSA key, the
second with a traditional EC key) with the openssl command line in a temporary directory, starts
`floe serve --tls-cert --tls-key` on a free port and checks:
* https verifies against the test CA (by IP and by the name localhost), and not against another CA; plain http to the
  same port gets no answer; the startup line and the API's links name https://;
* the console (`/` and its sign-in page) and a Basic-auth API call over https;
* the CLI: `floe login --url https://… --ca-cert ca.pem` then `floe environment list`; the same with FLOE_CA_CERT;
  without any trust for the CA, login fails with an error that mentions the certificate;
* SIGHUP: with the files replaced by the second certificate, a new connection is shown the new certificate while a
  keep-alive connection opened before keeps working; a broken PEM (and a key that does not match) is logged
  `TLS certificate not reloaded` and the previous certificate stays; SIGHUP without TLS is logged and ignored;
* start-up with a missing key file, an unreadable certificate, or only one of the two options exits non-zero
  naming the file (or the option).

Standalone: `python3 tests/ops/tls_test.py` (FLOE_BIN). Prints PASS/FAIL per step and `N passed, M failed`.
"""
from __future__ import annotations

import http.client
import os
import shutil
import signal
import ssl
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from ops_common import (Api, CheckFailed, FloeServer, Pki, Steps, check, connect, default_binary, der_of, exit_on_signals,
                        free_port, log_size, peer_certificate, require_error, wait_for_line)

CLI_TIMEOUT = 60


class TLS:
    def __init__(self, steps: Steps, workdir: Path):
        self.steps = steps
        self.dir = workdir
        self.pki: Pki | None = None
        self.other: Pki | None = None
        self.one = self.two = None
        self.live_cert = workdir / "live" / "server.pem"
        self.live_key = workdir / "live" / "server.key"
        self.server: FloeServer | None = None
        self.plain: FloeServer | None = None

    # ---------------------------------------------------------------------------------------------- helpers
    @property
    def port(self) -> int:
        return self.need_server().port

    def need_server(self) -> FloeServer:
        if self.server is None or self.server.process is None or self.server.process.poll() is not None:
            raise CheckFailed("prerequisite: the TLS server is not running")
        return self.server

    def api(self, auth: bool = True) -> Api:
        boot = self.need_server().bootstrap()
        return Api(self.server.base_url, (boot.api_key, boot.api_secret) if auth else None, self.pki.context())

    def install(self, leaf) -> None:
        """Copies a leaf's certificate and key over the paths the server was started with."""
        shutil.copyfile(leaf.key, self.live_key)
        shutil.copyfile(leaf.cert, self.live_cert)

    def hup(self, expect: str, what: str) -> None:
        """SIGHUP to our server; waits for the log line `expect` written after the signal."""
        server = self.need_server()
        mark = log_size(server.log_path)
        server.process.send_signal(signal.SIGHUP)  # our own child, by pid
        line = wait_for_line(server.log_path, expect, timeout=15, start=mark)
        check(line is not None, f"{what}: no {expect!r} in the log within 15s after SIGHUP; log tail:\n"
                                f"{server.log_tail(12)}")
        check(server.process.poll() is None, f"{what}: the server exited after SIGHUP (status {server.process.poll()})")

    def cli(self, home: Path, *args: str, env: dict | None = None) -> tuple[int, str]:
        """Runs `floe ARGS` with HOME=home and no FLOE_*/SSL_* settings of the caller; status and output."""
        home.mkdir(parents=True, exist_ok=True)
        clean = {k: v for k, v in os.environ.items()
                 if not k.startswith(("FLOE_", "SSL_CERT_", "REQUESTS_CA_", "CURL_CA_"))}
        clean.update(HOME=str(home), **(env or {}))
        proc = subprocess.run([self.need_server().binary, *args], env=clean, capture_output=True, text=True,
                              timeout=CLI_TIMEOUT, stdin=subprocess.DEVNULL)
        return proc.returncode, (proc.stdout + proc.stderr)

    def login_args(self) -> list[str]:
        boot = self.need_server().bootstrap()
        return ["login", "--url", f"https://127.0.0.1:{self.port}", "--api-key", boot.api_key,
                "--api-secret", boot.api_secret]

    # ------------------------------------------------------------------------------------------------ steps
    def make_certificates(self):
        self.pki = Pki(self.dir / "pki")
        self.one = self.pki.issue("one", "floe-ops-one", key_kind="rsa")
        self.two = self.pki.issue("two", "floe-ops-two", key_kind="ec")
        self.other = Pki(self.dir / "other", name="Some other CA")
        check("BEGIN PRIVATE KEY" in self.one.key.read_text(), "the first key is not PKCS#8")
        check("BEGIN EC PRIVATE KEY" in self.two.key.read_text(), "the second key is not a traditional EC key")
        check(der_of(self.one.cert) != der_of(self.two.cert), "the two certificates are the same")
        self.live_cert.parent.mkdir(parents=True, exist_ok=True)
        self.install(self.one)

    def start(self):
        check(self.pki is not None, "prerequisite: no certificates")
        self.server = FloeServer(label="tls", tls=(str(self.live_cert), str(self.live_key)),
                                 ca_file=str(self.pki.ca_cert))
        try:
            self.server.start(timeout=60)
        except RuntimeError as e:
            self.server = None
            raise CheckFailed(f"floe serve --tls-cert --tls-key did not become healthy over https: {str(e)[-800:]}")
        line = wait_for_line(self.server.log_path, r"Floe is serving on (\S+)", timeout=10)
        check(line is not None, f"no 'Floe is serving on' line; log tail:\n{self.server.log_tail(10)}")
        check(line.group(1) == f"https://127.0.0.1:{self.port}",
              f"startup line names {line.group(1)!r}, expected https://127.0.0.1:{self.port}")

    def healthz_verified(self):
        self.need_server()
        with urllib.request.urlopen(f"https://127.0.0.1:{self.port}/healthz", timeout=10,
                                    context=self.pki.context()) as r:
            check(r.status == 200, f"GET /healthz over https -> {r.status}")
        der = peer_certificate("127.0.0.1", self.port, self.pki.context(), server_name="localhost")
        check(der == der_of(self.one.cert), "the certificate shown for the name localhost is not the configured one")
        try:
            urllib.request.urlopen(f"https://127.0.0.1:{self.port}/healthz", timeout=10, context=self.other.context())
        except urllib.error.URLError as e:
            check(isinstance(e.reason, ssl.SSLCertVerificationError),
                  f"trusting another CA failed, but not in certificate verification: {e.reason!r}")
        else:
            raise CheckFailed("a client trusting only another CA accepted the server's certificate")

    def plain_http_fails(self):
        self.need_server()
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request("GET", "/healthz", headers={"Connection": "close"})
            r = conn.getresponse()
            r.read()
            status = r.status
        except (OSError, http.client.HTTPException) as e:
            print(f"  plain http to the https port: {type(e).__name__}: {e}", flush=True)
            return
        finally:
            conn.close()
        check(status >= 400, f"plain http GET /healthz to the https port was answered {status}")

    def console(self):
        api = self.api(auth=False)
        r = api.call("GET", "/", headers={"Accept": "text/html"})
        check(r.status in (200, 302, 303), f"GET / over https -> {r.status}: {r.snippet()}")
        if r.status != 200:
            location = r.headers.get("location", "")
            check(location.startswith("/") or location.startswith(f"https://127.0.0.1:{self.port}/"),
                  f"GET / redirects to {location!r}, not within the https origin")
            r = api.call("GET", location, headers={"Accept": "text/html"})
        check(r.status == 200, f"console page {r.path} over https -> {r.status}")
        check(r.headers.get("content-type", "").startswith("text/html"), f"content-type {r.headers.get('content-type')}")
        check("<html" in r.text.lower() and "floe" in r.text.lower(), f"not the console's page: {r.snippet()}")

    def api_over_https(self):
        boot = self.need_server().bootstrap()
        r = self.api().call("GET", "/org/v2/environments", expect=200)
        ids = [e["id"] for e in r.body["data"]]
        check(boot.environment_id in ids, f"the bootstrap environment is not listed: {ids}")
        first = r.body["metadata"].get("first", "")
        check(first.startswith(f"https://127.0.0.1:{self.port}/"), f"metadata.first {first!r} is not an https link")
        self_link = r.body["data"][0]["metadata"]["self"]
        check(self_link.startswith(f"https://127.0.0.1:{self.port}/"), f"metadata.self {self_link!r} is not https")
        bad = Api(self.server.base_url, (boot.api_key, "x" * 64), self.pki.context())
        require_error(bad.call("GET", "/org/v2/environments"), 401, "a wrong secret over https")

    def alpn(self):
        """Which protocol ALPN settles on (informational: HTTP/2 is optional; HTTP/1.1 must be offered)."""
        context = self.pki.context()
        context.set_alpn_protocols(["http/1.1"])
        import socket
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as raw:
            with context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
                chosen = tls.selected_alpn_protocol()
        check(chosen in (None, "http/1.1"), f"a client offering only http/1.1 got ALPN {chosen!r}")
        context = self.pki.context()
        context.set_alpn_protocols(["h2", "http/1.1"])
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as raw:
            with context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
                print(f"  ALPN offering h2 and http/1.1: {tls.selected_alpn_protocol()!r}", flush=True)

    def cli_ca_cert(self):
        home = self.dir / "home-ca-cert"
        rc, out = self.cli(home, *self.login_args(), "--ca-cert", str(self.pki.ca_cert))
        check(rc == 0, f"floe login --ca-cert exited {rc}: {out[-600:]}")
        check("Logged in" in out, f"login output: {out[-300:]}")
        rc, out = self.cli(home, "environment", "list", "-o", "json")
        check(rc == 0, f"floe environment list (after login --ca-cert) exited {rc}: {out[-600:]}")
        boot = self.server.bootstrap()
        check(boot.environment_id in out, f"environment list lacks {boot.environment_id}: {out[-400:]}")

    def cli_env_ca(self):
        home = self.dir / "home-env"
        env = {"FLOE_CA_CERT": str(self.pki.ca_cert)}
        rc, out = self.cli(home, *self.login_args(), env=env)
        check(rc == 0, f"FLOE_CA_CERT=ca.pem floe login exited {rc}: {out[-600:]}")
        rc, out = self.cli(home, "environment", "list", "-o", "json", env=env)
        check(rc == 0, f"FLOE_CA_CERT=ca.pem floe environment list exited {rc}: {out[-600:]}")
        check(self.server.bootstrap().environment_id in out, f"environment list: {out[-400:]}")
        rc, out = self.cli(self.dir / "home-other-ca", *self.login_args(), env={"FLOE_CA_CERT": str(self.other.ca_cert)})
        check(rc != 0, f"login with FLOE_CA_CERT naming another CA succeeded: {out[-300:]}")
        check("certificate" in out.lower(), f"the error does not mention the certificate: {out[-600:]!r}")

    def cli_untrusted(self):
        home = self.dir / "home-untrusted"
        rc, out = self.cli(home, *self.login_args())
        check(rc != 0, f"floe login to a server whose CA is not trusted exited 0: {out[-300:]}")
        check("certificate" in out.lower(), f"the error does not mention the certificate: {out[-600:]!r}")
        check(self.server.bootstrap().api_secret not in out, "the error output shows the API secret")

    def reload(self):
        server = self.need_server()
        context = self.pki.context()
        kept = connect(server.base_url, context)
        try:
            kept.request("GET", "/healthz")  # keep-alive: no Connection: close
            r = kept.getresponse()
            r.read()
            check(r.status == 200 and not r.will_close, f"keep-alive GET /healthz -> {r.status}, will_close {r.will_close}")
            sock = kept.sock
            check(sock.getpeercert(binary_form=True) == der_of(self.one.cert), "the first certificate is not served")
            self.install(self.two)
            self.hup("reloaded TLS certificate", "a valid new certificate")
            deadline = time.monotonic() + 5
            der = b""
            while time.monotonic() < deadline:
                der = peer_certificate("127.0.0.1", self.port, context)
                if der == der_of(self.two.cert):
                    break
                time.sleep(0.2)
            check(der == der_of(self.two.cert), "a new connection after SIGHUP is not shown the new certificate "
                                                f"({'the old one' if der == der_of(self.one.cert) else 'another one'})")
            kept.request("GET", "/healthz")
            r = kept.getresponse()
            r.read()
            check(r.status == 200, f"GET /healthz on the connection opened before SIGHUP -> {r.status}")
            check(kept.sock is sock, "the connection opened before SIGHUP was replaced by a new one")
            check(sock.getpeercert(binary_form=True) == der_of(self.one.cert),
                  "the connection opened before SIGHUP changed certificate")
        finally:
            kept.close()

    def reload_broken(self):
        self.need_server()
        check(peer_certificate("127.0.0.1", self.port, self.pki.context()) == der_of(self.two.cert),
              "prerequisite: the second certificate is not served")
        self.live_cert.write_text("-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n")
        self.hup("TLS certificate not reloaded", "a broken PEM")
        check(self.api(auth=False).call("GET", "/healthz").status == 200, "/healthz after a failed reload")
        check(peer_certificate("127.0.0.1", self.port, self.pki.context()) == der_of(self.two.cert),
              "after a failed reload the previous certificate is not served")

    def reload_mismatched_key(self):
        self.need_server()
        shutil.copyfile(self.one.cert, self.live_cert)  # the first certificate with the second's key
        shutil.copyfile(self.two.key, self.live_key)
        self.hup("TLS certificate not reloaded", "a certificate with a key that is not its own")
        check(peer_certificate("127.0.0.1", self.port, self.pki.context()) == der_of(self.two.cert),
              "after a refused reload the previous certificate is not served")
        self.install(self.one)  # and a good pair is taken again
        self.hup("reloaded TLS certificate", "the first certificate again")
        check(peer_certificate("127.0.0.1", self.port, self.pki.context()) == der_of(self.one.cert),
              "the first certificate is not served after reloading it")

    def hup_without_tls(self):
        self.plain = FloeServer(label="tls-plain")
        try:
            self.plain.start(timeout=60)
        except RuntimeError as e:
            raise CheckFailed(f"a plain server did not start: {str(e)[-400:]}")
        mark = log_size(self.plain.log_path)
        self.plain.process.send_signal(signal.SIGHUP)
        line = wait_for_line(self.plain.log_path, "SIGHUP: no TLS material to reload", timeout=10, start=mark)
        check(line is not None, f"no 'SIGHUP: no TLS material to reload' in the log; tail:\n{self.plain.log_tail(8)}")
        check(self.plain.process.poll() is None, "the plain server exited on SIGHUP")
        check(Api(self.plain.base_url).call("GET", "/healthz").status == 200, "/healthz after SIGHUP")

    def bad_startup(self, args: list[str], names: str, what: str):
        data = Path(tempfile.mkdtemp(prefix="floe-tls-bad-", dir=self.dir))
        port = free_port()
        proc = subprocess.Popen([default_binary(), "serve", "--host", "127.0.0.1", "--port", str(port),
                                 "--data-dir", str(data), "--rate-limit", "off", *args],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True,
                                env={k: v for k, v in os.environ.items() if not k.startswith("FLOE_")},
                                start_new_session=True)
        try:
            out, _ = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()  # our own child, by pid
            out, _ = proc.communicate(timeout=10)
            raise CheckFailed(f"{what}: floe serve kept running (it must refuse to start): {out[-300:]}")
        check(proc.returncode != 0, f"{what}: floe serve exited 0: {out[-300:]}")
        check(names in out, f"{what}: the message does not name {names!r}: {out[-500:]!r}")
        check("Unknown option" not in out, f"{what}: an option is unknown: {out[-300:]!r}")
        check("serving on" not in out, f"{what}: it said it was serving: {out[-300:]}")

    def missing_key(self):
        missing = self.dir / "no-such-dir" / "server.key"
        self.bad_startup(["--tls-cert", str(self.one.cert), "--tls-key", str(missing)], str(missing), "a missing key")

    def broken_cert(self):
        broken = self.dir / "broken.pem"
        broken.write_text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
        self.bad_startup(["--tls-cert", str(broken), "--tls-key", str(self.one.key)], str(broken), "a broken cert")

    def half_options(self):
        self.bad_startup(["--tls-cert", str(self.one.cert)], "--tls-key", "--tls-cert without --tls-key")

    def stop(self):
        for server in (self.server, self.plain):
            if server is not None:
                if server.process is not None and server.process.poll() is not None:
                    print(f"--- {server.label} server exited; log tail:\n{server.log_tail(20)}", flush=True)
                server.stop()


def main() -> None:
    exit_on_signals()
    steps = Steps("ops: TLS")
    workdir = Path(tempfile.mkdtemp(prefix="floe-ops-tls-"))
    t = TLS(steps, workdir)
    try:
        steps.run("tls: openssl makes a CA and two server certificates (PKCS#8 RSA, SEC1 EC)", t.make_certificates)
        steps.run("tls: floe serve --tls-cert --tls-key starts, says https://", t.start)
        steps.run("tls: https /healthz verifies against the CA (IP and localhost), not another CA", t.healthz_verified)
        steps.run("tls: plain http to the https port is not answered", t.plain_http_fails)
        steps.run("tls: the console over https", t.console)
        steps.run("tls: Basic-auth API over https, links are https", t.api_over_https)
        steps.run("tls: ALPN offers http/1.1", t.alpn)
        steps.run("tls: floe login --ca-cert, then environment list", t.cli_ca_cert)
        steps.run("tls: FLOE_CA_CERT login and environment list; another CA fails", t.cli_env_ca)
        steps.run("tls: login without trust in the CA fails naming the certificate", t.cli_untrusted)
        steps.run("tls: SIGHUP reload: new connections new cert, kept connection works", t.reload)
        steps.run("tls: SIGHUP with a broken PEM keeps the previous certificate", t.reload_broken)
        steps.run("tls: SIGHUP with a mismatched key keeps the previous certificate", t.reload_mismatched_key)
        steps.run("tls: SIGHUP without TLS is logged and ignored", t.hup_without_tls)
        steps.run("tls: start-up with a missing key file fails naming it", t.missing_key)
        steps.run("tls: start-up with a broken certificate fails naming it", t.broken_cert)
        steps.run("tls: --tls-cert without --tls-key is refused", t.half_options)
    finally:
        t.stop()
        if os.environ.get("COMPAT_KEEP") != "1":
            shutil.rmtree(workdir, ignore_errors=True)
    steps.finish()


if __name__ == "__main__":
    main()
