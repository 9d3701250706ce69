"""README.md's "Kafka: tables are topics", run as a newcomer runs it: attach a broker, produce with a Kafka client,
query the topic with floe, write a new topic from it and consume that with kcat.

The commands are read from README.md (its indented code blocks, with tests/readme/readme_test.py's extraction), so
this test breaks when the section drifts from what works. As there, they run in one bash process, in order, with HOME
a fresh directory whose ~/.floe is the server's data directory. The section starts from "the login, Flink API key and
compute pool of the first five minutes": those commands of "The first five minutes" (everything before its first
statement) run first, as readme_test.py runs them. Only what must change is changed:

* `alias floe=…` names the binary under test (FLOE_BIN), `127.0.0.1:8080` the test server;
* `localhost:9092` becomes the test broker (FLOE_TEST_KAFKA; tests/kafka/run.sh starts one);
* the placeholders become what they stand for: `sa-`, `lfcp-`, `env-` and `lkc-XXXXXX` the ids earlier commands
  printed, `KEY:SECRET` the Cloud key in ~/.floe/bootstrap.json, `REGISTRY_URL` the `spec.http_endpoint` the srcm
  request answered;
* `python3` is the interpreter running this test (the Kafka venv, which has confluent-kafka);
* commands that show a state reached later are run again until it shows, as a reader would: `kafka cluster list`
  until the cluster is UP, `kcat … -e` (it exits at the end of the topic) until the INSERT's first checkpoint
  committed.

What is checked: every step exits 0 (HTTP 2xx for curl) and nothing FAILED; `results peek` shows exactly the counts
per user that the README's producer wrote (derived from its `range(N)` and `i % M`); kcat's read_committed consumer
sees exactly the records with `ms < K` (K from the README's INSERT), in the topic's 6 partitions, and still exactly
those after further checkpoints; a read_committed confluent-kafka consumer decodes them to exactly those clicks,
each once; the INSERT is still RUNNING at the end.

Run: ``FLOE_TEST_KAFKA=127.0.0.1:PORT .venv/kafka/bin/python tests/kafka/test_readme_kafka.py [README.md]`` (or
through tests/kafka/run.sh). Without FLOE_TEST_KAFKA every step is reported as SKIP. README_TRACE=1 prints each
command with its output. Prints one PASS/FAIL/SKIP line per step and ``N passed, M failed``.
"""
from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "compat"))
sys.path.insert(0, str(HERE.parent / "readme"))

from floe_harness import CheckFailed, FloeServer, SkipStep, Steps, check, exit_on_signals, start_or_exit  # noqa: E402
from readme_test import (  # noqa: E402
    FIVE_MINUTES, Outcome, Shell, Walkthrough, expect_http, expect_in, five_minutes, section_commands,
)

from confluent_kafka import Consumer, TopicPartition  # noqa: E402
from confluent_kafka.admin import AdminClient  # noqa: E402
from confluent_kafka.schema_registry import SchemaRegistryClient  # noqa: E402
from confluent_kafka.schema_registry.avro import AvroDeserializer  # noqa: E402
from confluent_kafka.serialization import MessageField, SerializationContext  # noqa: E402

KAFKA = "## Kafka: tables are topics"
README_BROKER = "localhost:9092"
KAFKA_PLACEHOLDER = re.compile(r"\b(env|lkc)-XXXXXX\b")
DEFAULT_PARTITIONS = 6  # the README: "6 partitions unless `INTO n BUCKETS`"


def login_commands(commands: list[str]) -> list[str]:
    """The first five minutes up to its first statement: login, service account, Flink API key, compute pool."""
    first = next((i for i, c in enumerate(commands) if "flink statement create" in c), None)
    check(first, "the first five minutes create no statement: where does its set-up end?")
    return commands[:first]


def records_of(text: str) -> list[tuple[int, int]]:
    """(partition, offset) of each record the README's `kcat -f 'partition %p offset %o\\n'` printed."""
    return [(int(p), int(o)) for p, o in re.findall(r"^partition (\d+) offset (\d+)$", text, re.M)]


