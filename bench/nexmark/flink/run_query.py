#!/usr/bin/env python3
"""Runs Nexmark queries on a local Apache Flink mini-cluster (PyFlink, streaming mode, parallelism 1).

    bench/nexmark/.venv/bin/python bench/nexmark/flink/run_query.py \
        --data bench/nexmark/data/1m --warmup-data bench/nexmark/data/10k q0 q1 q5

QUERY is a name under bench/nexmark/queries (q5, q5.sql) or a path to a .sql file holding one
SELECT over the tables person, auction and bid. All queries given run in one JVM, one job at a time.
For each query:

1. warm-up (with --warmup-data): the query into a blackhole sink over the small data set, so that the
   measured run finds the JVM started and its JIT warm;
2. timed run (unless --mode results): INSERT INTO a blackhole sink (as nexmark-flink measures), over
   --data, --repeat times (medians reported). Reported: wall seconds from submitting the statement to
   the job's end (planning, job submission, mini-cluster start-up and the job), Flink's own net runtime of the job (from the job's
   start to its end, as JobExecutionResult.getNetRuntime reports it), events/s for both, and the CPU
   time the JVM used meanwhile (all its threads: task, source reader, GC, JIT; /proc/PID/stat);
3. result run (unless --mode timed): every column CAST to STRING, written as a changelog with the
   'debezium-json' format into a filesystem sink (the filesystem sink takes updates and deletes with a
   changelog format); then the changelog is applied (an insert or update-after adds the row, an
   update-before or delete removes one occurrence of it), the rows are sorted and written to
   RESULTS/QUERY.tsv, one row per line, columns separated by a tab, NULL written as <NULL>
   (backslash, tab, newline, carriage return escaped as \\\\, \\t, \\n, \\r). Its wall time is reported too.

"Events" is the number of lines of the input files the query reads (the tables in its plan).
A summary of all runs is merged into RESULTS/summary.json (RESULTS defaults to
bench/nexmark/results/<name of the data directory>).
"""

from __future__ import annotations

import argparse
import glob
import hashlib
import json
import os
import re
import shutil
import statistics
import sys
import tempfile
import time

PROCESS_START = time.monotonic()

HERE = os.path.dirname(os.path.abspath(__file__))
NEXMARK = os.path.dirname(HERE)
QUERIES = os.path.join(NEXMARK, "queries")

TABLES = ("person", "auction", "bid")

DDL = {
    "person": """
        CREATE TEMPORARY TABLE person (
            id BIGINT,
            name VARCHAR,
            emailAddress VARCHAR,
            creditCard VARCHAR,
            city VARCHAR,
            state VARCHAR,
            `dateTime` TIMESTAMP(3),
            extra VARCHAR,
            WATERMARK FOR `dateTime` AS `dateTime` - INTERVAL '4' SECOND
        ) WITH ({options})""",
    "auction": """
        CREATE TEMPORARY TABLE auction (
            id BIGINT,
            itemName VARCHAR,
            description VARCHAR,
            initialBid BIGINT,
            reserve BIGINT,
            `dateTime` TIMESTAMP(3),
            expires TIMESTAMP(3),
            seller BIGINT,
            category BIGINT,
            extra VARCHAR,
            WATERMARK FOR `dateTime` AS `dateTime` - INTERVAL '4' SECOND
        ) WITH ({options})""",
    "bid": """
        CREATE TEMPORARY TABLE bid (
            auction BIGINT,
            bidder BIGINT,
            price BIGINT,
            channel VARCHAR,
            url VARCHAR,
            `dateTime` TIMESTAMP(3),
            extra VARCHAR,
            WATERMARK FOR `dateTime` AS `dateTime` - INTERVAL '4' SECOND
        ) WITH ({options})""",
}

NULL = "<NULL>"


