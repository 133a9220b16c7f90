"""Start-up of the log suite: `pytest --co` with the plugins loaded (issue 12, item 5).

    .venv/bin/python bench/bench_startup.py --runs 9

Runs each command --runs times, alternating, and prints the median wall time and the
median CPU time (user + sys of the child, the steadier figure on a shared machine).
`-p no:deploylog` still imports the log's test modules (and the checks they import);
the floor, pytest and the other plugins (html, json-report, testinfra, xdist, metadata,
dependency) with no deploylog code at all, collects one empty test file instead.

The children run with bytecode caching on (PYTHONDONTWRITEBYTECODE removed from their
environment), as an installed deploylog runs: without it every deploylog module is
compiled from source at each start-up. `--no-bytecode` measures that case instead.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent

COMMANDS = {
    "pytest --co -m phase0": [str(BIN / "pytest"), "--co", "-q", "-m", "phase0"],
    "pytest --co -m phase0 -p no:deploylog": [str(BIN / "pytest"), "--co", "-q", "-m", "phase0", "-p", "no:deploylog"],
    "floor: pytest --co of an empty file, -p no:deploylog": [str(BIN / "pytest"), "--co", "-q", "-p", "no:deploylog", "EMPTY"],
    "python -c pass": [sys.executable, "-c", "pass"],
    "deploylog --help": [str(BIN / "deploylog"), "--help"],
}


def one_run(argv: list[str], env: dict[str, str], root: Path = ROOT) -> tuple[float, float]:
    """(wall, cpu) seconds of one run of argv in the project root."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in (0, 5):
        raise SystemExit(f"{' '.join(argv)}: exit status {done.returncode}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--no-bytecode", action="store_true", help="keep PYTHONDONTWRITEBYTECODE=1 (no .pyc cache)")
    parser.add_argument("--other", type=Path, help="another checkout of deploylog (e.g. the code before a change), timed alternately")
    args = parser.parse_args()
    env = dict(os.environ)
    if args.no_bytecode:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    else:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
    empty = Path(tempfile.mkdtemp(prefix="bench-startup-")) / "test_empty.py"
    empty.write_text("def test_nothing():\n    pass\n")
    commands = {name: [str(empty) if arg == "EMPTY" else arg for arg in argv] for name, argv in COMMANDS.items()}
    trees = [("", ROOT, env)]
    if args.other:  # its deploylog package first on the path, ahead of the editable install's
        trees.append((f"[{args.other.name}] ", args.other.resolve(), {**env, "PYTHONPATH": str(args.other.resolve())}))
    runs = [(prefix + name, argv, root, tree_env) for prefix, root, tree_env in trees for name, argv in commands.items()]
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name, *_ in runs}
    for _, argv, root, tree_env in runs:  # warm the file cache and the bytecode once
        one_run(argv, tree_env, root)
    for _ in range(args.runs):
        for name, argv, root, tree_env in runs:
            samples[name].append(one_run(argv, tree_env, root))
    cache = "no bytecode cache" if args.no_bytecode else "bytecode cached"
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores, {args.runs} runs each, {cache}")
    print(f"{'command':55} {'wall median':>12} {'cpu median':>11} {'cpu min':>8}")
    for name, timed in samples.items():
        walls = [w for w, _ in timed]
        cpus = [c for _, c in timed]
        print(f"{name:55} {statistics.median(walls):11.3f}s {statistics.median(cpus):10.3f}s {min(cpus):7.3f}s")


if __name__ == "__main__":
    main()
