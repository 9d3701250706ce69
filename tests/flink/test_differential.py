"""Differential tests of Floe's two backends: each query of ``CASES`` runs as a statement on a compute pool of the
embedded engine (aws.us-west-2) and on one of Apache Flink (aws.us-east-1, the stand-in gateway over Flink 2.1.0),
over the same Kafka topics; the results they end with (the changelog applied: +I/+U add a row, -U/-D take one away)
must be equal as multisets, and so must the result columns.

The tables are ``kafka`` tables with json values in the environment's ``default`` database, read bounded
(``scan.bounded.mode`` = ``latest-offset``), with event-time columns and watermarks 5 s behind. The data is generated
from a fixed seed: orders a little out of order (never later than the watermark allows, so no engine may drop one),
amounts unique (so Top-N has no ties), shipments 1–40 s after their order (some outside the interval join's 30 s).

To add a case, add a dict to ``CASES``: ``name`` (the step's name) and ``sql`` (a query over ``orders`` and
``shipments``; see ``TABLES``). ``COMPAT_ONLY=<name prefix>,…`` runs only some.

Needs what tests/flink/run.sh exports (FLOE_TEST_FLINK_GATEWAY/REST/SAVEPOINTS, FLOE_TEST_KAFKA); prints one
PASS/FAIL/SKIP line per case, and for a difference the query and the rows only one engine has.
"""
from __future__ import annotations

import json
import random
import secrets
import time
from collections import Counter
from datetime import datetime, timedelta

from flink_e2e import (  # noqa: E402 - flink_e2e puts tests/compat and tests/kafka on the path
    EMBEDDED_REGION, FLINK_REGION, KAFKA, TERMINAL, Floe, Kafka, cancel_active_jobs, flink_server, log_tail, materialize,
    missing_environment, statement_jobs)
from floe_harness import FloeServer, SkipStep, Steps, check, exit_on_signals, start_or_exit  # noqa: E402

RUN = secrets.token_hex(3)
SEED = 18

WATERMARK = "WATERMARK FOR ts AS ts - INTERVAL '5' SECOND"
TABLES = {
    "orders": ("order_id BIGINT, customer STRING, product STRING, amount DECIMAL(10, 2), qty INT, ts TIMESTAMP(3), "
               + WATERMARK),
    "shipments": f"ship_id BIGINT, order_id BIGINT, carrier STRING, ts TIMESTAMP(3), {WATERMARK}",
}

