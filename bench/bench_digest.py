"""The fingerprint digest, chosen by measurement: each candidate's SQL on the shipped deploy.toml's [[protect]] sets.

    .venv/bin/python bench/bench_digest.py --scale 1 --runs 5            # generates into a throwaway cluster
    .venv/bin/python bench/bench_digest.py --dsn "host=... dbname=..." --runs 5   # an existing database

For every set, in one REPEATABLE READ READ ONLY transaction, alternating the candidates run after run:
  count    SELECT count(*) over the set's rows (the planner drops the columns, and the joins it can, it does not read);
  read     SELECT count(s) over the whole rows: every column read and formed into a row, nothing hashed (the floor);
  md5      deploylog's earlier digest: md5 of the row's text per row, md5(string_agg(... ORDER BY id)) per bucket;
  xor      hash_record_extended(row, 0) per row, bit_xor per bucket (the sub-counts in the same scan);
  xor+wm   xor with SET LOCAL work_mem = --work-mem;
and phase 0's row export (the same scan also streaming `id<TAB>hash` lines, one message per bucket, into a file)
with md5, xor and xor+wm. Each figure is the median wall time of --runs runs, fetch included (client side, psycopg);
--stat min reports the fastest run instead. --cpu reports the server backend's CPU seconds instead of wall time
(from /proc/<pid>/stat, the server on this machine, parallel workers off so that the backend does all the work):
the steadier figure on a machine shared with other work, where wall times vary with the load.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from psycopg import sql  # noqa: E402

from deploylog import db, fingerprint, protect  # noqa: E402
from deploylog import spec as spec_mod  # noqa: E402
from deploylog.demo import generate as gen  # noqa: E402
from deploylog.demo.cluster import Cluster  # noqa: E402

CPU_PID: list[int] = []  # --cpu: the backend whose CPU time is read


def _clock() -> float:
    if not CPU_PID:
        return time.perf_counter()
    fields = Path(f"/proc/{CPU_PID[0]}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def timed(snap: db.Snapshot, query: sql.Composed, params: dict | None, export: Path | None = None) -> float:
    start = _clock()
    with snap.conn.transaction():
        if export is None:
            snap.conn.execute(query, params).fetchall()
        else:
            with export.open("wb") as out:
                for *_, lines in snap.conn.cursor().stream(query, params):
                    out.write(lines.encode())
    return _clock() - start


def measure(dsn: str, runs: int, work_mem: str, out_dir: Path, stat: str = "median", cpu: bool = False) -> list[dict]:
    loaded = spec_mod.load(REPO / "deploy.toml")
    name = dict(p.split("=", 1) for p in dsn.split() if "=" in p).get("dbname", "")
    spec = dataclasses.replace(
        loaded, database=dataclasses.replace(loaded.database, name=name, dsn=dsn, statement_timeout_ms=3_600_000)
    )
    snap = db.open_snapshot(spec)
    if cpu:
        snap.conn.execute("SET max_parallel_workers_per_gather = 0")
        CPU_PID[:] = [snap.conn.execute("SELECT pg_backend_pid()").fetchone()[0]]
    results = []
    try:
        for entry in spec.protect:
            found = protect.rows(snap, spec, entry)
            if found.select is None:
                continue
            rows = fingerprint.hashed_rows(found, fingerprint.XOR)
            candidates = {
                "count": sql.SQL("SELECT count(*) FROM ({}) s").format(found.select),
                "read": sql.SQL("SELECT count(s) FROM ({}) AS s(id)").format(found.select),
                "md5": fingerprint.bucket_query(found, fingerprint.MD5),
                "xor": fingerprint.bucket_query(found, fingerprint.XOR),
                "xor+wm": fingerprint.bucket_query(found, fingerprint.XOR),
                "export md5": fingerprint.bucket_query(found, fingerprint.MD5, lines=True),
                "export xor": fingerprint.bucket_query(found, fingerprint.XOR, lines=True),
                "export xor+wm": fingerprint.bucket_query(found, fingerprint.XOR, lines=True),
            }
            times: dict[str, list[float]] = {k: [] for k in candidates}
            count = snap.conn.execute(sql.SQL("SELECT count(*) FROM ({}) r").format(rows), found.params).fetchone()[0]
            for _ in range(runs):
                for label, query in candidates.items():
                    export = out_dir / f"{entry.name}.tsv" if label.startswith("export") else None
                    if label.endswith("+wm"):
                        with snap.conn.transaction(force_rollback=True):
                            snap.conn.execute(sql.SQL("SET LOCAL work_mem = {}").format(sql.Literal(work_mem)))
                            times[label].append(timed(snap, query, found.params, export))
                        continue
                    times[label].append(timed(snap, query, found.params, export))
            medians = {k: (min(v) if stat == "min" else statistics.median(v)) for k, v in times.items()}
            results.append({"set": entry.name, "rows": count, **medians})
            print(
                f"{entry.name}: {count} rows, " + ", ".join(f"{k} {v:.3f}s" for k, v in medians.items()),
                flush=True,
            )
    finally:
        snap.close()
    return results


def table(results: list[dict]) -> str:
    keys = ["count", "read", "md5", "xor", "xor+wm", "export md5", "export xor", "export xor+wm"]
    lines = ["| set | rows | " + " | ".join(keys) + " |", "|---|---|" + "---|" * len(keys)]
    for r in results:
        lines.append(f"| {r['set']} | {r['rows']:,} | " + " | ".join(f"{r[k]:.3f} s" for k in keys) + " |")
    totals = {k: sum(r[k] for r in results) for k in keys}
    lines.append("| **all sets** | | " + " | ".join(f"**{totals[k]:.3f} s**" for k in keys) + " |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dsn", help="an existing Odoo-shaped database (libpq key=value, with dbname)")
    ap.add_argument("--scale", type=float, default=1.0, help="without --dsn: generate this scale in a throwaway cluster")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--work-mem", default="64MB")
    ap.add_argument("--stat", choices=("median", "min"), default="median")
    ap.add_argument("--cpu", action="store_true", help="server backend CPU seconds (local server), parallel workers off")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="deploylog-digest-"))
    cluster = None
    dsn = args.dsn
    try:
        if dsn is None:
            cluster = Cluster(work / "pg").start()
            dsn = cluster.dsn("bench_digest")
            gen.generate(cluster.dsn("postgres"), dsn, "bench_digest", size=gen.Size.scale(args.scale), seed=17)
        print(table(measure(dsn, args.runs, args.work_mem, work, args.stat, args.cpu)))
    finally:
        if cluster is not None:
            cluster.destroy()


if __name__ == "__main__":
    main()