def source_options(data_dir: str, table: str) -> str:
    json_path = os.path.join(data_dir, f"{table}.json")
    csv_path = os.path.join(data_dir, f"{table}.csv")
    if os.path.exists(json_path):
        opts = {"connector": "filesystem", "path": json_path, "format": "json",
                "json.timestamp-format.standard": "SQL", "json.fail-on-missing-field": "true"}
    elif os.path.exists(csv_path):
        opts = {"connector": "filesystem", "path": csv_path, "format": "csv"}
    else:
        raise SystemExit(f"run_query: no {table}.json or {table}.csv in {data_dir}")
    return ", ".join(f"'{k}' = '{v}'" for k, v in opts.items())


def line_counts(data_dir: str) -> dict[str, int]:
    manifest = os.path.join(data_dir, "manifest.json")
    if os.path.exists(manifest):
        with open(manifest, encoding="utf-8") as f:
            return {k: int(v) for k, v in json.load(f)["counts"].items()}
    counts = {}
    for t in TABLES:
        path = next(p for p in (os.path.join(data_dir, f"{t}.json"), os.path.join(data_dir, f"{t}.csv"))
                    if os.path.exists(p))
        with open(path, "rb") as f:
            counts[t] = sum(buf.count(b"\n") for buf in iter(lambda: f.read(1 << 20), b""))
    return counts


def read_query(name: str) -> tuple[str, str]:
    path = name if os.path.exists(name) else os.path.join(QUERIES, name if name.endswith(".sql") else f"{name}.sql")
    with open(path, encoding="utf-8") as f:
        text = f.read()
    # Drop comment lines and a trailing semicolon: the file holds one SELECT.
    sql = "\n".join(l for l in text.splitlines() if not l.lstrip().startswith("--")).strip()
    sql = sql.rstrip(";").strip()
    return os.path.splitext(os.path.basename(path))[0], sql


