#!/usr/bin/env python3
"""Connection handling under abuse: slowloris, connection floods, idle keep-alive, oversized heads, bad UTF-8.

Starts its own servers with small limits (`--max-connections 50 --header-timeout 2 --idle-timeout 3`, and one with
`--idle-timeout 2 --header-timeout 10` for the idle timeout alone) and checks:

1. slowloris: connections that send a request head a byte a second are closed within header-timeout + slack (with
   a 408 envelope when anything is written) while a normal client's /healthz and an authenticated call stay fast;
2. cap: a few connections beyond --max-connections are refused politely (503, envelope code too_many_connections,
   `Connection: close`), or wait in the backlog;
3. flood: far more idle connections than the cap: every one is answered (408/503 envelope) or closed within the
   timeouts, a new client gets through, and afterwards the process is alive, /healthz is 200 and its RSS is back
   within 64 MiB of the value before the flood (before/peak/after printed);
4. idle keep-alive connections are closed after the idle timeout (and are reusable before it);
5. a 1 MB header, 5,000 headers, a 1 MB query string and a 100 KB path get a 4xx (431/414 expected) with the
   envelope;
6. a JSON body that is not valid UTF-8 gets 400 with the envelope and creates nothing.

Every byte a server writes on a raw connection is parsed: any status >= 400 must carry the error envelope.

Standalone: `python3 tests/reliability/connections_test.py` (FLOE_BIN; RELIABILITY_MODE=quick|long).
"""
from __future__ import annotations

import errno
import math
import os
import select
import socket
import subprocess
import threading
import time

from reliability_common import (LONG, MODE, Admin, Api, CheckFailed, FloeServer, Steps, alive, check,
                                envelope_problems_of, healthz, open_fds, parse_json, rss_kib, start_server, tag)

MAX_CONNECTIONS = 50
HEADER_TIMEOUT = 2.0
IDLE_TIMEOUT = 3.0
SLACK = 3.0                      # seconds allowed beyond a timeout (scheduling on 2 busy cores)
FAST = 2.0                       # a normal request during an attack must answer within this
SLOWLORIS = 40 if not LONG else 45
FLOOD = 300 if not LONG else 2000
FLOOD_ROUNDS = 1 if not LONG else 3
RSS_SLACK_KIB = 64 * 1024
SERVER_ARGS = ["--max-connections", str(MAX_CONNECTIONS), "--header-timeout", f"{HEADER_TIMEOUT:g}",
               "--idle-timeout", f"{IDLE_TIMEOUT:g}"]


# ------------------------------------------------------------------------------------------ raw HTTP
class RawResponse:
    """A response parsed from the bytes a server wrote on a raw connection."""

    def __init__(self, data: bytes):
        self.data = data
        head, _, rest = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ", 2) if lines else []
        self.status = int(parts[1]) if len(parts) >= 2 and parts[1].isdigit() else 0
        self.headers: dict[str, str] = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            self.headers[name.strip().lower()] = value.strip()
        length = self.headers.get("content-length")
        self.complete = bool(_) and (length is None or (length.isdigit() and len(rest) >= int(length)))
        body = rest[:int(length)] if length and length.isdigit() else rest
        self.text = body.decode("utf-8", errors="replace")
        self.body, self.json_ok = parse_json(self.text)

    def envelope_problems(self) -> list[str]:
        return envelope_problems_of(self.status, self.body, self.json_ok, self.text)

    def code(self) -> str:
        try:
            return str(self.body["errors"][0]["code"])
        except (TypeError, KeyError, IndexError):
            return ""

    def summary(self) -> str:
        return f"HTTP {self.status} {self.text[:160]!r}"


