"""The suite's own SQL, two checkouts side by side on one database: what a code change did to the SQL it sends.

    .venv/bin/python bench/bench_compare.py --old /tmp/deploylog-old --new . --dsn "host=... dbname=bench_s10" --runs 2

For each checkout (each with its own .venv, `make install`): record every statement its phase 0
(`--recapture-baseline`) and its post run send (bench/_record.py of that checkout), on the same
database (the module is set back to 17.0.1.0.8 before each phase 0 and upgraded before each post);
then time psql on the recorded statements, alternating the checkouts run after run, in one
REPEATABLE READ READ ONLY transaction: the figures, the fingerprints (bucket queries and row
exports) and both. Each timing is reported as wall seconds and as the server backend's CPU
seconds (read from /proc/self/stat through pg_read_file: a superuser on a server on this machine;
parallel workers off so that the backend does all the work): the CPU figure is the steady one on a
machine shared with other work. Results: a table on stdout and --out (JSON).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from deploylog import tomlwrite  # noqa: E402
from deploylog.demo import module_repo  # noqa: E402
from deploylog.demo.cluster import find_bin_dir  # noqa: E402
from deploylog.demo.simulate import upgrade_module  # noqa: E402

PHASE0 = ["-m", "phase0", "--items", "0.1,0.2,0.3,0.4", "--recapture-baseline"]
POST = ["-m", "post", "--items", "4.1,4.5,4.6,4.7,5.1,5.2,5.3,5.4"]
PARTS = {"figures": {"figure"}, "fingerprints": {"fingerprint", "copy"}, "all": {"figure", "fingerprint", "copy"}}
ENV = {k: v for k, v in os.environ.items() if not k.startswith("PG")}


def config(tree: Path, root: Path, dsn: str) -> Path:
    cfg = tomllib.loads((tree / "deploy.toml").read_text())
    name = dict(p.split("=", 1) for p in dsn.split() if "=" in p)["dbname"]
    cfg["database"].update(name=name, dsn=dsn, statement_timeout_ms=3_600_000)
    root.mkdir(parents=True, exist_ok=True)
    cfg["paths"].update(
        baseline_dir=str(root / "baseline"),
        report_dir=str(root / "reports"),
        repo=str(module_repo.build_repo(root / "code")[0]),
        backup_dir=str(root / "backups"),
        log_file=str(root / "odoo-server.log"),
    )
    path = root / "deploy.toml"
    path.write_text(tomlwrite.dumps(cfg))
    return path


def record(tree: Path, deploy_toml: Path, args: list[str], out: Path) -> Path:
    python = tree / ".venv" / "bin" / "python"
    argv = [
        str(python),
        str(tree / "bench" / "_record.py"),
        str(out),
        "--",
        *args,
        f"--deploy-config={deploy_toml}",
        "-p",
        "no:cacheprovider",
        "-q",
    ]
    done = subprocess.run(argv, cwd=tree, env=ENV, capture_output=True, text=True, check=False)
    if done.returncode not in (0, 1):
        raise SystemExit(f"recording {out.name} failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
    return out


def script(recorded: Path, kinds: set[str], cpu_out: Path) -> str:
    """psql: the recorded statements of `kinds` in one read-only snapshot, then the backend's /proc stat line."""
    out = ["\\set ON_ERROR_STOP on", "SET max_parallel_workers_per_gather = 0;", "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;"]
    kind = None
    for line in recorded.read_text().split("\n"):
        if line.startswith("-- kind: "):
            kind = line[len("-- kind: ") :]
            continue
        if kind in kinds:
            out.append(line)
    out += ["COMMIT;", f"\\o {cpu_out}", "SELECT pg_read_file('/proc/self/stat');"]
    return "\n".join(out) + "\n"


def set_version(psql: str, dsn: str, version: str) -> None:
    statement = f"UPDATE ir_module_module SET latest_version = '{version}' WHERE name = 'payment_account_enhanced'"
    subprocess.run([psql, "-X", "-q", "-d", dsn, "-c", statement], check=True, env=ENV)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--old", required=True, help="the checkout before the change (with its .venv)")
    ap.add_argument("--new", default=str(REPO), help="the checkout after it (default: this one)")
    ap.add_argument("--dsn", required=True, help="a generated Odoo-17-shaped database, as a superuser on this machine")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--work", default=None)
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    psql = str(find_bin_dir() / "psql")
    work = Path(args.work or tempfile.mkdtemp(prefix="deploylog-compare-"))
    trees = {"old": Path(args.old).resolve(), "new": Path(args.new).resolve()}
    recorded: dict[tuple[str, str], Path] = {}
    for label, tree in trees.items():
        deploy_toml = config(tree, work / label, args.dsn)
        set_version(psql, args.dsn, "17.0.1.0.8")
        recorded[(label, "phase0")] = record(tree, deploy_toml, PHASE0, work / f"{label}-phase0.sql")
        upgrade_module(args.dsn, "17.0.1.0.9")
        recorded[(label, "post")] = record(tree, deploy_toml, POST, work / f"{label}-post.sql")
    set_version(psql, args.dsn, "17.0.1.0.8")
    cpu_out = work / "cpu.out"
    scripts = {}
    for (label, phase), rec in recorded.items():
        for part, kinds in PARTS.items():
            path = work / f"{label}-{phase}-{part}.psql"
            path.write_text(script(rec, kinds, cpu_out))
            scripts[f"{label}/{phase}/{part}"] = path
    times: dict[str, dict[str, list[float]]] = {k: {"wall": [], "cpu": []} for k in scripts}
    for run in range(args.runs):
        for key, path in scripts.items():
            start = time.perf_counter()
            subprocess.run([psql, "-X", "-q", "-A", "-t", "-d", args.dsn, "-f", str(path), "-o", os.devnull], check=True, env=ENV)
            times[key]["wall"].append(time.perf_counter() - start)
            fields = cpu_out.read_text().strip().rsplit(")", 1)[1].split()
            times[key]["cpu"].append((int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"))
            print(f"run {run + 1} {key}: wall {times[key]['wall'][-1]:.2f} s, cpu {times[key]['cpu'][-1]:.2f} s", flush=True)
    if args.out:
        Path(args.out).write_text(json.dumps(times, indent=1))
    print("\n| SQL | old: cpu (min) | new: cpu (min) | old: wall (min) | new: wall (min) |\n|---|---|---|---|---|")
    for phase in ("phase0", "post"):
        for part in PARTS:
            old, new = times[f"old/{phase}/{part}"], times[f"new/{phase}/{part}"]
            print(
                f"| {phase} {part} | {min(old['cpu']):.2f} s | {min(new['cpu']):.2f} s "
                f"| {min(old['wall']):.2f} s | {min(new['wall']):.2f} s |"
            )


if __name__ == "__main__":
    main()