def escape(value) -> str:
    if value is None:
        return NULL
    return (value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r"))


def jvm_cpu_seconds() -> float:
    """User + system CPU seconds used so far by the JVM(s) this process started (PyFlink's gateway)."""
    me = str(os.getpid())
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8") as f:
                stat = f.read()
        except OSError:
            continue
        # pid (comm) state ppid ... utime(14) stime(15); comm may hold spaces, so split after ')'.
        fields = stat[stat.rindex(")") + 2:].split()
        if fields[1] == me:
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


class Flink:
    def __init__(self):
        from pyflink.table import EnvironmentSettings, TableEnvironment  # noqa: F401 (imported late: slow)
        self.EnvironmentSettings = EnvironmentSettings
        self.TableEnvironment = TableEnvironment

    def env(self, data_dir: str):
        from pyflink.common import Configuration
        conf = Configuration()
        conf.set_string("parallelism.default", "1")
        conf.set_string("pipeline.object-reuse", "true")
        settings = self.EnvironmentSettings.new_instance().in_streaming_mode().with_configuration(conf).build()
        tenv = self.TableEnvironment.create(settings)
        tenv.get_config().set("parallelism.default", "1")
        for t in TABLES:
            tenv.execute_sql(DDL[t].format(options=source_options(data_dir, t)))
        return tenv

    @staticmethod
    def tables_read(tenv, sql: str) -> list[str]:
        plan = tenv.explain_sql(sql)
        found = set(re.findall(r"default_database, (person|auction|bid)\b", plan))
        return [t for t in TABLES if t in found]

    @staticmethod
    def run(table_result) -> float:
        """Waits for the job; returns its net runtime in seconds."""
        client = table_result.get_job_client()
        table_result.wait()
        return client.get_job_execution_result().result().get_net_runtime() / 1000.0

    def blackhole(self, data_dir: str, sql: str) -> dict:
        from pyflink.table import TableDescriptor
        tenv = self.env(data_dir)
        table = tenv.sql_query(sql)
        cpu = jvm_cpu_seconds()
        started = time.monotonic()
        result = table.execute_insert(TableDescriptor.for_connector("blackhole").build())
        cpu_at_running = self.wait_until_running(result)
        net = self.run(result)
        wall = time.monotonic() - started
        cpu_end = jvm_cpu_seconds()
        return {"wall_s": wall, "job_s": net, "cpu_s": cpu_end - cpu, "job_cpu_s": cpu_end - cpu_at_running}

    @staticmethod
    def wait_until_running(table_result) -> float:
        """The JVM's CPU seconds when the submitted job leaves CREATED/INITIALIZING (its tasks are being deployed and
        start reading), so that CPU spent planning, submitting and starting the mini-cluster is not counted as the
        job's."""
        client = table_result.get_job_client()
        while True:
            status = client.get_job_status().result().name
            if status not in ("CREATED", "INITIALIZING"):
                return jvm_cpu_seconds()
            time.sleep(0.002)

    def results(self, data_dir: str, sql: str, out_path: str) -> dict:
        from pyflink.table import TableDescriptor
        tenv = self.env(data_dir)
        table = tenv.sql_query(sql)
        schema = table.get_schema()
        names = schema.get_field_names()
        # The Java side's type strings (e.g. DECIMAL(23, 3), TIMESTAMP(3) *ROWTIME*); PyFlink's are coarser.
        types = [c.getDataType().toString() for c in table._j_table.getResolvedSchema().getColumns()]
        tenv.create_temporary_view("nexmark_query", table)
        casts = ", ".join(f"CAST(`{n}` AS STRING) AS `c{i}`" for i, n in enumerate(names))
        as_strings = tenv.sql_query(f"SELECT {casts} FROM nexmark_query")
        sink_dir = tempfile.mkdtemp(prefix="nexmark-sink-", dir=os.path.dirname(out_path))
        try:
            started = time.monotonic()
            result = as_strings.execute_insert(
                TableDescriptor.for_connector("filesystem")
                .option("path", sink_dir)
                .format("debezium-json")
                .build())
            net = self.run(result)
            wall = time.monotonic() - started
            stats = canonicalize(sink_dir, len(names), out_path)
        finally:
            shutil.rmtree(sink_dir, ignore_errors=True)
        stats.update({"wall_s": wall, "job_s": net, "columns": [f"{n} {t}" for n, t in zip(names, types)]})
        return stats


def canonicalize(sink_dir: str, ncols: int, out_path: str) -> dict:
    """Applies the debezium-json changelog in sink_dir and writes the sorted final rows."""
    rows: dict[tuple, int] = {}
    changes = 0
    unmatched = 0
    files = sorted(p for p in glob.glob(os.path.join(sink_dir, "**", "*"), recursive=True)
                   if os.path.isfile(p) and not os.path.basename(p).startswith("."))
    keys = [f"c{i}" for i in range(ncols)]
    for path in files:
        with open(path, encoding="utf-8") as f:
            for line in f:
                if not line.strip():
                    continue
                rec = json.loads(line)
                changes += 1
                op = rec["op"]
                if op == "c":
                    row = tuple(rec["after"][k] for k in keys)
                    rows[row] = rows.get(row, 0) + 1
                elif op == "d":
                    row = tuple(rec["before"][k] for k in keys)
                    n = rows.get(row, 0)
                    if n == 0:
                        unmatched += 1
                    elif n == 1:
                        del rows[row]
                    else:
                        rows[row] = n - 1
                else:
                    raise ValueError(f"unexpected debezium op {op!r} in {path}")
    lines = sorted("\t".join(escape(v) for v in row) + "\n" for row, n in rows.items() for _ in range(n))
    data = "".join(lines).encode("utf-8")
    with open(out_path, "wb") as f:
        f.write(data)
    return {"rows": len(lines), "changelog_records": changes, "unmatched_retractions": unmatched,
            "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("queries", nargs="+", metavar="QUERY")
    p.add_argument("--data", required=True, help="directory with person/auction/bid .json (from generate.py)")
    p.add_argument("--warmup-data", help="small data set to run each query on first (not measured)")
    p.add_argument("--results", help="where QUERY.tsv and summary.json go "
                                     "(default bench/nexmark/results/<basename of --data>)")
    p.add_argument("--mode", choices=("both", "timed", "results"), default="both")
    p.add_argument("--repeat", type=int, default=1,
                   help="run the timed (blackhole) job this many times and report the medians (default 1)")
    a = p.parse_args(argv)

    data = os.path.abspath(a.data)
    results = os.path.abspath(a.results or os.path.join(NEXMARK, "results", os.path.basename(data.rstrip("/"))))
    os.makedirs(results, exist_ok=True)
    counts = line_counts(data)

    flink = Flink()
    summary_path = os.path.join(results, "summary.json")
    summary = {}
    if os.path.exists(summary_path):
        with open(summary_path, encoding="utf-8") as f:
            summary = json.load(f)
    import pyflink.version
    summary["_meta"] = {"flink": pyflink.version.__version__, "data": data, "counts": counts,
                        "parallelism": 1, "mode": "streaming"}
    print(f"flink {pyflink.version.__version__}, data {data} {counts}", file=sys.stderr)

    status = 0
    for q in a.queries:
        name, sql = read_query(q)
        entry = {}
        try:
            tenv = flink.env(data)
            tables = flink.tables_read(tenv, sql)
            events = sum(counts[t] for t in tables)
            entry.update({"tables": tables, "events": events})
            if a.warmup_data:
                w = flink.blackhole(os.path.abspath(a.warmup_data), sql)
                entry["warmup_wall_s"] = round(w["wall_s"], 3)
            if a.mode in ("both", "timed"):
                runs = [flink.blackhole(data, sql) for _ in range(a.repeat)]
                wall = statistics.median(r["wall_s"] for r in runs)
                job = statistics.median(r["job_s"] for r in runs)
                cpu = statistics.median(r["cpu_s"] for r in runs)
                job_cpu = statistics.median(r["job_cpu_s"] for r in runs)
                entry["timed"] = {"runs": len(runs), "wall_s": round(wall, 3), "job_s": round(job, 3),
                                  "jvm_cpu_s": round(cpu, 2), "job_cpu_s": round(job_cpu, 3),
                                  "events_per_cpu_s": round(events / job_cpu) if job_cpu > 0 else None,
                                  "all_job_cpu_s": [round(r["job_cpu_s"], 3) for r in runs],
                                  "events_per_s_wall": round(events / wall),
                                  "events_per_s_job": round(events / job) if job > 0 else None,
                                  "all_wall_s": [round(r["wall_s"], 3) for r in runs],
                                  "all_job_s": [round(r["job_s"], 3) for r in runs]}
                print(f"{name}: {events} events ({'+'.join(tables)}) blackhole"
                      f"{f' (median of {len(runs)})' if len(runs) > 1 else ''}: wall {wall:.2f}s "
                      f"({events / wall:,.0f} ev/s), job {job:.2f}s ({events / job:,.0f} ev/s), "
                      f"JVM CPU {cpu:.1f}s ({cpu / wall:.2f} cores), of it while the job ran {job_cpu:.2f}s "
                      f"({events / job_cpu:,.0f} events per CPU second)", flush=True)
            if a.mode in ("both", "results"):
                out = os.path.join(results, f"{name}.tsv")
                r = flink.results(data, sql, out)
                entry["result"] = {k: (round(v, 3) if isinstance(v, float) else v) for k, v in r.items()}
                print(f"{name}: result {r['rows']} rows ({r['changelog_records']} changelog records, "
                      f"{r['unmatched_retractions']} unmatched retractions), {r['bytes']} bytes, "
                      f"sha256 {r['sha256'][:16]}, with file sink: wall {r['wall_s']:.2f}s job {r['job_s']:.2f}s "
                      f"-> {out}", flush=True)
        except Exception as e:  # report and go on with the next query
            status = 1
            msg = str(e).strip().splitlines()
            entry["error"] = "\n".join(msg[:20])
            print(f"{name}: FAILED: {entry['error']}", file=sys.stderr, flush=True)
        if "error" not in entry:
            summary.get(name, {}).pop("error", None)
        # Merge, so that a --mode timed run keeps an earlier run's "result" and vice versa.
        summary[name] = {**summary.get(name, {}), **entry}
        with open(summary_path, "w", encoding="utf-8") as f:
            json.dump(summary, f, indent=2, sort_keys=True)
            f.write("\n")
    print(f"process total {time.monotonic() - PROCESS_START:.1f}s; summary in {summary_path}", file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main())
