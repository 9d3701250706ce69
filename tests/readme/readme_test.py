"""README.md's walkthroughs, run as a new user runs them: "The first five minutes, with `floe` only", then "A quick
tour with curl", one after the other against one fresh `floe serve`.

The commands are read from README.md (its indented code blocks), so this test breaks when the README drifts from
what works. They run in one bash process, in order, with HOME a fresh directory (so ~/.floe, the server's data
directory and the CLI's config, is private to the run). Only what must change is changed:

* `alias floe=$PWD/.build/release/floe` names the binary under test (FLOE_BIN);
* `127.0.0.1:8080` becomes the test server's address;
* the five-minute section's `sa-XXXXXX` and `lfcp-XXXXXX` placeholders become the ids the previous commands printed;
* the two commands that follow for ever (`floe flink statement results totals`, `floe flink shell`) run in the
  background until their output shows what the README promises, then are ended (by their pid).

Each step must exit 0, every HTTP answer of the tour must be 2xx, the statements must end as the README says, and
the `totals` queries must really show their rows. `curl` is wrapped by a shell function that only adds `-D` (the
response heads go to a file), so that the statuses can be checked without changing what the commands print.
"""
from __future__ import annotations

import json
import os
import re
import select
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "compat"))
from floe_harness import CheckFailed, FloeServer, Steps, check, exit_on_signals, start_or_exit  # noqa: E402

FIVE_MINUTES = "## The first five minutes, with `floe` only"
CURL_TOUR = "## A quick tour with curl"
README_ADDRESS = "127.0.0.1:8080"
README_ALIAS = re.compile(r"^alias floe=\S+$")
PLACEHOLDER = re.compile(r"\b(sa|lfcp)-XXXXXX\b")
STEP_TIMEOUT = 30.0
TRACE = os.environ.get("README_TRACE") == "1"


def quote_open(code: str) -> bool:
    """Whether `code` ends inside a quoted string, as bash reads it (shlex's POSIX rules: '…', "…" with \\ escapes,
    # comments), so that the lines of a multi-line argument such as `python3 -c '…'` stay one command."""
    lexer = shlex.shlex(code, posix=True)
    lexer.whitespace_split = True
    try:
        for _ in lexer:
            pass
    except ValueError:  # "No closing quotation"
        return True
    return False


def section_commands(readme: str, heading: str) -> list[str]:
    """The commands of one README section: its four-space-indented lines, continuation lines (ending in `\\`, or
    inside a quoted string that spans lines) joined to their command, comment lines and blank lines left out."""
    lines = readme.splitlines()
    check(heading in lines, f"README.md has no line {heading!r}: was the section renamed?")
    start = lines.index(heading) + 1
    end = next((i for i in range(start, len(lines)) if lines[i].startswith("## ")), len(lines))
    commands: list[str] = []
    continued = ""
    for line in lines[start:end]:
        if not line.startswith("    "):
            check(not continued, f"a command continues into prose: {continued!r}")
            continue
        code = continued + line[4:]
        if code.endswith("\\") or quote_open(code):
            continued = code + "\n"
            continue
        continued = ""
        if code.strip() and not code.strip().startswith("#"):
            commands.append(code)
    check(commands, f"no commands under {heading!r}")
    return commands


@dataclass
class Outcome:
    command: str
    status: int
    stdout: str
    stderr: str
    http: list[int] = field(default_factory=list)

    def describe(self) -> str:
        return (f"`{self.command}` exited {self.status}, HTTP {self.http or '-'}\n--- stdout\n{self.stdout[-1500:]}"
                f"\n--- stderr\n{self.stderr[-1500:]}")


