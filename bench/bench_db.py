"""Production-scale benchmark of the suite's database part against the bare SQL run by psql.

    .venv/bin/python bench/bench_db.py --scales 1,4,10 --runs 3 [--out bench/RESULTS-db.json]

For each scale, on one throwaway PostgreSQL cluster:
  1. generate the Odoo-17-shaped database (deploylog.demo.generate) and time it;
  2. record, in one in-process run (bench/_record.py), every statement the suite sends
     with its parameters inlined: the figures, the fingerprint bucket queries, the COPY
     row exports. That is the bare SQL: the very same text, run by psql;
  3. time whole processes, `--runs` times each: `pytest -m phase0` (baseline capture),
     then, after the module upgrade, the database part of `pytest -m post`;
     peak RSS from /usr/bin/time;
  4. time psql on the recorded SQL: figures only, and figures + fingerprints + COPY;
  5. time the fixed start-up: `pytest --co -q` with the plugins loaded.
Results: JSON (--out) and a Markdown table on stdout.
"""

from __future__ import annotations

import argparse
import json
import os
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
from deploylog.demo.simulate import upgrade_module  # noqa: E402

PHASE0 = ["-m", "phase0", "--items", "0.1,0.2,0.3,0.4"]
POST = ["-m", "post", "--items", "4.1,4.5,4.6,4.7,5.1,5.2,5.3,5.4"]
PY = sys.executable


def write_config(root: Path, db: str, dsn: str) -> Path:
    with (REPO / "deploy.toml").open("rb") as fh:
        cfg = tomllib.load(fh)
    cfg["database"].update(name=db, dsn=dsn)
    cfg["paths"].update(
        baseline_dir=str(root / "baseline"),
        report_dir=str(root / "reports"),
        repo=str(module_repo.build_repo(root / "code")[0]),  # phase 0 records its HEAD
        backup_dir=str(root / "backups"),
        log_file=str(root / "odoo-server.log"),
    )
    path = root / "deploy.toml"
    path.write_text(tomlwrite.dumps(cfg))
    return path


def env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("PG")}


