#!/usr/bin/env python3
"""Runs every compatibility suite and prints the combined `N passed, M failed` as the last line.

One floe server (free port, temporary data dir, generated bootstrap credentials) serves contract_test.py,
cc_clients_test.py, statements_test.py and sdk_test.py one after another; rate_limit_test.py starts its own
rate-limited server. Then (suite `https`) a second server serves https only, with a CA and a certificate made here with
the openssl command, and cc_clients_test.py and statements_test.py run again against its https URL, the real client
libraries trusting that CA through SSL_CERT_FILE (httpx, urllib) and REQUESTS_CA_BUNDLE (requests).
Called by run.sh, which prepares the venvs; usable directly from the .venv/compat interpreter.

Environment: FLOE_BIN, COMPAT_SDK_PYTHON (interpreter of the confluent-cloud-sdk venv; empty = skip that suite),
COMPAT_SUITES (comma-separated subset of: contract,cc,stmt,sdk,rate,https), COMPAT_SUITE_TIMEOUT (seconds, default 900).
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from floe_harness import FloeServer, Pki

HERE = Path(__file__).resolve().parent
SUMMARY = re.compile(r"^(\d+) passed, (\d+) failed(?:, (\d+) skipped)?$")


def run_suite(name: str, python: str, script: str, env: dict, timeout: float) -> tuple[int, int, int]:
    print(f"\n##### {name}: {Path(script).name}", flush=True)
    proc = subprocess.Popen([python, "-u", script], cwd=str(HERE), env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, bufsize=1)
    timed_out = threading.Event()

    def watchdog():
        # Our own child, by pid: SIGTERM first (the suite then stops the server it started), SIGKILL if it lingers.
        timed_out.set()
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()

    timer = threading.Timer(timeout, watchdog)
    timer.daemon = True
    timer.start()
    last = None
    try:
        for line in proc.stdout:
            line = line.rstrip("\n")
            # Re-label the suite's own summary so that only the combined line stands alone at the end.
            match = SUMMARY.match(line.strip())
            if match:
                last = match
                print(f"{name}: {line.strip()}", flush=True)
            else:
                print(line, flush=True)
        proc.wait()
    finally:
        timer.cancel()
    if timed_out.is_set():
        print(f"FAIL {name}: suite timed out after {timeout:.0f}s", flush=True)
        return (int(last.group(1)) if last else 0), (int(last.group(2)) if last else 0) + 1, 0
    if last is None:
        print(f"FAIL {name}: suite exited {proc.returncode} without a summary line", flush=True)
        return 0, 1, 0
    passed, failed, skipped = int(last.group(1)), int(last.group(2)), int(last.group(3) or 0)
    if proc.returncode != 0 and failed == 0:
        print(f"FAIL {name}: suite exited {proc.returncode} although it reported no failure", flush=True)
        failed = 1
    return passed, failed, skipped


def run_https(timeout: float) -> list[tuple[str, tuple[int, int, int]]]:
    """cc-clients and confluent-sql against a server that serves https only, with a certificate of a CA made here."""
    workdir = Path(tempfile.mkdtemp(prefix="floe-compat-https-"))
    server = None
    try:
        try:
            pki = Pki(workdir)
            leaf = pki.issue("server", "floe-compat-https")
            server = FloeServer(label="compat-https", tls=(str(leaf.cert), str(leaf.key)), ca_file=str(pki.ca_cert))
            server.start()
        except Exception as e:  # noqa: BLE001
            print(f"\n##### https\nFAIL start floe with TLS: {e}", flush=True)
            return [("https", (0, 1, 0))]
        print(f"\nfloe serving https at {server.base_url} (CA {pki.ca_cert}), data dir {server.data_dir}", flush=True)
        ca = str(pki.ca_cert)
        env = dict(os.environ)
        env.update(COMPAT_FLOE_URL=server.base_url, COMPAT_FLOE_DATA_DIR=str(server.data_dir),
                   FLOE_BOOTSTRAP_API_KEY=server.key, FLOE_BOOTSTRAP_API_SECRET=server.secret,
                   COMPAT_CA_CERT=ca, SSL_CERT_FILE=ca, REQUESTS_CA_BUNDLE=ca)
        results = [("https cc-clients", run_suite("https cc-clients", sys.executable, str(HERE / "cc_clients_test.py"),
                                                  env, timeout)),
                   ("https statements", run_suite("https statements", sys.executable,
                                                  str(HERE / "statements_test.py"), env, timeout))]
        if any(r[1] for _, r in results) or server.process is None or server.process.poll() is not None:
            print(f"--- floe (https) log tail ({server.log_path}):\n{server.log_tail(30)}", flush=True)
        return results
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def main() -> int:
    for sig in (signal.SIGTERM, signal.SIGINT):  # unwind through `finally` so the server we started is stopped
        signal.signal(sig, lambda *_: sys.exit(3))
    timeout = float(os.environ.get("COMPAT_SUITE_TIMEOUT", "900"))
    wanted = {s.strip() for s in os.environ.get("COMPAT_SUITES", "contract,cc,stmt,sdk,rate,https").split(",")
              if s.strip()}
    sdk_python = os.environ.get("COMPAT_SDK_PYTHON", "")
    totals = [0, 0, 0]
    failed_suites = []

    def add(name, result):
        for i, n in enumerate(result):
            totals[i] += n
        if result[1]:
            failed_suites.append(name)

    shared = [s for s in ("contract", "cc", "stmt", "sdk") if s in wanted]
    if shared:
        server = FloeServer(label="compat")
        try:
            server.start()
        except Exception as e:  # noqa: BLE001
            print(f"FAIL start floe: {e}", flush=True)
            print("0 passed, 1 failed", flush=True)
            return 1
        print(f"floe {server.binary} serving at {server.base_url}, data dir {server.data_dir}", flush=True)
        env = dict(os.environ)
        env.update(COMPAT_FLOE_URL=server.base_url, COMPAT_FLOE_DATA_DIR=str(server.data_dir),
                   FLOE_BOOTSTRAP_API_KEY=server.key, FLOE_BOOTSTRAP_API_SECRET=server.secret)
        try:
            if "contract" in wanted:
                add("contract", run_suite("contract", sys.executable, str(HERE / "contract_test.py"), env, timeout))
            if "cc" in wanted:
                add("cc-clients", run_suite("cc-clients", sys.executable, str(HERE / "cc_clients_test.py"), env, timeout))
            if "stmt" in wanted:
                add("statements", run_suite("statements", sys.executable, str(HERE / "statements_test.py"), env, timeout))
            if "sdk" in wanted:
                if sdk_python:
                    add("confluent-cloud-sdk", run_suite("confluent-cloud-sdk", sdk_python, str(HERE / "sdk_test.py"),
                                                         env, timeout))
                else:
                    print("\nSKIP confluent-cloud-sdk: no venv (optional; see run.sh)", flush=True)
                    totals[2] += 1
        finally:
            if failed_suites or server.process is None or server.process.poll() is not None:
                print(f"--- floe log tail ({server.log_path}):\n{server.log_tail(30)}", flush=True)
            server.stop()
    if "rate" in wanted:
        add("rate-limit", run_suite("rate-limit", sys.executable, str(HERE / "rate_limit_test.py"), dict(os.environ),
                                    timeout))
    if "https" in wanted:
        for name, result in run_https(timeout):
            add(name, result)

    print("", flush=True)
    if failed_suites:
        print(f"suites with failures: {', '.join(failed_suites)}", flush=True)
    if totals[2]:
        print(f"({totals[2]} skipped)", flush=True)
    print(f"{totals[0]} passed, {totals[1]} failed", flush=True)
    return 1 if totals[1] else 0


if __name__ == "__main__":
    sys.exit(main())