class Shell:
    """One bash process that runs the steps in order, so that variables and the alias carry from one to the next."""

    def __init__(self, home: Path, env: dict[str, str]):
        self.work = home / ".readme-test"
        self.work.mkdir()
        self.out, self.err, self.heads = self.work / "out", self.work / "err", self.work / "heads"
        self.log = open(self.work / "shell.log", "wb")
        self.process = subprocess.Popen(["bash", "--noprofile", "--norc"], cwd=home, env=env, stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=self.log, start_new_session=True)
        self.buffer = b""
        self.send_line("shopt -s expand_aliases")
        self.send_line(f"__heads='{self.heads}'")
        # Adds -D: the response heads go to a file, the body still to stdout as the README shows it.
        self.send_line('curl() { command curl -D "$__heads" "$@"; }')

    def send_line(self, text: str) -> None:
        self.process.stdin.write(text.encode() + b"\n")
        self.process.stdin.flush()

    def run(self, command: str, timeout: float = STEP_TIMEOUT) -> Outcome:
        """Runs `command` in the shell (its own line: a trailing comment ends there) and waits for it to end."""
        self.heads.write_bytes(b"")
        self.send_line(f'{{ {command}\n}} >"{self.out}" 2>"{self.err}" </dev/null; printf "\\n__STEP__ %s\\n" "$?"')
        status = self.wait_for_marker(timeout, command)
        heads = self.heads.read_text(errors="replace")
        http = [int(m.group(1)) for m in re.finditer(r"^HTTP/\S+ (\d{3})", heads, re.M)]
        outcome = Outcome(command, status, self.out.read_text(errors="replace"), self.err.read_text(errors="replace"), http)
        if TRACE:
            print(f"  $ {command}\n{outcome.stdout}{outcome.stderr}  -> {status} {http}", flush=True)
        return outcome

    def start_background(self, command: str, stdin: str | None = None) -> tuple[Path, Path]:
        """Starts `command` in the background (stdin from the text given, else nothing); returns its output files.
        `__bg` holds its pid for ``stop_background``."""
        out, err, given = self.work / "bg.out", self.work / "bg.err", self.work / "bg.in"
        given.write_text(stdin or "")
        self.send_line(f'{{ {command}\n}} >"{out}" 2>"{err}" <"{given}" & __bg=$!; printf "\\n__STEP__ 0\\n"')
        self.wait_for_marker(STEP_TIMEOUT, command)
        return out, err

    def background_status(self) -> int | None:
        """The background command's exit status if it ended, else None."""
        self.send_line('if kill -0 "$__bg" 2>/dev/null; then printf "\\n__STEP__ -1\\n"; else wait "$__bg"; printf "\\n__STEP__ %s\\n" "$?"; fi')
        status = self.wait_for_marker(STEP_TIMEOUT, "status of the background command")
        return None if status == -1 else status

    def stop_background(self) -> int:
        """Ends the background command (SIGTERM to its pid: a background job of a non-interactive shell ignores
        SIGINT) and returns its exit status."""
        self.send_line('kill -TERM "$__bg" 2>/dev/null; wait "$__bg"; printf "\\n__STEP__ %s\\n" "$?"')
        return self.wait_for_marker(STEP_TIMEOUT, "stopping the background command")

    def value(self, expression: str) -> str:
        """What `expression` (e.g. `$ENV`) expands to in the shell."""
        self.send_line(f'printf "%s" "{expression}" >"{self.out}"; printf "\\n__STEP__ 0\\n"')
        self.wait_for_marker(STEP_TIMEOUT, f"echo {expression}")
        return self.out.read_text()

    def wait_for_marker(self, timeout: float, what: str) -> int:
        deadline = time.monotonic() + timeout
        while True:
            match = re.search(rb"\n__STEP__ (-?\d+)\n", self.buffer)
            if match:
                self.buffer = self.buffer[match.end():]
                return int(match.group(1))
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise CheckFailed(f"`{what}` did not end within {timeout:.0f}s")
            ready, _, _ = select.select([self.process.stdout], [], [], remaining)
            if ready:
                chunk = os.read(self.process.stdout.fileno(), 65536)
                if not chunk:
                    raise CheckFailed(f"the shell exited while running `{what}`")
                self.buffer += chunk

    def close(self) -> None:
        if self.process.poll() is None:
            try:
                self.process.stdin.close()
                self.process.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                self.process.kill()  # our own child, by its pid
                self.process.wait(timeout=10)
        self.log.close()


def wait_for_output(out: Path, predicate, timeout: float, what: str) -> str:
    """Waits until the growing file `out` satisfies `predicate`; returns its text."""
    deadline = time.monotonic() + timeout
    text = ""
    while time.monotonic() < deadline:
        text = out.read_text(errors="replace") if out.exists() else ""
        if predicate(text):
            return text
        time.sleep(0.2)
    raise CheckFailed(f"{what} within {timeout:.0f}s; output so far:\n{text[-2000:]}")


def rows_of(text: str) -> set[tuple[str, str]]:
    """(product, count) pairs a CLI table or changelog shows: `apple` and `2` as neighbouring cells."""
    pairs = set()
    for line in text.splitlines():
        cells = [c for c in re.split(r"[\s|│┃,\[\]()]+", line) if c]
        for first, second in zip(cells, cells[1:]):
            if re.fullmatch(r"[a-z]+", first) and re.fullmatch(r"\d+", second):
                pairs.add((first, second))
    return pairs