class KafkaWalkthrough(Walkthrough):
    """readme_test's walkthrough, with the Kafka section's substitutions added to the five minutes' ones."""

    def __init__(self, steps: Steps, shell: Shell, server: FloeServer, binary: str, home: Path, bootstrap: str):
        super().__init__(steps, shell, server, binary)
        self.home, self.bootstrap = home, bootstrap
        self.registry_url = ""

    def cloud_key(self) -> tuple[str, str]:
        """The Cloud key the README points at: ~/.floe/bootstrap.json."""
        boot = json.loads((self.home / ".floe" / "bootstrap.json").read_text())
        return boot["api_key"], boot["api_secret"]

    def adapt(self, command: str) -> str:
        command = super().adapt(command).replace(README_BROKER, self.bootstrap)

        def placeholder(match: re.Match) -> str:
            prefix = match.group(1)
            check(prefix in self.ids, f"`{command}` needs a {prefix}- id, but no earlier command printed one")
            return self.ids[prefix]
        command = KAFKA_PLACEHOLDER.sub(placeholder, command)
        if "KEY:SECRET" in command:
            key, secret = self.cloud_key()
            command = command.replace("KEY:SECRET", f"{key}:{secret}")
        if "REGISTRY_URL" in command:
            check(self.registry_url, f"`{command}` needs the registry URL, but no srcm answer gave one")
            command = command.replace("REGISTRY_URL", self.registry_url)
        return re.sub(r"^python3\b", shlex.quote(sys.executable), command)

    def remember_ids(self, outcome: Outcome) -> None:
        super().remember_ids(outcome)
        for prefix in ("env", "lkc"):
            found = [i for i in re.findall(rf"\b{prefix}-[A-Za-z0-9]+\b", outcome.stdout) if i != f"{prefix}-XXXXXX"]
            if found:
                self.ids[prefix] = found[0]

    def retried(self, name: str, command: str, done, timeout: float, what: str) -> Outcome:
        """Runs `command` again (each run exit 0, nothing FAILED) until `done(outcome)`; a step of its own."""
        def body() -> Outcome:
            deadline = time.monotonic() + timeout
            while True:
                outcome = self.shell.run(self.adapt(command))
                check(outcome.status == 0, outcome.describe())
                check("FAILED" not in outcome.stdout + outcome.stderr, "FAILED: " + outcome.describe())
                if done(outcome):
                    self.remember_ids(outcome)
                    return outcome
                check(time.monotonic() < deadline, f"{what} within {timeout:.0f}s: " + outcome.describe())
                time.sleep(0.5)
        result = self.steps.run(name, body)
        if result is None:
            raise CheckFailed(f"stopping at the failed step {name}")
        return result


def produced_clicks(commands: list[str]) -> list[tuple[str, int]]:
    """The (user, ms) clicks the README's producer writes, from its own `range(N)` and `u{i % M}`."""
    producer = next((c for c in commands if "AvroSerializer(" in c and ".produce(" in c), "")
    count = re.search(r"for i in range\((\d+)\)", producer)
    users = re.search(r'"user": f"u\{i % (\d+)\}", "ms": i\b', producer)
    check(count and users, f"the README's producer changed shape; teach the test what it writes:\n{producer}")
    return [(f"u{i % int(users.group(1))}", i) for i in range(int(count.group(1)))]


def kafka_section(walk: KafkaWalkthrough, commands: list[str]) -> None:
    clicks = produced_clicks(commands)
    insert = next((c for c in commands if "INSERT INTO shop.fast_clicks" in c), "")
    cutoff = re.search(r"WHERE ms < (\d+)\"", insert)
    check(cutoff, f"the README's INSERT changed shape; teach the test what it writes:\n{insert}")
    copied = Counter(click for click in clicks if click[1] < int(cutoff.group(1)))
    check(copied, "the INSERT copies no click")
    for index, command in enumerate(commands):
        name = f"kafka {index + 1:02d} {' '.join(command.split('  #')[0].split())[:70]}"
        if "kafka cluster create" in command:
            walk.step(name, command, lambda o: check("lkc" in walk.ids, "no lkc- id printed: " + o.describe()))
        elif "kafka cluster list" in command:
            def up(outcome: Outcome) -> bool:
                return bool(re.search(rf"^.*\b{walk.ids['lkc']}\b.*\bUP\s*$", outcome.stdout, re.M))
            walk.retried(name, command, up, 30, f"{walk.ids['lkc']} did not show UP")
        elif "/srcm/v3/clusters" in command:
            def registry(outcome: Outcome) -> None:
                expect_http(200)(outcome)
                endpoints = [c["spec"]["http_endpoint"] for c in json.loads(outcome.stdout)["data"]]
                check(len(endpoints) == 1 and endpoints[0].startswith(walk.server.base_url + "/"),
                      f"one registry of this server expected, got {endpoints}")
                walk.registry_url = endpoints[0]
            walk.step(name, command, registry)
        elif command.startswith("floe flink statement results peek"):
            def counts(outcome: Outcome) -> None:
                shown = Counter({user: int(n) for user, n in re.findall(r"^\s*(u\d+)\s*\|\s*(\d+)\s*$",
                                                                        outcome.stdout, re.M)})
                wanted = Counter(user for user, _ in clicks)
                check(shown == wanted, f"counts {dict(shown)} (sum {sum(shown.values())}), the producer wrote "
                      f"{dict(wanted)} (sum {len(clicks)}): " + outcome.describe())
            walk.step(name, command, counts)
        elif re.search(r"statement create .*--wait", command, re.S):
            walk.step(name, command, expect_in("COMPLETED"))
        elif command.startswith("kcat ") and " -e" in command:
            def committed(outcome: Outcome) -> bool:
                check(len(records_of(outcome.stdout)) <= sum(copied.values()),
                      "more records than the INSERT copies: " + outcome.describe())
                return len(records_of(outcome.stdout)) == sum(copied.values())
            first = walk.retried(name, command, committed, 60,
                                 f"the {sum(copied.values())} copied clicks did not show")

            def stays() -> None:
                records = records_of(first.stdout)
                check(len(set(records)) == len(records), f"a record twice: {records}")
                ended = {int(p) for p in re.findall(r"Reached end of topic \S+ \[(\d+)\]", first.stderr)}
                check(ended == set(range(DEFAULT_PARTITIONS)), f"kcat read partitions {sorted(ended)}, "
                      f"the README's CREATE TABLE makes {DEFAULT_PARTITIONS}")
                time.sleep(3)  # several checkpoints of the running INSERT (every 500 ms while input flows)
                again = walk.shell.run(walk.adapt(command))
                check(again.status == 0 and sorted(records_of(again.stdout)) == sorted(records),
                      "the records changed after more checkpoints: " + again.describe())
            if walk.steps.run(f"kafka {index + 1:02d} kcat again: the same {sum(copied.values())} records", stays) is None:
                raise CheckFailed("stopping at the failed kcat check")
        else:
            walk.step(name, command)
    walk.steps.run("kafka: fast_clicks holds each copied click once (read_committed, Avro)",
                   lambda: check_sink(walk, copied))
    walk.steps.run("kafka: the INSERT is still RUNNING", lambda: check_running(walk, insert))