CASES: list[dict[str, str]] = [
    {"name": "filter",
     "sql": "SELECT order_id, customer, amount FROM orders WHERE amount > 40 AND product <> 'pen'"},
    {"name": "projection",
     "sql": "SELECT order_id, UPPER(customer) AS who, qty * 2 AS double_qty, amount * qty AS total, "
            "CHAR_LENGTH(product) AS len, ts FROM orders"},
    {"name": "group by with retractions (COUNT/SUM/MIN/MAX)",
     "sql": "SELECT customer, COUNT(*) AS n, SUM(amount) AS total, MIN(qty) AS least, MAX(amount) AS most "
            "FROM orders GROUP BY customer"},
    {"name": "group by over a retracting group by",
     "sql": "SELECT n, COUNT(*) AS customers FROM (SELECT customer, COUNT(*) AS n FROM orders GROUP BY customer) "
            "GROUP BY n"},
    {"name": "group by with HAVING",
     "sql": "SELECT product, SUM(qty) AS q, COUNT(*) AS n FROM orders GROUP BY product HAVING SUM(qty) > 20"},
    {"name": "tumbling window (TUMBLE TVF)",
     "sql": "SELECT window_start, window_end, customer, COUNT(*) AS n, SUM(amount) AS total "
            "FROM TABLE(TUMBLE(TABLE orders, DESCRIPTOR(ts), INTERVAL '10' SECOND)) "
            "GROUP BY window_start, window_end, customer"},
    {"name": "hopping window (HOP TVF)",
     "sql": "SELECT window_start, window_end, COUNT(*) AS n, SUM(qty) AS q, MAX(amount) AS most "
            "FROM TABLE(HOP(TABLE orders, DESCRIPTOR(ts), INTERVAL '5' SECOND, INTERVAL '15' SECOND)) "
            "GROUP BY window_start, window_end"},
    {"name": "interval join",
     "sql": "SELECT o.order_id, o.customer, s.ship_id, s.carrier FROM orders o, shipments s "
            "WHERE o.order_id = s.order_id AND s.ts BETWEEN o.ts AND o.ts + INTERVAL '30' SECOND"},
    {"name": "regular join with an aggregate",
     "sql": "SELECT o.customer, s.carrier, COUNT(*) AS n FROM orders o JOIN shipments s ON o.order_id = s.order_id "
            "GROUP BY o.customer, s.carrier"},
    {"name": "Top-N (ROW_NUMBER <= 2, rank shown)",
     "sql": "SELECT customer, order_id, amount, rn FROM (SELECT customer, order_id, amount, ROW_NUMBER() OVER "
            "(PARTITION BY customer ORDER BY amount DESC) AS rn FROM orders) WHERE rn <= 2"},
    {"name": "Top-N (ROW_NUMBER <= 3, rank not shown)",
     "sql": "SELECT customer, order_id, amount FROM (SELECT customer, order_id, amount, ROW_NUMBER() OVER "
            "(PARTITION BY customer ORDER BY amount DESC) AS rn FROM orders) WHERE rn <= 3"},
]

CUSTOMERS = ["ann", "bob", "cy", "dee", "eve"]
PRODUCTS = ["pen", "ink", "pad", "desk"]
CARRIERS = ["ups", "dhl", "post"]


def generate() -> tuple[list[dict], list[dict]]:
    """Orders and shipments in the order they are written, from the fixed seed."""
    rng = random.Random(SEED)
    base = datetime(2024, 3, 1, 10, 0, 0)

    def stamp(at: datetime) -> str:
        return at.strftime("%Y-%m-%d %H:%M:%S.") + f"{at.microsecond // 1000:03d}"

    orders, shipments = [], []
    for i in range(48):
        # 1.5 s apart on average, each up to 1.2 s early or late: out of order by less than the watermark's 5 s.
        at = base + timedelta(milliseconds=1500 * i + rng.randint(-1200, 1200))
        amount = f"{rng.randint(1, 99)}.{i:02d}"  # the cents make every amount unique
        orders.append({"order_id": 1000 + i, "customer": rng.choice(CUSTOMERS[: 2 + i % 4]),
                       "product": rng.choice(PRODUCTS), "amount": float(amount), "qty": rng.randint(1, 5),
                       "ts": stamp(at), "_at": at})
        if rng.random() < 0.75:
            shipments.append({"order_id": 1000 + i, "carrier": rng.choice(CARRIERS),
                              "_at": at + timedelta(seconds=rng.choice([1, 4, 10, 25, 29, 31, 40]))})
    shipments.sort(key=lambda s: s["_at"])  # in event-time order: none is late for the join
    for n, shipment in enumerate(shipments):
        shipment["ship_id"] = 1 + n
        shipment["ts"] = stamp(shipment["_at"])
    strip = lambda record: {k: v for k, v in record.items() if not k.startswith("_")}  # noqa: E731
    return [strip(o) for o in orders], [strip(s) for s in shipments]


def describe(rows: Counter, limit: int = 20) -> str:
    listed = sorted(rows.elements(), key=lambda row: json.dumps(row))
    more = f"\n      … {len(listed) - limit} more" if len(listed) > limit else ""
    return "".join(f"\n      {json.dumps(list(row))}" for row in listed[:limit]) + more