class Walkthrough:
    def __init__(self, steps: Steps, shell: Shell, server: FloeServer, binary: str):
        self.steps, self.shell, self.server, self.binary = steps, shell, server, binary
        self.ids: dict[str, str] = {}  # placeholder prefix (sa, lfcp) -> the id printed last

    def adapt(self, command: str) -> str:
        """The few substitutions the module docstring lists, nothing else."""
        if README_ALIAS.match(command):
            return f"alias floe='{self.binary}'"
        command = command.replace(README_ADDRESS, f"127.0.0.1:{self.server.port}")

        def placeholder(match: re.Match) -> str:
            prefix = match.group(1)
            check(prefix in self.ids, f"`{command}` needs a {prefix}- id, but no earlier command printed one")
            return self.ids[prefix]
        return PLACEHOLDER.sub(placeholder, command)

    def remember_ids(self, outcome: Outcome) -> None:
        for prefix in ("sa", "lfcp"):
            found = [i for i in re.findall(rf"\b{prefix}-[A-Za-z0-9]+\b", outcome.stdout) if i != f"{prefix}-XXXXXX"]
            if found:
                self.ids[prefix] = found[0]

    def step(self, name: str, command: str, expect=None) -> Outcome:
        """Runs one README command as a named step: exit 0, only 2xx answers, nothing FAILED, then `expect`."""
        def body() -> Outcome:
            outcome = self.shell.run(self.adapt(command))
            check(outcome.status == 0, outcome.describe())
            bad = [s for s in outcome.http if not 200 <= s < 300]
            check(not bad, f"HTTP {bad}: " + outcome.describe())
            check("FAILED" not in outcome.stdout + outcome.stderr, "a statement FAILED: " + outcome.describe())
            self.remember_ids(outcome)
            if expect:
                expect(outcome)
            return outcome
        result = self.steps.run(name, body)
        if result is None:
            raise CheckFailed(f"stopping at the failed step {name}")  # what follows depends on it
        return result


def expect_in(*needles: str):
    def verify(outcome: Outcome) -> None:
        for needle in needles:
            check(needle in outcome.stdout, f"{needle!r} not in the output: " + outcome.describe())
    return verify


def expect_http(*statuses: int):
    def verify(outcome: Outcome) -> None:
        check(outcome.http and outcome.http[-1] in statuses, f"HTTP {outcome.http}, wanted {statuses}: " + outcome.describe())
    return verify


def five_minutes(walk: Walkthrough, commands: list[str]) -> None:
    for index, command in enumerate(commands):
        name = f"five-minutes {index + 1:02d} {command.split('#')[0].strip()[:70]}"
        if re.search(r"floe flink statement results \S+\s*(#.*)?$", command):
            # Follows until Ctrl-C: wait for the counts the data gives (apple twice, pear once), then end it.
            def follow(command=command) -> None:
                out, err = walk.shell.start_background(walk.adapt(command))
                try:
                    text = wait_for_output(out, lambda text: {("apple", "2"), ("pear", "1")} <= rows_of(text),
                                           40, "the totals (apple 2, pear 1) did not show")
                    if TRACE:
                        print(f"  $ {command} (in the background)\n{text}", flush=True)
                    check(walk.shell.background_status() is None, "results stopped following: " + err.read_text())
                finally:
                    walk.shell.stop_background()
            if walk.steps.run(name, follow) is None:
                raise CheckFailed(f"stopping at the failed step {name}")
        elif re.search(r"floe flink shell\s*(#.*)?$", command):
            # Interactive; with no terminal it reads its input as a script: a snapshot query, then EXIT.
            def shell_session(command=command) -> None:
                script = "SET 'sql.snapshot.mode' = 'now';\nSELECT product, COUNT(*) AS n FROM orders GROUP BY product;\nEXIT;\n"
                out, err = walk.shell.start_background(walk.adapt(command), stdin=script)
                deadline = time.monotonic() + 40
                status = walk.shell.background_status()
                while status is None and time.monotonic() < deadline:
                    time.sleep(0.2)
                    status = walk.shell.background_status()
                if status is None:
                    walk.shell.stop_background()
                text = out.read_text(errors="replace")
                if TRACE:
                    print(f"  $ {command} (in the background, given {script!r})\n{text}  -> {status}", flush=True)
                check(status == 0, f"the shell did not leave on EXIT; (status {status}):\n{text[-2000:]}{err.read_text()}")
                check({("apple", "2"), ("pear", "1")} <= rows_of(text) and "Error" not in text,
                      f"the shell did not show the counts (apple 2, pear 1):\n{text[-2000:]}{err.read_text()}")
            if walk.steps.run(name, shell_session) is None:
                raise CheckFailed(f"stopping at the failed step {name}")
        elif re.search(r"statement create .*--wait", command):
            walk.step(name, command, expect_in("COMPLETED") if "INSERT INTO apples" not in command else expect_in("RUNNING"))
        elif "statement list" in command:
            walk.step(name, command, expect_in("orders-ddl", "orders-fill", "copy"))
        elif "service-account create" in command:
            walk.step(name, command, lambda o: check("sa" in walk.ids, "no sa- id printed: " + o.describe()))
        elif "compute-pool create" in command:
            walk.step(name, command, lambda o: check("lfcp" in walk.ids, "no lfcp- id printed: " + o.describe()))
        else:
            walk.step(name, command)