class Conn:
    """A client socket we hold; `poll_all` collects what the server writes and notices when it closes.

    With `wait_connect=False` the connect is non-blocking: a connection the kernel cannot complete (the server's
    accept backlog is full) stays pending (`connected_at` None) instead of blocking the test."""

    def __init__(self, port: int, connect_timeout: float = 5.0, wait_connect: bool = True):
        self.opened = time.monotonic()
        self.data = b""
        self.closed_at: float | None = None
        self.connected_at: float | None = None
        self.reset = False
        if wait_connect:
            self.sock = socket.create_connection(("127.0.0.1", port), timeout=connect_timeout)
            self.connected_at = time.monotonic()
            self.sock.setblocking(False)
        else:
            self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self.sock.setblocking(False)
            err = self.sock.connect_ex(("127.0.0.1", port))
            if err == 0:
                self.connected_at = time.monotonic()
            elif err not in (errno.EINPROGRESS, errno.EWOULDBLOCK, errno.EAGAIN):
                self.sock.close()
                raise OSError(err, os.strerror(err))

    def fileno(self) -> int:
        return self.sock.fileno()

    def send(self, payload: bytes) -> bool:
        if self.closed_at is not None:
            return False
        try:
            self.sock.send(payload)
            return True
        except BlockingIOError:
            return True
        except OSError:
            self.read_available()
            self.mark_closed(reset=True)
            return False

    def on_writable(self) -> None:
        if self.connected_at is None and self.closed_at is None:
            err = self.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err == 0:
                self.connected_at = time.monotonic()
            else:
                self.mark_closed(reset=True)

    def read_available(self) -> None:
        if self.connected_at is None:
            return
        while self.closed_at is None:
            try:
                chunk = self.sock.recv(65536)
            except BlockingIOError:
                return
            except OSError:
                self.mark_closed(reset=True)
                return
            if not chunk:
                self.mark_closed()
                return
            self.data += chunk

    def mark_closed(self, reset: bool = False) -> None:
        if self.closed_at is None:
            self.closed_at = time.monotonic()
            self.reset = reset

    def lifetime(self) -> float | None:
        return None if self.closed_at is None else self.closed_at - self.opened

    def response(self) -> RawResponse | None:
        return RawResponse(self.data) if self.data else None

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass


def poll_all(conns: list[Conn], wait: float) -> None:
    """Waits up to `wait` seconds for any of `conns` to become readable (or connected), then reads what is there."""
    live = [c for c in conns if c.closed_at is None]
    if not live:
        time.sleep(min(wait, 0.05))
        return
    poller = select.poll()  # select() has an FD_SETSIZE limit; poll() does not
    by_fd = {}
    for c in live:
        events = select.POLLIN | select.POLLERR | select.POLLHUP
        if c.connected_at is None:
            events |= select.POLLOUT
        poller.register(c.fileno(), events)
        by_fd[c.fileno()] = c
    for fd, ev in poller.poll(wait * 1000):
        c = by_fd[fd]
        if c.connected_at is None:
            c.on_writable()
        if c.connected_at is not None:
            c.read_available()


