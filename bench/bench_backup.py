"""`deploylog backup` against the template's `pg_dump -Fc`, side by side on the same database, both verified.

    .venv/bin/python bench/bench_backup.py --scales 1 --runs 3 [--pg-bin DIR] [--out bench/results-backup.json]
    .venv/bin/python bench/bench_backup.py --dsn "host=... dbname=x" --database x --runs 3   # an existing database
    .venv/bin/python bench/bench_backup.py --table bench/results-backup.json                 # reprint the table

For each scale, on one throwaway PostgreSQL cluster (deploylog.demo.cluster), the
Odoo-17-shaped database is generated (deploylog.demo.generate), then `--runs` times,
alternating so both see the same machine load:
  1. the template's way: `pg_dump -Fc --file=X <dsn>` (one whole process, timed);
  2. `deploylog backup` (one whole process, start-up included: pg_dump as [backup] says,
     by default directory format, `jobs` processes, compression "auto", plus the module
     archive and the marker);
  3. each dump verified the way 1.1 verifies it (backup.database_dump: pg_restore --list,
     header, full read, sha256 of the file / of every file against SHA256SUMS), timed.
A run whose verification does not PASS stops the benchmark. pg_dump comes from --pg-bin
(default: the cluster's own binaries), the same binary for both sides.
Results: JSON (--out) and a Markdown table on stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from deploylog import tomlwrite  # noqa: E402
from deploylog.demo import generate as gen  # noqa: E402
from deploylog.demo import module_repo  # noqa: E402
from deploylog.demo.cluster import Cluster  # noqa: E402
from deploylog.hostchecks import backup, dump_plan, hostio  # noqa: E402
from deploylog.spec import load as load_spec  # noqa: E402

PY = sys.executable


def env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("PG")}


def write_config(root: Path, db: str, dsn: str, pg_bin: Path, section: dict[str, object]) -> Path:
    with (REPO / "deploy.toml").open("rb") as fh:
        cfg = tomllib.load(fh)
    cfg["database"].update(name=db, dsn=dsn)
    cfg["paths"].update(
        repo=str(module_repo.build_repo(root / "code")[0]),
        backup_dir=str(root / "backups"),
        pg_bin_dir=str(pg_bin),
        baseline_dir=str(root / "baseline"),
        report_dir=str(root / "reports"),
    )
    cfg["backup"] = section
    path = root / "deploy.toml"
    path.write_text(tomlwrite.dumps(cfg))
    return path


def timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=REPO, env=env(), capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{cmd[0]} failed ({done.returncode}): {done.stdout[-2000:]}{done.stderr[-2000:]}")
    return wall


def verified(config: Path, backup_dir: Path) -> tuple[float, int, str]:
    """(seconds, size, format) of 1.1's verification of the one dump in backup_dir; stops on anything but PASS."""
    spec = load_spec(config, {"paths": {"backup_dir": str(backup_dir)}})
    start = time.perf_counter()
    result = backup.database_dump(spec, None, hostio.local_host())
    wall = time.perf_counter() - start
    if result.status != "PASS":
        raise SystemExit(f"verification of {backup_dir} did not pass: {result.message}")
    figures = result.figures
    return wall, int(figures["size"]), str(figures["format"])


def stats(values: list[float]) -> dict[str, object]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "runs": values}


def bench_database(db: str, dsn: str, pg_bin: Path, runs: int, root: Path, section: dict[str, object]) -> dict:
    root.mkdir(parents=True, exist_ok=True)
    config = write_config(root, db, dsn, pg_bin, section)
    pg_dump = str(pg_bin / "pg_dump")
    plan = dump_plan.resolve(load_spec(config), pg_dump)
    res: dict = {"database": db, "pg_dump": subprocess.run([pg_dump, "--version"], capture_output=True, text=True).stdout.strip()}
    res["plan"] = plan.describe()
    res["cpus"] = os.cpu_count()
    size = subprocess.run(
        [str(pg_bin / "psql"), "-X", "-At", "-d", dsn, "-c", "SELECT pg_database_size(current_database())"],
        capture_output=True,
        text=True,
        check=False,
    )
    res["db_bytes"] = int(size.stdout.strip()) if size.returncode == 0 else None
    template, ours, template_verify, ours_verify = [], [], [], []
    for i in range(runs):
        target = root / f"template_{i}"
        target.mkdir()
        dump = target / f"{db}_PRE_DEPLOY_20000101_00000{i}.dump"
        template.append(timed([pg_dump, "-Fc", f"--file={dump}", dsn]))
        seconds, res["template_bytes"], res["template_format"] = verified(config, target)
        template_verify.append(seconds)
        shutil.rmtree(target)
        target = root / f"deploylog_{i}"
        ours.append(timed([PY, "-m", "deploylog", "--deploy-config", str(config), "backup", "--backup-dir", str(target)]))
        seconds, res["deploylog_bytes"], res["deploylog_format"] = verified(config, target)
        ours_verify.append(seconds)
        shutil.rmtree(target)
        print(
            f"[{db}] run {i + 1}: pg_dump -Fc {template[-1]:.2f} s (verify {template_verify[-1]:.2f} s) | "
            f"deploylog backup {ours[-1]:.2f} s (verify {ours_verify[-1]:.2f} s)",
            flush=True,
        )
    res["template"], res["deploylog"] = stats(template), stats(ours)
    res["template_verify"], res["deploylog_verify"] = stats(template_verify), stats(ours_verify)
    res["speedup"] = statistics.median(template) / statistics.median(ours)
    res["speedup_verified"] = (statistics.median(template) + statistics.median(template_verify)) / (
        statistics.median(ours) + statistics.median(ours_verify)
    )
    return res


