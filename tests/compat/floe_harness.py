"""Standard-library plumbing shared by every compatibility suite.

* ``FloeServer`` starts a ``floe serve`` process of our own on a free loopback port with a fresh data directory and
  freshly generated bootstrap credentials, waits for ``/healthz`` and stops it again (only that process, by its pid).
* ``Steps`` runs named checks and prints one ``PASS``/``FAIL``/``SKIP`` line per check and a closing
  ``N passed, M failed`` line.
* ``target_from_env`` either attaches to a server named by the environment or starts one.
* ``Pki`` makes a throwaway certificate authority and the server certificates it signs (the ``openssl`` command), for
  servers started with TLS material (``FloeServer(tls=...)``).

Environment understood here:
  FLOE_BIN        the floe binary (default: <repo>/.build/debug/floe)
  COMPAT_FLOE_URL       attach to an already running server instead of starting one; then
                        COMPAT_FLOE_DATA_DIR must name its data directory (for bootstrap.json)
  COMPAT_FLOE_DATA_DIR  see COMPAT_FLOE_URL
  COMPAT_CA_CERT  with an https COMPAT_FLOE_URL: the PEM bundle that verifies its certificate (the https run of
                  run_all.py also sets SSL_CERT_FILE and REQUESTS_CA_BUNDLE to it for the client libraries)
  COMPAT_TRACE=1  print a traceback for every failed step
  COMPAT_KEEP=1   keep the temporary data directory and server log of a started server
"""
from __future__ import annotations

import base64
import json
import os
import re
import secrets
import shutil
import signal
import socket
import ssl
import string
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent


class CheckFailed(AssertionError):
    """A check did not hold."""


def check(condition: object, message: str) -> None:
    if not condition:
        raise CheckFailed(message)


def generate_bootstrap_credentials() -> tuple[str, str]:
    """A Cloud API key id (16 upper-case alphanumerics) and secret (64 characters of the base64 alphabet)."""
    alphabet = string.ascii_uppercase + string.digits
    key = "".join(secrets.choice(alphabet) for _ in range(16))
    secret = base64.b64encode(secrets.token_bytes(48)).decode("ascii")  # 48 bytes -> exactly 64 chars, no padding
    assert len(secret) == 64
    return key, secret


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def default_binary() -> str:
    return os.environ.get("FLOE_BIN") or str(REPO / ".build" / "debug" / "floe")


@dataclass
class Leaf:
    """A server certificate (PEM, leaf only: the CA is the trust anchor) and its private key (PEM)."""
    cert: Path
    key: Path
    common_name: str
    serial: int


class Pki:
    """A certificate authority of this test run: `ca.pem`/`ca.key` in `directory`, and the leaves it issues."""

    def __init__(self, directory: Path, name: str = "Floe test CA"):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.name = name
        stem = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
        self.ca_key = self.directory / f"{stem}.key"
        self.ca_cert = self.directory / f"{stem}.pem"
        self._serial = 4096
        openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", self.ca_key)
        openssl("req", "-x509", "-new", "-key", self.ca_key, "-sha256", "-days", "3", "-subj", f"/CN={name}",
                "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
                "-addext", "subjectKeyIdentifier=hash", "-out", self.ca_cert)

    def issue(self, stem: str, common_name: str, sans: tuple[str, ...] = ("IP:127.0.0.1", "DNS:localhost"),
              key_kind: str = "rsa") -> Leaf:
        """A server certificate for `sans`. `key_kind` `rsa` writes a PKCS#8 RSA key (`BEGIN PRIVATE KEY`), `ec` a
        traditional SEC1 EC key (`BEGIN EC PRIVATE KEY`): Floe is specified to read both."""
        key = self.directory / f"{stem}.key"
        csr = self.directory / f"{stem}.csr"
        ext = self.directory / f"{stem}.ext"
        cert = self.directory / f"{stem}.pem"
        if key_kind == "rsa":
            openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", key)
        elif key_kind == "ec":
            openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", key)
        else:
            raise ValueError(f"key_kind {key_kind!r}")
        openssl("req", "-new", "-key", key, "-subj", f"/CN={common_name}", "-out", csr)
        ext.write_text("basicConstraints=critical,CA:FALSE\n"
                       "keyUsage=critical,digitalSignature,keyEncipherment\n"
                       "extendedKeyUsage=serverAuth\n"
                       "subjectKeyIdentifier=hash\n"
                       "authorityKeyIdentifier=keyid,issuer\n"
                       f"subjectAltName={','.join(sans)}\n")
        self._serial += 1
        openssl("x509", "-req", "-in", csr, "-CA", self.ca_cert, "-CAkey", self.ca_key, "-set_serial",
                str(self._serial), "-days", "3", "-sha256", "-extfile", ext, "-out", cert)
        csr.unlink()
        ext.unlink()
        return Leaf(cert, key, common_name, self._serial)

    def context(self) -> ssl.SSLContext:
        """A client context that trusts this CA only (hostname checking on)."""
        return ssl.create_default_context(cafile=str(self.ca_cert))