def raw_exchange(port: int, payload: bytes, timeout: float = 15.0) -> tuple[RawResponse | None, str]:
    """Sends `payload` while reading concurrently (a server may answer and close before reading it all)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    received = bytearray()
    send_error = ""

    def reader():
        sock_deadline = time.monotonic() + timeout
        while time.monotonic() < sock_deadline:
            try:
                chunk = sock.recv(65536)
            except socket.timeout:
                return
            except OSError:
                return
            if not chunk:
                return
            received.extend(chunk)
            r = RawResponse(bytes(received))
            if r.complete:
                return

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    try:
        sock.sendall(payload)
    except OSError as e:
        send_error = f"{type(e).__name__} while sending"
    t.join(timeout)
    try:
        sock.close()
    except OSError:
        pass
    return (RawResponse(bytes(received)) if received else None), send_error


def request_bytes(method: str, target: str, headers: list[tuple[str, str]] | None = None, body: bytes = b"",
                  keep_alive: bool = False) -> bytes:
    lines = [f"{method} {target} HTTP/1.1", "Host: 127.0.0.1"]
    for name, value in headers or []:
        lines.append(f"{name}: {value}")
    if body:
        lines.append(f"Content-Length: {len(body)}")
    if not keep_alive:
        lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


# -------------------------------------------------------------------------------------------- suite
class RSSSampler(threading.Thread):
    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid = pid
        self.peak = 0
        self.peak_fds = 0
        self.stop_event = threading.Event()

    def run(self):
        while not self.stop_event.is_set():
            self.peak = max(self.peak, rss_kib(self.pid))
            self.peak_fds = max(self.peak_fds, open_fds(self.pid))
            self.stop_event.wait(0.1)

    def stop(self):
        self.stop_event.set()
        self.join(2)


class NewClient(threading.Thread):
    """A normal client arriving during a flood: GET /healthz, patiently (it may queue in the backlog), retried
    after a polite refusal (503) or a reset, until `bound` seconds have passed."""

    def __init__(self, base: str, bound: float):
        super().__init__(daemon=True)
        self.base, self.bound = base, bound
        self.start_time = time.monotonic()
        self.ok_after: float | None = None
        self.tries: list[str] = []
        self.bad: list[str] = []

    def run(self):
        deadline = self.start_time + self.bound
        while time.monotonic() < deadline:
            t = time.monotonic()
            try:
                r = Api(self.base, timeout=max(0.5, deadline - t)).call("GET", "/healthz")
            except Exception as e:  # noqa: BLE001 - reset or timed out while queued
                self.tries.append(f"{type(e).__name__} after {time.monotonic() - t:.1f}s")
                time.sleep(0.2)
                continue
            if r.status == 200:
                self.ok_after = time.monotonic() - self.start_time
                return
            self.tries.append(f"HTTP {r.status} after {time.monotonic() - t:.1f}s")
            problems = envelope_problems_of(r.status, r.body, r.json_ok, r.text) if r.status >= 400 else []
            if r.status != 503 or problems or (r.body and r.code() != "too_many_connections"):
                self.bad.append(f"HTTP {r.status} {r.snippet(120)!r}")
            time.sleep(0.2)

    def summary(self) -> str:
        got = f"through after {self.ok_after:.1f}s" if self.ok_after is not None else "never through"
        return f"{got}, {len(self.tries)} refused/failed tries {self.tries[:3]}"


class Connections:
    def __init__(self, steps: Steps):
        self.steps = steps
        self.server: FloeServer | None = None
        self.idle_server: FloeServer | None = None
        self.admin: Admin | None = None
        self.figures: dict[str, object] = {"connections held": 0}
        self.codes_seen: dict[str, int] = {}

    @property
    def port(self) -> int:
        return self.server.port

    def api(self) -> Api:
        return self.admin.api

    def held(self, n: int) -> None:
        self.figures["connections held"] = max(int(self.figures["connections held"]), n)

    def check_written(self, conns: list[Conn], allowed: set[int], what: str) -> dict[int, int]:
        """Whatever a server wrote on `conns` is an envelope response with a status in `allowed`."""
        statuses: dict[int, int] = {}
        bad: list[str] = []
        for c in conns:
            r = c.response()
            if r is None:
                continue
            statuses[r.status] = statuses.get(r.status, 0) + 1
            if r.status not in allowed:
                bad.append(f"unexpected {r.summary()}")
            elif r.status >= 400:
                problems = r.envelope_problems()
                if problems:
                    bad.append(f"HTTP {r.status} without the envelope: {problems[0]}")
        check(not bad, f"{what}: {len(bad)} bad responses, e.g. {bad[:2]}")
        return statuses

    def normal_client_fast(self, what: str) -> None:
        t = time.monotonic()
        status = healthz(self.server.base_url, timeout=FAST + 3)
        took = time.monotonic() - t
        check(status == 200, f"{what}: GET /healthz -> {status or 'no answer'} after {took:.1f}s")
        check(took < FAST, f"{what}: GET /healthz took {took:.2f}s (limit {FAST}s)")
        t = time.monotonic()
        r = self.api().call("GET", "/org/v2/environments", timeout=FAST + 3)
        took = time.monotonic() - t
        check(r.status == 200, f"{what}: authenticated GET /org/v2/environments -> HTTP {r.status}")
        check(took < FAST, f"{what}: authenticated GET /org/v2/environments took {took:.2f}s (limit {FAST}s)")

    # ------------------------------------------------------------------------------------------ checks
    def help_lists_options(self):
        binary = FloeServer().binary
        out = subprocess.run([binary, "serve", "--help"], capture_output=True, text=True, timeout=30)
        text = out.stdout + out.stderr
        missing = [o for o in ("--max-connections", "--idle-timeout", "--header-timeout", "FLOE_MAX_CONNECTIONS")
                   if o not in text]
        check(not missing, f"`floe serve --help` does not mention {missing}")

    def baseline(self):
        check(healthz(self.server.base_url) == 200, "GET /healthz is not 200")
        self.api().call("GET", "/org/v2/environments", expect=200)

    def slowloris(self):
        head = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: slowloris\r\nX-Slow: "
        conns = [Conn(self.port) for _ in range(SLOWLORIS)]
        self.held(len(conns))
        bound = HEADER_TIMEOUT + SLACK
        positions = [0] * len(conns)
        fast_checked = False
        fast_error = None
        start = time.monotonic()
        next_byte = start
        try:
            while time.monotonic() - start < bound + 2 and any(c.closed_at is None for c in conns):
                now = time.monotonic()
                if now >= next_byte:
                    for i, c in enumerate(conns):
                        if c.closed_at is None:
                            byte = head[positions[i]:positions[i] + 1] if positions[i] < len(head) else b"a"
                            c.send(byte)
                            positions[i] += 1
                    next_byte = now + 1.0
                if not fast_checked and now - start > 1.0:
                    fast_checked = True
                    try:
                        self.normal_client_fast("during the slowloris")
                    except CheckFailed as e:
                        fast_error = str(e)
                poll_all(conns, 0.1)
        finally:
            for c in conns:
                c.read_available()
                c.close()
        open_ones = [c for c in conns if c.closed_at is None]
        lifetimes = [c.lifetime() for c in conns if c.closed_at is not None]
        self.figures["slowloris connections"] = len(conns)
        self.figures["slowloris max lifetime"] = f"{max(lifetimes):.1f}s" if lifetimes else "-"
        statuses = self.check_written(conns, {408}, "slowloris")
        print(f"  slowloris: {len(conns) - len(open_ones)}/{len(conns)} closed by the server, lifetimes "
              f"{min(lifetimes, default=0):.1f}-{max(lifetimes, default=0):.1f}s, responses {statuses}", flush=True)
        check(fast_error is None, fast_error or "")
        check(not open_ones, f"{len(open_ones)} of {len(conns)} slow connections still open after "
                             f"{time.monotonic() - start:.1f}s (header timeout {HEADER_TIMEOUT:g}s + {SLACK:g}s)")
        late = [x for x in lifetimes if x > bound]
        check(not late, f"{len(late)} slow connections lived longer than {bound:g}s (max {max(late, default=0):.1f}s)")

    def cap_refusal(self):
        """A few connections beyond the cap: the excess gets 503 too_many_connections + Connection: close."""
        extra = 10
        window = min(1.0, HEADER_TIMEOUT / 2)
        conns: list[Conn] = []
        try:
            for _ in range(MAX_CONNECTIONS + extra):
                conns.append(Conn(self.port))
            self.held(len(conns))
            deadline = time.monotonic() + window
            while time.monotonic() < deadline:
                poll_all(conns, 0.1)
            for c in conns:
                c.read_available()
            statuses = self.check_written(conns, {503, 408}, "connections beyond the cap")
            refused = [c for c in conns if c.response() is not None and c.response().status == 503]
            print(f"  cap: {len(conns)} connections for a cap of {MAX_CONNECTIONS}: responses {statuses}, "
                  f"{sum(1 for c in conns if c.closed_at is not None)} closed", flush=True)
            check(refused, f"none of {len(conns)} connections (cap {MAX_CONNECTIONS}) got a 503 within {window:g}s "
                           f"(not refused politely; waiting in the backlog is allowed only far beyond the cap)")
            for c in refused:
                r = c.response()
                check(r.code() == "too_many_connections", f"503 with code {r.code()!r}, expected too_many_connections")
                check(r.headers.get("connection", "").lower() == "close",
                      f"503 without 'Connection: close' (headers {r.headers})")
            # The refused ones are closed by the server right after the 503.
            deadline = time.monotonic() + 2
            while time.monotonic() < deadline and any(c.closed_at is None for c in refused):
                poll_all(refused, 0.1)
            still = sum(1 for c in refused if c.closed_at is None)
            check(not still, f"{still} connections answered 503 were not closed by the server")
        finally:
            for c in conns:
                c.close()
            self.settle()

    def settle(self) -> None:
        """Waits until the server answers /healthz again (held connections time out)."""
        deadline = time.monotonic() + HEADER_TIMEOUT + IDLE_TIMEOUT + SLACK
        while time.monotonic() < deadline:
            if healthz(self.server.base_url, timeout=2) == 200:
                return
            time.sleep(0.2)

    def flood(self, round_: int = 1):
        pid = self.server.process.pid
        before = rss_kib(pid)
        fds_before = open_fds(pid)
        sampler = RSSSampler(pid)
        sampler.start()
        conns: list[Conn] = []
        connect_errors: dict[str, int] = {}
        start = time.monotonic()
        for _ in range(FLOOD):
            try:
                conns.append(Conn(self.port, wait_connect=False))
            except OSError as e:
                key = errno.errorcode.get(e.errno or 0, type(e).__name__)
                connect_errors[key] = connect_errors.get(key, 0) + 1
        self.held(len(conns))
        poll_all(conns, 0.2)
        burst = [c for c in conns if c.connected_at is not None]   # completed by the kernel at once
        # Idle connections are closed after the header timeout; those queued behind them get their turn in rounds
        # of --max-connections, so the last of the burst may wait ceil(burst / cap) header timeouts.
        bound = (math.ceil(len(burst) / MAX_CONNECTIONS) + 1) * HEADER_TIMEOUT + SLACK
        client = NewClient(self.server.base_url, bound)
        client.start()
        try:
            while time.monotonic() - start < bound and (any(c.closed_at is None for c in burst) or client.is_alive()):
                poll_all(conns, 0.1)
            client.join(SLACK)
            for c in conns:
                c.read_available()
            open_ones = [c for c in burst if c.closed_at is None]
            never_connected = sum(1 for c in conns if c.connected_at is None)
            statuses = self.check_written(conns, {503, 408}, "flood connections")
            self.codes_seen.update({f"flood {k}": v for k, v in statuses.items()})
            closed_silent = sum(1 for c in conns if c.closed_at is not None and not c.data)
            print(f"  flood #{round_}: {len(conns)} sockets, {len(burst)} connected at once, {never_connected} never "
                  f"connected (kernel backlog full), connect errors {connect_errors}; responses {statuses}, "
                  f"{closed_silent} closed without a response, {len(open_ones)} of the burst still open after "
                  f"{time.monotonic() - start:.1f}s (bound {bound:.0f}s); new client: {client.summary()}", flush=True)
        finally:
            for c in conns:
                c.close()
        # After the flood.
        check(alive(self.server), f"the server process died during the flood (exit {self.server.process.poll()})")
        status = healthz(self.server.base_url, timeout=10)
        settle_deadline = time.monotonic() + 10
        after = rss_kib(pid)
        while after > before + RSS_SLACK_KIB and time.monotonic() < settle_deadline:
            time.sleep(0.5)
            after = rss_kib(pid)
        time.sleep(0.5)
        sampler.stop()
        fds_after = open_fds(pid)
        peak = max(sampler.peak, after)
        self.figures[f"flood{round_} RSS MiB before/peak/after"] = f"{before // 1024}/{peak // 1024}/{after // 1024}"
        self.figures[f"flood{round_} fds before/peak/after"] = f"{fds_before}/{sampler.peak_fds}/{fds_after}"
        print(f"  flood #{round_}: RSS before {before / 1024:.1f} MiB, peak {peak / 1024:.1f} MiB, after "
              f"{after / 1024:.1f} MiB; server fds before {fds_before}, peak {sampler.peak_fds}, after {fds_after}",
              flush=True)
        check(status == 200, f"GET /healthz after the flood -> {status or 'no answer'}")
        self.api().call("GET", "/org/v2/environments", expect=200, timeout=10)
        check(not client.bad, f"new client during the flood: {client.bad}")
        check(client.ok_after is not None, f"no new client got through within {bound:.0f}s of the flood "
                                           f"({client.summary()})")
        check(not open_ones, f"{len(open_ones)} of {len(burst)} idle flood connections still open after "
                             f"{bound:.0f}s (header timeout {HEADER_TIMEOUT:g}s, cap {MAX_CONNECTIONS})")
        check(after <= before + RSS_SLACK_KIB, f"RSS after the flood {after // 1024} MiB > before {before // 1024} "
                                               f"MiB + {RSS_SLACK_KIB // 1024} MiB")
        check(fds_after <= fds_before + 20, f"server fds after the flood {fds_after} vs before {fds_before}")

    def idle_on_main(self):
        """A keep-alive connection left idle after a response is closed (by the idle or the header timeout)."""
        c = Conn(self.port)
        try:
            c.sock.setblocking(True)
            c.sock.settimeout(5)
            c.sock.sendall(request_bytes("GET", "/healthz", keep_alive=True))
            c.sock.setblocking(False)
            t0 = time.monotonic()
            first = self.read_response(c, 5)
            check(first is not None and first.status == 200, f"keep-alive GET /healthz -> {first and first.summary()}")
            c.data = b""
            bound = max(HEADER_TIMEOUT, IDLE_TIMEOUT) + SLACK
            while c.closed_at is None and time.monotonic() - t0 < bound + 1:
                poll_all([c], 0.2)
            idle = time.monotonic() - t0
            check(c.closed_at is not None, f"an idle keep-alive connection is still open after {idle:.1f}s "
                                           f"(idle timeout {IDLE_TIMEOUT:g}s, header timeout {HEADER_TIMEOUT:g}s)")
            closed_after = c.closed_at - t0
            written = c.response()
            print(f"  idle keep-alive (header {HEADER_TIMEOUT:g}s, idle {IDLE_TIMEOUT:g}s): closed after "
                  f"{closed_after:.1f}s, wrote {written.summary() if written else 'nothing'}", flush=True)
            self.figures["idle close (main)"] = f"{closed_after:.1f}s"
            check(closed_after <= bound, f"closed only after {closed_after:.1f}s")
            if written is not None:
                check(written.status == 408 and not written.envelope_problems(),
                      f"an idle connection was closed with {written.summary()} (a 408 envelope or nothing expected)")
        finally:
            c.close()

    def read_response(self, c: Conn, timeout: float) -> RawResponse | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            poll_all([c], 0.1)
            if c.data and RawResponse(c.data).complete:
                return RawResponse(c.data)
            if c.closed_at is not None:
                break
        return c.response()

    def idle_timeout_only(self):
        """A server with idle 2s < header 10s: a keep-alive connection is reusable at 1s and closed at ~2s."""
        idle, header = 2.0, 10.0
        s = self.idle_server = FloeServer(label="conn-idle", extra_args=[
            "--idle-timeout", f"{idle:g}", "--header-timeout", f"{header:g}"])
        try:
            s.start(timeout=60)
        except (RuntimeError, OSError) as e:
            raise CheckFailed(f"floe serve --idle-timeout {idle:g} --header-timeout {header:g} did not start: "
                              f"{str(e)[-300:]}") from None
        c = Conn(s.port)
        try:
            for i in range(2):
                c.send(request_bytes("GET", "/healthz", keep_alive=True))
                r = self.read_response(c, 5)
                check(r is not None and r.status == 200, f"keep-alive request #{i + 1} -> {r and r.summary()}")
                check(c.closed_at is None, f"the server closed a keep-alive connection after request #{i + 1}")
                c.data = b""
                t0 = time.monotonic()
                if i == 0:
                    time.sleep(idle / 2)  # reused before the idle timeout
            while c.closed_at is None and time.monotonic() - t0 < idle + SLACK + 1:
                poll_all([c], 0.2)
            check(c.closed_at is not None, f"an idle keep-alive connection is still open after "
                                           f"{time.monotonic() - t0:.1f}s (idle timeout {idle:g}s)")
            closed_after = c.closed_at - t0
            written = c.response()
            self.figures["idle close (idle-only)"] = f"{closed_after:.1f}s"
            print(f"  idle keep-alive (idle {idle:g}s, header {header:g}s): closed after {closed_after:.1f}s, "
                  f"wrote {written.summary() if written else 'nothing'}", flush=True)
            check(closed_after <= idle + SLACK, f"closed only after {closed_after:.1f}s (idle timeout {idle:g}s)")
            check(closed_after >= idle * 0.5, f"closed already after {closed_after:.1f}s (idle timeout {idle:g}s)")
            if written is not None:
                check(written.status >= 400 and not written.envelope_problems(),
                      f"idle close wrote {written.summary()} (nothing, or an error envelope expected)")
        finally:
            c.close()
            s.stop()

    def oversized(self, name: str, payload: bytes, expected: int):
        r, send_error = raw_exchange(self.port, payload, timeout=15)
        check(r is not None, f"{name}: no response at all ({send_error or 'connection closed'})")
        self.codes_seen[name] = r.status
        note = "" if r.status == expected else f" (expected {expected})"
        print(f"  {name}: HTTP {r.status}{note} code {r.code()!r}{' ' + send_error if send_error else ''}", flush=True)
        check(400 <= r.status < 500, f"{name}: {r.summary()}, expected a 4xx ({expected})")
        problems = r.envelope_problems()
        check(not problems, f"{name}: HTTP {r.status} without the envelope: {problems[0] if problems else ''}")
        check(alive(self.server) and healthz(self.server.base_url) == 200, f"{name}: server unhealthy afterwards")

    def bad_utf8(self):
        api = self.api()

        def names() -> list[str]:
            r = api.call("GET", "/iam/v2/service-accounts?page_size=100", expect=200)
            return [sa.get("display_name", "") for sa in r.body["data"]]

        before = names()
        marker = f"utf8-{tag()}"
        bodies = {
            "0xFF byte": b'{"display_name":"' + marker.encode() + b'-\xff","description":"x"}',
            "overlong '/'": b'{"display_name":"' + marker.encode() + b'-\xc0\xaf","description":"x"}',
            "truncated sequence": b'{"display_name":"' + marker.encode() + b'-\xe2\x82","description":"x"}',
            "UTF-8 surrogate": b'{"display_name":"' + marker.encode() + b'-\xed\xa0\x80","description":"x"}',
            "bad byte in a key": b'{"display_name":"' + marker.encode() + b'-k","descr\xfeiption":"x"}',
        }
        bad = []
        for what, raw in bodies.items():
            r = api.call("POST", "/iam/v2/service-accounts", raw=raw)
            if r.status != 400 or envelope_problems_of(r.status, r.body, r.json_ok, r.text):
                bad.append(f"{what}: HTTP {r.status} {r.snippet(120)!r}")
        after = names()
        created = [n for n in after if n.startswith(marker)]
        check(not bad, f"invalid UTF-8 bodies not answered 400 with the envelope: {bad}")
        check(not created and len(after) == len(before), f"invalid UTF-8 bodies created service accounts {created}")

    def final(self):
        check(alive(self.server), f"the server process is gone (exit {self.server.process and self.server.process.poll()})")
        check(healthz(self.server.base_url) == 200, "GET /healthz is not 200 at the end")
        self.api().call("GET", "/org/v2/environments", expect=200)

    # -------------------------------------------------------------------------------------------- run
    def run(self):
        st = self.steps
        st.run("floe serve --help lists --max-connections, --idle-timeout, --header-timeout", self.help_lists_options)
        self.server = start_server(st, "connections", SERVER_ARGS)
        if self.server is None:
            return
        self.admin = Admin(self.server)
        st.run("baseline: /healthz and an authenticated call", self.baseline)
        st.run(f"slowloris: {SLOWLORIS} byte-a-second heads closed within header-timeout + {SLACK:g}s, "
               f"normal clients fast meanwhile", self.slowloris)
        self.settle()
        st.run(f"cap: connections beyond --max-connections {MAX_CONNECTIONS} get 503 too_many_connections",
               self.cap_refusal)
        for round_ in range(1, FLOOD_ROUNDS + 1):
            st.run(f"flood #{round_}: {FLOOD} idle connections (cap {MAX_CONNECTIONS}): answered/closed within the "
                   f"timeouts, alive, healthy, RSS back within {RSS_SLACK_KIB // 1024} MiB",
                   lambda r=round_: self.flood(r))
            self.settle()
        st.run("idle keep-alive connection closed (header 2s / idle 3s)", self.idle_on_main)
        st.run("idle timeout alone (idle 2s, header 10s): reusable before, closed after", self.idle_timeout_only)
        big = "a" * (1 << 20)
        st.run("oversized: a 1 MB header -> 4xx (431) with the envelope",
               lambda: self.oversized("1 MB header", request_bytes("GET", "/healthz", [("X-Big", big)]), 431))
        st.run("oversized: 5,000 headers -> 4xx (431) with the envelope",
               lambda: self.oversized("5,000 headers", request_bytes(
                   "GET", "/healthz", [(f"X-H{i}", "v") for i in range(5000)]), 431))
        st.run("oversized: a 1 MB query string -> 4xx (414) with the envelope",
               lambda: self.oversized("1 MB query", request_bytes("GET", "/healthz?q=" + big), 414))
        st.run("oversized: a 100 KB path -> 4xx (414) with the envelope",
               lambda: self.oversized("100 KB path", request_bytes("GET", "/" + "p" * 100_000), 414))
        st.run("invalid UTF-8 JSON body: 400 with the envelope, nothing created", self.bad_utf8)
        st.run("end: the server is alive and healthy", self.final)

    def close(self):
        for s in (self.server, self.idle_server):
            if s is not None:
                s.stop()


def main() -> None:
    from floe_harness import exit_on_signals
    exit_on_signals()
    steps = Steps(f"reliability: connections ({MODE})")
    t = time.monotonic()
    suite = Connections(steps)
    try:
        suite.run()
    finally:
        suite.close()
        figures = {**suite.figures, "status codes": suite.codes_seen, "wall": f"{time.monotonic() - t:.1f}s"}
        print("FIGURES: " + ", ".join(f"{k}={v}" for k, v in figures.items()), flush=True)
    steps.finish()


if __name__ == "__main__":
    main()