def table(results: list[dict]) -> str:
    rows = [
        "| database | DB size | pg_dump | `deploylog backup` plan | `pg_dump -Fc` (median, min–max) | `deploylog backup` "
        "| speed-up | verify -Fc / ours | speed-up incl. verify | dump size -Fc / ours |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:

        def w(s: dict) -> str:
            return f"{s['median']:.2f} s ({s['min']:.2f}–{s['max']:.2f})"

        db_size = f"{r['db_bytes'] / 2**20:.0f} MiB" if r.get("db_bytes") else "?"
        binary = r["pg_dump"].replace("pg_dump (PostgreSQL) ", "") + (f", {r['binaries']}" if r.get("binaries") else "")
        rows.append(
            f"| {r['database']} | {db_size} | {binary} | {r['plan']} | {w(r['template'])} | {w(r['deploylog'])} "
            f"| **{r['speedup']:.2f}×** | {r['template_verify']['median']:.2f} s / {r['deploylog_verify']['median']:.2f} s "
            f"| {r['speedup_verified']:.2f}× | {r['template_bytes'] / 2**20:.1f} / {r['deploylog_bytes'] / 2**20:.1f} MiB |"
        )
    return "\n".join(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scales", default="1", help="generated database scales (1 = 100k payments, 500k move lines)")
    ap.add_argument("--dsn", help="benchmark an existing database instead of generating one")
    ap.add_argument("--database", help="its name (with --dsn)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--pg-bin", help="directory of the pg_dump / pg_restore / psql to use (default: the cluster's)")
    ap.add_argument("--label", help="what --pg-bin is, for the table (e.g. where the binaries come from)")
    ap.add_argument("--format", default="directory", help="[backup] format for deploylog backup")
    ap.add_argument("--jobs", type=int, default=0, help="[backup] jobs (0: the CPUs)")
    ap.add_argument("--compression", default="auto", help="[backup] compression")
    ap.add_argument("--work", default=None, help="work dir (default: a temp dir, removed at the end)")
    ap.add_argument("--out", default=str(REPO / "bench" / "results-backup.json"))
    ap.add_argument("--table", nargs="+", metavar="JSON", help="only print the table of earlier result files")
    args = ap.parse_args()
    if args.table:
        print(table([r for f in args.table for r in json.loads(Path(f).read_text())]))
        return
    section = {"format": args.format, "jobs": args.jobs, "compression": args.compression}
    work = Path(args.work or tempfile.mkdtemp(prefix="deploylog-bench-backup-"))
    work.mkdir(parents=True, exist_ok=True)
    out = Path(args.out)
    results: list[dict] = []
    if args.dsn:
        pg_bin = Path(args.pg_bin) if args.pg_bin else Path(shutil.which("pg_dump") or "pg_dump").parent
        results.append(bench_database(args.database, args.dsn, pg_bin, args.runs, work / args.database, section))
        results[-1]["binaries"] = args.label
        out.write_text(json.dumps(results, indent=2, default=str))
        print(table(results), flush=True)
        return
    cluster = Cluster(work / "pg").start()
    try:
        pg_bin = Path(args.pg_bin) if args.pg_bin else cluster.bin_dir
        for scale in [float(s) for s in args.scales.split(",")]:
            db = f"bench_backup_s{str(scale).replace('.', '_')}"
            print(f"[scale {scale}] generating", flush=True)
            start = time.perf_counter()
            gen.generate(cluster.dsn("postgres"), cluster.dsn(db), db, size=gen.Size.scale(scale), seed=17)
            print(f"[scale {scale}] generated in {time.perf_counter() - start:.1f} s", flush=True)
            result = bench_database(db, cluster.dsn(db), pg_bin, args.runs, work / db, section)
            result["scale"], result["binaries"] = scale, args.label
            results.append(result)
            out.write_text(json.dumps(results, indent=2, default=str))  # after each scale: partial results survive
            print(table(results), flush=True)
    finally:
        cluster.destroy()
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