def main() -> None:
    exit_on_signals()
    steps = Steps("differential: the embedded engine and Apache Flink (stand-in over Flink 2.1.0)")
    missing = missing_environment()
    if missing:
        def unset() -> None:
            raise SkipStep(f"{missing} not set (tests/flink/run.sh starts the stand-in and the broker)")

        steps.run("the stand-in and the broker are named", unset)
        steps.finish()
    server = start_or_exit(flink_server("flink-differential"))
    started = time.monotonic()
    try:
        run(steps, server)
    finally:
        if steps.failed:
            print(f"server log (requests left out):\n{log_tail(server, 60)}", flush=True)
        server.stop()
        cancel_active_jobs()
        print(f"({time.monotonic() - started:.1f}s)", flush=True)
    steps.finish()


def run(steps: Steps, server: FloeServer) -> None:
    admin = Floe(server, "df", RUN)
    kafka = Kafka(KAFKA, RUN)
    pools: dict[str, Floe] = {}

    def setup() -> None:
        admin.attach_cluster(KAFKA)
        pools["flink"] = admin.on_pool("dff", admin.create_pool(FLINK_REGION)["id"])
        pools["embedded"] = admin.on_pool("dfe", admin.create_pool(EMBEDDED_REGION)["id"])
        orders, shipments = generate()
        for table, records in (("orders", orders), ("shipments", shipments)):
            topic = kafka.create_topic(f"df_{table}_{RUN}")
            kafka.produce(topic, [(None, record, None) for record in records])
            admin.pool = pools["embedded"].pool
            admin.query(f"CREATE TABLE {table} ({TABLES[table]}) WITH ('connector' = 'kafka', "
                        f"'properties.bootstrap.servers' = '{KAFKA}', 'topic' = '{topic}', 'format' = 'json', "
                        "'scan.startup.mode' = 'earliest-offset', 'scan.bounded.mode' = 'latest-offset')")

    def compare(case: dict[str, str]) -> None:
        if len(pools) < 2:
            raise SkipStep("the setup failed")
        sql = case["sql"]
        names = {engine: floe.submit(sql) for engine, floe in pools.items()}  # both at once
        results: dict[str, Counter] = {}
        columns: dict[str, list] = {}
        for engine, floe in pools.items():
            doc = floe.wait(names[engine], TERMINAL, 180)
            check(doc["status"]["phase"] == "COMPLETED",
                  f"{sql}\n  on {engine}: {doc['status']['phase']} {doc['status'].get('detail')!r}")
            results[engine] = materialize(floe.changes(names[engine]))
            columns[engine] = ((doc["status"].get("traits") or {}).get("schema") or {}).get("columns")
        print(f"  {case['name']}: " + ", ".join(
            f"{engine} {sum(counts.values())} rows" for engine, counts in results.items()), flush=True)
        jobs = statement_jobs(pools["flink"], names["flink"])
        check(len(jobs) == 1 and jobs[0]["state"] == "FINISHED",
              f"{sql}\n  the Flink pool's statement ran as jobs {[(j['jid'], j['state']) for j in jobs]}")
        flink, embedded = results["flink"], results["embedded"]
        check(embedded, f"{sql}\n  has no rows on the embedded engine: the case tests nothing")
        check(flink == embedded,
              f"{sql}\n  differs: {sum(flink.values())} rows on Flink, {sum(embedded.values())} on the embedded engine"
              f"\n    only on Flink ({sum((flink - embedded).values())}):{describe(flink - embedded)}"
              f"\n    only on the embedded engine ({sum((embedded - flink).values())}):{describe(embedded - flink)}")
        check(columns["flink"] == columns["embedded"],
              f"{sql}\n  columns on Flink: {json.dumps(columns['flink'])}\n"
              f"  on the embedded engine: {json.dumps(columns['embedded'])}")

    steps.run("setup: pools on both engines, orders and shipments topics, tables", setup)
    for case in CASES:
        steps.run(case["name"], compare, case)


if __name__ == "__main__":
    main()
