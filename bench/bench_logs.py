"""Phase 6 on a 1 GB Odoo log: how long the backwards scan takes, and its peak memory.

    .venv/bin/python bench/bench_logs.py [--size-mb 1024] [--path /tmp/deploylog-bench/odoo-server.log]

Generates (once, reused when the size matches) a log in Odoo's format: a month
of traffic with errors of other modules and tracebacks, then the deployment at
the very end (stop, restart, the module's KeyError traceback). Then measures,
each in a fresh process (so peak RSS is that of the scan alone):
  window   deploylog's default: records since phase 0 started (reads only the tail)
  tail     deploylog with thresholds.log_tail_lines = 200 (the template's rule)
  full     worst case: no window, the whole file read backwards and parsed
and, for comparison, the template's `tail -n 200 LOG | grep -c 'ERROR\\|CRITICAL'`
and a whole-file `grep -c`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from deploylog.demo import odoo_log as hl  # noqa: E402

START = dt.datetime(2025, 11, 22, 0, 0, tzinfo=dt.UTC)
DEPLOY = dt.datetime(2025, 12, 22, 10, 0, tzinfo=dt.UTC)  # phase 0 started


def generate(path: Path, size: int) -> None:
    """Write `size` bytes of history, then the deployment's lines."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tail_lines = [
        *hl.requests(DEPLOY - dt.timedelta(minutes=5), 50, pid=1001),
        hl.line(DEPLOY + dt.timedelta(minutes=10), "INFO", "odoo.service.server", "Stopping", 1001),
        *hl.startup(DEPLOY + dt.timedelta(minutes=12)),
        *hl.requests(DEPLOY + dt.timedelta(minutes=13), 100),
        *hl.module_error(DEPLOY + dt.timedelta(minutes=14)),
        *hl.requests(DEPLOY + dt.timedelta(minutes=15), 100),
    ]
    tail = ("\n".join(tail_lines) + "\n").encode()
    history = size - len(tail)
    span = (DEPLOY - dt.timedelta(minutes=10) - START).total_seconds()
    request = (
        ' INFO ? werkzeug: 10.0.0.7 - - [22/Dec/2025 10:15:03] "POST /web/dataset/call_kw/account.payment/'
        'web_read HTTP/1.1" 200 - 12 0.018 0.041\n'
    )
    error = [
        " ERROR osusproperties odoo.addons.mail.models.mail_mail: failed sending mail (id 42)\n",
        "Traceback (most recent call last):\n",
        '  File "/opt/odoo/addons/mail/models/mail_mail.py", line 512, in _send\n',
        "ConnectionRefusedError: [Errno 111] Connection refused\n",
    ]
    written, n = 0, 0
    with path.open("wb", buffering=1 << 22) as fh:
        while written < history:
            when = START + dt.timedelta(seconds=span * written / history)
            stamp = hl.stamp(when)
            block = []
            for i in range(2000):
                n += 1
                if n % 50_000 == 0:
                    block.append(f"{stamp} 1001{error[0]}{error[1]}{error[2]}{error[3]}")
                else:
                    block.append(f"{stamp} {1000 + i % 8}{request}")
            data = "".join(block).encode()[: history - written]
            if written + len(data) == history and not data.endswith(b"\n"):
                data = data[:-1] + b"\n"
            fh.write(data)
            written += len(data)
        fh.write(tail)


def measure(mode: str, path: str) -> dict:
    """Run in a child process: one scan, its time and peak RSS."""
    from deploylog.hostchecks import hostio, logs
    from selftests.support.host_spec import make_spec

    tail = 200 if mode == "tail" else 0
    spec = make_spec(paths={"log_file": path}, thresholds={"log_tail_lines": tail})
    t0 = time.perf_counter()
    # full: no window at all, so every line of the file is read backwards and parsed
    scan = (
        logs.scan_log(hostio.local_host(), path, None, module=spec.deployment.module)
        if mode == "full"
        else logs.scan_for(spec, DEPLOY)
    )
    r1, r2 = logs.error_count(spec, scan), logs.module_errors(spec, scan)
    elapsed = time.perf_counter() - t0
    return {
        "mode": mode,
        "seconds": round(elapsed, 3),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "bytes_read": scan.bytes_read,
        "lines_read": scan.lines_read,
        "errors": r1.figures.get("errors"),
        "module_errors": r2.figures.get("module_errors"),
        "6.1": r1.status,
        "6.2": r2.status,
    }


def shell_pipeline(path: Path, tail: bool) -> dict:
    """The template's command (tail | grep -c), or grep -c over the whole file; argument lists, no shell."""
    t0 = time.perf_counter()
    if tail:
        producer = subprocess.Popen(["tail", "-n", "200", str(path)], stdout=subprocess.PIPE)
        out = subprocess.run(["grep", "-c", r"ERROR\|CRITICAL"], stdin=producer.stdout, capture_output=True, text=True)
        producer.wait()
    else:
        out = subprocess.run(["grep", "-c", r"ERROR\|CRITICAL", str(path)], capture_output=True, text=True)
    return {
        "mode": "tail -n 200 | grep -c" if tail else "grep -c (whole file)",
        "seconds": round(time.perf_counter() - t0, 3),
        "count": int(out.stdout.strip() or 0),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size-mb", type=int, default=1024)
    parser.add_argument("--path", default="/tmp/deploylog-bench/odoo-server.log")
    parser.add_argument("--measure", choices=["window", "tail", "full"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    path = Path(args.path)
    if args.measure:
        print(json.dumps(measure(args.measure, str(path))))
        return 0
    size = args.size_mb * 1_048_576
    if not path.exists() or path.stat().st_size != size:
        t0 = time.perf_counter()
        generate(path, size)
        print(f"generated {path} ({size / 1_048_576:.0f} MB) in {time.perf_counter() - t0:.1f}s")
    # drop nothing from the page cache: every run reads a warm file, the comparison is fair
    rows = []
    for mode in ("window", "tail", "full"):
        out = subprocess.run(
            [sys.executable, __file__, "--path", str(path), "--measure", mode], capture_output=True, text=True, check=True
        )
        rows.append(json.loads(out.stdout))
    rows += [shell_pipeline(path, tail=True), shell_pipeline(path, tail=False)]
    print(f"log: {path}, {path.stat().st_size / 1_048_576:.0f} MB")
    for row in rows:
        extra = ", ".join(f"{k}={v}" for k, v in row.items() if k not in {"mode", "seconds"})
        print(f"  {row['mode']:<24} {row['seconds']:>8.3f} s   {extra}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