def openssl(*args: object) -> None:
    if shutil.which("openssl") is None:
        raise CheckFailed("the openssl command is not installed (scripts/setup-machine installs it)")
    proc = subprocess.run(["openssl", *map(str, args)], capture_output=True, text=True, timeout=60)
    if proc.returncode != 0:
        raise CheckFailed(f"openssl {' '.join(map(str, args[:2]))} failed: {proc.stderr.strip()[-400:]}")


@dataclass
class Bootstrap:
    organization_id: str
    environment_id: str
    user_id: str
    api_key: str
    api_secret: str


class FloeServer:
    """One `floe serve` process started by this test run."""

    def __init__(self, binary: str | None = None, rate_limit: bool = False, label: str = "compat",
                 extra_args: list[str] | None = None, tls: tuple[str, str] | None = None, ca_file: str | None = None,
                 extra_env: dict[str, str] | None = None):
        """`tls` is (certificate chain PEM, private key PEM): the server then serves https only, and `ca_file` (a PEM
        bundle) is what verifies its certificate. `extra_env` is added to the server's environment."""
        self.binary = binary or default_binary()
        self.rate_limit = rate_limit
        self.label = label
        self.extra_args = list(extra_args or [])
        self.tls = tls
        self.ca_file = ca_file
        self.extra_env = dict(extra_env or {})
        self.process: subprocess.Popen | None = None
        self.data_dir: Path | None = None
        self.log_path: Path | None = None
        self.port = 0
        self.key, self.secret = generate_bootstrap_credentials()

    @property
    def base_url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def ssl_context(self) -> ssl.SSLContext | None:
        """A client context that trusts `ca_file` only (None for a plain-http server)."""
        return ssl.create_default_context(cafile=self.ca_file) if self.tls else None

    def start(self, timeout: float = 90.0) -> "FloeServer":
        """Starts a server on a fresh data directory (or, after ``kill``/``shutdown``, again on the same one)."""
        if not (os.path.isfile(self.binary) and os.access(self.binary, os.X_OK)):
            raise RuntimeError(f"floe binary not found or not executable: {self.binary} (set FLOE_BIN)")
        if self.data_dir is None:
            self.data_dir = Path(tempfile.mkdtemp(prefix=f"floe-{self.label}-"))
            self.log_path = self.data_dir.parent / (self.data_dir.name + ".log")
        # The server also reads FLOE_* settings from its environment (public URL, regions, ...): start it clean. Only
        # FLOE_LIBRDKAFKA stays: which librdkafka to load is the test run's choice (tests/lib/broker.sh, Tansu).
        env = {k: v for k, v in os.environ.items() if not k.startswith("FLOE_") or k == "FLOE_LIBRDKAFKA"}
        env["FLOE_BOOTSTRAP_API_KEY"] = self.key
        env["FLOE_BOOTSTRAP_API_SECRET"] = self.secret
        env.update(self.extra_env)
        for attempt in range(3):  # a free port can be taken between probing and binding; try a few
            self.port = free_port()
            args = [self.binary, "serve", "--host", "127.0.0.1", "--port", str(self.port),
                    "--data-dir", str(self.data_dir)]
            if not self.rate_limit:
                args += ["--rate-limit", "off"]
            if self.tls:
                args += ["--tls-cert", self.tls[0], "--tls-key", self.tls[1]]
            args += self.extra_args
            log = open(self.log_path, "ab")
            self.process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                            env=env, start_new_session=True)
            log.close()
            if self._wait_healthy(timeout):
                return self
            if self.process.poll() is None:
                break  # running but never healthy: do not retry, report
        tail = self.log_tail()
        self.stop()
        raise RuntimeError(f"floe did not become healthy on port {self.port} within {timeout:.0f}s; log tail:\n{tail}")

    def _wait_healthy(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        context = self.ssl_context()
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                with urllib.request.urlopen(f"{self.base_url}/healthz", timeout=2, context=context) as response:
                    if response.status == 200:
                        return True
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
            time.sleep(0.1)
        return False

    def bootstrap(self) -> Bootstrap:
        return read_bootstrap(self.data_dir)

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except (OSError, AttributeError):
            return "(no log)"

    def kill(self) -> None:
        """SIGKILL (a crash): the data directory stays, and ``start`` runs the server on it again."""
        proc, self.process = self.process, None
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)

    def shutdown(self) -> None:
        """SIGTERM (a graceful stop): the data directory stays, and ``start`` runs the server on it again."""
        proc, self.process = self.process, None
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)  # our own child, by pid
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)

    def stop(self) -> None:
        """Stops the server and deletes its data directory and log (unless COMPAT_KEEP=1)."""
        self.shutdown()
        if os.environ.get("COMPAT_KEEP") == "1":
            if self.data_dir:
                print(f"(kept data dir {self.data_dir}, log {self.log_path})", flush=True)
            return
        if self.data_dir and self.data_dir.exists():
            shutil.rmtree(self.data_dir, ignore_errors=True)
        if self.log_path and self.log_path.exists():
            self.log_path.unlink()
        self.data_dir = self.log_path = None

    def __enter__(self) -> "FloeServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def start_or_exit(server: FloeServer) -> FloeServer:
    """Starts `server`, or reports the failure in the suites' `N passed, M failed` form and exits 2."""
    try:
        return server.start()
    except Exception as e:  # noqa: BLE001
        print(f"FAIL start server: {e}", flush=True)
        print("0 passed, 1 failed", flush=True)
        sys.exit(2)