def check_sink(walk: KafkaWalkthrough, copied: Counter) -> None:
    """Not a README command: decodes fast_clicks with the registry, as any read_committed consumer would."""
    key, secret = walk.cloud_key()
    registry = SchemaRegistryClient({"url": walk.registry_url, "basic.auth.user.info": f"{key}:{secret}"})
    decode = AvroDeserializer(registry)
    consumer = Consumer({"bootstrap.servers": walk.bootstrap, "group.id": "readme-kafka-check",
                         "isolation.level": "read_committed", "enable.auto.commit": False})
    try:
        partitions = consumer.list_topics("fast_clicks", timeout=10).topics["fast_clicks"].partitions
        consumer.assign([TopicPartition("fast_clicks", p, 0) for p in partitions])
        seen: Counter = Counter()
        deadline = time.monotonic() + 20
        while sum(seen.values()) < sum(copied.values()) and time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is None or message.error():
                continue
            value = decode(message.value(), SerializationContext("fast_clicks", MessageField.VALUE))
            seen[(value["user"], value["ms"])] += 1
        check(seen == copied, f"fast_clicks holds {sorted(seen.items())}, expected {sorted(copied.items())}")
    finally:
        consumer.close()


def check_running(walk: KafkaWalkthrough, insert: str) -> None:
    name = re.search(r"statement create (\S+)", insert).group(1)
    outcome = walk.shell.run(walk.adapt(f"floe flink statement describe {name} -o json"))
    check(outcome.status == 0, outcome.describe())
    status = json.loads(outcome.stdout)
    check(status["status"] == "RUNNING", f"{name} is {status['status']}: {status.get('status_detail')!r}")


def main() -> None:
    exit_on_signals()
    bootstrap = os.environ.get("FLOE_TEST_KAFKA", "")
    steps = Steps("README: Kafka: tables are topics")
    if not bootstrap:
        def no_broker() -> None:
            raise SkipStep("FLOE_TEST_KAFKA is not set (tests/kafka/run.sh starts a broker)")
        steps.run("FLOE_TEST_KAFKA names a broker", no_broker)
        steps.finish()
    readme_path = Path(sys.argv[1] if len(sys.argv) > 1 else HERE.parents[1] / "README.md")
    readme = readme_path.read_text()
    sections = steps.run("README sections read",
                         lambda: (login_commands(section_commands(readme, FIVE_MINUTES)), section_commands(readme, KAFKA)))
    if sections is None:
        steps.finish()
    def fresh_topics() -> None:
        # The README writes fixed topic names; a second run on the same broker would count twice.
        topics = AdminClient({"bootstrap.servers": bootstrap}).list_topics(timeout=10).topics
        taken = sorted({"clicks", "fast_clicks"} & set(topics))
        check(not taken, f"the broker already has {taken}: run against a fresh one (tests/kafka/run.sh starts one)")
    if steps.run("the broker has no clicks or fast_clicks topic yet", fresh_topics) is None:
        steps.finish()
    home = Path(tempfile.mkdtemp(prefix="floe-readme-kafka-"))
    server = FloeServer(label="readme-kafka")
    server.data_dir = home / ".floe"  # where `floe login` and the README find bootstrap.json
    server.log_path = home.parent / (home.name + ".log")
    shell = None
    try:
        start_or_exit(server)
        env = {k: v for k, v in os.environ.items() if not k.startswith("FLOE_")}
        env["HOME"] = str(home)
        shell = Shell(home, env)
        walk = KafkaWalkthrough(steps, shell, server, server.binary, home, bootstrap)
        try:
            five_minutes(walk, sections[0])
            kafka_section(walk, sections[1])
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