def timed(cmd: list[str], **kw) -> tuple[float, int, int, str]:
    """(wall seconds, peak RSS KiB, returncode) of one whole process."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as tf:
        start = time.perf_counter()
        done = subprocess.run(
            ["/usr/bin/time", "-f", "%M", "-o", tf.name, *cmd], cwd=REPO, env=env(), capture_output=True, text=True, check=False, **kw
        )
        wall = time.perf_counter() - start
        lines = [ln for ln in Path(tf.name).read_text().split("\n") if ln.strip().isdigit()]
        rss = int(lines[-1]) if lines else 0
    return wall, rss, done.returncode, done.stdout[-3000:] + done.stderr[-3000:]


def stats(values: list[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "runs": values}


def bare_script(recorded: Path, with_fingerprints: bool) -> str:
    """psql script: the recorded statements in one REPEATABLE READ READ ONLY transaction."""
    out = ["\\set ON_ERROR_STOP on", "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;"]
    kind = None
    for line in recorded.read_text().split("\n"):
        if line.startswith("-- kind: "):
            kind = line[len("-- kind: ") :]
            out.append(f"-- {kind}")
            continue
        if kind in ("fingerprint", "copy") and not with_fingerprints:
            continue
        out.append(line)
    out.append("COMMIT;")
    return "\n".join(out) + "\n"


def count_kinds(recorded: Path) -> dict[str, int]:
    kinds: dict[str, int] = {}
    for line in recorded.read_text().split("\n"):
        if line.startswith("-- kind: "):
            k = line[len("-- kind: ") :]
            kinds[k] = kinds.get(k, 0) + 1
    return kinds


def bench_scale(cluster: Cluster, scale: float, runs: int, work: Path) -> dict:
    db = f"bench_s{str(scale).replace('.', '_')}"
    root = work / db
    root.mkdir(parents=True, exist_ok=True)
    dsn = cluster.dsn(db)
    res: dict = {"scale": scale}
    print(f"[scale {scale}] generating", flush=True)
    t = time.perf_counter()
    gen.generate(cluster.dsn("postgres"), dsn, db, size=gen.Size.scale(scale), seed=17)
    res["generate_s"] = time.perf_counter() - t
    size = (
        subprocess.run(
            [
                str(cluster.bin_dir / "psql"),
                "-X",
                "-At",
                "-d",
                dsn,
                "-c",
                "SELECT pg_database_size(current_database()), (SELECT count(*) FROM account_payment),"
                " (SELECT count(*) FROM account_move), (SELECT count(*) FROM account_move_line),"
                " (SELECT count(*) FROM account_bank_reconciliation_line)",
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        .stdout.strip()
        .split("|")
    )
    res["db_bytes"], res["payments"], res["moves"], res["move_lines"], res["recon_lines"] = map(int, size)
    print(f"[scale {scale}] generated in {res['generate_s']:.1f}s: {size}", flush=True)
    config = write_config(root, db, dsn)
    common = [f"--deploy-config={config}", "-p", "no:cacheprovider", "-q"]

    def suite(args: list[str], label: str) -> dict:
        walls, rss = [], []
        for i in range(runs):
            wall, peak, rc, out = timed(
                [PY, "-m", "pytest", *args, *common, "--recapture-baseline"]
                if "phase0" in args
                else [PY, "-m", "pytest", *args, *common]
            )
            if rc not in (0, 1):
                raise SystemExit(f"{label} run failed rc={rc}:\n{out}")
            walls.append(wall)
            rss.append(peak)
            print(f"[scale {scale}] {label} run {i + 1}: {wall:.2f}s rss {peak / 1024:.0f} MiB rc {rc}", flush=True)
        return {"wall": stats(walls), "rss_kib": max(rss), "rc": rc, "tail": out[-600:]}

    def record(args: list[str], name: str) -> Path:
        out = root / f"{name}.sql"
        extra = ["--recapture-baseline"] if "phase0" in args else []
        done = subprocess.run(
            [PY, str(REPO / "bench" / "_record.py"), str(out), "--", *args, *common, *extra],
            cwd=REPO,
            env=env(),
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode not in (0, 1):
            raise SystemExit(f"record {name} failed: {done.stdout[-3000:]}{done.stderr[-3000:]}")
        return out

    def bare(recorded: Path, fp: bool) -> dict:
        script = root / (recorded.stem + ("-fp" if fp else "-figures") + ".psql")
        script.write_text(bare_script(recorded, fp))
        walls = []
        for _ in range(runs):
            t = time.perf_counter()
            subprocess.run(
                [str(cluster.bin_dir / "psql"), "-X", "-q", "-A", "-t", "-d", dsn, "-f", str(script), "-o", str(root / "psql.out")],
                check=True,
                capture_output=True,
            )
            walls.append(time.perf_counter() - t)
        return stats(walls)

    # start-up: collect only, plugins loaded, no database contact
    walls = []
    for _ in range(max(runs, 3)):
        wall, _, _rc, _out = timed([PY, "-m", "pytest", "--co", *PHASE0, *common])
        walls.append(wall)
    res["startup"] = stats(walls)

    rec0 = record(PHASE0, "phase0")
    res["phase0"] = suite(PHASE0, "phase0")
    res["phase0"]["statements"] = count_kinds(rec0)
    res["phase0"]["bare_figures"] = bare(rec0, False)
    res["phase0"]["bare_fp"] = bare(rec0, True)

    upgrade_module(dsn, "17.0.1.0.9")
    rec1 = record(POST, "post")
    res["post"] = suite(POST, "post")
    res["post"]["statements"] = count_kinds(rec1)
    res["post"]["bare_figures"] = bare(rec1, False)
    res["post"]["bare_fp"] = bare(rec1, True)
    for part in ("phase0", "post"):
        p = res[part]
        p["ratio"] = (p["wall"]["median"] - res["startup"]["median"]) / p["bare_fp"]["median"]
    return res


def table(results: list[dict]) -> str:
    rows = [
        "| scale | payments / moves / lines / recon | DB size | generate | start-up | phase0 (median, min–max) "
        "| bare figures | bare + fp | ratio | post (median, min–max) | bare figures | bare + fp | ratio "
        "| peak RSS phase0 / post | statements phase0 / post |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        p0, p1 = r["phase0"], r["post"]

        def w(s):
            return f"{s['median']:.2f} s ({s['min']:.2f}–{s['max']:.2f})"

        def n(st):
            return f"{sum(st.values())} ({', '.join(f'{k} {v}' for k, v in sorted(st.items()))})"

        rows.append(
            f"| {r['scale']:g} | {r['payments']:,} / {r['moves']:,} / {r['move_lines']:,} / {r['recon_lines']:,} "
            f"| {r['db_bytes'] / 2**20:.0f} MiB | {r['generate_s']:.1f} s | {r['startup']['median']:.2f} s "
            f"| {w(p0['wall'])} | {p0['bare_figures']['median']:.3f} s | {p0['bare_fp']['median']:.3f} s "
            f"| {p0['ratio']:.2f} | {w(p1['wall'])} | {p1['bare_figures']['median']:.3f} s "
            f"| {p1['bare_fp']['median']:.3f} s | {p1['ratio']:.2f} "
            f"| {p0['rss_kib'] / 1024:.0f} / {p1['rss_kib'] / 1024:.0f} MiB | {n(p0['statements'])} / {n(p1['statements'])} |"
        )
    return "\n".join(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scales", default="1,4,10")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--work", default=None, help="work dir (default: a temp dir, removed at the end)")
    ap.add_argument("--out", default=str(REPO / "bench" / "results-db.json"))
    ap.add_argument("--table", nargs="+", metavar="JSON", help="only print the table of earlier result files")
    args = ap.parse_args()
    if args.table:
        print(table([r for f in args.table for r in json.loads(Path(f).read_text())]))
        return
    work = Path(args.work or tempfile.mkdtemp(prefix="deploylog-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    cluster = Cluster(work / "pg").start()
    results: list[dict] = []
    out = Path(args.out)
    try:
        for scale in [float(s) for s in args.scales.split(",")]:
            results.append(bench_scale(cluster, scale, args.runs, work))
            out.write_text(json.dumps(results, indent=2, default=str))  # after each scale: partial results survive
            print(table(results), flush=True)
    finally:
        cluster.destroy()
    print(table(results))


if __name__ == "__main__":
    main()