def envelope_problems_of(status: int, body: object, json_ok: bool, snippet: str = "") -> list[str]:
    """What is wrong with an error response's body, as Confluent's envelope: errors[] of {id, status (a string equal
    to the HTTP status), code, title, detail, source{}}. Empty when it is right."""
    if not json_ok or not isinstance(body, dict):
        return [f"error body is not a JSON object: {snippet[:200]!r}"]
    errors = body.get("errors")
    if not isinstance(errors, list) or not errors:
        return [f"error body lacks a non-empty 'errors' array: {snippet[:200]!r}"]
    problems = []
    for i, err in enumerate(errors):
        if not isinstance(err, dict):
            problems.append(f"errors[{i}] is not an object")
            continue
        for name in ("id", "status", "code", "title", "detail"):
            if not isinstance(err.get(name), str) or not err.get(name):
                problems.append(f"errors[{i}].{name} missing or not a non-empty string ({err.get(name)!r})")
        if not isinstance(err.get("source"), dict):
            problems.append(f"errors[{i}].source missing or not an object ({err.get('source')!r})")
        if isinstance(err.get("status"), str) and err["status"] != str(status):
            problems.append(f"errors[{i}].status {err['status']!r} != HTTP {status}")
    return problems


def read_bootstrap(data_dir: Path | str) -> Bootstrap:
    path = Path(data_dir) / "bootstrap.json"
    deadline = time.monotonic() + 10
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    doc = json.loads(path.read_text())
    missing = [k for k in ("organization_id", "environment_id", "user_id", "api_key", "api_secret") if not doc.get(k)]
    if missing:
        raise RuntimeError(f"{path} lacks {missing}: {sorted(doc)}")
    return Bootstrap(doc["organization_id"], doc["environment_id"], doc["user_id"], doc["api_key"], doc["api_secret"])