def curl_tour(walk: Walkthrough, commands: list[str]) -> None:
    for index, command in enumerate(commands):
        name = f"curl-tour {index + 1:02d} {command.split('#')[0].strip()[:70]}"
        if command.startswith("$F$S/totals/results"):
            # Right after its POST the query may not have started yet: ask again, as a reader would, until the
            # rows the README shows are there.
            def results(command=command) -> None:
                deadline = time.monotonic() + 30
                while True:
                    outcome = walk.shell.run(walk.adapt(command))
                    check(outcome.status == 0 and outcome.http == [200], outcome.describe())
                    data = json.loads(outcome.stdout)["results"]["data"]
                    rows = {tuple(change["row"]) for change in data if change["op"] in (0, 2)}
                    if {("apple", "1"), ("pear", "1")} <= rows:
                        return
                    check(time.monotonic() < deadline, "totals never showed apple 1 and pear 1: " + outcome.describe())
                    time.sleep(0.3)
            if walk.steps.run(name, results) is None:
                raise CheckFailed(f"stopping at the failed step {name}")
        elif "-X DELETE" in command:
            walk.step(name, command, expect_http(202))
        elif re.search(r"-X PATCH", command) or "-d " in command or command.startswith("$F/") or command.startswith("$F$S"):
            walk.step(name, command, expect_http(200, 201, 202))
        else:
            walk.step(name, command)

    def statements_ended() -> None:
        # Not a README command: asks, in the tour's own variables, how its DDL and INSERT ended.
        for name in ("ddl", "fill"):
            deadline = time.monotonic() + 20
            while True:
                outcome = walk.shell.run(f"$F$S/{name}")
                phase = json.loads(outcome.stdout)["status"]["phase"]
                if phase == "COMPLETED":
                    break
                check(phase in ("PENDING", "RUNNING") and time.monotonic() < deadline,
                      f"{name} is {phase}: {json.loads(outcome.stdout)['status'].get('detail')}")
                time.sleep(0.2)
    walk.steps.run("curl-tour ddl and fill COMPLETED", statements_ended)


def main() -> None:
    readme_path = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parents[2] / "README.md")
    readme = readme_path.read_text()
    steps = Steps("README walkthroughs")
    sections = steps.run("README sections read", lambda: (section_commands(readme, FIVE_MINUTES), section_commands(readme, CURL_TOUR)))
    if sections is None:
        steps.finish()
    exit_on_signals()
    home = Path(tempfile.mkdtemp(prefix="floe-readme-"))
    server = FloeServer(label="readme")
    # The README's server keeps its data in ~/.floe, where `floe login` and the tour find bootstrap.json.
    server.data_dir = home / ".floe"
    server.log_path = home.parent / (home.name + ".log")
    shell = None
    try:
        start_or_exit(server)
        env = {k: v for k, v in os.environ.items() if not k.startswith("FLOE_")}
        env["HOME"] = str(home)
        shell = Shell(home, env)
        walk = Walkthrough(steps, shell, server, server.binary)
        try:
            five_minutes(walk, sections[0])
            curl_tour(walk, sections[1])
        except CheckFailed as stop:
            print(f"({stop}: the remaining steps depend on it)", flush=True)
    finally:
        if shell:
            shell.close()
        if steps.failed and os.environ.get("COMPAT_KEEP") != "1":
            print(f"server log tail:\n{server.log_tail(30)}", flush=True)
        server.stop()
        if os.environ.get("COMPAT_KEEP") != "1":
            shutil.rmtree(home, ignore_errors=True)
    steps.finish()


if __name__ == "__main__":
    main()