def exit_on_signals() -> None:
    """SIGTERM/SIGINT unwind through `finally`/atexit, so a server this process started is stopped."""
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: sys.exit(3))


@dataclass
class Target:
    base_url: str
    bootstrap: Bootstrap
    expected_key: str | None      # the credentials we asked for (None when attached to a foreign server)
    expected_secret: str | None
    server: FloeServer | None


def target_from_env(label: str) -> Target:
    """Attach to COMPAT_FLOE_URL (+COMPAT_FLOE_DATA_DIR) or start a server of our own (stopped at exit)."""
    url = os.environ.get("COMPAT_FLOE_URL", "").rstrip("/")
    if url:
        data_dir = os.environ.get("COMPAT_FLOE_DATA_DIR")
        if not data_dir:
            print("FAIL config: COMPAT_FLOE_URL needs COMPAT_FLOE_DATA_DIR (for bootstrap.json)", flush=True)
            print("0 passed, 1 failed", flush=True)
            sys.exit(2)
        return Target(url, read_bootstrap(data_dir), os.environ.get("FLOE_BOOTSTRAP_API_KEY"),
                      os.environ.get("FLOE_BOOTSTRAP_API_SECRET"), None)
    server = start_or_exit(FloeServer(label=label))
    import atexit
    atexit.register(server.stop)
    exit_on_signals()
    print(f"started floe at {server.base_url} (data dir {server.data_dir})", flush=True)
    return Target(server.base_url, server.bootstrap(), server.key, server.secret, server)


class Steps:
    """Named checks with one PASS/FAIL/SKIP line each and a closing summary line."""

    def __init__(self, suite: str):
        self.suite = suite
        self.passed = self.failed = self.skipped = 0
        self.failures: list[str] = []
        self.only = {s for s in os.environ.get("COMPAT_ONLY", "").split(",") if s}
        print(f"== {suite}", flush=True)

    def run(self, name: str, fn, *args, **kwargs):
        if self.only and not any(name.startswith(prefix) for prefix in self.only):
            return None
        start = time.monotonic()
        try:
            result = fn(*args, **kwargs)
        except SkipStep as e:
            self.skipped += 1
            print(f"SKIP {name}: {e}", flush=True)
            return None
        except Exception as e:  # noqa: BLE001 - every exception is a failed step
            self.failed += 1
            message = f"{type(e).__name__}: {e}" if not isinstance(e, CheckFailed) else str(e)
            self.failures.append(f"{name}: {message}")
            print(f"FAIL {name}: {message}", flush=True)
            if os.environ.get("COMPAT_TRACE") == "1":
                traceback.print_exc()
            return None
        self.passed += 1
        print(f"PASS {name} ({time.monotonic() - start:.2f}s)", flush=True)
        return result if result is not None else True

    def finish(self) -> None:
        line = f"{self.passed} passed, {self.failed} failed"
        if self.skipped:
            line += f", {self.skipped} skipped"
        print(line, flush=True)
        sys.exit(1 if self.failed else 0)


class SkipStep(Exception):
    """Raised by a step that cannot run here (reported as SKIP, never as PASS)."""
